package pipeline

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"caserisk/features/contract"
	"caserisk/models/target"
)

// Outcomes as labels.
//
// Tenancy fraud: each closed fraud case whose outcome is a label
// (fraud_confirmed, no_fraud) becomes one row of the data contract's
// fraud_investigations.csv: investigation_id CASE-<case id>, the tenancy,
// its lead tenant, the tenancy's uprn (looked up in the extracts'
// tenancies.csv), referral_date the as-of date of the score run that
// flagged it, referral_source data_match, closed_date the day the case
// closed, and the outcome. The feature builder then derives
// label_tenancy_fraud from it exactly as from the council's own
// investigations.
//
// Complex cases: the complex_case label is an escalation in the service
// extracts (contract.Escalations), which a caseworker's review outcome is
// not (caserisk labels export writes them in the store's labels form, one
// row per closed case). A pipeline run reports, in its manifest, how many
// of them fall on rows it built (same resident and as-of date) and how far
// they agree with the extracts' label there, listing the cases that
// disagree; they do not replace the extracts' labels (the complex-case
// label stays the extracts' escalations).

// fraudFile is the contract's fraud_investigations.csv.
func fraudFile() *contract.File {
	f, ok := contract.Default().File("fraud_investigations.csv")
	if !ok {
		panic("pipeline: the data contract has no fraud_investigations.csv")
	}
	return f
}

// Investigation is one fraud_investigations.csv row.
type Investigation struct {
	ID, TenancyID, ResidentID  string
	UPRN                       int64
	Referral, Closed           contract.Day
	Source, Outcome, FraudType string
	// Line is the row's line in the file it was read from (0 when made from
	// a case).
	Line int
}

// values returns the row's values by column name, formatted as in a CSV file.
func (v Investigation) values() map[string]string {
	day := func(d contract.Day) string {
		if d == contract.NoDay || d == 0 {
			return ""
		}
		return d.String()
	}
	uprn := ""
	if v.UPRN > 0 {
		uprn = strconv.FormatInt(v.UPRN, 10)
	}
	return map[string]string{"investigation_id": v.ID, "tenancy_id": v.TenancyID, "resident_id": v.ResidentID,
		"uprn": uprn, "referral_date": day(v.Referral), "referral_source": v.Source, "closed_date": day(v.Closed),
		"outcome": v.Outcome, "fraud_type": v.FraudType}
}

// TenancyUPRNs reads the extracts' tenancies.csv: each tenancy's uprn.
// Rows that break the contract are skipped (the feature builder reports
// them).
func TenancyUPRNs(dataDir string) (map[string]int64, error) {
	f, ok := contract.Default().File("tenancies.csv")
	if !ok {
		return nil, errors.New("the data contract has no tenancies.csv")
	}
	r, err := contract.Open(dataDir, f)
	if err != nil {
		return nil, fmt.Errorf("read tenancies: %w", err)
	}
	defer r.Close()
	ti, ui := colIndex(f, "tenancy_id"), colIndex(f, "uprn")
	out := map[string]int64{}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		var re *contract.RowError
		if errors.As(err, &re) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read tenancies: %w", err)
		}
		if _, dup := out[row.Str[ti]]; !dup {
			out[row.Str[ti]] = int64(row.Num[ui])
		}
	}
}

func colIndex(f *contract.File, name string) int {
	for i, c := range f.Columns {
		if c.Name == name {
			return i
		}
	}
	panic("pipeline: contract file " + f.Name + " has no column " + name)
}

// FraudOutcomes turns the case store's tenancy-fraud outcomes into
// investigation rows. A case whose tenancy uprns does not hold is returned
// in missing (by case id) and left out: it cannot be placed.
func FraudOutcomes(outcomes []Outcome, uprns map[string]int64) (rows []Investigation, missing []int64, err error) {
	for _, l := range outcomes {
		if l.Target != target.TenancyFraud {
			return nil, nil, fmt.Errorf("case %d: a %s outcome is not a tenancy-fraud outcome", l.CaseID, l.Target)
		}
		asOf, err := contract.ParseDay(l.AsOf)
		if err != nil {
			return nil, nil, fmt.Errorf("case %d: as-of date %q: %w", l.CaseID, l.AsOf, err)
		}
		u, ok := uprns[l.EntityID]
		if !ok {
			missing = append(missing, l.CaseID)
			continue
		}
		rows = append(rows, Investigation{ID: fmt.Sprintf("CASE-%d", l.CaseID), TenancyID: l.EntityID, ResidentID: l.ResidentID,
			UPRN: u, Referral: asOf, Closed: contract.DayOf(l.ClosedAt), Source: "data_match", Outcome: l.Outcome})
	}
	return rows, missing, nil
}

// WriteInvestigations writes rows as a contract-valid fraud_investigations.csv.
func WriteInvestigations(w io.Writer, rows []Investigation) error {
	cw := contract.NewWriter(w, fraudFile())
	if err := cw.WriteHeader(); err != nil {
		return fmt.Errorf("write fraud investigations: %w", err)
	}
	for _, v := range rows {
		cw.SetString("investigation_id", v.ID)
		cw.SetString("tenancy_id", v.TenancyID)
		cw.SetString("resident_id", v.ResidentID)
		cw.SetInt("uprn", v.UPRN)
		cw.SetDate("referral_date", v.Referral)
		cw.SetCode("referral_source", v.Source)
		cw.SetDate("closed_date", v.Closed)
		cw.SetCode("outcome", v.Outcome)
		if v.FraudType != "" {
			cw.SetCode("fraud_type", v.FraudType)
		}
		if err := cw.WriteRow(); err != nil {
			return fmt.Errorf("write fraud investigations: %s: %w", v.ID, err)
		}
	}
	if err := cw.Err(); err != nil {
		return fmt.Errorf("write fraud investigations: %w", err)
	}
	return nil
}

// ReadInvestigations reads a fraud_investigations.csv file. Rows that
// break the contract are returned in rejects (file, line, column, reason)
// and left out.
func ReadInvestigations(path string) (rows []Investigation, rejects []contract.RowError, err error) {
	f := fraudFile()
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read fraud investigations: %w", err)
	}
	defer fh.Close()
	r, err := contract.NewReader(bufio.NewReader(fh), path, f)
	if err != nil {
		return nil, nil, fmt.Errorf("read fraud investigations: %w", err)
	}
	idx := func(n string) int { return colIndex(f, n) }
	id, ten, res, up, ref, src, cl, out, ft := idx("investigation_id"), idx("tenancy_id"), idx("resident_id"), idx("uprn"),
		idx("referral_date"), idx("referral_source"), idx("closed_date"), idx("outcome"), idx("fraud_type")
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, rejects, nil
		}
		var re *contract.RowError
		if errors.As(err, &re) {
			rejects = append(rejects, *re)
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read fraud investigations: %w", err)
		}
		rows = append(rows, Investigation{ID: row.Str[id], TenancyID: row.Str[ten], ResidentID: row.Str[res], UPRN: int64(row.Num[up]),
			Referral: row.Day[ref], Source: row.Str[src], Closed: row.Day[cl], Outcome: row.Str[out], FraudType: row.Str[ft], Line: row.Line})
	}
}

// Pair is an exported outcome that meets an investigation of the same
// tenancy in the extracts over the same period.
type Pair struct {
	TenancyID       string `json:"tenancy_id"`
	ExtractID       string `json:"extract_investigation_id"`
	ExtractLine     int    `json:"extract_line"`
	ExtractOutcome  string `json:"extract_outcome"`
	ExportedID      string `json:"exported_investigation_id"`
	ExportedOutcome string `json:"exported_outcome"`
}

// Reconciliation says how the exported outcomes met the extracts.
type Reconciliation struct {
	// Exported counts the outcome rows offered; Added those merged in.
	Exported int `json:"exported"`
	Added    int `json:"added"`
	// Duplicates record the same outcome twice; Conflicts disagree. Both
	// keep the extract's row (the council's system of record) and drop the
	// exported one; a conflict needs a person to correct one source.
	Duplicates []Pair `json:"duplicates"`
	Conflicts  []Pair `json:"conflicts"`
	// Unplaced are cases whose tenancy is not in the extracts.
	Unplaced []int64 `json:"unplaced,omitempty"`
}

// overlaps reports whether two closed investigations' periods, referral
// to closure, share a day: the same tenancy over the same window.
func overlaps(a, b Investigation) bool {
	if a.Closed == contract.NoDay || b.Closed == contract.NoDay {
		return false
	}
	return a.Referral <= b.Closed && b.Referral <= a.Closed
}

// Reconcile matches exported outcome rows with the extracts' investigations:
// an exported row over the same tenancy and period as an extract row is a
// duplicate (same outcome) or a conflict (different outcome) and is dropped;
// the others are returned to be added.
func Reconcile(extract, exported []Investigation) (add []Investigation, rec Reconciliation) {
	byTenancy := map[string][]Investigation{}
	for _, v := range extract {
		byTenancy[v.TenancyID] = append(byTenancy[v.TenancyID], v)
	}
	rec.Exported = len(exported)
	for _, x := range exported {
		i := slices.IndexFunc(byTenancy[x.TenancyID], func(v Investigation) bool { return overlaps(v, x) })
		if i < 0 {
			add = append(add, x)
			continue
		}
		v := byTenancy[x.TenancyID][i]
		p := Pair{TenancyID: x.TenancyID, ExtractID: v.ID, ExtractLine: v.Line, ExtractOutcome: v.Outcome, ExportedID: x.ID, ExportedOutcome: x.Outcome}
		if v.Outcome == x.Outcome {
			rec.Duplicates = append(rec.Duplicates, p)
		} else {
			rec.Conflicts = append(rec.Conflicts, p)
		}
	}
	rec.Added = len(add)
	return add, rec
}

// appendInvestigations writes dst: the extract file src unchanged (so its
// own rejects stay as they were) followed by rows in src's column order;
// without src, a new contract file.
func appendInvestigations(dst, src string, rows []Investigation) error {
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("merge fraud investigations: %w", err)
	}
	err = func() error {
		b, err := os.ReadFile(src)
		if errors.Is(err, os.ErrNotExist) {
			return WriteInvestigations(out, rows)
		}
		if err != nil {
			return err
		}
		hr := csv.NewReader(bytes.NewReader(b))
		header, err := hr.Read()
		if err != nil {
			return fmt.Errorf("%s: line 1: the header: %w", src, err)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			b = append(b, '\n')
		}
		if _, err := out.Write(b); err != nil {
			return err
		}
		cw := csv.NewWriter(out)
		for _, v := range rows {
			vals := v.values()
			rec := make([]string, len(header))
			for i, h := range header {
				rec[i] = vals[h]
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("merge fraud investigations into %s: %w", dst, err)
	}
	return nil
}

// linkExtracts makes dir a view of the extracts: a symbolic link to each
// contract file in data except those named in skip.
func linkExtracts(dir, data string, skip ...string) error {
	abs, err := filepath.Abs(data)
	if err != nil {
		return fmt.Errorf("link the extracts: %w", err)
	}
	for _, f := range contract.Default().Files {
		if slices.Contains(skip, f.Name) {
			continue
		}
		src := filepath.Join(abs, f.Name)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		dst := filepath.Join(dir, f.Name)
		os.Remove(dst)
		if err := os.Symlink(src, dst); err != nil {
			return fmt.Errorf("link the extracts: %w", err)
		}
	}
	return nil
}
