package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"caserisk/features/contract"
	"caserisk/serve/store"
)

// IngestCounts reports what Ingest loaded.
type IngestCounts struct {
	Residents, Properties, Residences, Events int
	// Rejected counts rows that broke the contract and were left out;
	// Lost the physical lines not loaded (see contract.FileCount).
	Rejected, Lost int
	// Files is what reading each file gave, in contract order.
	Files []contract.FileCount
}

// IngestOptions say how to load.
type IngestOptions struct {
	// Claim is passed to the store's single-view claim.
	Claim store.ClaimOptions
	// AllowBrokenFiles loads the rest when a service file cannot be read
	// as a whole (its lost lines are counted); otherwise such a file fails
	// the load and nothing is replaced.
	AllowBrokenFiles bool
}

// chunk is the number of records handed to the store at a time.
const chunk = 5000

// Ingest replaces the store's single view with the Residents Index in dir:
// residents, properties, residences, and one timeline event per row of
// every service file that names a resident. Rows that break the contract
// are left out and counted; an unreadable file, a missing required file,
// or a file that cannot be read as a whole (unless o.AllowBrokenFiles) is
// an error, and then nothing is replaced (one transaction).
func Ingest(ctx context.Context, st store.Store, dir string, o IngestOptions) (IngestCounts, error) {
	var n IngestCounts
	c := contract.Default()
	in, err := st.BeginIngestAs(ctx, o.Claim)
	if err != nil {
		return n, fmt.Errorf("ingest: %w", err)
	}
	err = ingestAll(ctx, in, c, dir, &n)
	if err == nil {
		err = contract.Check(n.Files, o.AllowBrokenFiles)
	}
	if err != nil {
		if rbErr := in.Rollback(); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("roll back: %w", rbErr))
		}
		return n, fmt.Errorf("ingest %s: %w", dir, err)
	}
	if err := in.Commit(); err != nil {
		return n, fmt.Errorf("ingest: commit: %w", err)
	}
	return n, nil
}

func ingestAll(ctx context.Context, in store.Ingest, c *contract.Contract, dir string, n *IngestCounts) error {
	for i := range c.Files {
		f := &c.Files[i]
		if _, err := os.Stat(filepath.Join(dir, f.Name)); errors.Is(err, fs.ErrNotExist) && !contract.RequiredFile(f.Name) {
			n.Files = append(n.Files, contract.FileCount{File: f.Name})
			continue
		}
		var err error
		switch f.Service {
		case "residents":
			err = readResidents(ctx, in, dir, f, n)
		case "properties":
			err = readProperties(ctx, in, dir, f, n)
		case "residences":
			err = readResidences(ctx, in, dir, f, n)
		default:
			if _, ok := f.Column("resident_id"); ok && f.EventDate != "" {
				err = readEvents(ctx, in, dir, f, n)
			} else {
				err = each(ctx, dir, f, n, func(*contract.Row) error { return nil })
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// each streams the valid rows of a file to fn, counting rejected rows and
// lost lines. A service file whose header is at fault is counted as
// unread (every line lost) for Check to judge; one of the index's files
// is an error.
func each(ctx context.Context, dir string, f *contract.File, n *IngestCounts, fn func(r *contract.Row) error) error {
	rd, err := contract.Open(dir, f)
	if re, ok := contract.HeaderFault(err); ok && !contract.RequiredFile(f.Name) {
		fc, err := contract.Unread(dir, f, re)
		if err != nil {
			return err
		}
		n.Files = append(n.Files, fc)
		n.Lost += fc.Lost
		return nil
	}
	if err != nil {
		return err
	}
	defer rd.Close()
	defer func() {
		fc := rd.Counts()
		n.Files = append(n.Files, fc)
		n.Rejected += fc.Rejected
		n.Lost += fc.Lost
	}()
	for k := 0; ; k++ {
		if k%chunk == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		row, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		var re *contract.RowError
		if errors.As(err, &re) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", f.Name, err)
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}

// cols returns the positions of the named columns of f (-1 when absent).
func cols(f *contract.File, names ...string) []int {
	out := make([]int, len(names))
	for k, name := range names {
		out[k] = -1
		for j, c := range f.Columns {
			if c.Name == name {
				out[k] = j
			}
		}
	}
	return out
}

func str(r *contract.Row, j int) string {
	if j < 0 {
		return ""
	}
	return r.Str[j]
}

func day(r *contract.Row, j int) string {
	if j < 0 || r.Day[j] == contract.NoDay {
		return ""
	}
	return r.Day[j].String()
}

func integer(r *contract.Row, j int) int64 {
	if j < 0 || math.IsNaN(r.Num[j]) {
		return 0
	}
	return int64(r.Num[j])
}

// batched reads every row of f, turns each into a record with conv (which
// may skip a row by returning false) and adds the records to the store in
// chunks with add; *count receives the number added.
func batched[T any](ctx context.Context, dir string, f *contract.File, n *IngestCounts, count *int,
	conv func(*contract.Row) (T, bool), add func(context.Context, []T) error) error {
	buf := make([]T, 0, chunk)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if err := add(ctx, buf); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		*count += len(buf)
		buf = buf[:0]
		return nil
	}
	err := each(ctx, dir, f, n, func(r *contract.Row) error {
		rec, ok := conv(r)
		if !ok {
			return nil
		}
		buf = append(buf, rec)
		if len(buf) == chunk {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

func readResidents(ctx context.Context, in store.Ingest, dir string, f *contract.File, n *IngestCounts) error {
	p := cols(f, "resident_id", "given_name", "family_name", "date_of_birth", "sex", "first_seen_date", "date_of_death")
	return batched(ctx, dir, f, n, &n.Residents, func(r *contract.Row) (store.Resident, bool) {
		return store.Resident{ID: str(r, p[0]), GivenName: str(r, p[1]), FamilyName: str(r, p[2]),
			DateOfBirth: day(r, p[3]), Sex: str(r, p[4]), FirstSeen: day(r, p[5]), DateOfDeath: day(r, p[6])}, true
	}, in.AddResidents)
}

func readProperties(ctx context.Context, in store.Ingest, dir string, f *contract.File, n *IngestCounts) error {
	p := cols(f, "uprn", "address", "postcode", "ward", "property_type", "tenure", "bedrooms", "council_tax_band")
	return batched(ctx, dir, f, n, &n.Properties, func(r *contract.Row) (store.Property, bool) {
		return store.Property{UPRN: integer(r, p[0]), Address: str(r, p[1]), Postcode: str(r, p[2]), Ward: str(r, p[3]),
			PropertyType: str(r, p[4]), Tenure: str(r, p[5]), Bedrooms: int(integer(r, p[6])), CouncilTaxBand: str(r, p[7])}, true
	}, in.AddProperties)
}

func readResidences(ctx context.Context, in store.Ingest, dir string, f *contract.File, n *IngestCounts) error {
	p := cols(f, "resident_id", "uprn", "start_date", "end_date", "relationship")
	return batched(ctx, dir, f, n, &n.Residences, func(r *contract.Row) (store.Residence, bool) {
		return store.Residence{ResidentID: str(r, p[0]), UPRN: integer(r, p[1]), Start: day(r, p[2]), End: day(r, p[3]),
			Relationship: str(r, p[4])}, true
	}, in.AddResidences)
}

// readEvents turns each row of a service file into a timeline event: its
// date, type code, address and amount. Free text is never copied.
func readEvents(ctx context.Context, in store.Ingest, dir string, f *contract.File, n *IngestCounts) error {
	p := cols(f, "resident_id", f.EventDate, f.TypeColumn, "uprn", f.AmountColumn, f.EndDate)
	return batched(ctx, dir, f, n, &n.Events, func(r *contract.Row) (store.Event, bool) {
		e := store.Event{ResidentID: str(r, p[0]), Service: f.Service, Date: day(r, p[1]), Type: str(r, p[2]), UPRN: integer(r, p[3])}
		if e.Date == "" {
			return e, false
		}
		if p[4] >= 0 && !math.IsNaN(r.Num[p[4]]) {
			e.Amount, e.HasAmount = r.Num[p[4]], true
		}
		if f.Kind == contract.Periods {
			if end := day(r, p[5]); end != "" {
				e.Detail = f.Title + " until " + end
			} else {
				e.Detail = f.Title + ", open"
			}
		}
		return e, true
	}, in.AddEvents)
}
