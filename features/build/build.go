// Package build is the point-in-time feature builder: it reads a directory
// of joined resident data through the data contract's validating loader,
// and for each as-of date writes one row per entity (a resident living in
// the borough, or a council tenancy running on that date) with the
// features of a spec, the labels where the data reaches 12 months past the
// as-of date, and audit columns for fairness reporting.
//
// Point in time. A row feeds a feature for as-of date D only when it was
// known on D: its event date is on or before D and, where the contract
// names a recorded date, so is that (a row is known from max(event,
// recorded)). Periods (residences, tenancies, registrations) are open on D
// from their start to their end date, the last day, inclusive; an end
// after D is not yet known on D and reads as open. Households are the
// people living at a UPRN on D, as known on D. Deaths count from the day
// they were recorded. Exact duplicate rows count once; period rows (and
// investigations) with the same key are one record, the earliest-known
// row is used.
//
// Labels. label_complex_case is 1 when anyone in the resident's household
// on D has an escalation event (contract.Escalations) dated in (D, D + 12
// months], else 0; an eviction from the household's home counts whoever
// the rent account names. label_tenancy_fraud is 1 when an investigation
// of the tenancy closed in that window with fraud confirmed, 0 when one
// closed otherwise, and empty when none closed. Where the data does not
// reach D + 12 months (the extract date is earlier), both labels are
// empty on every row of that as-of date.
//
// Output. Table.WriteFiles writes the table (CSV, or Parquet by the
// .parquet extension), FILE.meta.json (Meta: features with description,
// unit, window, templates and when a value is empty; ids, labels and audit
// columns; per-file input counts) and FILE.rejects.csv (every row not
// used, with file, line, column, value and reason). Empty cells are NaN.
//
// Performance. Each file is read once for all as-of dates, files in
// parallel; rows are held as compact columns grouped per resident (CSR
// after a counting sort), and each as-of date is computed in parallel over
// blocks of entities.
package build

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"caserisk/features/contract"
	"caserisk/features/spec"
)

// Options configure a build.
type Options struct {
	// Dir is the directory of contract CSV files.
	Dir string
	// AsOf lists the as-of dates; several give stacked rolling snapshots.
	AsOf []contract.Day
	// Entity is spec.Resident or spec.Tenancy.
	Entity string
	// Spec is the feature spec; nil means the default spec.
	Spec *spec.Spec
	// Strict stops at the first row that breaks the contract.
	Strict bool
	// AllowBrokenFiles goes on when a service file cannot be read as a
	// whole (a duplicate or missing required header column, broken
	// quoting): its lost lines are counted in Inputs. Without it such a
	// file fails the build with a *contract.BrokenFilesError naming file,
	// line and reason. A broken header in residents, residences or
	// properties always fails.
	AllowBrokenFiles bool
	// ExtractDate is the last day the data covers; NoDay (or the zero
	// value) derives it from the data: the third-latest of the event and
	// period files' latest event dates, the latest date three files reach,
	// which one or two corrupted dates cannot move.
	ExtractDate contract.Day
	// Workers bounds parallelism; 0 means GOMAXPROCS.
	Workers int
	// Progress, when set, receives a progress line per file about twice a
	// second (meant for a terminal).
	Progress io.Writer
}

// SpanStart returns the earliest date the builder accepts in any file's
// event date (1900-01-01): earlier rows are counted as out of span and not
// used.
func SpanStart() contract.Day { return contract.MakeDay(1900, 1, 1) }

// Build reads the data in opts.Dir and builds the feature table.
func Build(ctx context.Context, opts Options) (*Table, error) {
	if len(opts.AsOf) == 0 {
		return nil, errors.New("build features: no as-of date given")
	}
	if opts.Entity != spec.Resident && opts.Entity != spec.Tenancy {
		return nil, fmt.Errorf("build features: entity %q is not %s or %s", opts.Entity, spec.Resident, spec.Tenancy)
	}
	sp := opts.Spec
	if sp == nil {
		var err error
		if sp, err = spec.Default(); err != nil {
			return nil, fmt.Errorf("build features: %w", err)
		}
	}
	c := contract.Default()
	plan, err := compile(sp, opts.Entity, c)
	if err != nil {
		return nil, fmt.Errorf("build features: %w", err)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	asOf := slices.Clone(opts.AsOf)
	slices.Sort(asOf)
	asOf = slices.Compact(asOf)

	ds, err := load(ctx, opts, c, plan, workers, asOf[len(asOf)-1])
	if err != nil {
		return nil, err
	}
	t := newTable(opts.Entity, asOf, plan, ds, sp)
	for _, d := range asOf {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		s := ds.snapshot(d)
		ents := ds.entities(s, opts.Entity)
		if err := t.appendSnapshot(ctx, ds, s, ents, plan, workers); err != nil {
			return nil, err
		}
		if opts.Progress != nil {
			el := time.Since(start).Seconds()
			fmt.Fprintf(opts.Progress, "as of %s: %d %s rows × %d features in %.1f s (%.0f rows/s)\n",
				d, len(ents), opts.Entity, len(plan.meta), el, float64(len(ents))/max(el, 1e-9))
		}
	}
	return t, nil
}

// dataset is everything read from the input directory.
type dataset struct {
	ix      *index
	files   map[string]*events // by service key; absent files are missing
	reports []InputReport      // contract order
	notes   []contract.RowError
	extract contract.Day
	spanEnd contract.Day
	k       consts
}

func load(ctx context.Context, opts Options, c *contract.Contract, p *plan, workers int, lastAsOf contract.Day) (*dataset, error) {
	ix := &index{}
	prog := newProgress(opts.Progress, c)
	defer prog.stop()
	results := make([]*loaded, len(c.Files))
	started := make([]bool, len(c.Files))
	// phase loads the named files, or with no names every file not yet loaded.
	phase := func(names ...string) error {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(workers)
		// Largest files first, so that no core waits on a big file started last.
		order := make([]int, 0, len(c.Files))
		size := make([]int64, len(c.Files))
		for i := range c.Files {
			if st, err := os.Stat(filepath.Join(opts.Dir, c.Files[i].Name)); err == nil {
				size[i] = st.Size()
			}
			order = append(order, i)
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(size[b], size[a]) })
		for _, i := range order {
			f := &c.Files[i]
			if started[i] || names != nil && !slices.Contains(names, f.Service) {
				continue
			}
			started[i] = true
			fp := prog.file(i)
			g.Go(func() error {
				var l *loaded
				var err error
				switch f.Service {
				case "residents":
					l, err = loadResidents(gctx, opts.Dir, f, ix, fp, opts.Strict)
				case "properties":
					l, err = loadProperties(gctx, opts.Dir, f, ix, fp, opts.Strict)
				default:
					mode := tenNone
					if f.Service == "tenancies" {
						mode = tenDefine
					} else if _, ok := f.Column("tenancy_id"); ok {
						mode = tenLookup
					}
					l, err = loadEvents(gctx, opts.Dir, f, ix, p.needStr[f.Service], mode, fp, opts.Strict)
				}
				fp.done.Store(true)
				results[i] = l
				var re *contract.RowError
				if errors.As(err, &re) && l.rep.Present && !opts.Strict && !contract.RequiredFile(f.Name) {
					return nil // a bad header in a service file: reported, and checked below
				}
				return err
			})
		}
		if err := g.Wait(); err != nil {
			var re *contract.RowError
			if errors.As(err, &re) {
				return err
			}
			return fmt.Errorf("load %s: %w", opts.Dir, err)
		}
		// Strict mode: the first breach in contract file order.
		for _, l := range results {
			if l != nil && l.strict != nil {
				return fmt.Errorf("strict mode: %w", l.strict)
			}
		}
		return nil
	}
	if err := phase("residents", "properties"); err != nil {
		return nil, err
	}
	if err := phase("residences", "tenancies", "electoral_register"); err != nil {
		return nil, err
	}
	if err := phase(); err != nil {
		return nil, err
	}
	prog.stop()
	counts := make([]contract.FileCount, 0, len(results))
	for i, l := range results {
		if l != nil {
			counts = append(counts, fileCount(c.Files[i].Name, l.rep))
		}
	}
	if err := contract.Check(counts, opts.AllowBrokenFiles); err != nil {
		return nil, fmt.Errorf("load %s: %w", opts.Dir, err)
	}
	if len(ix.resIDs) == 0 {
		return nil, fmt.Errorf("load %s: residents.csv has no usable row", opts.Dir)
	}
	ds := &dataset{ix: ix, files: map[string]*events{}}
	var maxes []contract.Day
	for _, l := range results {
		if l != nil && l.ev != nil && l.maxDay != contract.NoDay {
			maxes = append(maxes, l.maxDay)
		}
	}
	switch {
	case opts.ExtractDate != 0 && opts.ExtractDate != contract.NoDay:
		ds.extract = opts.ExtractDate
	case len(maxes) > 0:
		ds.extract = extractOf(maxes)
	default:
		ds.extract = lastAsOf
	}
	ds.spanEnd = max(ds.extract, lastAsOf)
	nres, nprop, nten := len(ix.resIDs), len(ix.propUPRN), len(ix.tenIDs)
	g := new(errgroup.Group)
	g.SetLimit(workers)
	var todo []*loaded
	for _, l := range results {
		if l != nil && l.ev != nil {
			todo = append(todo, l)
		}
	}
	slices.SortStableFunc(todo, func(a, b *loaded) int { return cmp.Compare(b.ev.n, a.ev.n) })
	for _, l := range todo {
		g.Go(func() error { l.finish(nres, nprop, nten, SpanStart(), ds.spanEnd); return nil })
	}
	_ = g.Wait()
	for i, l := range results {
		f := &c.Files[i]
		if l == nil {
			ds.reports = append(ds.reports, InputReport{File: f.Name})
			continue
		}
		ds.reports = append(ds.reports, l.rep)
		ds.notes = append(ds.notes, l.notes...)
		if l.ev != nil {
			ds.files[f.Service] = l.ev
		}
	}
	// Residents first seen outside the span never enter the population.
	for r, d := range ix.first {
		if d < SpanStart() || d > ds.spanEnd {
			ix.first[r] = contract.NoDay
			ds.reports[0].OutOfSpan++
			ds.reports[0].RowsUsed--
			ds.notes = append(ds.notes, note("residents.csv", ix.resLine[r], "first_seen_date", d.String(),
				fmt.Sprintf("date outside the data's span %s to %s; the person is not used", SpanStart(), ds.spanEnd)))
		}
	}
	ds.k = makeConsts(ds)
	return ds, nil
}

// extractOf is the extract date of files whose latest dates are maxes:
// the latest date that three files reach, which one or two corrupted
// dates cannot move and sparse files do not hold back.
func extractOf(maxes []contract.Day) contract.Day {
	s := slices.Clone(maxes)
	slices.Sort(s)
	slices.Reverse(s)
	return s[min(2, len(s)-1)]
}

// Coverage returns the dates a directory's data covers, from a scan of
// its files (contract.Scan): from is when its history starts, the
// earliest date that three event files reach (one or two corrupted dates
// cannot move it back); to is its extract date, as Build derives it from
// the event and period files. A score run or feature row dated outside
// them has no data to stand on. ok is false when the files hold no dates.
func Coverage(files []contract.FileScan) (from, to contract.Day, ok bool) {
	var firsts, lasts []contract.Day
	c := contract.Default()
	for _, s := range files {
		f, known := c.File(s.File)
		if !known || f.Kind == contract.Entity || s.Last == contract.NoDay {
			continue
		}
		lasts = append(lasts, s.Last)
		if f.Kind == contract.Events {
			firsts = append(firsts, s.First)
		}
	}
	if len(lasts) == 0 || len(firsts) == 0 {
		return contract.NoDay, contract.NoDay, false
	}
	slices.Sort(firsts)
	return firsts[min(2, len(firsts)-1)], extractOf(lasts), true
}

// snapshot is the state of the borough on one as-of date, as known then.
type snapshot struct {
	asOf      contract.Day
	home      []int32        // per resident: property index; -1 living at an unknown address; -2 not living in the borough
	homeStart []contract.Day // start of the current residence
	hhOff     []int32        // living residents per property (CSR)
	hhIdx     []int32
	tenancyOf []int32 // per resident: the running tenancy they hold (latest start), or -1
	tenRun    []bool  // per tenancy: running on the date
	tenPrim   []int32 // per tenancy: the row of its first-listed running tenant
}

const (
	homeUnknown = -1
	homeNone    = -2
)

// alive reports whether resident r is in the data and not known dead on d.
func (ix *index) alive(r int32, d contract.Day) bool {
	f := ix.first[r]
	if f == contract.NoDay || f > d {
		return false
	}
	k := ix.deathKnown[r]
	return k == contract.NoDay || k > d
}

// open reports whether a period row is open on d as known on d. The end
// date is the period's last day (residences.end_date: "Last day at the
// address"), so a period ending on d is still open on d; an end after d
// is not known on d and reads as open.
func open(e *events, i int32, d contract.Day) bool {
	if e.day[i] > d || e.knownDay(i) > d {
		return false
	}
	end := e.end[i]
	return end == contract.NoDay || end >= d
}

func (ds *dataset) snapshot(d contract.Day) *snapshot {
	ix := ds.ix
	n := len(ix.resIDs)
	s := &snapshot{asOf: d, home: make([]int32, n), homeStart: make([]contract.Day, n), tenancyOf: make([]int32, n)}
	res := ds.files["residences"]
	for r := int32(0); int(r) < n; r++ {
		s.home[r], s.tenancyOf[r] = homeNone, -1
		if !ix.alive(r, d) {
			continue
		}
		lo, hi := res.resRows(r)
		best := int32(-1)
		for i := lo; i < hi; i++ {
			if !open(res, i, d) {
				continue
			}
			if best < 0 || res.day[i] > res.day[best] || res.day[i] == res.day[best] && res.line[i] > res.line[best] {
				best = i
			}
		}
		if best >= 0 {
			s.home[r] = res.prop[best]
			s.homeStart[r] = res.day[best]
		}
	}
	s.hhOff, s.hhIdx = groupBy(s.home, len(ix.propUPRN))
	ten := ds.files["tenancies"]
	nt := len(ix.tenIDs)
	s.tenRun, s.tenPrim = make([]bool, nt), make([]int32, nt)
	for t := int32(0); int(t) < nt; t++ {
		s.tenPrim[t] = -1
		for _, i := range ten.tenRows(t) {
			if !open(ten, i, d) {
				continue
			}
			s.tenRun[t] = true
			if p := s.tenPrim[t]; p < 0 || ten.line[i] < ten.line[p] {
				s.tenPrim[t] = i
			}
			r := ten.res[i]
			if cur := s.tenancyOf[r]; cur < 0 || ten.day[i] > ten.day[s.tenPrim[cur]] {
				s.tenancyOf[r] = t
			}
		}
	}
	return s
}

// entity is one row of the table: a resident, or a tenancy with its tenants.
type entity struct {
	res     int32   // the resident, or the tenancy's first-listed tenant
	prop    int32   // the home (resident) or the let property (tenancy); -1 unknown
	ten     int32   // the tenancy; -1 for a resident who holds none
	persons []int32 // the resident, or the tenancy's tenants
	hh      []int32 // the people living at prop on the as-of date
}

func (ds *dataset) entities(s *snapshot, kind string) []entity {
	var out []entity
	if kind == spec.Resident {
		for r := int32(0); int(r) < len(s.home); r++ {
			p := s.home[r]
			if p == homeNone {
				continue
			}
			e := entity{res: r, prop: p, ten: s.tenancyOf[r], persons: []int32{r}}
			if p >= 0 {
				e.hh = s.hhIdx[s.hhOff[p]:s.hhOff[p+1]]
			} else {
				e.hh = e.persons
			}
			out = append(out, e)
		}
		return out
	}
	ten := ds.files["tenancies"]
	for t := int32(0); int(t) < len(s.tenRun); t++ {
		if !s.tenRun[t] {
			continue
		}
		prim := s.tenPrim[t]
		e := entity{res: ten.res[prim], prop: ten.prop[prim], ten: t}
		rows := slices.Clone(ten.tenRows(t))
		sort.Slice(rows, func(a, b int) bool { return ten.line[rows[a]] < ten.line[rows[b]] })
		for _, i := range rows {
			if open(ten, i, s.asOf) && !slices.Contains(e.persons, ten.res[i]) {
				e.persons = append(e.persons, ten.res[i])
			}
		}
		if e.prop >= 0 {
			e.hh = s.hhIdx[s.hhOff[e.prop]:s.hhOff[e.prop+1]]
		}
		out = append(out, e)
	}
	return out
}

// ageYears returns r's age in whole years on d, or NaN when the date of birth is unknown.
func (ix *index) ageYears(r int32, d contract.Day) float64 {
	b := ix.dob[r]
	if b == contract.NoDay || b > d {
		return math.NaN()
	}
	by, bm, bd := b.Civil()
	y, m, dd := d.Civil()
	age := y - by
	if m < bm || m == bm && dd < bd {
		age--
	}
	return float64(age)
}
