package explain

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Templates phrase a feature's value as a clause a caseworker would write.
// Besides literal text a template holds placeholders in braces:
//
//	{value}        the value formatted for its unit without the unit's words
//	               ("1,240" for "£{value}", "3" for "{value} contacts")
//	{share}        a share in words: "half", "a third", "about 4 in 10", "all"
//	{when}         a day count as the month it points back to from the as-of
//	               date: "in June 2022" (without an as-of date, "2 years and
//	               6 months before the score date")
//	{since}        likewise "since June 2022" (or "for 2 years and 6 months")
//	{one|many}     the singular or the plural, chosen by the value: "{value}
//	               rent {payment|payments}"
//	{when:name}    … and {since:name}, {value:name}, {share:name}: the same for
//	               another feature of the row (empty when it is not recorded),
//	               so a flag can name the evidence behind it: "A tenant
//	               registered to vote at another address {since:reg_days}"
//
// A count template without {one|many} is still read correctly for a value
// of 1: the noun after {value} is made singular ("1 rent payment", "1
// homelessness approach", "1 person"). A flag's template states the fact
// (a value of 1); the older form "Council tax support claimed ({value})"
// drops its "(Yes)". A share template of the older form "A {value} share
// of X" reads "{share} of X".

// Context is what phrasing needs beyond a feature's own value.
type Context struct {
	// AsOf is the date the row's features describe (the score date). The
	// zero time phrases day counts as durations before "the score date".
	AsOf time.Time
	// Value returns another feature of the same row by name, for templates
	// that refer to one ({since:name}); nil or false when there is none.
	Value func(name string) (float64, bool)
}

// Describer phrases one feature's value in a way a template cannot (a
// fraud officer's evidence, say). It returns false to fall back to the
// feature's templates.
type Describer func(f FeatureInfo, v float64, c Context) (string, bool)

// Phrasing phrases the reasons of one model's scores: its features'
// descriptions, looked up by name for templates that refer to another
// feature of the row. Build it once per model (NewPhrasing); it is safe
// for concurrent use once built.
type Phrasing struct {
	infos []FeatureInfo
	index map[string]int
	// Describers, when set, phrase the named features first; a feature
	// whose Describer declines is phrased from its templates.
	Describers map[string]Describer
}

// NewPhrasing prepares the phrasing of a model's features (in model order).
func NewPhrasing(infos []FeatureInfo) *Phrasing {
	p := &Phrasing{infos: infos, index: make(map[string]int, len(infos))}
	for j, f := range infos {
		p.index[f.Name] = j
	}
	return p
}

// Infos returns the features' descriptions in model order.
func (p *Phrasing) Infos() []FeatureInfo { return p.infos }

// context returns the phrasing context of row x as of asOf.
func (p *Phrasing) context(x []float64, asOf time.Time) Context {
	return Context{AsOf: asOf, Value: func(name string) (float64, bool) {
		j, ok := p.index[name]
		if !ok || j >= len(x) {
			return math.NaN(), false
		}
		return x[j], true
	}}
}

// Describe states feature j's value in row x as a clause, without its
// effect on the score.
func (p *Phrasing) Describe(j int, x []float64, asOf time.Time) string {
	return p.describe(j, x, p.context(x, asOf))
}

func (p *Phrasing) describe(j int, x []float64, c Context) string {
	f := p.infos[j]
	if d := p.Describers[f.Name]; d != nil {
		if s, ok := d(f, x[j], c); ok {
			return s
		}
	}
	return DescribeIn(c, f, x[j])
}

// render fills a template's placeholders for value v of feature f.
func render(tmpl string, f FeatureInfo, v float64, c Context) string {
	if f.Aggregation == "share" {
		tmpl = legacyShare(tmpl)
	}
	if f.Unit == "flag" {
		tmpl = strings.ReplaceAll(strings.ReplaceAll(tmpl, " ({value})", ""), "({value})", "")
	}
	if f.Unit == "days" {
		// The older forms counted days from a date the reader is not told.
		tmpl = strings.ReplaceAll(tmpl, "{value} days ago", "{when}")
		tmpl = strings.ReplaceAll(tmpl, "for {value} days", "{since}")
	}
	one := isOne(f.Unit, v)
	hasChoice := strings.Contains(tmpl, "|")
	var b strings.Builder
	singularNext := false
	for len(tmpl) > 0 {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			writeText(&b, tmpl, singularNext)
			break
		}
		writeText(&b, tmpl[:i], singularNext)
		singularNext = false
		end := strings.IndexByte(tmpl[i:], '}')
		if end < 0 {
			b.WriteString(tmpl[i:])
			break
		}
		tok := tmpl[i+1 : i+end]
		tmpl = tmpl[i+end+1:]
		if a, many, ok := strings.Cut(tok, "|"); ok {
			if one {
				b.WriteString(a)
			} else {
				b.WriteString(many)
			}
			continue
		}
		kind, ref, isRef := strings.Cut(tok, ":")
		val, unit := v, f.Unit
		if isRef {
			rv, ok := math.NaN(), false
			if c.Value != nil {
				rv, ok = c.Value(ref)
			}
			if !ok || math.IsNaN(rv) {
				continue // evidence not recorded: the clause goes unsaid
			}
			val, unit = rv, "days"
			if kind == "value" {
				unit = ""
			}
		}
		switch kind {
		case "value":
			if f.Unit == "flag" && !isRef {
				b.WriteString("yes")
				continue
			}
			b.WriteString(FormatNumber(unit, val))
			singularNext = !isRef && one && !hasChoice
		case "share":
			b.WriteString(ShareWords(val))
		case "when":
			b.WriteString(When(val, c.AsOf))
		case "since":
			b.WriteString(Since(val, c.AsOf))
		default:
			b.WriteString("{" + tok + "}") // not a placeholder: kept as written
		}
	}
	return tidy(b.String())
}

// writeText writes literal template text, making the noun phrase at its
// start singular when it follows a value of 1.
func writeText(b *strings.Builder, s string, singular bool) {
	if singular {
		s = Singular(s)
	}
	b.WriteString(s)
}

// tidy closes the gaps an unsaid placeholder leaves.
func tidy(s string) string {
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	s = strings.ReplaceAll(s, " ,", ",")
	return strings.TrimSpace(s)
}

// legacyShare rewrites "A {value} share of X" as "{share} of X".
func legacyShare(t string) string {
	for _, pre := range []string{"A {value} share of ", "a {value} share of "} {
		if i := strings.Index(t, pre); i >= 0 {
			return t[:i] + "{share} of " + t[i+len(pre):]
		}
	}
	return strings.ReplaceAll(t, "{value}", "{share}")
}

// isOne reports whether v is written as 1 for its unit, which takes the
// singular: a count of things, not an amount of money or a percentage
// ("£1 of arrears", "1% of sessions").
func isOne(unit string, v float64) bool {
	switch unit {
	case "GBP", "percent", "flag":
		return false
	}
	return FormatNumber(unit, v) == "1"
}

// stopWords end the noun phrase that follows a number.
var stopWords = map[string]bool{
	"in": true, "at": true, "on": true, "with": true, "about": true, "by": true, "from": true, "for": true,
	"as": true, "against": true, "involving": true, "of": true, "per": true, "after": true, "before": true,
	"since": true, "during": true, "to": true, "into": true, "over": true, "under": true, "within": true,
	"that": true, "which": true, "where": true, "when": true, "is": true, "are": true, "was": true, "were": true,
	"has": true, "have": true, "had": true,
}

// irregular plurals, and plurals that are also the singular.
var (
	irregular = map[string]string{"people": "person", "children": "child", "men": "man", "women": "woman",
		"summonses": "summons", "feet": "foot", "teeth": "tooth", "mice": "mouse", "indices": "index",
		"analyses": "analysis", "crises": "crisis", "diagnoses": "diagnosis"}
	invariant = map[string]bool{"arrears": true, "series": true, "species": true, "premises": true, "news": true,
		"means": true, "savings": true, "earnings": true, "belongings": true, "outskirts": true,
		"surroundings": true, "thanks": true, "clothes": true, "goods": true, "police": true, "sheep": true}
)

// Singular makes the noun phrase at the start of s singular, for text that
// follows the number 1: "rent payments in the last year" → "rent payment
// in the last year", "children's social care referrals or assessments" →
// "children's social care referral or assessment", "people" → "person".
// The phrase ends at a preposition or other stop word, or at a word in
// -ed after a noun (“sessions missed”); each noun joined by "or" or "and"
// is made singular.
func Singular(s string) string {
	words := strings.Split(s, " ")
	last := -1 // the latest plural candidate of the current conjunct
	seen := false
	fix := func() {
		if last >= 0 {
			words[last] = singularWord(words[last])
			last = -1
		}
	}
	for i, w := range words {
		lw := strings.ToLower(strings.Trim(w, ",.;:()"))
		if lw == "" {
			continue
		}
		if stopWords[lw] || (seen && strings.HasSuffix(lw, "ed")) {
			break
		}
		if lw == "or" || lw == "and" {
			fix()
			continue
		}
		if pluralCandidate(lw) {
			last, seen = i, true
		}
		if strings.HasSuffix(w, ",") {
			fix() // a list: "boxes, matches and wishes"
		}
	}
	fix()
	return strings.Join(words, " ")
}

// pluralCandidate reports whether w may be a plural noun.
func pluralCandidate(w string) bool {
	if _, ok := irregular[w]; ok {
		return true
	}
	if invariant[w] || strings.Contains(w, "'") || strings.Contains(w, "’") || len(w) < 3 {
		return false
	}
	for _, suf := range []string{"ss", "us", "is", "ous", "ics"} {
		if strings.HasSuffix(w, suf) {
			return false
		}
	}
	return strings.HasSuffix(w, "s")
}

// singularWord makes one plural word singular, keeping trailing
// punctuation and a leading capital.
func singularWord(w string) string {
	core := strings.TrimRight(w, ",.;:()")
	tail := w[len(core):]
	lw := strings.ToLower(core)
	var out string
	switch {
	case irregular[lw] != "":
		out = irregular[lw]
	case strings.HasSuffix(lw, "ies") && len(lw) > 4:
		out = lw[:len(lw)-3] + "y"
	case strings.HasSuffix(lw, "sses"), strings.HasSuffix(lw, "ches"), strings.HasSuffix(lw, "shes"),
		strings.HasSuffix(lw, "xes"), strings.HasSuffix(lw, "zzes"):
		out = lw[:len(lw)-2]
	default:
		out = lw[:len(lw)-1]
	}
	if core != lw && len(core) > 0 && core[:1] != lw[:1] {
		out = capitalise(out)
	}
	return out + tail
}

// ShareWords says a share (0 to 1) in words: "none", "all", "half", "a
// third", "two thirds", "a quarter", "three quarters", "a fifth", "3 in
// 10"; a share between those "about 4 in 10"; under 1 in 20 "fewer than 1
// in 20"; over 19 in 20 "nearly all".
func ShareWords(v float64) string {
	switch {
	case math.IsNaN(v):
		return "an unknown share"
	case v <= 0:
		return "none"
	case v >= 1:
		return "all"
	}
	const tol = 0.005
	named := []struct {
		f float64
		s string
	}{{1. / 2, "half"}, {1. / 3, "a third"}, {2. / 3, "two thirds"}, {1. / 4, "a quarter"}, {3. / 4, "three quarters"},
		{1. / 5, "a fifth"}, {2. / 5, "two fifths"}, {3. / 5, "three fifths"}, {4. / 5, "four fifths"}}
	for _, n := range named {
		if math.Abs(v-n.f) < tol {
			return n.s
		}
	}
	tenths := math.Round(v * 10)
	switch {
	case v < 0.05:
		return "fewer than 1 in 20"
	case v > 0.95:
		return "nearly all"
	case math.Abs(v-tenths/10) < tol:
		return strconv.Itoa(int(tenths)) + " in 10"
	}
	return "about " + strconv.Itoa(int(tenths)) + " in 10"
}

// When phrases a count of days before the as-of date as the month it
// points to: "in June 2022"; without an as-of date, as a duration before
// the score date: "2 years and 6 months before the score date".
func When(days float64, asOf time.Time) string {
	if asOf.IsZero() {
		return Duration(days) + " before the score date"
	}
	return "in " + monthOf(days, asOf)
}

// Since phrases a count of days before the as-of date as "since June 2022";
// without an as-of date "for 2 years and 6 months".
func Since(days float64, asOf time.Time) string {
	if asOf.IsZero() {
		return "for " + Duration(days)
	}
	return "since " + monthOf(days, asOf)
}

// monthOf returns the month and year days before asOf: "June 2022".
func monthOf(days float64, asOf time.Time) string {
	return asOf.AddDate(0, 0, -int(math.Round(days))).Format("January 2006")
}

// Duration says a number of days in the largest sensible units: "3 days",
// "5 weeks", "7 months", "2 years", "2 years and 6 months".
func Duration(days float64) string {
	d := math.Max(0, math.Round(days))
	switch {
	case d < 14:
		return plural(d, "day", "days")
	case d < 61:
		return plural(math.Round(d/7), "week", "weeks")
	case d < 730:
		return plural(math.Round(d/30.4375), "month", "months")
	}
	y := math.Floor(d / 365.25)
	m := math.Round((d - y*365.25) / 30.4375)
	if m >= 12 {
		y, m = y+1, 0
	}
	if m == 0 {
		return plural(y, "year", "years")
	}
	return plural(y, "year", "years") + " and " + plural(m, "month", "months")
}
