// Package synth generates a synthetic borough: the joined resident data of a
// London council's services (every file the data contract names), written
// through the contract's typed writer, plus an oracle that holds the truth
// behind the data: each resident's escalation probability at the as-of date
// and the realised outcome, and each council tenancy's fraud state.
//
// The borough is made of units: a main property (and for some a second
// one) and the households that live there one after another over the
// history. Each household has hidden, slowly drifting financial stress,
// vulnerability and instability that drive its events in every service, so
// signals correlate across services as they do in life. Complex-case
// escalations are drawn per 12-month block aligned on the as-of date with a
// known probability, which the oracle reports exactly; tenancy fraud is a
// hidden state that leaves traces in the data and is investigated, not
// sampled at random.
//
// What the data holds, in brief:
//
//   - Places and people: 12-digit UPRNs across the 20 wards, tenure about a
//     third social (council stock about a tenth of the population), a third
//     private rented, a third owner occupied; households of singles,
//     couples, families, older people and sharers; census ethnic shares;
//     births, deaths (recorded late), moves in, out and within the borough.
//   - Services: council tax (quarterly), support and housing benefit claims,
//     monthly rent accounts, repairs, the electoral register, adult and
//     children's social care, early help, termly school attendance,
//     homelessness, anti-social behaviour, parking, libraries, environmental
//     requests, sundry debt and youth justice, at rates driven by the hidden
//     factors; about 50 rows per resident over the history.
//   - Complex-case escalations: 2–6% of residents a year (about 3.5%); the
//     oracle's p_escalation ranks the realised outcome with ROC-AUC about
//     0.88, while the extracts alone support less, as on real data.
//   - Tenancy fraud in about 3.5% of council tenancies at the as-of date
//     (subletting, non-occupation, false succession after a death), seen in
//     few repairs, odd rent balances, registrations elsewhere, other adults
//     on the register, single-person discounts; investigated after data
//     matches and tip-offs, so investigations are a biased subset.
//   - Mess: missing optional values, about 0.5% exact duplicate rows,
//     late-recorded rows, legacy code lists before 2023, people known to
//     one system only. Every row still conforms to the contract.
//
// Output is deterministic: every unit draws from its own PCG generator
// seeded from (seed, unit index), units are made in parallel in chunks and
// written in order, so the same arguments give byte-identical files.
package synth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"caserisk/features/contract"
)

// Config holds the generator's arguments.
type Config struct {
	// Residents is the target population at the as-of date.
	Residents int
	// Seed makes the output reproducible.
	Seed uint64
	// AsOf is the as-of date (UTC calendar day). History runs from
	// YearsBefore years before it to 12 months after it.
	AsOf time.Time
	// YearsBefore is the length of the history before the as-of date.
	YearsBefore int
	// Version is the caserisk version recorded in the manifest.
	Version string
	// Workers is the number of goroutines making units; 0 means GOMAXPROCS.
	// The output does not depend on it.
	Workers int
	// Progress, when not nil, receives progress lines.
	Progress io.Writer
}

// Validate reports the first invalid argument.
func (c Config) Validate() error {
	switch {
	case c.Residents < 1 || c.Residents > 5_000_000:
		return fmt.Errorf("residents %d: want 1 to 5,000,000", c.Residents)
	case c.YearsBefore < 1 || c.YearsBefore > 20:
		return fmt.Errorf("years-before %d: want 1 to 20", c.YearsBefore)
	case c.AsOf.Year() < 1990 || c.AsOf.Year() > 2100:
		return fmt.Errorf("as-of %s: want a date between 1990 and 2100", c.AsOf.Format(time.DateOnly))
	}
	return nil
}

// Manifest describes a generated borough. It holds no timestamps, so the
// same arguments give the same manifest.
type Manifest struct {
	Generator       string         `json:"generator"`
	CaseriskVersion string         `json:"caserisk_version"`
	ContractVersion string         `json:"contract_version"`
	Residents       int            `json:"residents"`
	Seed            uint64         `json:"seed"`
	AsOf            string         `json:"as_of"`
	YearsBefore     int            `json:"years_before"`
	HistoryStart    string         `json:"history_start"`
	HistoryEnd      string         `json:"history_end"`
	Units           int            `json:"units"`
	Rows            map[string]int `json:"rows"`
	// OracleFiles lists the oracle files, relative to the output directory.
	OracleFiles []string `json:"oracle_files"`
}

// meanHousehold is the average household size the units are sized by.
const meanHousehold = 2.06

// chunkUnits is the number of units made and written together.
const chunkUnits = 400

// world holds the fixed parameters of one generation run.
type world struct {
	cfg         Config
	c           *contract.Contract
	start       day   // first day of the history
	asOf        day   // the as-of date
	end         day   // as-of + 12 months: the last day of the extract
	months      []day // month starts from start; the last is after end
	blocks      int   // 12-month blocks; the last is the label window
	units       int
	wardWeights []float64
	legacyUntil day // code lists changed on this date
	files       []*contract.File
}

func newWorld(cfg Config) (*world, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := cfg.AsOf.UTC()
	w := &world{cfg: cfg, c: contract.Default()}
	w.asOf = fromCivil(a.Year(), int(a.Month()), a.Day())
	w.start = addMonths(w.asOf, -12*cfg.YearsBefore)
	w.end = addMonths(w.asOf, contract.LabelHorizonMonths)
	w.blocks = cfg.YearsBefore + 1
	for k := 0; ; k++ {
		m := addMonths(w.start, k)
		w.months = append(w.months, m)
		if m > w.end {
			break
		}
	}
	w.units = int(float64(cfg.Residents)/meanHousehold + 0.5)
	if w.units < 1 {
		w.units = 1
	}
	for i := range wardDeprivation {
		w.wardWeights = append(w.wardWeights, 1+0.3*wardDeprivation[i])
	}
	w.legacyUntil = fromCivil(2023, 1, 1)
	for i := range w.c.Files {
		w.files = append(w.files, &w.c.Files[i])
	}
	return w, nil
}

// blockStart returns the start of escalation block j (0 is the first).
func (w *world) blockStart(j int) day {
	return addMonths(w.asOf, 12*(j-w.blocks+1))
}

// Generate writes the synthetic borough to dir: every contract file, the
// oracle under dir/oracle and dir/manifest.json. It stops early when ctx is
// cancelled.
func Generate(ctx context.Context, cfg Config, dir string) (*Manifest, error) {
	w, err := newWorld(cfg)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "oracle"), 0o755); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	out, err := openOutputs(w, dir)
	if err != nil {
		return nil, err
	}
	defer out.close()

	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	nChunks := (w.units + chunkUnits - 1) / chunkUnits
	results := make([]chan *sink, nChunks)
	for i := range results {
		results[i] = make(chan *sink, 1)
	}
	g, gctx := errgroup.WithContext(ctx)
	slots := make(chan struct{}, workers*2)
	g.Go(func() error {
		sub, sctx := errgroup.WithContext(gctx)
		sub.SetLimit(workers)
		for c := 0; c < nChunks; c++ {
			select {
			case slots <- struct{}{}:
			case <-sctx.Done():
				return sub.Wait()
			}
			sub.Go(func() error {
				if err := sctx.Err(); err != nil {
					return err
				}
				s, err := w.makeChunk(c)
				if err != nil {
					return err
				}
				results[c] <- s
				return nil
			})
		}
		return sub.Wait()
	})
	g.Go(func() error {
		for c := 0; c < nChunks; c++ {
			var s *sink
			select {
			case s = <-results[c]:
			case <-gctx.Done():
				return gctx.Err()
			}
			if err := out.write(s); err != nil {
				return err
			}
			<-slots
			if cfg.Progress != nil && (c%25 == 24 || c == nChunks-1) {
				fmt.Fprintf(cfg.Progress, "\rgenerate: %d of %d homes and their households written", min((c+1)*chunkUnits, w.units), w.units)
				if c == nChunks-1 {
					fmt.Fprintln(cfg.Progress)
				}
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("generate: %w", ctxErr)
		}
		return nil, fmt.Errorf("generate: %w", err)
	}
	if err := out.close(); err != nil {
		return nil, err
	}
	m := &Manifest{
		Generator:       "caserisk generate",
		CaseriskVersion: cfg.Version,
		ContractVersion: w.c.Version,
		Residents:       cfg.Residents,
		Seed:            cfg.Seed,
		AsOf:            w.asOf.String(),
		YearsBefore:     cfg.YearsBefore,
		HistoryStart:    w.start.String(),
		HistoryEnd:      w.end.String(),
		Units:           w.units,
		Rows:            out.rows,
		OracleFiles:     []string{"oracle/residents.csv", "oracle/tenancies.csv"},
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("generate: manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	return m, nil
}

// outputs are the open output files, in contract order then the oracle.
type outputs struct {
	names  []string
	files  []*os.File
	bufs   []*bufio.Writer
	rows   map[string]int
	closed bool
}

const (
	oracleResidents = "oracle/residents.csv"
	oracleTenancies = "oracle/tenancies.csv"
)

func openOutputs(w *world, dir string) (*outputs, error) {
	o := &outputs{rows: map[string]int{}}
	open := func(name string, header func(io.Writer) error) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		b := bufio.NewWriterSize(f, 1<<20)
		o.names, o.files, o.bufs = append(o.names, name), append(o.files, f), append(o.bufs, b)
		if err := header(b); err != nil {
			return fmt.Errorf("generate: %s: header: %w", name, err)
		}
		return nil
	}
	for _, f := range w.files {
		if err := open(f.Name, func(b io.Writer) error { return contract.NewWriter(b, f).WriteHeader() }); err != nil {
			o.close()
			return nil, err
		}
	}
	for _, n := range []struct{ name, header string }{
		{oracleResidents, "resident_id,p_escalation,escalated\n"},
		{oracleTenancies, "tenancy_id,fraud\n"},
	} {
		if err := open(n.name, func(wr io.Writer) error { _, err := io.WriteString(wr, n.header); return err }); err != nil {
			o.close()
			return nil, err
		}
	}
	return o, nil
}

// write appends a chunk's rows to the files.
func (o *outputs) write(s *sink) error {
	for i, name := range o.names {
		if _, err := o.bufs[i].Write(s.bufs[i].Bytes()); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		o.rows[name] += s.rows[i]
	}
	return nil
}

func (o *outputs) close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	var errs []error
	for i, f := range o.files {
		if err := o.bufs[i].Flush(); err != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", o.names[i], err))
		}
		if err := f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", o.names[i], err))
		}
	}
	return errors.Join(errs...)
}

// sink collects one chunk's rows: a buffer and a contract writer per file,
// in contract order, then the two oracle buffers.
type sink struct {
	w       *world
	bufs    []*bytes.Buffer
	rows    []int
	writers map[string]*contract.Writer
	r       rng
}

func (w *world) newSink() *sink {
	s := &sink{w: w, writers: make(map[string]*contract.Writer, len(w.files))}
	for _, f := range w.files {
		b := &bytes.Buffer{}
		s.bufs = append(s.bufs, b)
		s.writers[f.Service] = contract.NewWriter(b, f)
	}
	s.bufs = append(s.bufs, &bytes.Buffer{}, &bytes.Buffer{})
	return s
}

// makeChunk makes chunk c's units and returns their rows.
func (w *world) makeChunk(c int) (*sink, error) {
	s := w.newSink()
	for u := c * chunkUnits; u < min((c+1)*chunkUnits, w.units); u++ {
		un := w.newUnit(u)
		s.r = un.r
		s.emitUnit(un)
	}
	s.rows = make([]int, len(s.bufs))
	for i, f := range w.files {
		wr := s.writers[f.Service]
		if err := wr.Err(); err != nil {
			return nil, fmt.Errorf("chunk %d: %w", c, err)
		}
		s.rows[i] = wr.Rows()
	}
	n := len(w.files)
	s.rows[n] = bytes.Count(s.bufs[n].Bytes(), []byte{'\n'})
	s.rows[n+1] = bytes.Count(s.bufs[n+1].Bytes(), []byte{'\n'})
	return s, nil
}
