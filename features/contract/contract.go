// Package contract defines the data contract for the joined resident data
// (the Residents Index): the files a council supplies, their columns, types,
// units and allowed codes, which columns are required, and the date that
// places each row in time.
//
// The contract is data, not prose: the synthetic borough writes through it,
// the validating loader checks against it, and the feature builder reads its
// time semantics from it, so the three cannot drift apart. The Markdown
// reference (features/contract/CONTRACT.md) is generated from it with
// `caserisk contract --markdown`.
//
// Time semantics. Every file names an EventDate column: the date the row
// describes. Period files (tenancies, electoral registrations, residences)
// also name an EndDate column; an end later than the as-of date is not yet
// known at the as-of date and must be read as "still open". Files with a
// RecordedDate column may receive rows late: such a row is known only from
// max(event date, recorded date).
package contract

import (
	"fmt"
	"sort"
)

// Version is the contract's version. It changes when a file, column or code
// list changes in a way a council's extract mapping would notice.
const Version = "1.0.0"

// Type is a column's value type as written in the CSV files.
type Type int

const (
	// String is free UTF-8 text.
	String Type = iota
	// Int is a base-10 integer.
	Int
	// Float is a decimal number ('.' as the decimal point, no thousands separator).
	Float
	// Date is an ISO 8601 calendar date, YYYY-MM-DD.
	Date
	// Code is one of the column's allowed codes (see Column.Codes).
	Code
	// Bool is Y or N.
	Bool
)

func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Int:
		return "integer"
	case Float:
		return "decimal"
	case Date:
		return "date"
	case Code:
		return "code"
	case Bool:
		return "Y/N"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Kind says how a file's rows sit in time.
type Kind int

const (
	// Entity files describe things (residents, properties); their rows are
	// placed in time by the entity's own dates.
	Entity Kind = iota
	// Events are things that happened on one date.
	Events
	// Periods hold from a start date (EventDate) to an end date (EndDate,
	// empty while open).
	Periods
)

func (k Kind) String() string {
	switch k {
	case Entity:
		return "entity"
	case Events:
		return "events"
	case Periods:
		return "periods"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Column describes one column of a file.
type Column struct {
	Name        string
	Type        Type
	Required    bool   // an empty value is a contract breach
	Unit        string // e.g. "GBP", "days", "percent"; empty where none
	Description string
	// Codes lists the allowed values of a Code column, current ones first.
	Codes []string
	// Legacy maps codes used by older extracts to current codes: a loader
	// accepts them and normalises them (code lists change over the years).
	Legacy map[string]string
	// Personal marks personal data (name, date of birth, address): it must
	// never be logged, and it is not a model feature.
	Personal bool
	// Protected marks a protected characteristic (Equality Act 2010): used
	// for fairness audits, never as a model feature unless a spec says so.
	Protected bool
}

// File describes one CSV file of the joined data.
type File struct {
	Name        string // file name, e.g. "repairs.csv"
	Service     string // short service key used by feature specs, e.g. "repairs"
	Title       string // human title, e.g. "Housing repairs"
	Description string
	Kind        Kind
	Columns     []Column
	// Key names the columns that identify a row; an exact duplicate of all
	// columns is a duplicate row, reported by the loader.
	Key []string
	// EventDate is the column that places a row in time.
	EventDate string
	// EndDate is the period end column of a Periods file.
	EndDate string
	// RecordedDate, where set, is the date the row entered the source
	// system; the row is known only from max(EventDate, RecordedDate).
	RecordedDate string
	// TypeColumn is the column holding the event or record type, if any.
	TypeColumn string
	// AmountColumn is the main money column, if any.
	AmountColumn string
	// AddressBased files carry a uprn on each row.
	AddressBased bool
}

// Column returns the named column and whether it exists.
func (f *File) Column(name string) (Column, bool) {
	for _, c := range f.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Header returns the file's column names in contract order.
func (f *File) Header() []string {
	h := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		h[i] = c.Name
	}
	return h
}

// Escalation is an event that counts as a complex-case escalation: reaching
// a crisis service. The complex-case label of a resident as of a date is 1
// when any person in the resident's household on that date (the people with
// a residence at the same UPRN) has an escalation event dated in
// (as_of, as_of + 12 months].
type Escalation struct {
	Service string // the file's Service key
	Column  string // the column to test
	Code    string // the code that marks an escalation
}

// Escalations lists the escalation events of the complex-case label.
var escalations = []Escalation{
	{"childrens_social_care", "event_type", "child_protection_plan"},
	{"childrens_social_care", "event_type", "looked_after"},
	{"adult_social_care", "event_type", "safeguarding_enquiry"},
	{"homelessness", "event_type", "main_duty"},
	{"homelessness", "event_type", "temporary_accommodation"},
	{"rent_account", "event_type", "eviction"},
}

// Escalations returns the events that count as a complex-case escalation.
func Escalations() []Escalation { return append([]Escalation(nil), escalations...) }

// LabelHorizonMonths is the outcome window of both labels, in months after the as-of date.
const LabelHorizonMonths = 12

// Contract is a set of file descriptions with lookups by name and service.
type Contract struct {
	Version string
	Files   []File
}

// Default returns the contract for the joined resident data. Each call
// returns a fresh copy that the caller may keep.
func Default() *Contract {
	return &Contract{Version: Version, Files: files()}
}

// File returns the file with the given file name or service key.
func (c *Contract) File(name string) (*File, bool) {
	for i := range c.Files {
		if c.Files[i].Name == name || c.Files[i].Service == name {
			return &c.Files[i], true
		}
	}
	return nil, false
}

// Services returns the service files (every file but residents, residences,
// properties and fraud investigations), sorted by name.
func (c *Contract) Services() []*File {
	var out []*File
	for i := range c.Files {
		switch c.Files[i].Service {
		case "residents", "residences", "properties", "fraud_investigations":
			continue
		}
		out = append(out, &c.Files[i])
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}
