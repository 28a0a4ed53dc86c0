// Package dataset reads the numeric tables that caserisk's trainer, scorer
// and evaluator work on: a CSV or Parquet file with a header, one row per
// (person or tenancy, as-of date), held column-major.
//
// Columns fall into four roles:
//
//   - keys: identifiers and dates kept as strings and never used as model
//     features: resident_id, tenancy_id, uprn, as_of, any column ending in
//     _id, any column whose every non-empty value is an ISO date
//     (YYYY-MM-DD), audit_* columns (protected characteristics kept for
//     fairness audits), the ids and audit columns the metadata file names,
//     and the names the caller passes in Options.Ignore;
//   - the label: the one column named by Options.Label, 0 or 1, empty where
//     the outcome is unknown (NaN in the table);
//   - other labels: columns named label_*, those the metadata file lists as
//     labels and those named in Options.Labels, other than the chosen label,
//     are dropped (listed in Table.Ignored), so an outcome never leaks into
//     the features and a table that carries a model's own label is scored;
//   - features: every other column, parsed as float64; an empty value, NA,
//     N/A, NaN or null is missing (NaN). Any other non-numeric value is an
//     error naming the file, line, column and value.
//
// The feature builder writes FILE.meta.json beside each table with a
// description of every feature; Read attaches it to the table (Table.Meta)
// so that a model can phrase its reasons without the table.
package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// AsOf is the column that places a row in time.
const AsOf = "as_of"

// KeyColumn is a column kept as strings: an identifier or a date.
type KeyColumn struct {
	Name   string
	Values []string
}

// FeatureMeta describes one feature as the feature builder documents it in
// FILE.meta.json. Only Name is required; the rest is carried into the model
// so pages and explanations can phrase a reason ("3 missed rent payments in
// the last 90 days") without the table.
type FeatureMeta struct {
	Name         string `json:"name"`
	Description  string `json:"description,omitempty"`
	Unit         string `json:"unit,omitempty"`
	WindowDays   int    `json:"window_days,omitempty"`
	Service      string `json:"service,omitempty"`
	Aggregation  string `json:"aggregation,omitempty"`
	Scope        string `json:"scope,omitempty"`
	Template     string `json:"template,omitempty"`
	ZeroTemplate string `json:"zero_template,omitempty"`
	// Missing says when the value is empty (NaN); empty when it never is.
	Missing string `json:"missing,omitempty"`
	// Direction is the effect domain knowledge expects of the feature
	// (increasing or decreasing; empty when none is declared): gradient
	// boosting trains with it as a monotone constraint.
	Direction string `json:"direction,omitempty"`
}

// Table is a column-major numeric table.
type Table struct {
	// Source is the base name of the file the table was read from.
	Source string
	// Names are the feature columns in file order; Cols[i] holds Names[i].
	Names []string
	Cols  [][]float64
	// Meta describes each feature, aligned with Names. A feature the
	// metadata file does not describe has only its Name set.
	Meta []FeatureMeta
	// Keys are the identifier and date columns in file order.
	Keys []KeyColumn
	// LabelName is the chosen label column; empty when none was asked for.
	LabelName string
	// Label holds 0, 1 or NaN (unknown outcome) per row; nil without a label.
	Label []float64
	// Audit names the key columns that hold protected characteristics
	// (audit_* and the metadata's audit list): kept for fairness audits,
	// never features, and not copied into score files.
	Audit []string
	// Ignored lists columns that were read but dropped: label_* columns
	// other than the chosen label.
	Ignored []string

	rows int
}

// Len returns the number of rows.
func (t *Table) Len() int { return t.rows }

// Key returns the values of the named key column.
func (t *Table) Key(name string) ([]string, bool) {
	for _, k := range t.Keys {
		if k.Name == name {
			return k.Values, true
		}
	}
	return nil, false
}

// Column returns the named feature column.
func (t *Table) Column(name string) ([]float64, bool) {
	if i := slices.Index(t.Names, name); i >= 0 {
		return t.Cols[i], true
	}
	return nil, false
}

// Row copies row i's features into dst (grown as needed) and returns it.
func (t *Table) Row(i int, dst []float64) []float64 {
	dst = slices.Grow(dst[:0], len(t.Cols))[:len(t.Cols)]
	for j, c := range t.Cols {
		dst[j] = c[i]
	}
	return dst
}

// Subset returns a new table with the given rows, in the given order.
func (t *Table) Subset(rows []int) *Table {
	out := &Table{
		Source: t.Source, Names: slices.Clone(t.Names), Meta: slices.Clone(t.Meta),
		LabelName: t.LabelName, Ignored: slices.Clone(t.Ignored), Audit: slices.Clone(t.Audit), rows: len(rows),
		Cols: make([][]float64, len(t.Cols)), Keys: make([]KeyColumn, len(t.Keys)),
	}
	for j, c := range t.Cols {
		nc := make([]float64, len(rows))
		for i, r := range rows {
			nc[i] = c[r]
		}
		out.Cols[j] = nc
	}
	for j, k := range t.Keys {
		nv := make([]string, len(rows))
		for i, r := range rows {
			nv[i] = k.Values[r]
		}
		out.Keys[j] = KeyColumn{Name: k.Name, Values: nv}
	}
	if t.Label != nil {
		out.Label = make([]float64, len(rows))
		for i, r := range rows {
			out.Label[i] = t.Label[r]
		}
	}
	return out
}

// DropUnlabelled returns the rows whose label is known and how many rows
// had an empty label (for the tenancy-fraud label, the tenancies where no
// investigation closed). A table without a label is returned unchanged.
func (t *Table) DropUnlabelled() (*Table, int) {
	if t.Label == nil {
		return t, 0
	}
	keep := make([]int, 0, t.rows)
	for i, y := range t.Label {
		if !math.IsNaN(y) {
			keep = append(keep, i)
		}
	}
	if len(keep) == t.rows {
		return t, 0
	}
	return t.Subset(keep), t.rows - len(keep)
}

// Positives returns the number of rows labelled 1.
func (t *Table) Positives() int {
	n := 0
	for _, y := range t.Label {
		if y == 1 {
			n++
		}
	}
	return n
}

// LabelRate returns the share of labelled rows whose label is 1 (NaN when
// no row is labelled).
func (t *Table) LabelRate() float64 {
	n := 0
	for _, y := range t.Label {
		if !math.IsNaN(y) {
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return float64(t.Positives()) / float64(n)
}

// AsOfDates returns the distinct as_of dates in the table, sorted; nil when
// the table has no as_of column.
func (t *Table) AsOfDates() []string {
	v, ok := t.Key(AsOf)
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	for _, d := range v {
		seen[d] = true
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// SplitAfter is the temporal hold-out: rows whose as_of date is after date
// are validation rows, the others training rows.
func (t *Table) SplitAfter(date string) (train, valid *Table, err error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, nil, fmt.Errorf("split after %q: not an ISO date (YYYY-MM-DD)", date)
	}
	asof, ok := t.Key(AsOf)
	if !ok {
		return nil, nil, fmt.Errorf("split after %s: %s has no %s column", date, t.Source, AsOf)
	}
	var tr, va []int
	for i, d := range asof {
		if d > date {
			va = append(va, i)
		} else {
			tr = append(tr, i)
		}
	}
	return t.Subset(tr), t.Subset(va), nil
}

// SplitFraction holds out about frac of the rows at random, reproducibly
// for a seed. Rows are grouped by the first of resident_id, tenancy_id and
// uprn the table has, so every row of one person (at several as-of dates)
// falls on the same side and the hold-out measures generalisation to new
// people rather than memory of known ones. Without such a column each row
// is its own group.
func (t *Table) SplitFraction(frac float64, seed uint64) (train, valid *Table, err error) {
	if !(frac > 0 && frac < 1) {
		return nil, nil, fmt.Errorf("split fraction %v: must be between 0 and 1", frac)
	}
	var ids []string
	// The identifiers, in order of preference, that group one person's rows.
	for _, g := range [...]string{"resident_id", "tenancy_id", "uprn"} {
		if v, ok := t.Key(g); ok {
			ids = v
			break
		}
	}
	var seedBytes [8]byte
	binary.LittleEndian.PutUint64(seedBytes[:], seed)
	var rowBytes [8]byte
	var tr, va []int
	for i := range t.rows {
		h := fnv.New64a()
		h.Write(seedBytes[:])
		if ids != nil {
			h.Write([]byte(ids[i]))
		} else {
			binary.LittleEndian.PutUint64(rowBytes[:], uint64(i))
			h.Write(rowBytes[:])
		}
		// The top 53 bits give a uniform number in [0, 1).
		u := float64(mix(h.Sum64())>>11) / (1 << 53)
		if u < frac {
			va = append(va, i)
		} else {
			tr = append(tr, i)
		}
	}
	return t.Subset(tr), t.Subset(va), nil
}

// mix is the splitmix64 finaliser; it spreads FNV's weak high bits.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Fingerprint returns the SHA-256 of the table's content, in hex: column
// names, key values, feature values and labels in row order. It does not
// depend on the file's name or format, so the same rows read from CSV or
// Parquet have the same fingerprint.
//
// Each column is hashed on its own, the columns in parallel, and the
// fingerprint is the SHA-256 of the row count and each column's name and
// digest in table order (keys, features, label).
func (t *Table) Fingerprint() string {
	type section struct {
		name   string
		keys   []string
		floats []float64
		sum    [sha256.Size]byte
	}
	var secs []section
	for _, k := range t.Keys {
		secs = append(secs, section{name: "key:" + k.Name, keys: k.Values})
	}
	for j, n := range t.Names {
		secs = append(secs, section{name: "feature:" + n, floats: t.Cols[j]})
	}
	if t.Label != nil {
		secs = append(secs, section{name: "label:" + t.LabelName, floats: t.Label})
	}
	var buf [8]byte
	writeStr := func(h hash.Hash, s string) {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(s)))
		h.Write(buf[:])
		h.Write([]byte(s))
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range secs {
		g.Go(func() error {
			s := &secs[i]
			h := sha256.New()
			b := make([]byte, 0, 8*4096)
			for _, v := range s.keys {
				b = binary.LittleEndian.AppendUint64(b, uint64(len(v)))
				b = append(b, v...)
				if len(b) >= 8*4096 {
					h.Write(b)
					b = b[:0]
				}
			}
			for _, x := range s.floats {
				bits := math.Float64bits(x)
				if x != x { // every NaN hashes alike
					bits = math.Float64bits(math.NaN())
				}
				b = binary.LittleEndian.AppendUint64(b, bits)
				if len(b) == cap(b) {
					h.Write(b)
					b = b[:0]
				}
			}
			h.Write(b)
			h.Sum(s.sum[:0])
			return nil
		})
	}
	g.Wait()
	h := sha256.New()
	writeStr(h, "caserisk-table-v2")
	binary.LittleEndian.PutUint64(buf[:], uint64(t.rows))
	h.Write(buf[:])
	for _, s := range secs {
		writeStr(h, s.name)
		h.Write(s.sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// isKeyName reports whether a column name marks an identifier or date.
func isKeyName(name string, ignore []string) bool {
	switch name {
	case "resident_id", "tenancy_id", "uprn", AsOf:
		return true
	}
	return strings.HasSuffix(name, "_id") || slices.Contains(ignore, name)
}

// isAuditName reports whether a column holds a protected characteristic.
func isAuditName(name string, audit []string) bool {
	return strings.HasPrefix(name, "audit_") || slices.Contains(audit, name)
}

// isLabelName reports whether a column holds an outcome.
func isLabelName(name string) bool { return strings.HasPrefix(name, "label_") }

// MatchRows finds, for each row of t, the row of other with the same value
// in the key column (which both tables must have): match[i] is that row,
// or -1 when other has none. A value that other holds twice is an error.
func (t *Table) MatchRows(other *Table, key string) ([]int, error) {
	mine, ok := t.Key(key)
	if !ok {
		return nil, fmt.Errorf("match rows: %s has no %s column", t.Source, key)
	}
	theirs, ok := other.Key(key)
	if !ok {
		return nil, fmt.Errorf("match rows: %s has no %s column", other.Source, key)
	}
	at := make(map[string]int, len(theirs))
	for i, v := range theirs {
		if j, dup := at[v]; dup {
			return nil, fmt.Errorf("match rows: %s: %s %q is on rows %d and %d", other.Source, key, v, j+1, i+1)
		}
		at[v] = i
	}
	match := make([]int, len(mine))
	for i, v := range mine {
		j, ok := at[v]
		if !ok {
			j = -1
		}
		match[i] = j
	}
	return match, nil
}
