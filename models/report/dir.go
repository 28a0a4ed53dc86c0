package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Files are the names WriteDir writes, in order.
var files = [...]string{"report.html", "report.json", "fairness.json", "model_card.md", "atrs.json", "atrs.md"}

// Files returns the names of the files WriteDir writes.
func Files() []string { return files[:] }

// WriteDir writes the report and its governance documents into dir: the
// HTML page, its figures as JSON, the fairness audit as JSON, the model
// card, and the ATRS record as JSON and Markdown.
func WriteDir(dir string, r *Report, f Facts, g *Governance) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	atrs := NewATRS(f, r, g)
	writers := [len(files)]func(io.Writer) error{
		r.WriteHTML,
		r.WriteJSON,
		func(w io.Writer) error { return writeIndented(w, r.Fairness) },
		func(w io.Writer) error { return WriteModelCard(w, f, r, g) },
		atrs.WriteJSON,
		atrs.WriteMarkdown,
	}
	for i, name := range files {
		var b bytes.Buffer
		if err := writers[i](&b); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}

func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("report: writing JSON: %w", err)
	}
	return nil
}
