package build

import (
	"context"
	"math"
	"slices"

	"golang.org/x/sync/errgroup"

	"caserisk/features/contract"
	"caserisk/features/spec"
)

// Label and audit column names.
const (
	LabelComplexCase  = "label_complex_case"
	LabelTenancyFraud = "label_tenancy_fraud"
)

// AuditColumns are the non-feature columns kept for fairness audits; trainers ignore them.
var auditColumns = []string{"audit_sex", "audit_age_band", "audit_ethnic_group", "audit_disability", "audit_ward"}

// AuditColumns returns the names of the audit columns.
func AuditColumns() []string { return append([]string(nil), auditColumns...) }

// Table is a built feature table: one row per entity per as-of date.
// Values and labels are float64 with NaN for an empty value; feature values
// are rounded to Decimals(unit) places as they are computed, so the table
// in memory and its CSV and Parquet copies hold the same numbers.
type Table struct {
	Entity string
	AsOf   []contract.Day
	// Features describes the feature columns, in order.
	Features []FeatureMeta
	Labels   []string
	Audit    []string

	// Per row.
	Res     []int32 // resident index (the first-listed tenant for a tenancy)
	Ten     []int32 // tenancy index (tenancy tables)
	UPRN    []int64 // 0 when unknown
	AsOfIdx []int32 // index into AsOf

	Values      []float64 // rows × len(Features), row-major
	LabelValues []float64 // rows × len(Labels), row-major
	AuditValues []string  // rows × len(Audit), row-major

	// LabelsAvailable says, per as-of date, whether the data reaches 12
	// months past it (otherwise the labels are empty).
	LabelsAvailable []bool
	ExtractDate     contract.Day
	SpecSHA256      string
	// Inputs reports each input file, in contract order.
	Inputs []InputReport
	// Rejects lists the rows not used and why: contract breaches,
	// duplicates, unknown residents and dates out of the data's span.
	Rejects []contract.RowError

	resIDs []string
	tenIDs []string
}

// Rows returns the number of rows.
func (t *Table) Rows() int { return len(t.Res) }

// IDNames returns the identifier columns of the table, in output order.
func (t *Table) IDNames() []string {
	if t.Entity == spec.Tenancy {
		return []string{"tenancy_id", "resident_id", "uprn", "as_of"}
	}
	return []string{"resident_id", "uprn", "as_of"}
}

// ResidentID returns the resident id of row i.
func (t *Table) ResidentID(i int) string { return t.resIDs[t.Res[i]] }

// TenancyID returns the tenancy id of row i ("" in a resident table).
func (t *Table) TenancyID(i int) string {
	if t.Ten == nil {
		return ""
	}
	return t.tenIDs[t.Ten[i]]
}

// Value returns feature j of row i (NaN when empty).
func (t *Table) Value(i, j int) float64 { return t.Values[i*len(t.Features)+j] }

// Column returns the index of the named feature, label or audit column, with its kind, or -1.
func (t *Table) Column(name string) (kind string, j int) {
	for j, f := range t.Features {
		if f.Name == name {
			return "feature", j
		}
	}
	for j, l := range t.Labels {
		if l == name {
			return "label", j
		}
	}
	for j, a := range t.Audit {
		if a == name {
			return "audit", j
		}
	}
	return "", -1
}

func newTable(entity string, asOf []contract.Day, p *plan, ds *dataset, sp *spec.Spec) *Table {
	p.bindData(ds)
	t := &Table{Entity: entity, AsOf: asOf, Features: p.meta, Audit: AuditColumns(),
		ExtractDate: ds.extract, SpecSHA256: sp.SHA256, Inputs: ds.reports, Rejects: ds.notes,
		resIDs: ds.ix.resIDs, tenIDs: ds.ix.tenIDs}
	if entity == spec.Tenancy {
		t.Labels = []string{LabelTenancyFraud}
		t.Ten = []int32{}
	} else {
		t.Labels = []string{LabelComplexCase}
	}
	for _, d := range asOf {
		t.LabelsAvailable = append(t.LabelsAvailable, d.AddMonths(contract.LabelHorizonMonths) <= ds.extract)
	}
	return t
}

// blockSize is how many entities a worker computes at a time.
const blockSize = 2048

func (t *Table) appendSnapshot(ctx context.Context, ds *dataset, s *snapshot, ents []entity, p *plan, workers int) error {
	ai := int32(len(t.LabelsAvailable) - 1)
	for k, d := range t.AsOf {
		if d == s.asOf {
			ai = int32(k)
		}
	}
	base := len(t.Res)
	n := len(ents)
	nf, nl, na := len(t.Features), len(t.Labels), len(t.Audit)
	// Every cell of the new rows is written below.
	t.Values = extend(t.Values, n*nf)
	t.LabelValues = extend(t.LabelValues, n*nl)
	t.AuditValues = extend(t.AuditValues, n*na)
	for _, en := range ents {
		t.Res = append(t.Res, en.res)
		if t.Ten != nil {
			t.Ten = append(t.Ten, en.ten)
		}
		var u int64
		if en.prop >= 0 {
			u = ds.ix.propUPRN[en.prop]
		}
		t.UPRN = append(t.UPRN, u)
		t.AsOfIdx = append(t.AsOfIdx, ai)
	}
	labels := t.LabelsAvailable[ai]
	decimals := make([]int, nf)
	for j, f := range t.Features {
		decimals[j] = Decimals(f.Unit)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for lo := 0; lo < n; lo += blockSize {
		hi := min(lo+blockSize, n)
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			x := &evalCtx{ds: ds, s: s, d: s.asOf}
			var a acc
			for i := lo; i < hi; i++ {
				en := &ents[i]
				row := t.Values[(base+i)*nf : (base+i+1)*nf]
				j := 0
				for k := range p.specs {
					row[j] = p.specs[k].eval(s.asOf, en, &a)
					j++
				}
				for _, sg := range p.sigs {
					row[j] = sg.eval(x, en)
					j++
				}
				for _, pf := range p.protect {
					row[j] = protectedValue(ds.ix, en.res, pf)
					j++
				}
				// One rounding, here, for every consumer of the table:
				// the in-memory scorer, the CSV and the Parquet.
				for j, v := range row {
					row[j] = Round(v, decimals[j])
				}
				lrow := t.LabelValues[(base+i)*nl : (base+i+1)*nl]
				for k := range lrow {
					lrow[k] = math.NaN()
				}
				if labels {
					if t.Entity == spec.Tenancy {
						lrow[0] = fraudLabel(x, en)
					} else {
						lrow[0] = complexLabel(x, en)
					}
				}
				audit(ds, x, en, t.AuditValues[(base+i)*na:(base+i+1)*na])
			}
			return nil
		})
	}
	return g.Wait()
}

// extend lengthens s by n elements without a temporary slice.
func extend[T any](s []T, n int) []T {
	s = slices.Grow(s, n)
	return s[:len(s)+n]
}

func protectedValue(ix *index, r int32, pf protectedFeature) float64 {
	var v uint8
	switch pf.column {
	case "sex":
		v = ix.sex[r]
	case "ethnic_group":
		v = ix.eth[r]
	case "disability":
		v = ix.dis[r]
	}
	if v == 0 {
		return math.NaN()
	}
	return flag(v == pf.code)
}

// complexLabel is 1 when anyone in the household on the as-of date has an
// escalation event dated in (D, D + 12 months]. An eviction is an event of
// the home: rent account rows name the tenant, who may have left, so an
// eviction at the household's UPRN counts whoever the row names.
func complexLabel(x *evalCtx, en *entity) float64 {
	end := x.d.AddMonths(contract.LabelHorizonMonths)
	in := func(e *events, i int32, cd *cond) bool {
		d := e.day[i]
		return d > x.d && d <= end && cd.ok(i)
	}
	for svc, cd := range x.ds.k.escalations {
		e := x.ds.files[svc]
		for _, r := range en.hh {
			lo, hi := e.resRows(r)
			for i := lo; i < hi; i++ {
				if in(e, i, &cd) {
					return 1
				}
			}
		}
		if svc == "rent_account" {
			for _, i := range e.propRows(en.prop) {
				if in(e, i, &cd) {
					return 1
				}
			}
		}
	}
	return 0
}

// fraudLabel is 1 when an investigation of the tenancy closed in (D, D +
// 12 months] with fraud confirmed, 0 when one closed otherwise, and NaN
// when none closed.
func fraudLabel(x *evalCtx, en *entity) float64 {
	e := x.ds.files["fraud_investigations"]
	if e == nil {
		return math.NaN()
	}
	k := x.ds.k
	end := x.d.AddMonths(contract.LabelHorizonMonths)
	v := math.NaN()
	for _, i := range e.tenRows(en.ten) {
		c := k.closedDate[i]
		if c == contract.NoDay || c <= x.d || c > end {
			continue
		}
		if k.outcome[i] == k.fraudConfirmed {
			return 1
		}
		v = 0
	}
	return v
}

var ageBands = []struct {
	upTo float64
	name string
}{{17, "0-17"}, {24, "18-24"}, {34, "25-34"}, {44, "35-44"}, {54, "45-54"}, {64, "55-64"}, {74, "65-74"}, {math.Inf(1), "75+"}}

// AgeBand returns the audit age band of an age in years ("unknown" for NaN).
func AgeBand(age float64) string {
	if math.IsNaN(age) {
		return "unknown"
	}
	for _, b := range ageBands {
		if age <= b.upTo {
			return b.name
		}
	}
	return "unknown"
}

func audit(ds *dataset, x *evalCtx, en *entity, out []string) {
	ix, k := ds.ix, &ds.k
	r := en.res
	out[0] = k.sexNames[ix.sex[r]]
	out[1] = AgeBand(ix.ageYears(r, x.d))
	out[2] = k.ethNames[ix.eth[r]]
	out[3] = k.disNames[ix.dis[r]]
	out[4] = ""
	if en.prop >= 0 {
		out[4] = k.wardNames[ix.ward[en.prop]]
	}
}
