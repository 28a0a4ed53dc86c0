package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"
)

// FileCount is what reading one file gave: every command that reads
// extracts (features, score-run, pipeline, link) prints these counts per
// file (WriteSummary) and stops on a file that could not be read as a
// whole (Check), so no row is dropped without being counted.
type FileCount struct {
	File    string `json:"file"`
	Present bool   `json:"present"`
	// Rows is the records read (used and rejected), the header excluded.
	Rows int `json:"rows"`
	// Rejected is the records that broke the contract.
	Rejected int `json:"rejected"`
	// Lost is the physical lines not used: each rejected record's lines
	// (a record a broken quote ran over counts every line it spans), or
	// every data line of a file that was not read at all.
	Lost int `json:"lost_lines"`
	// Fault, when set, says why the file cannot be read as a whole
	// ("FILE:LINE: reason"): a duplicate or missing required header
	// column, or broken quoting.
	Fault string `json:"fault,omitempty"`
}

// Unread returns the count of a file that is not read because its header
// is at fault: every data line is lost.
func Unread(dir string, f *File, fault *RowError) (FileCount, error) {
	n, err := dataLines(filepath.Join(dir, f.Name))
	if err != nil {
		return FileCount{}, fmt.Errorf("count the lines of %s: %w", f.Name, err)
	}
	return FileCount{File: f.Name, Present: true, Lost: n, Fault: fault.Error()}, nil
}

// dataLines counts a file's lines after the first.
func dataLines(path string) (int, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	buf := make([]byte, 1<<20)
	lines, last := 0, byte('\n')
	for {
		n, err := fh.Read(buf)
		if n > 0 {
			lines += bytes.Count(buf[:n], []byte{'\n'})
			last = buf[n-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		lines++ // a last line without a line ending
	}
	return max(lines-1, 0), nil
}

// HeaderFault reports whether err (from Open or NewReader) is a fault of
// the file's header, which makes the whole file unreadable; it returns
// the fault.
func HeaderFault(err error) (*RowError, bool) {
	var re *RowError
	if errors.As(err, &re) && re.structure {
		return re, true
	}
	return nil, false
}

// BrokenFilesError names the files that could not be read as a whole.
type BrokenFilesError struct {
	Files []FileCount
}

func (e *BrokenFilesError) Error() string {
	var b strings.Builder
	for i, f := range e.Files {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%d lines not used)", f.Fault, f.Lost)
	}
	n := "a file"
	if len(e.Files) > 1 {
		n = fmt.Sprintf("%d files", len(e.Files))
	}
	return fmt.Sprintf("%s cannot be read as a whole: %s; fix the extract, or pass --allow-broken-files to go on without the lost lines",
		n, b.String())
}

// Check returns a *BrokenFilesError naming every file with a Fault,
// unless allow (the user's explicit --allow-broken-files).
func Check(counts []FileCount, allow bool) error {
	if allow {
		return nil
	}
	var bad []FileCount
	for _, c := range counts {
		if c.Fault != "" {
			bad = append(bad, c)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &BrokenFilesError{Files: bad}
}

// WriteSummary writes the per-file summary every command that reads
// extracts prints: rows read, rejected, lines lost, and any fault.
func WriteSummary(w io.Writer, counts []FileCount) {
	fmt.Fprintf(w, "%-30s %9s %9s %9s\n", "file", "rows", "rejected", "lost")
	var rows, rejected, lost int
	for _, c := range counts {
		if !c.Present {
			fmt.Fprintf(w, "%-30s %9s\n", c.File, "absent")
			continue
		}
		fmt.Fprintf(w, "%-30s %9d %9d %9d", c.File, c.Rows, c.Rejected, c.Lost)
		if c.Fault != "" {
			fmt.Fprintf(w, "  BROKEN: %s", c.Fault)
		}
		fmt.Fprintln(w)
		rows, rejected, lost = rows+c.Rows, rejected+c.Rejected, lost+c.Lost
	}
	fmt.Fprintf(w, "%-30s %9d %9d %9d\n", "total", rows, rejected, lost)
}

// FileScan is what Scan found in one file: its counts and the range of
// its event dates over the rows that keep to the contract.
type FileScan struct {
	FileCount
	First, Last Day // NoDay when the file has no event date or no row
}

// Scan reads each of files in dir, workers at a time, and returns what
// each gave, in the order given; a file that is absent is reported so. It
// returns an error only when reading fails or ctx ends: faults are in the
// counts (see Check).
func Scan(ctx context.Context, dir string, files []*File, workers int) ([]FileScan, error) {
	out := make([]FileScan, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for i, f := range files {
		g.Go(func() error {
			s, err := scanFile(gctx, dir, f)
			out[i] = s
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func scanFile(ctx context.Context, dir string, f *File) (FileScan, error) {
	s := FileScan{FileCount: FileCount{File: f.Name}, First: NoDay, Last: NoDay}
	r, err := Open(dir, f)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if re, ok := HeaderFault(err); ok {
		s.FileCount, err = Unread(dir, f, re)
		return s, err
	}
	if err != nil {
		return s, err
	}
	defer r.Close()
	col := -1
	if f.EventDate != "" {
		for j, c := range f.Columns {
			if c.Name == f.EventDate {
				col = j
			}
		}
	}
	for n := 0; ; n++ {
		if n&0xffff == 0 && ctx.Err() != nil {
			return s, ctx.Err()
		}
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			continue
		}
		if err != nil {
			return s, err
		}
		if col >= 0 {
			if d := row.Day[col]; d != NoDay {
				if s.First == NoDay || d < s.First {
					s.First = d
				}
				if s.Last == NoDay || d > s.Last {
					s.Last = d
				}
			}
		}
	}
	s.FileCount = r.Counts()
	return s, nil
}
