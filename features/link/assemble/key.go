// Package assemble writes the joined resident data in contract form from raw
// source extracts and a record-to-resident mapping: the last step of record
// linkage. Given a raw directory (see contract.RawSources, contract.RawFile,
// contract.RawPeople) and a map from each source's person records to
// resident ids, it writes residents.csv (each resident's details chosen by
// vote across the linked records), residences.csv (inferred from the dated
// UPRNs on the resident's service rows), properties.csv, and every service
// file with record_id replaced by resident_id, to a directory that
// contract.ValidateDir accepts and the feature builder reads.
package assemble

// Key names one raw person record.
type Key struct {
	Source   string // the service key, e.g. "council_tax"
	RecordID string // the source's own record id
}
