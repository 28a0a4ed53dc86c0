package link

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"caserisk/features/contract"
	"caserisk/features/link/assemble"
)

// WriteFiles writes a linkage run's own files into dir (created if need
// be): pairs.csv (WritePairs), review.csv (WriteReview) and review.json
// (its ReviewSummary: what it leaves to the model), model.json
// (WriteModel), links.csv (each record's resident id, in the oracle's
// layout, sorted; `caserisk link --links-from` reads it) and stats.json.
// None holds personal data: ids, levels, weights and counts only.
func (r *Result) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write linkage files: %w", err)
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"pairs.csv", r.WritePairs},
		{"review.csv", r.WriteReview},
		{"review.json", func(w io.Writer) error { return writeJSON(w, r.Review()) }},
		{"model.json", r.WriteModel},
		{"links.csv", r.writeLinks},
		{"stats.json", func(w io.Writer) error { return writeJSON(w, r.Stats) }},
	} {
		if err := writeFile(filepath.Join(dir, f.name), f.write); err != nil {
			return fmt.Errorf("write linkage files: %w", err)
		}
	}
	return nil
}

// WriteEvaluation writes m, an evaluation against the truth, as
// evaluation.json in dir (the linkage files' directory).
func WriteEvaluation(dir string, m Metrics) error {
	if err := writeFile(filepath.Join(dir, "evaluation.json"), func(w io.Writer) error { return writeJSON(w, m) }); err != nil {
		return fmt.Errorf("write evaluation: %w", err)
	}
	return nil
}

// WriteLinks writes a mapping from raw person records to residents as CSV
// (contract.RawLinksHeader: source, record_id, resident_id), sorted by
// source and record id.
func WriteLinks(w io.Writer, ids map[assemble.Key]string) error {
	keys := make([]assemble.Key, 0, len(ids))
	for k := range ids {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b assemble.Key) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.RecordID, b.RecordID))
	})
	cw := csv.NewWriter(w)
	if err := cw.Write(contract.RawLinksHeader()); err != nil {
		return err
	}
	for _, k := range keys {
		if err := cw.Write([]string{k.Source, k.RecordID, ids[k]}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeLinks writes what WriteLinks(w, r.ResidentIDs()) writes, without
// the map: records sorted by (source, record_id), ids from the clusters.
func (r *Result) writeLinks(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(contract.RawLinksHeader()); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	idx := make([]int32, len(r.Records))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return keyLess(&r.Records[a], &r.Records[b]) })
	width := max(7, len(strconv.Itoa(r.Stats.Clusters)))
	var b, num []byte
	for n, i := range idx {
		rec := &r.Records[i]
		b = appendField(b, rec.Source)
		b = append(b, ',')
		b = appendField(b, rec.RecordID)
		b = append(b, ",RL"...)
		num = strconv.AppendInt(num[:0], int64(r.Cluster[i])+1, 10)
		for k := len(num); k < width; k++ {
			b = append(b, '0')
		}
		b = append(b, num...)
		b = append(b, '\n')
		if len(b) >= 1<<16 || n == len(idx)-1 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeFile writes path through a buffer with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	b := bufio.NewWriterSize(f, 1<<20)
	if err := write(b); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := b.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
