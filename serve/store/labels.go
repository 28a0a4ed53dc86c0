package store

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// LabelsHeader is the header of the labels CSV written by WriteLabelsCSV.
func LabelsHeader() []string {
	return []string{"kind", "entity_id", "resident_id", "as_of", "label", "outcome", "case_id", "model_version", "score", "closed_at"}
}

// WriteLabelsCSV writes closed-case outcomes as training labels: one row
// per case, in the order given, with the as-of date of the run that
// flagged it so that features can be rebuilt as of that date. The labels
// carry identifiers only, no personal data.
func WriteLabelsCSV(w io.Writer, labels []Label) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(LabelsHeader()); err != nil {
		return fmt.Errorf("write labels: %w", err)
	}
	for _, l := range labels {
		rec := []string{string(l.Kind), l.EntityID, l.ResidentID, l.AsOf, strconv.Itoa(l.Label), string(l.Outcome),
			strconv.FormatInt(l.CaseID, 10), strconv.Itoa(l.ModelVersion), strconv.FormatFloat(l.Score, 'g', -1, 64),
			l.ClosedAt.UTC().Format(time.RFC3339)}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write labels: case %d: %w", l.CaseID, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write labels: %w", err)
	}
	return nil
}
