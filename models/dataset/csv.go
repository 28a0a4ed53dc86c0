package dataset

import (
	"bytes"
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// chunkRows is the number of records one parsing task handles.
const chunkRows = 1 << 15

// ReadCSV parses a CSV table held in data; source names it in errors. The
// parser works on bytes: it finds record boundaries in one pass (RFC 4180
// quoting, CRLF or LF line endings, blank lines skipped), then parses
// chunks of records in parallel, each cell with strconv.ParseFloat without
// copying it.
func ReadCSV(ctx context.Context, source string, data []byte, o Options) (*Table, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	starts, quoted, err := scanRecords(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if len(starts) < 2 {
		return nil, fmt.Errorf("%s: no header line", source)
	}
	lineOf := func(rec int) int { return 1 + bytes.Count(data[:starts[rec]], []byte{'\n'}) }
	hdrFields, col, err := splitFields(record(data, starts, 0), nil, quoted)
	if err != nil {
		return nil, fmt.Errorf("%s: line 1, column %d: %w", source, col+1, err)
	}
	header := make([]string, len(hdrFields))
	for j, f := range hdrFields {
		header[j] = string(trimSpace(f))
	}
	roles, err := plan(source, header, o)
	if err != nil {
		return nil, err
	}
	rows := len(starts) - 2 // records minus the header, minus the end sentinel
	a := &assembled{header: header, roles: roles, audit: o.Audit, nums: make([][]float64, len(header)), strs: make([][]string, len(header))}
	for j, r := range roles {
		switch r {
		case roleFeature, roleLabel:
			a.nums[j] = make([]float64, rows)
		case roleKey:
			a.strs[j] = make([]string, rows)
		}
	}

	nchunks := (rows + chunkRows - 1) / chunkRows
	stats := make([][]colStats, nchunks)
	errs := make([]error, nchunks)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(threads(o.Threads))
	for c := range nchunks {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			lo, hi := c*chunkRows, min((c+1)*chunkRows, rows)
			st := make([]colStats, len(header))
			for j := range st {
				st[j] = newColStats()
			}
			stats[c] = st
			var fields [][]byte
			for r := lo; r < hi; r++ {
				var (
					col int
					err error
				)
				fields, col, err = splitFields(record(data, starts, r+1), fields[:0], quoted)
				if err != nil {
					errs[c] = fmt.Errorf("%s: line %d, column %d: %w", source, lineOf(r+1), col+1, err)
					return nil
				}
				if len(fields) != len(header) {
					errs[c] = fmt.Errorf("%s: line %d: %d fields, but the header has %d", source, lineOf(r+1), len(fields), len(header))
					return nil
				}
				for j, f := range fields {
					switch roles[j] {
					case roleFeature:
						st[j].cell(a.nums[j], r, f)
					case roleKey:
						// Reuse the previous row's string when equal: as_of
						// and similar columns repeat, and this saves an
						// allocation per row.
						f = trimSpace(f)
						if r > lo && a.strs[j][r-1] == string(f) {
							a.strs[j][r] = a.strs[j][r-1]
						} else {
							a.strs[j][r] = string(f)
						}
					case roleLabel:
						v, ok := parseLabel(f)
						if !ok {
							errs[c] = fmt.Errorf("%s: line %d, column %d (%s): label value %q is not 0, 1 or empty",
								source, lineOf(r+1), j+1, header[j], trimSpace(f))
							return nil
						}
						a.nums[j][r] = v
					}
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	for _, e := range errs { // the first error in file order
		if e != nil {
			return nil, e
		}
	}

	// Decide each candidate column: feature, date key, or the first bad
	// value in file order.
	var dateCols []int
	for j, r := range roles {
		if r != roleFeature {
			continue
		}
		s := newColStats()
		for c := range stats {
			s.merge(stats[c][j])
		}
		isDate, ce := s.decide(header[j])
		if ce != nil {
			return nil, fmt.Errorf("%s: line %d, column %d (%s): value %q %s", source, lineOf(ce.row+1), j+1, ce.column, ce.value, ce.why)
		}
		if isDate {
			dateCols = append(dateCols, j)
		}
	}
	if len(dateCols) > 0 {
		if err := extractStrings(ctx, data, starts, quoted, rows, dateCols, a, o); err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
	}
	return a.table(source, rows, o.Label), nil
}

// extractStrings re-reads the given columns as strings and makes them keys.
func extractStrings(ctx context.Context, data []byte, starts []int, quoted bool, rows int, cols []int, a *assembled, o Options) error {
	for _, j := range cols {
		a.roles[j] = roleKey
		a.nums[j] = nil
		a.strs[j] = make([]string, rows)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(threads(o.Threads))
	for lo := 0; lo < rows; lo += chunkRows {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			var fields [][]byte
			for r := lo; r < min(lo+chunkRows, rows); r++ {
				// The first pass has already split every record without error.
				fields, _, _ = splitFields(record(data, starts, r+1), fields[:0], quoted)
				for _, j := range cols {
					a.strs[j][r] = string(trimSpace(fields[j]))
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// record returns record i without its line ending and any blank lines
// that follow it (a record never ends in a line break: a quoted field
// ends with its closing quote).
func record(data []byte, starts []int, i int) []byte {
	return bytes.TrimRight(data[starts[i]:starts[i+1]], "\r\n")
}

// scanRecords returns the start offset of every non-blank record followed
// by a final sentinel (len(data)), and whether the data contains quotes.
func scanRecords(data []byte) (starts []int, quoted bool, err error) {
	quoted = bytes.IndexByte(data, '"') >= 0
	starts = make([]int, 0, bytes.Count(data, []byte{'\n'})+2)
	blank := func(lo, hi int) bool {
		for _, c := range data[lo:hi] {
			if c != '\n' && c != '\r' {
				return false
			}
		}
		return true
	}
	pos := 0
	for pos < len(data) {
		end := -1
		if !quoted {
			if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
				end = pos + i + 1
			}
		} else {
			// A quote opens a quoted field only at the start of a field;
			// "" inside one is an escaped quote. Bare quotes elsewhere are
			// left for splitFields to report.
			inQuote, fieldStart := false, true
			for i := pos; i < len(data) && end < 0; i++ {
				c := data[i]
				switch {
				case inQuote:
					if c == '"' {
						if i+1 < len(data) && data[i+1] == '"' {
							i++
						} else {
							inQuote = false
						}
					}
				case c == '"' && fieldStart:
					inQuote = true
				case c == '\n':
					end = i + 1
				}
				fieldStart = !inQuote && c == ','
			}
			if end < 0 && inQuote {
				line := 1 + bytes.Count(data[:pos], []byte{'\n'})
				return nil, false, fmt.Errorf("line %d: quoted field is not closed before the end of the file", line)
			}
		}
		if end < 0 {
			end = len(data)
		}
		if !blank(pos, end) {
			starts = append(starts, pos)
		}
		pos = end
	}
	starts = append(starts, len(data))
	return starts, quoted, nil
}

// splitFields appends the fields of one record to dst. Quoted fields are
// unquoted ("" stands for one quote); a quote inside an unquoted field, or
// text after a closing quote, is an error reported with the field's index.
func splitFields(rec []byte, dst [][]byte, quoted bool) ([][]byte, int, error) {
	if !quoted {
		for {
			i := bytes.IndexByte(rec, ',')
			if i < 0 {
				return append(dst, rec), 0, nil
			}
			dst = append(dst, rec[:i])
			rec = rec[i+1:]
		}
	}
	for col := 0; ; col++ {
		if len(rec) == 0 || rec[0] != '"' {
			i := bytes.IndexByte(rec, ',')
			f := rec
			if i >= 0 {
				f = rec[:i]
			}
			if bytes.IndexByte(f, '"') >= 0 {
				return dst, col, fmt.Errorf(`bare " in an unquoted field`)
			}
			dst = append(dst, f)
			if i < 0 {
				return dst, 0, nil
			}
			rec = rec[i+1:]
			continue
		}
		// Quoted field: find the closing quote, unescaping "" as we go.
		rec = rec[1:]
		var f []byte
		copied := false
		i := 0
		for {
			k := bytes.IndexByte(rec[i:], '"')
			if k < 0 {
				return dst, col, fmt.Errorf(`quoted field is not closed`)
			}
			i += k
			if i+1 < len(rec) && rec[i+1] == '"' {
				if !copied {
					f, copied = append([]byte(nil), rec[:i+1]...), true
				} else {
					f = append(f, rec[:i+1]...)
				}
				rec = rec[i+2:]
				i = 0
				continue
			}
			if copied {
				f = append(f, rec[:i]...)
			} else {
				f = rec[:i]
			}
			rec = rec[i+1:]
			break
		}
		dst = append(dst, f)
		if len(rec) == 0 {
			return dst, 0, nil
		}
		if rec[0] != ',' {
			return dst, col, fmt.Errorf(`text after the closing " of a quoted field`)
		}
		rec = rec[1:]
	}
}
