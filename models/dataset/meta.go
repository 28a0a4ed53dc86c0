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

// metaFile is the part of FILE.meta.json that the models use; the feature
// builder may write more (its spec, the as-of dates), which is ignored here.
type metaFile struct {
	Features []FeatureMeta `json:"features"`
}

// MetaPaths returns the places a table's metadata file may be, in order:
// the table's name plus .meta.json (features.csv.meta.json), then the name
// without its extension plus .meta.json (features.meta.json).
func MetaPaths(table string) []string {
	ext := filepath.Ext(table)
	return []string{table + ".meta.json", strings.TrimSuffix(table, ext) + ".meta.json"}
}

// attachMeta reads the first metadata file found beside the table and
// copies each feature's description into t.Meta.
func attachMeta(t *Table, table string) error {
	for _, p := range MetaPaths(table) {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read feature metadata: %w", err)
		}
		metas, err := ParseMeta(filepath.Base(p), data)
		if err != nil {
			return err
		}
		byName := make(map[string]FeatureMeta, len(metas))
		for _, m := range metas {
			byName[m.Name] = m
		}
		for i, n := range t.Names {
			if m, ok := byName[n]; ok {
				t.Meta[i] = m
			}
		}
		return nil
	}
	return nil
}

// ParseMeta parses a feature metadata file; source names it in errors,
// which give the line and column of a syntax error.
func ParseMeta(source string, data []byte) ([]FeatureMeta, error) {
	var m metaFile
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
	return m.Features, nil
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
