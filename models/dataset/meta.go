package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Meta is the part of FILE.meta.json that the models use; the feature
// builder writes more (its spec's hash, the as-of dates, input reports),
// which is ignored here.
type Meta struct {
	// Features describes the feature columns.
	Features []FeatureMeta `json:"features"`
	// IDs and Audit name non-feature columns: identifiers, and the
	// protected characteristics kept for fairness audits. Both are read as
	// key columns, never as features.
	IDs   []string `json:"ids"`
	Audit []string `json:"audit"`
	// Labels names the outcome columns: never features.
	Labels []string `json:"labels"`
}

// MetaPaths returns the places a table's metadata file may be, in order:
// the table's name plus .meta.json (features.csv.meta.json), then the name
// without its extension plus .meta.json (features.meta.json).
func MetaPaths(table string) []string {
	ext := filepath.Ext(table)
	return []string{table + ".meta.json", strings.TrimSuffix(table, ext) + ".meta.json"}
}

// ReadMeta reads the first metadata file found beside the table (see
// MetaPaths); it returns nil when there is none.
func ReadMeta(table string) (*Meta, error) {
	for _, p := range MetaPaths(table) {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read feature metadata: %w", err)
		}
		return ParseMeta(filepath.Base(p), data)
	}
	return nil, nil
}

// attach copies each described feature's metadata into t.Meta.
func (m *Meta) attach(t *Table) {
	byName := make(map[string]FeatureMeta, len(m.Features))
	for _, f := range m.Features {
		byName[f.Name] = f
	}
	for i, n := range t.Names {
		if f, ok := byName[n]; ok {
			t.Meta[i] = f
		}
	}
}

// ParseMeta parses a feature metadata file; source names it in errors,
// which give the line and column of a syntax error.
func ParseMeta(source string, data []byte) (*Meta, error) {
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line, col := position(data, se.Offset)
			return nil, fmt.Errorf("%s: line %d, column %d: %w", source, line, col, err)
		case errors.As(err, &te):
			line, col := position(data, te.Offset)
			return nil, fmt.Errorf("%s: line %d, column %d: field %s: %w", source, line, col, te.Field, err)
		}
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	seen := make(map[string]bool, len(m.Features))
	for i, f := range m.Features {
		if f.Name == "" {
			return nil, fmt.Errorf("%s: features[%d]: no name", source, i)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("%s: features[%d]: feature %q is described twice", source, i, f.Name)
		}
		seen[f.Name] = true
	}
	return &m, nil
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
