package synth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"caserisk/features/contract"
)

// RawConfig holds the raw generator's arguments.
type RawConfig struct {
	// Seed makes the output reproducible; `caserisk generate --raw` passes
	// the borough's seed.
	Seed uint64
	// Workers is the number of sources processed at once; 0 means
	// GOMAXPROCS. The output does not depend on it.
	Workers int
	// Progress, when not nil, receives progress lines (counts only).
	Progress io.Writer
}

// RawManifest describes a raw directory: what was written and how the
// person records were corrupted. It holds no timestamps, so the same
// borough and seed give the same manifest.
type RawManifest struct {
	Generator string `json:"generator"`
	Seed      uint64 `json:"seed"`
	// Rows counts the data rows of every file written, by path relative to
	// the borough directory (raw/<service>.csv, raw/<service>_people.csv,
	// raw/properties.csv, oracle/links.csv).
	Rows map[string]int `json:"rows"`
	// Records is the number of person records over all sources.
	Records int `json:"records"`
	// DuplicateRate is the share of people (with rows on two or more days)
	// a source holds a second record for, their later rows under it;
	// EmptyDuplicateRate the share with a second record holding no rows.
	DuplicateRate      float64 `json:"duplicate_rate"`
	EmptyDuplicateRate float64 `json:"empty_duplicate_rate"`
	// Sources describes each source: its policy and its counts.
	Sources []RawSourceReport `json:"sources"`
	// Corruption reports each kind of corruption over all sources: its
	// target rate, the records it could apply to and the records it did.
	Corruption []RawCorruption `json:"corruption"`
}

// RawSourceReport is one source's policy and counts.
type RawSourceReport struct {
	Source string `json:"source"`
	// People is the number of true residents with a row in the source.
	People int `json:"people"`
	// Records is the number of person records (People plus duplicates).
	Records int `json:"records"`
	// Duplicates are second records holding the person's later rows.
	Duplicates int `json:"duplicates"`
	// EmptyDuplicates are second records created in error that hold no rows.
	EmptyDuplicates int `json:"empty_duplicates"`
	Rows            int `json:"rows"`
	RawSourcePolicy
}

// RawCorruption is one kind of corruption: its target rate among the
// records it can apply to (Eligible), and how many it was applied to.
type RawCorruption struct {
	Kind        string  `json:"kind"`
	Description string  `json:"description"`
	Target      float64 `json:"target_rate"`
	Eligible    int     `json:"eligible"`
	Applied     int     `json:"applied"`
	Rate        float64 `json:"rate"`
}

// GenerateRaw reads the joined borough that Generate wrote in dir and
// writes the raw extracts a council would hold before record linkage:
// dir/raw/<service>.csv and dir/raw/<service>_people.csv for every
// contract.Default().RawSources() source, dir/raw/properties.csv (a copy of
// the gazetteer), dir/raw/manifest.json, and the truth dir/oracle/links.csv
// mapping every person record to its resident. See the package's raw
// documentation (rawcorrupt.go) for the record policy and corruption rates.
//
// Service files are streamed twice (once through the contract loader, once
// rewritten line by line keeping every value as written), so memory grows
// with the number of people, not rows. Output is byte-identical for a
// given borough and seed whatever the worker count: each (resident, source)
// draws from its own PCG stream.
func GenerateRaw(ctx context.Context, cfg RawConfig, dir string) (*RawManifest, error) {
	rw, err := loadRawWorld(ctx, cfg, dir)
	if err != nil {
		return nil, fmt.Errorf("generate raw: %w", err)
	}
	rawDir := filepath.Join(dir, "raw")
	if err := os.MkdirAll(rawDir, 0o755); err != nil {
		return nil, fmt.Errorf("generate raw: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "oracle"), 0o755); err != nil {
		return nil, fmt.Errorf("generate raw: %w", err)
	}
	if err := copyFile(filepath.Join(dir, "properties.csv"), filepath.Join(rawDir, "properties.csv")); err != nil {
		return nil, fmt.Errorf("generate raw: %w", err)
	}
	sources := rw.c.RawSources()
	outs := make([]*rawSourceOut, len(sources))
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Biggest files first, so the long ones do not start last.
	order := make([]int, len(sources))
	sizes := make([]int64, len(sources))
	for i, f := range sources {
		order[i] = i
		if st, err := os.Stat(filepath.Join(dir, f.Name)); err == nil {
			sizes[i] = st.Size()
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(sizes[b]>>20) - int(sizes[a]>>20) })
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, si := range order {
		g.Go(func() error {
			out, err := rw.source(gctx, si, sources[si], rawDir)
			if err != nil {
				return err
			}
			outs[si] = out
			if cfg.Progress != nil {
				fmt.Fprintf(cfg.Progress, "generate raw: %s: %d rows, %d person records\n", sources[si].Service, out.rows, len(out.recs))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("generate raw: %w", ctxErr)
		}
		return nil, fmt.Errorf("generate raw: %w", err)
	}
	m := &RawManifest{Generator: "caserisk generate --raw", Seed: cfg.Seed, Rows: map[string]int{},
		DuplicateRate: rateDuplicate, EmptyDuplicateRate: rateEmptyDuplicate}
	var total rawCounts
	links, err := newLinksWriter(filepath.Join(dir, contract.RawLinksFile))
	if err != nil {
		return nil, fmt.Errorf("generate raw: %w", err)
	}
	defer links.close()
	nProps, err := countRows(filepath.Join(rawDir, "properties.csv"))
	if err != nil {
		return nil, fmt.Errorf("generate raw: %w", err)
	}
	m.Rows["raw/properties.csv"] = nProps
	for si, f := range sources {
		out := outs[si]
		m.Rows["raw/"+f.Name] = out.rows
		m.Rows["raw/"+f.Service+"_people.csv"] = len(out.recs)
		m.Records += len(out.recs)
		rep := RawSourceReport{Source: f.Service, People: out.people, Records: len(out.recs),
			Rows: out.rows, RawSourcePolicy: out.pol}
		for _, r := range out.recs {
			switch r.kind {
			case recDup:
				rep.Duplicates++
			case recEmpty:
				rep.EmptyDuplicates++
			}
			if err := links.write(f.Service, r.id, rw.ids[r.res]); err != nil {
				return nil, fmt.Errorf("generate raw: %w", err)
			}
		}
		m.Sources = append(m.Sources, rep)
		total.add(&out.counts)
	}
	if err := links.close(); err != nil {
		return nil, fmt.Errorf("generate raw: %w", err)
	}
	m.Rows[contract.RawLinksFile] = m.Records
	m.Corruption = total.report()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("generate raw: manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(rawDir, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("generate raw: %w", err)
	}
	return m, nil
}

// rawWorld is what every source needs from the joined borough: the
// residents, their stays and the gazetteer. It is read-only once loaded.
type rawWorld struct {
	cfg RawConfig
	dir string
	c   *contract.Contract

	index           map[string]int32 // resident_id -> index
	ids             []string
	given, family   []string
	dob             []contract.Day
	sex             []byte // 'F', 'M' or 0
	eth             []string
	disab           []string
	death, deathRec []contract.Day

	stays   []rawStay // sorted by resident, then start
	stayOff []int32   // resident i's stays are stays[stayOff[i]:stayOff[i+1]]
	props   map[int64]rawProp
	histEnd contract.Day // the extract's last day, NoDay when unknown
	niMul   uint64       // the NI number permutation's multiplier
	niAdd   uint64
}

type rawStay struct {
	res        int32
	start, end contract.Day // end NoDay while open
	uprn       int64
}

type rawProp struct{ address, postcode string }

// loadRawWorld reads residents.csv, residences.csv and properties.csv.
func loadRawWorld(ctx context.Context, cfg RawConfig, dir string) (*rawWorld, error) {
	rw := &rawWorld{cfg: cfg, dir: dir, c: contract.Default(), index: map[string]int32{}, props: map[int64]rawProp{}, histEnd: contract.NoDay}
	f, _ := rw.c.File("residents")
	err := eachRow(ctx, dir, f, func(row *contract.Row) error {
		id := row.Str[0]
		if _, dup := rw.index[id]; dup {
			return fmt.Errorf("%s:%d: resident_id appears twice", f.Name, row.Line)
		}
		id = strings.Clone(id)
		rw.index[id] = int32(len(rw.ids))
		rw.ids = append(rw.ids, id)
		rw.given = append(rw.given, strings.Clone(row.Str[col(f, "given_name")]))
		rw.family = append(rw.family, strings.Clone(row.Str[col(f, "family_name")]))
		rw.dob = append(rw.dob, row.Day[col(f, "date_of_birth")])
		var s byte
		if v := row.Str[col(f, "sex")]; v != "" {
			s = v[0]
		}
		rw.sex = append(rw.sex, s)
		rw.eth = append(rw.eth, internCode(row.Str[col(f, "ethnic_group")]))
		rw.disab = append(rw.disab, internCode(row.Str[col(f, "disability")]))
		rw.death = append(rw.death, row.Day[col(f, "date_of_death")])
		rw.deathRec = append(rw.deathRec, row.Day[col(f, "death_recorded_date")])
		return nil
	})
	if err != nil {
		return nil, err
	}
	f, _ = rw.c.File("residences")
	ri, ui, si, ei := col(f, "resident_id"), col(f, "uprn"), col(f, "start_date"), col(f, "end_date")
	err = eachRow(ctx, dir, f, func(row *contract.Row) error {
		i, ok := rw.index[row.Str[ri]]
		if !ok {
			return fmt.Errorf("%s:%d: column resident_id: not in residents.csv", f.Name, row.Line)
		}
		rw.stays = append(rw.stays, rawStay{res: i, start: row.Day[si], end: row.Day[ei], uprn: int64(row.Num[ui])})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(rw.stays, func(a, b rawStay) int {
		if a.res != b.res {
			return int(a.res - b.res)
		}
		return int(a.start - b.start)
	})
	rw.stayOff = make([]int32, len(rw.ids)+1)
	for _, s := range rw.stays {
		rw.stayOff[s.res+1]++
	}
	for i := 1; i < len(rw.stayOff); i++ {
		rw.stayOff[i] += rw.stayOff[i-1]
	}
	f, _ = rw.c.File("properties")
	pu, pa, pp := col(f, "uprn"), col(f, "address"), col(f, "postcode")
	err = eachRow(ctx, dir, f, func(row *contract.Row) error {
		rw.props[int64(row.Num[pu])] = rawProp{address: strings.Clone(row.Str[pa]), postcode: strings.Clone(row.Str[pp])}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The borough's manifest gives the extract's end, which bounds the
	// dates a source can have recorded; without it no bound is applied.
	if b, err := os.ReadFile(filepath.Join(dir, "manifest.json")); err == nil {
		var m struct {
			HistoryEnd string `json:"history_end"`
		}
		if json.Unmarshal(b, &m) == nil {
			if d, err := contract.ParseDay(m.HistoryEnd); err == nil {
				rw.histEnd = d
			}
		}
	}
	// NI numbers: a permutation of resident indexes over the 4,000,000
	// numbers QQ000000A..QQ999999D (4,000,000 = 2^8·5^6, so any multiplier
	// prime to 10 gives a bijection).
	h := mix64(cfg.Seed ^ 0x4e49)
	rw.niMul = (h%1_000_000)*10 + []uint64{1, 3, 7, 9}[h>>60&3]
	rw.niAdd = mix64(h) % niSpace
	return rw, nil
}

const niSpace = 4_000_000

// internCode returns a shared copy of a code (codes repeat), so a kept
// value does not hold on to the loader's whole line.
func internCode(s string) string {
	for _, c := range [...]string{"white", "asian", "black", "mixed", "other", "not_recorded", "Y", "N", ""} {
		if s == c {
			return c
		}
	}
	return strings.Clone(s)
}

// col returns the index of a contract column; the names are fixed in code.
func col(f *contract.File, name string) int {
	for i, c := range f.Columns {
		if c.Name == name {
			return i
		}
	}
	panic("synth: contract file " + f.Name + " has no column " + name)
}

// eachRow streams dir/f.Name through the contract loader; a row that
// breaks the contract is an error.
func eachRow(ctx context.Context, dir string, f *contract.File, fn func(*contract.Row) error) error {
	r, err := contract.Open(dir, f)
	if err != nil {
		return err
	}
	defer r.Close()
	for n := 0; ; n++ {
		if n%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}

// Record kinds.
const (
	recMain  = 0 // the person's record (the first one created)
	recDup   = 1 // a duplicate holding the person's later rows
	recEmpty = 2 // a duplicate created in error, holding no rows
)

// rawRec is one person record of a source.
type rawRec struct {
	res     int32
	kind    uint8
	id      string
	created contract.Day // the day the record was created (its first row's day)
	last    contract.Day // its last row's day
	firstU  int64        // the uprn on its first row, 0 when none
	lastU   int64
	rows    int
}

// rawLink is what the truth needs of a record once it is written.
type rawLink struct {
	id   string
	res  int32
	kind uint8
}

type rawSourceOut struct {
	pol    RawSourcePolicy
	people int
	rows   int
	recs   []rawLink // sorted by id
	counts rawCounts
}

// pstat is one person's rows in a source, from the first pass.
type pstat struct {
	first, last contract.Day
	n           int32
	rec         int32 // index of the main record in recs; the duplicate is rec+1
	split       contract.Day
}

// source writes one source's raw files.
func (rw *rawWorld) source(ctx context.Context, si int, f *contract.File, rawDir string) (*rawSourceOut, error) {
	pol := sourcePolicy(f)
	out := &rawSourceOut{pol: pol}
	ridCol, dateCol := col(f, "resident_id"), col(f, f.EventDate)
	stats := make([]pstat, len(rw.ids))
	var seq []uint64 // each row's resident index and day, in file order
	_, statErr := os.Stat(filepath.Join(rw.dir, f.Name))
	present := statErr == nil
	if present {
		// Pass 1: validate through the contract loader; each person's span.
		err := eachRow(ctx, rw.dir, f, func(row *contract.Row) error {
			i, ok := rw.index[row.Str[ridCol]]
			if !ok {
				return fmt.Errorf("%s:%d: column resident_id: not in residents.csv", f.Name, row.Line)
			}
			d := row.Day[dateCol]
			st := &stats[i]
			if st.n == 0 || d < st.first {
				st.first = d
			}
			if st.n == 0 || d > st.last {
				st.last = d
			}
			st.n++
			seq = append(seq, uint64(i)<<32|uint64(uint32(d)))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// Records: one per person, a duplicate for some.
	var recs []rawRec
	for i := range stats {
		st := &stats[i]
		st.split = contract.NoDay
		if st.n == 0 {
			continue
		}
		out.people++
		r := rawRNG(rw.cfg.Seed, i, si, 3)
		st.rec = int32(len(recs))
		recs = append(recs, rawRec{res: int32(i), kind: recMain, id: rawRecordID(pol.Prefix, rw.cfg.Seed, si, uint64(i)*4)})
		switch {
		case st.last > st.first && r.bern(rateDuplicate):
			st.split = st.first + 1 + contract.Day(r.Int64N(int64(st.last-st.first)))
			recs = append(recs, rawRec{res: int32(i), kind: recDup, id: rawRecordID(pol.Prefix, rw.cfg.Seed, si, uint64(i)*4+1)})
		case r.bern(rateEmptyDuplicate):
			at := st.first + contract.Day(r.Int64N(int64(st.last-st.first)+1))
			recs = append(recs, rawRec{res: int32(i), kind: recEmpty, id: rawRecordID(pol.Prefix, rw.cfg.Seed, si, uint64(i)*4+2),
				created: at, last: at})
		}
	}
	// Pass 2: rewrite the rows with record ids, keeping every value as written.
	rows, err := rw.rewrite(ctx, f, rawDir, stats, recs, seq)
	if err != nil {
		return nil, err
	}
	out.rows = rows
	// Person records.
	pf := contract.RawPeople(f)
	fh, err := os.Create(filepath.Join(rawDir, pf.Name))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	bw := bufio.NewWriterSize(fh, 1<<20)
	wr := contract.NewWriter(bw, pf)
	if err := wr.WriteHeader(); err != nil {
		return nil, err
	}
	slices.SortFunc(recs, func(a, b rawRec) int { return strings.Compare(a.id, b.id) })
	for k := range recs {
		if k%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		rw.person(si, pol, &recs[k], wr, &out.counts)
		if err := wr.WriteRow(); err != nil {
			return nil, err
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write %s: %w", pf.Name, err)
	}
	if err := fh.Close(); err != nil {
		return nil, fmt.Errorf("close %s: %w", pf.Name, err)
	}
	out.recs = make([]rawLink, len(recs))
	for k, r := range recs {
		out.recs[k] = rawLink{id: r.id, res: r.res, kind: r.kind}
	}
	return out, nil
}

// rewrite streams the joined service file again and writes its raw form:
// the same columns in the same order, resident_id renamed record_id and
// holding the person's record (the duplicate for rows on or after its
// split day). Values are copied as written (legacy codes and all). It
// fills each record's first and last row and returns the row count.
func (rw *rawWorld) rewrite(ctx context.Context, f *contract.File, rawDir string, stats []pstat, recs []rawRec, seq []uint64) (int, error) {
	rf := contract.RawFile(f)
	fo, err := os.Create(filepath.Join(rawDir, rf.Name))
	if err != nil {
		return 0, err
	}
	defer fo.Close()
	bw := bufio.NewWriterSize(fo, 1<<20)
	fi, err := os.Open(filepath.Join(rw.dir, f.Name))
	if errors.Is(err, os.ErrNotExist) {
		// The source is absent from the borough: an empty extract.
		if err := contract.NewWriter(bw, rf).WriteHeader(); err != nil {
			return 0, err
		}
		return 0, errors.Join(bw.Flush(), fo.Close())
	}
	if err != nil {
		return 0, err
	}
	defer fi.Close()
	lr := &lineReader{br: bufio.NewReaderSize(fi, 1<<20), name: f.Name}
	header, err := lr.next()
	if err != nil {
		return 0, fmt.Errorf("%s: header: %w", f.Name, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	ridPos, datePos, uprnPos := -1, -1, -1
	for k, h := range header {
		switch strings.TrimSpace(h) {
		case "resident_id":
			ridPos = k
			header[k] = contract.RawRecordID
		case f.EventDate:
			datePos = k
		case "uprn":
			uprnPos = k
		}
	}
	if ridPos < 0 || datePos < 0 {
		return 0, fmt.Errorf("%s:1: header lacks resident_id or %s", f.Name, f.EventDate)
	}
	var line []byte
	line = appendRecord(line[:0], header)
	if _, err := bw.Write(line); err != nil {
		return 0, err
	}
	rows := 0
	var spans [][2]int
	var fields []string
	for {
		if rows%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		b, err := lr.readLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		lr.line = lr.phys
		b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\r'})
		if len(b) == 0 {
			continue // blank line
		}
		// A line without quotes (every line the generator writes) is
		// rewritten in place; a quoted record is parsed and re-quoted.
		quoted := bytes.IndexByte(b, '"') >= 0
		var rid, date, up []byte
		if quoted {
			if fields, err = lr.quoted(b); err != nil {
				return 0, err
			}
			if len(fields) != len(header) {
				return 0, fmt.Errorf("%s:%d: row has %d fields, the header has %d", f.Name, lr.line, len(fields), len(header))
			}
			rid, date = []byte(fields[ridPos]), []byte(fields[datePos])
			if uprnPos >= 0 {
				up = []byte(fields[uprnPos])
			}
		} else {
			spans = fieldSpans(b, spans[:0])
			if len(spans) != len(header) {
				return 0, fmt.Errorf("%s:%d: row has %d fields, the header has %d", f.Name, lr.line, len(spans), len(header))
			}
			rid, date = b[spans[ridPos][0]:spans[ridPos][1]], b[spans[datePos][0]:spans[datePos][1]]
			if uprnPos >= 0 {
				up = b[spans[uprnPos][0]:spans[uprnPos][1]]
			}
		}
		// The first pass read the same rows in the same order.
		if rows >= len(seq) {
			return 0, fmt.Errorf("%s:%d: more rows than the first reading found", f.Name, lr.line)
		}
		i, d := int(seq[rows]>>32), contract.Day(int32(uint32(seq[rows])))
		if string(rid) != rw.ids[i] {
			return 0, fmt.Errorf("%s:%d: column resident_id: not the row the first reading found", f.Name, lr.line)
		}
		if dd, ok := isoDay(date); !ok || dd != d {
			return 0, fmt.Errorf("%s:%d: column %s: not the row the first reading found", f.Name, lr.line, f.EventDate)
		}
		st := &stats[i]
		k := st.rec
		if st.split != contract.NoDay && d >= st.split {
			k++
		}
		r := &recs[k]
		u := atoi64(up)
		if r.rows == 0 || d < r.created {
			r.created, r.firstU = d, u
		}
		if r.rows == 0 || d >= r.last {
			r.last, r.lastU = d, u
		}
		r.rows++
		if quoted {
			fields[ridPos] = r.id
			line = appendRecord(line[:0], fields)
		} else {
			line = append(line[:0], b[:spans[ridPos][0]]...)
			line = append(line, r.id...)
			line = append(line, b[spans[ridPos][1]:]...)
			line = append(line, '\n')
		}
		if _, err := bw.Write(line); err != nil {
			return 0, fmt.Errorf("write %s: %w", rf.Name, err)
		}
		rows++
	}
	if rows != len(seq) {
		return 0, fmt.Errorf("%s: %d rows, the first reading found %d", f.Name, rows, len(seq))
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("write %s: %w", rf.Name, err)
	}
	if err := fo.Close(); err != nil {
		return 0, fmt.Errorf("close %s: %w", rf.Name, err)
	}
	return rows, nil
}

// lineReader reads CSV records line by line: a line without a quote is
// split on commas; a record with quotes (possibly over several lines) is
// parsed by encoding/csv.
type lineReader struct {
	br     *bufio.Reader
	name   string
	line   int // physical line of the record's start
	phys   int
	fields []string
	buf    []byte
}

func (l *lineReader) readLine() ([]byte, error) {
	b, err := l.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		l.buf = append(l.buf[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = l.br.ReadSlice('\n')
			l.buf = append(l.buf, b...)
		}
		b = l.buf
	}
	if err == io.EOF {
		if len(b) == 0 {
			return nil, io.EOF
		}
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s after line %d: %w", l.name, l.phys, err)
	}
	l.phys++
	return b, nil
}

func (l *lineReader) next() ([]string, error) {
	b, err := l.readLine()
	if err != nil {
		return nil, err
	}
	l.line = l.phys
	if !strings.Contains(string(b), `"`) {
		s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		l.fields = l.fields[:0]
		for {
			k := strings.IndexByte(s, ',')
			if k < 0 {
				l.fields = append(l.fields, s)
				return l.fields, nil
			}
			l.fields = append(l.fields, s[:k])
			s = s[k+1:]
		}
	}
	return l.quoted(b)
}

// quoted parses a record whose first physical line b holds a quote,
// reading more lines while a quoted field is open.
func (l *lineReader) quoted(b []byte) ([]string, error) {
	rec := string(b)
	for strings.Count(rec, `"`)%2 == 1 {
		more, err := l.readLine()
		if err == io.EOF {
			return nil, fmt.Errorf("%s:%d: quoted field is not closed before the end of the file", l.name, l.line)
		}
		if err != nil {
			return nil, err
		}
		rec += string(more)
	}
	cr := csv.NewReader(strings.NewReader(rec))
	cr.FieldsPerRecord = -1
	fields, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", l.name, l.line, err)
	}
	return fields, nil
}

// fieldSpans appends the [start, end) of each comma-separated field of an
// unquoted line.
func fieldSpans(b []byte, spans [][2]int) [][2]int {
	start := 0
	for {
		k := bytes.IndexByte(b[start:], ',')
		if k < 0 {
			return append(spans, [2]int{start, len(b)})
		}
		spans = append(spans, [2]int{start, start + k})
		start += k + 1
	}
}

// isoDay parses YYYY-MM-DD.
func isoDay(b []byte) (contract.Day, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return contract.NoDay, false
	}
	n := func(s []byte) int {
		v := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, m, d := n(b[:4]), n(b[5:7]), n(b[8:])
	if y < 0 || m < 1 || m > 12 || d < 1 || d > 31 {
		return contract.NoDay, false
	}
	return contract.MakeDay(y, m, d), true
}

// atoi64 parses a decimal integer; 0 when empty or malformed (a uprn the
// loader has already checked).
func atoi64(b []byte) int64 {
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0
		}
		v = v*10 + int64(c-'0')
	}
	return v
}

// appendRecord appends one CSV record, quoting fields as the contract
// writer does.
func appendRecord(dst []byte, rec []string) []byte {
	for k, v := range rec {
		if k > 0 {
			dst = append(dst, ',')
		}
		if v != "" && (v[0] == ' ' || v[len(v)-1] == ' ' || strings.ContainsAny(v, ",\"\n\r")) {
			dst = append(dst, '"')
			dst = append(dst, strings.ReplaceAll(v, `"`, `""`)...)
			dst = append(dst, '"')
			continue
		}
		dst = append(dst, v...)
	}
	return append(dst, '\n')
}

// linksWriter writes oracle/links.csv.
type linksWriter struct {
	f  *os.File
	bw *bufio.Writer
}

func newLinksWriter(path string) (*linksWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	l := &linksWriter{f: f, bw: bufio.NewWriterSize(f, 1<<20)}
	if _, err := l.bw.WriteString(strings.Join(contract.RawLinksHeader(), ",") + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

func (l *linksWriter) write(source, recordID, residentID string) error {
	b := appendRecord(nil, []string{source, recordID, residentID})
	_, err := l.bw.Write(b)
	return err
}

func (l *linksWriter) close() error {
	if l.f == nil {
		return nil
	}
	err := l.bw.Flush()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("write %s: %w", contract.RawLinksFile, err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", filepath.Base(src), err)
	}
	return out.Close()
}

// countRows counts the data rows of a CSV file written without embedded
// line breaks (every line after the header is a row).
func countRows(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lr := &lineReader{br: bufio.NewReaderSize(f, 1<<20), name: filepath.Base(path)}
	n := -1
	for {
		_, err := lr.next()
		if err == io.EOF {
			return max(n, 0), nil
		}
		if err != nil {
			return 0, err
		}
		n++
	}
}

// mix64 is the splitmix64 finaliser: a bijection on uint64.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// rawRecordID returns a source's opaque record id for key (the resident's
// index times four plus the record kind): the source's prefix and eight
// base-36 characters of a keyed 4-round Feistel permutation of 40 bits, so
// ids are unique within the source and do not reveal the resident.
func rawRecordID(prefix string, seed uint64, si int, key uint64) string {
	const half = 20
	const mask = 1<<half - 1
	l, r := (key>>half)&mask, key&mask
	for round := uint64(0); round < 4; round++ {
		f := mix64(seed^uint64(si)<<40^round<<56^r^0x5241574944) & mask
		l, r = r, l^f
	}
	s := strings.ToUpper(strconv.FormatUint(l<<half|r, 36))
	return prefix + strings.Repeat("0", 8-len(s)) + s
}

// rawRNG returns the PCG stream of (resident, source, purpose).
func rawRNG(seed uint64, res, si int, purpose uint64) rng {
	return newRNG(seed^0x7261775f72656364, uint64(res)<<8|uint64(si)<<2|purpose)
}
