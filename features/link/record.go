package link

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"caserisk/features/contract"
	"caserisk/features/link/assemble"
)

// Record is one raw person record with its details normalised for
// comparison. The source's original spelling is not kept: only the
// normalised form, which is never logged.
type Record struct {
	Source   string // service key, e.g. "council_tax"
	RecordID string // the source's own record id
	Given    string // normalised given name(s)
	Family   string // normalised family name
	DOB      contract.Day
	Sex      byte   // 'F', 'M' or 0 when missing
	Address  string // normalised address
	Postcode string // normalised postcode, no spaces
	UPRN     int64  // 0 when missing
	NI       string // normalised NI number
	Death    bool   // the source holds a date of death
}

// Key returns the record's (source, record_id).
func (r *Record) Key() assemble.Key { return assemble.Key{Source: r.Source, RecordID: r.RecordID} }

// ReadRecords reads the person records of every source of the contract's
// raw layout (<service>_people.csv in rawDir, contract.RawPeople schema) and
// normalises them. A missing people file is an error naming it; a row that
// breaks the schema is an error naming file, line and column.
//
// Sources are read in parallel (two at a time, or GOMAXPROCS if fewer) and
// joined in the contract's source order, so the result does not depend on
// the timing.
func ReadRecords(ctx context.Context, rawDir string) ([]Record, error) {
	srcs := contract.Default().RawSources()
	parts := make([][]Record, len(srcs))
	errs := make([]error, len(srcs))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(2, runtime.GOMAXPROCS(0)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(srcs) {
					return
				}
				f := srcs[i]
				parts[i], errs[i] = readPeople(ctx, rawDir, contract.RawPeople(f), f.Service, nil)
				if errs[i] != nil {
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	for i := range srcs {
		// The first failing source in source order, not one cancelled
		// because of it.
		if errs[i] != nil && !errors.Is(errs[i], context.Canceled) {
			return nil, errs[i]
		}
	}
	for i := range srcs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		n += len(parts[i])
	}
	out := make([]Record, 0, n)
	for i := range parts {
		out = append(out, parts[i]...)
		parts[i] = nil
	}
	return out, nil
}

func readPeople(ctx context.Context, dir string, pf *contract.File, source string, out []Record) ([]Record, error) {
	r, err := contract.Open(dir, pf)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read raw people: %s is missing from %s", pf.Name, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read raw people: %w", err)
	}
	defer r.Close()
	col := func(name string) int {
		for i, c := range pf.Columns {
			if c.Name == name {
				return i
			}
		}
		panic("link: no column " + name)
	}
	iID, iGiven, iFamily, iDOB := col(contract.RawRecordID), col("given_name"), col("family_name"), col("date_of_birth")
	iSex, iAddr, iPC, iUPRN, iNI, iDeath := col("sex"), col("address"), col("postcode"), col("uprn"), col("ni_number"), col("date_of_death")
	var nb normaliser
	seen := make(map[string]int)
	for n := 0; ; n++ {
		if n%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read raw people: %w", err)
		}
		id := row.Str[iID]
		if prev, dup := seen[id]; dup {
			return nil, &contract.RowError{File: filepath.Join(filepath.Base(dir), pf.Name), Line: row.Line, Column: contract.RawRecordID,
				Value: id, Reason: fmt.Sprintf("record id repeats the one on line %d", prev)}
		}
		seen[id] = row.Line
		rec := Record{
			Source:   source,
			RecordID: strings.Clone(id),
			Given:    nb.name(row.Str[iGiven]),
			Family:   nb.name(row.Str[iFamily]),
			DOB:      row.Day[iDOB],
			Address:  nb.address(row.Str[iAddr]),
			Postcode: nb.compact(row.Str[iPC]),
			NI:       nb.compact(row.Str[iNI]),
			Death:    row.Day[iDeath] != contract.NoDay,
		}
		if s := row.Str[iSex]; s != "" {
			rec.Sex = s[0]
		}
		if u := row.Num[iUPRN]; !math.IsNaN(u) && u > 0 {
			rec.UPRN = int64(u)
		}
		out = append(out, rec)
	}
	return out, nil
}
