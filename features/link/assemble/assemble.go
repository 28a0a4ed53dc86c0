package assemble

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"caserisk/features/contract"
)

// Options configure Write.
type Options struct {
	// Workers bounds parallelism (files are read and written in parallel);
	// 0 means GOMAXPROCS. The output does not depend on it.
	Workers int
	// Progress, when set, receives a line per file written (counts only).
	Progress io.Writer
	// MovedAwayAfter is how many months without any sighting of a person
	// before the extract's end close the person's last stay (see the
	// residence rules in residence.go); 0 means DefaultMovedAwayAfter, a
	// negative value never closes a stay this way.
	MovedAwayAfter int
	// ExtractDate is the last day the data covers; zero or NoDay derives it
	// as the feature builder does (the latest event date that three files
	// reach).
	ExtractDate contract.Day
}

// FileCount is what Write did with one file.
type FileCount struct {
	File     string   `json:"file"`
	Rows     int      `json:"rows"`               // data rows read
	Written  int      `json:"written"`            // rows written to the output
	Rejected int      `json:"rejected,omitempty"` // rows that broke the contract, not written
	Unmapped int      `json:"unmapped,omitempty"` // rows whose record has no resident id, not written
	Errors   []string `json:"errors,omitempty"`   // the first faults: file, line, column or record id; no personal values
}

// ResidenceStats describe the residence inference.
type ResidenceStats struct {
	Sightings         int `json:"sightings"`           // dated UPRN sightings used (after removing same-day duplicates)
	FromSightings     int `json:"from_sightings"`      // residents whose stays come from dated sightings
	FromPeopleRecords int `json:"from_people_records"` // residents with no dated sighting, placed at their person records' UPRN
	NoAddress         int `json:"no_address"`          // residents with no UPRN anywhere: no residence
	Stays             int `json:"stays"`               // rows of residences.csv
	Moves             int `json:"moves"`               // stays after a person's first
	NoiseRunsMerged   int `json:"noise_runs_merged"`   // short runs between two runs at one UPRN, merged
	OpenAtEnd         int `json:"open_at_end"`         // residents whose last stay is open
	EndedAtDeath      int `json:"ended_at_death"`      // residents whose last stay ends at their death
	EndedMovedAway    int `json:"ended_moved_away"`    // residents whose last stay ends at their last sighting
	RecordUPRNHeld    int `json:"record_uprn_held"`    // person records holding a UPRN
	RecordUPRNMatched int `json:"record_uprn_matched"` // person records without one whose address matched the gazetteer
}

// Report is what Write wrote; it is also written as OUT/manifest.json. It
// holds counts and ids only, never personal data.
type Report struct {
	ContractVersion string         `json:"contract_version"`
	HistoryStart    string         `json:"history_start"` // the first day of the extract's history, derived
	ExtractDate     string         `json:"extract_date"`  // the last day the data covers
	MovedAwayAfter  int            `json:"moved_away_after_months"`
	Files           []FileCount    `json:"files"`
	MappedRecords   int            `json:"mapped_records"`       // entries of the mapping
	RecordsNotFound int            `json:"records_not_found"`    // mapped records in no people file and no row
	Residents       int            `json:"residents"`            // rows of residents.csv
	Residences      int            `json:"residences"`           // rows of residences.csv
	Unmapped        int            `json:"unmapped"`             // rows and person records without a resident id
	RecordsPer      []int          `json:"records_per_resident"` // [k]: residents with k person records; the last entry counts that many or more
	Residence       ResidenceStats `json:"residence"`
	Seconds         float64        `json:"seconds"`
}

// maxFileErrors is how many faults a FileCount lists.
const maxFileErrors = 5

// recordsPerCap is the last bucket of Report.RecordsPer.
const recordsPerCap = 20

// Write writes the joined data in contract form to outDir from the raw
// extracts in rawDir (contract.RawSources layout) and ids, the resident id
// of every raw person record: properties.csv copied; every source file with
// record_id replaced by the resident id (every row kept); residents.csv with
// each resident's details voted from the person records; residences.csv
// inferred from dated UPRNs (see residence.go); manifest.json.
//
// A row or person record whose record has no resident id is an error: all
// are counted, the first few named (file, line, record id), and Write
// returns an error after writing what it could. Rows that break the
// contract are not written and are counted in the Report.
func Write(ctx context.Context, rawDir, outDir string, ids map[Key]string, opt Options) (*Report, error) {
	t0 := time.Now()
	c := contract.Default()
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	movedAway := opt.MovedAwayAfter
	if movedAway == 0 {
		movedAway = DefaultMovedAwayAfter
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("assemble: %w", err)
	}
	ix, err := newIndex(c, ids, workers)
	if err != nil {
		return nil, err
	}
	rep := &Report{ContractVersion: c.Version, MappedRecords: len(ids), MovedAwayAfter: movedAway}

	// Properties: copied through the contract.
	props, _ := c.File("properties")
	pc, gaz, err := copyProperties(ctx, rawDir, outDir, props)
	if err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, pc)
	progress(opt.Progress, pc)

	// Pass over the service files and the people files, in parallel.
	sources := c.RawSources()
	svc := make([]*serviceResult, len(sources))
	ppl := make([]*peopleResult, len(sources))
	all := make([]*seenState, workers)
	var mu sync.Mutex
	jobs := make(chan func(*seenState) error)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := range workers {
		st := newSeenState(len(ix.residents))
		all[w] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range jobs {
				if err := job(st); err != nil {
					errs <- err
					cancel()
					for range jobs { // drain: the feeder stops at the cancel
					}
					return
				}
			}
		}()
	}
	feed := func() {
		defer close(jobs)
		for i, f := range sources {
			if ctx.Err() != nil {
				return
			}
			jobs <- func(st *seenState) error {
				r, err := copyService(ctx, rawDir, outDir, f, i, ix, st)
				if err != nil {
					return err
				}
				svc[i] = r
				mu.Lock()
				progress(opt.Progress, r.count)
				mu.Unlock()
				return nil
			}
			jobs <- func(*seenState) error {
				r, err := readPeople(ctx, rawDir, f, i, ix, gaz)
				if err != nil {
					return err
				}
				ppl[i] = r
				return nil
			}
		}
	}
	go feed()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seen := mergeSeen(all)
	for i := range sources {
		rep.Files = append(rep.Files, svc[i].count, ppl[i].count)
		rep.Unmapped += svc[i].count.Unmapped + ppl[i].count.Unmapped
		rep.Residence.RecordUPRNHeld += ppl[i].uprnHeld
		rep.Residence.RecordUPRNMatched += ppl[i].uprnMatched
	}

	// The extract's span, as the feature builder derives it.
	var maxes, mins []contract.Day
	for i, f := range sources {
		if svc[i].maxDay != contract.NoDay {
			maxes = append(maxes, svc[i].maxDay)
			if f.Kind == contract.Events {
				mins = append(mins, svc[i].minDay)
			}
		}
	}
	r := rules{movedAway: movedAway}
	r.extractEnd, r.historyStart = deriveSpan(maxes, mins, opt.ExtractDate)
	rep.ExtractDate, rep.HistoryStart = r.extractEnd.String(), r.historyStart.String()

	// Residents and residences.
	people := groupPeople(ix, ppl)
	sOff, sAll := groupSightings(len(ix.residents), svc)
	n, err := writeIndex(ctx, outDir, c, ix, people, sOff, sAll, seen, r, workers, rep)
	if err != nil {
		return nil, err
	}
	rep.Residents, rep.Residences = n.residents, n.residences
	rep.Files = append(rep.Files, FileCount{File: "residents.csv", Rows: n.residents, Written: n.residents},
		FileCount{File: "residences.csv", Rows: n.residences, Written: n.residences})
	rep.RecordsNotFound = ix.notFound()
	rep.Seconds = time.Since(t0).Seconds()

	if err := writeManifest(outDir, rep); err != nil {
		return nil, err
	}
	if rep.Unmapped > 0 {
		var first []string // the first of each file, in contract order
		for _, fc := range rep.Files {
			for _, e := range fc.Errors {
				if strings.Contains(e, "no resident id") && len(first) < maxFileErrors {
					first = append(first, e)
					break
				}
			}
		}
		return rep, fmt.Errorf("assemble: %d rows and person records have no resident id in the mapping (first: %s)",
			rep.Unmapped, strings.Join(first, "; "))
	}
	return rep, nil
}

// deriveSpan returns the extract's last day (the third-latest of the
// files' latest event dates, as the feature builder derives it, unless
// given) and the history's first day (the third-earliest of the event
// files' earliest dates, or an earlier one when there are fewer than seven
// files: one or two stray dates cannot move either).
func deriveSpan(maxes, mins []contract.Day, given contract.Day) (end, start contract.Day) {
	end, start = contract.NoDay, contract.NoDay
	if len(maxes) > 0 {
		slices.Sort(maxes)
		slices.Reverse(maxes)
		end = maxes[min(2, len(maxes)-1)]
	}
	if given != 0 && given != contract.NoDay {
		end = given
	}
	if len(mins) > 0 {
		slices.Sort(mins)
		start = mins[min(2, (len(mins)-1)/2)]
	}
	if start == contract.NoDay {
		start = end
	}
	return end, start
}

func progress(w io.Writer, fc FileCount) {
	if w == nil {
		return
	}
	fmt.Fprintf(w, "assemble: %-32s %9d rows, %9d written", fc.File, fc.Rows, fc.Written)
	if fc.Rejected > 0 {
		fmt.Fprintf(w, ", %d rejected", fc.Rejected)
	}
	if fc.Unmapped > 0 {
		fmt.Fprintf(w, ", %d without a resident id", fc.Unmapped)
	}
	fmt.Fprintln(w)
}

func writeManifest(outDir string, rep *Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("assemble: manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(outDir, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("assemble: %w", err)
	}
	return nil
}

// outFile is a buffered output file.
type outFile struct {
	f  *os.File
	bw *bufio.Writer
}

func create(dir, name string) (*outFile, error) {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("assemble: %w", err)
	}
	return &outFile{f: f, bw: bufio.NewWriterSize(f, 1<<20)}, nil
}

// close flushes and closes; it returns the first error.
func (o *outFile) close() error {
	err := o.bw.Flush()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("assemble: write %s: %w", filepath.Base(o.f.Name()), err)
	}
	return nil
}

// rowFault records a row error in fc.
func rowFault(fc *FileCount, err error) bool {
	var re *contract.RowError
	if !errors.As(err, &re) {
		return false
	}
	fc.Rejected++
	if len(fc.Errors) < maxFileErrors {
		fc.Errors = append(fc.Errors, re.Error())
	}
	return true
}
