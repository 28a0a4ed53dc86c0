package build

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"caserisk/features/contract"
	"caserisk/features/spec"
)

// FeatureMeta describes one feature column (the meta.json "features" entries).
type FeatureMeta struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Unit        string `json:"unit"`
	WindowDays  int    `json:"window_days"`
	Service     string `json:"service"`
	Aggregation string `json:"aggregation"`
	Scope       string `json:"scope,omitempty"`
	// Template reads as the start of a sentence about the value ({value}).
	Template     string `json:"template"`
	ZeroTemplate string `json:"zero_template,omitempty"`
	// Missing says when the value is empty (NaN); empty when it never is.
	Missing string `json:"missing,omitempty"`
	// Direction is the effect domain knowledge expects of the feature, as
	// the spec declares it: increasing, decreasing, or empty.
	Direction string `json:"direction,omitempty"`
}

// plan is a compiled spec for one entity: how to compute each feature.
type plan struct {
	entity  string
	meta    []FeatureMeta
	specs   []specFeature      // in column order, then signals
	sigs    []*signal          // after the spec features
	protect []protectedFeature // protected characteristics a spec asks for
	needStr map[string][]string
}

type protectedFeature struct {
	column string // residents.csv column
	code   uint8
}

// compile checks the spec's signal names for the entity and prepares the plan.
func compile(sp *spec.Spec, entity string, c *contract.Contract) (*plan, error) {
	sec := sp.Section(entity)
	p := &plan{entity: entity, needStr: map[string][]string{}}
	for _, f := range sec.Features {
		file, _ := c.File(f.Service)
		if f.Agg == spec.AggDistinct {
			if col, _ := file.Column(f.Column); col.Type == contract.String {
				p.needStr[f.Service] = append(p.needStr[f.Service], f.Column)
			}
		}
		p.specs = append(p.specs, specFeature{f: f})
		p.meta = append(p.meta, FeatureMeta{Name: f.Name, Description: f.Description, Unit: f.Unit,
			WindowDays: f.Window, Service: f.Service, Aggregation: f.Agg, Scope: f.Scope,
			Template: f.Template, ZeroTemplate: f.ZeroTemplate, Missing: f.Missing, Direction: f.Direction})
	}
	reg := signals(entity)
	for _, s := range sec.Signals {
		sg, ok := reg[s.Name]
		if !ok {
			names := make([]string, 0, len(reg))
			for n := range reg {
				names = append(names, n)
			}
			slices.Sort(names)
			return nil, &spec.Error{Source: sp.Source, Line: s.Line,
				Msg: fmt.Sprintf("unknown %s signal %q; known: %s", entity, s.Name, strings.Join(names, ", "))}
		}
		p.sigs = append(p.sigs, sg)
		m := sg.meta
		m.Direction = s.Direction
		p.meta = append(p.meta, m)
	}
	res, _ := c.File("residents")
	for _, col := range sp.Protected {
		cc, _ := res.Column(col)
		for k, code := range cc.Codes {
			name := fmt.Sprintf("protected_%s_%s", col, strings.ToLower(code))
			p.protect = append(p.protect, protectedFeature{column: col, code: uint8(k + 1)})
			p.meta = append(p.meta, FeatureMeta{Name: name, Unit: "flag", Service: "residents", Aggregation: "protected",
				Description: fmt.Sprintf("Whether the person's recorded %s is %s (a protected characteristic the spec asked to use as a feature).", col, code),
				Template:    fmt.Sprintf("Recorded %s %s", col, code), ZeroTemplate: fmt.Sprintf("Recorded %s not %s", col, code)})
		}
	}
	return p, nil
}

// specFeature is a spec aggregation bound to the loaded data.
type specFeature struct {
	f      spec.Feature
	ev     *events
	where  []cond
	share  []cond
	num    []float32
	code   []uint8
	str    []int32
	window contract.Day
}

// cond tests a code column against a set of codes (a bit mask).
type cond struct {
	vals []uint8
	mask uint64
}

func (c *cond) ok(i int32) bool { return c.mask>>c.vals[i]&1 == 1 }

func bind(ev *events, conds []spec.Cond) []cond {
	out := make([]cond, 0, len(conds))
	for _, c := range conds {
		j := ev.col(c.Column)
		var m uint64
		for _, code := range c.Codes {
			m |= 1 << codeIndex(&ev.file.Columns[j], code)
		}
		out = append(out, cond{vals: ev.codes[j], mask: m})
	}
	return out
}

// bindData connects the plan's spec features to the loaded files.
func (p *plan) bindData(ds *dataset) {
	for k := range p.specs {
		sf := &p.specs[k]
		ev := ds.files[sf.f.Service]
		sf.ev = ev
		sf.window = contract.Day(sf.f.Window)
		if ev == nil {
			continue
		}
		sf.where = bind(ev, sf.f.Where)
		sf.share = bind(ev, sf.f.ShareOf)
		if sf.f.Column != "" {
			j := ev.col(sf.f.Column)
			sf.num, sf.code, sf.str = ev.nums[j], ev.codes[j], ev.strs[j]
			if sf.f.Agg == spec.AggDistinct {
				sf.num = nil
			}
		}
	}
}

// acc accumulates one feature over the matching rows.
type acc struct {
	count, n, hit int
	sum           float64
	lo, hi        float64
	first, last   contract.Day
	valDay        contract.Day
	valLine       int32
	lastVal       float64
	seen          []int32
}

func (sf *specFeature) eval(d contract.Day, en *entity, a *acc) float64 {
	ev := sf.ev
	if ev == nil {
		return math.NaN() // the file is absent: the value is unknown
	}
	*a = acc{lo: math.Inf(1), hi: math.Inf(-1), first: contract.NoDay, last: contract.NoDay, seen: a.seen[:0]}
	from := contract.NoDay
	if sf.window > 0 {
		from = d - sf.window
	}
	switch sf.f.Scope {
	case spec.ScopePerson, spec.ScopeTenant:
		for _, r := range en.persons {
			lo, hi := ev.resRows(r)
			for i := lo; i < hi; i++ {
				sf.add(i, d, from, a)
			}
		}
	case spec.ScopeHousehold:
		for _, r := range en.hh {
			lo, hi := ev.resRows(r)
			for i := lo; i < hi; i++ {
				sf.add(i, d, from, a)
			}
		}
	case spec.ScopeAddress:
		for _, i := range ev.propRows(en.prop) {
			sf.add(i, d, from, a)
		}
	case spec.ScopeTenancy:
		for _, i := range ev.tenRows(en.ten) {
			sf.add(i, d, from, a)
		}
	}
	return sf.result(d, a)
}

func (sf *specFeature) add(i int32, d, from contract.Day, a *acc) {
	ev := sf.ev
	day := ev.day[i]
	if day > d || day <= from || ev.knownDay(i) > d {
		return
	}
	for k := range sf.where {
		if !sf.where[k].ok(i) {
			return
		}
	}
	a.count++
	if a.first == contract.NoDay || day < a.first {
		a.first = day
	}
	if day > a.last {
		a.last = day
	}
	switch sf.f.Agg {
	case spec.AggShare:
		hit := true
		for k := range sf.share {
			hit = hit && sf.share[k].ok(i)
		}
		if hit {
			a.hit++
		}
	case spec.AggDistinct:
		var v int32
		if sf.code != nil {
			if sf.code[i] == 0 {
				return
			}
			v = int32(sf.code[i])
		} else {
			v = sf.str[i]
		}
		if !slices.Contains(a.seen, v) {
			a.seen = append(a.seen, v)
		}
	case spec.AggLast:
		// The latest event with a value; same-day ties go to the later line.
		x := float64(sf.num[i])
		if math.IsNaN(x) {
			return
		}
		if a.n == 0 || day > a.valDay || day == a.valDay && ev.line[i] > a.valLine {
			a.valDay, a.valLine, a.lastVal = day, ev.line[i], x
		}
		a.n++
	case spec.AggSum, spec.AggMean, spec.AggMin, spec.AggMax:
		x := float64(sf.num[i])
		if math.IsNaN(x) {
			return
		}
		a.n++
		a.sum += x
		a.lo = min(a.lo, x)
		a.hi = max(a.hi, x)
	}
}

func (sf *specFeature) result(d contract.Day, a *acc) float64 {
	nan := math.NaN()
	switch sf.f.Agg {
	case spec.AggCount:
		return float64(a.count)
	case spec.AggAny:
		if a.count > 0 {
			return 1
		}
		return 0
	case spec.AggDistinct:
		return float64(len(a.seen))
	case spec.AggSum:
		return a.sum
	case spec.AggMean:
		if a.n == 0 {
			return nan
		}
		return a.sum / float64(a.n)
	case spec.AggMin:
		if a.n == 0 {
			return nan
		}
		return a.lo
	case spec.AggMax:
		if a.n == 0 {
			return nan
		}
		return a.hi
	case spec.AggLast:
		if a.n == 0 {
			return nan
		}
		return a.lastVal
	case spec.AggDaysSinceFirst:
		if a.count == 0 {
			return nan
		}
		return float64(d - a.first)
	case spec.AggDaysSinceLast:
		if a.count == 0 {
			return nan
		}
		return float64(d - a.last)
	case spec.AggShare:
		if a.count == 0 {
			return nan
		}
		return float64(a.hit) / float64(a.count)
	}
	return nan
}
