package explain

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// FeatureInfo describes a feature for people, as the feature builder writes
// it in FILE.meta.json (dataset.FeatureMeta carries the same fields).
type FeatureInfo struct {
	// Name is the internal column name; it is never shown to users.
	Name string `json:"name"`
	// Description is a noun phrase, e.g. "rent arrears balance".
	Description string `json:"description,omitempty"`
	// Unit is one of GBP, count, days, percent, flag, ratio, people, years.
	// Percent values are in percentage points (45 means 45%).
	Unit string `json:"unit,omitempty"`
	// WindowDays is the look-back window; 0 means all history or a
	// point-in-time value.
	WindowDays  int    `json:"window_days,omitempty"`
	Service     string `json:"service,omitempty"`
	Aggregation string `json:"aggregation,omitempty"`
	// Template phrases a value, e.g. "{value} repair requests in the last
	// 90 days" or "Rent arrears of £{value}"; {value} is replaced by the
	// number formatted for its unit but without the unit's words or signs
	// (FormatNumber), which the template carries.
	Template string `json:"template,omitempty"`
	// ZeroTemplate phrases a zero value, e.g. "No contact with children's
	// services in the last year".
	ZeroTemplate string `json:"zero_template,omitempty"`
	// Missing says when the value is empty, e.g. "empty when the household
	// has never had early help"; a specific one phrases a missing value.
	Missing string `json:"missing,omitempty"`
	// Direction is the effect domain knowledge expects: Increasing (the
	// risk rises with the value), Decreasing, or "" for none declared.
	Direction string `json:"direction,omitempty"`
	// Range is the lowest and highest value seen in training, when known;
	// it places a value at the low-risk end of a declared direction.
	Range []float64 `json:"range,omitempty"`
}

// Reason is one plain-English reason for a score.
type Reason struct {
	// Feature is the internal feature name, for audit; show Text instead.
	Feature string `json:"feature"`
	// Text is the sentence for users, e.g. "Rent arrears of £1,240 in the
	// last 90 days raised the risk".
	Text string `json:"text"`
	// Contribution is the feature's contribution to the margin (log-odds).
	Contribution float64 `json:"contribution"`
	// Value is the row's value; NaN when not recorded (null in JSON).
	Value float64 `json:"value"`
}

// MarshalJSON writes a missing Value as null, which JSON can carry and NaN
// cannot.
func (r Reason) MarshalJSON() ([]byte, error) {
	type plain Reason
	var v *float64
	if !math.IsNaN(r.Value) && !math.IsInf(r.Value, 0) {
		v = &r.Value
	}
	return json.Marshal(struct {
		plain
		Value *float64 `json:"value"`
	}{plain(r), v})
}

// Reasons picks the k features that raised the margin most and the k that
// lowered it most (by absolute contribution; ties by feature order) and
// phrases each, without an as-of date (day counts read as durations before
// the score date). infos, x and contribs are aligned by feature; contribs
// may carry the bias as an extra last element, which is ignored. A feature
// without a description is phrased from a humanised form of its name. A
// reason that runs against its feature's declared direction is left out
// (see Explain).
func Reasons(infos []FeatureInfo, x, contribs []float64, k int) (raising, lowering []Reason) {
	e := NewPhrasing(infos).Explain(x, contribs, k, time.Time{})
	return e.Raising, e.Lowering
}

// Explanation is a row's reasons: those shown, each way, and those
// withheld because they run against their feature's declared direction.
type Explanation struct {
	Raising, Lowering []Reason
	// Withheld are the reasons that would have been shown (they were
	// stronger than the last reason shown on their side) but point the
	// wrong way (WrongWay): for a model report to count, never for users.
	Withheld []Reason
}

// Explain picks the k features that raised the margin most and the k that
// lowered it most, phrased for a caseworker with dates counted back from
// asOf (the score date; the zero time when unknown). A reason whose
// feature has a declared direction and whose effect runs against it ("a
// child protection enquiry lowered the risk", WrongWay) is withheld and
// the next strongest reason takes its place.
func (p *Phrasing) Explain(x, contribs []float64, k int, asOf time.Time) Explanation {
	var e Explanation
	raise, lower, withheld := pick(p.infos, x, contribs, k)
	if len(raise)+len(lower)+len(withheld) == 0 {
		return e
	}
	c := p.context(x, asOf)
	reason := func(j int) Reason {
		return Reason{Feature: p.infos[j].Name, Text: phraseText(p.describe(j, x, c), x[j], contribs[j] > 0),
			Contribution: contribs[j], Value: x[j]}
	}
	for _, j := range raise {
		e.Raising = append(e.Raising, reason(j))
	}
	for _, j := range lower {
		e.Lowering = append(e.Lowering, reason(j))
	}
	for _, j := range withheld {
		e.Withheld = append(e.Withheld, reason(j))
	}
	return e
}

// pick chooses the features of a row's reasons: up to k raising and k
// lowering the margin, strongest first (ties by feature order), and the
// wrong-way ones met before their side was full, withheld.
func pick(infos []FeatureInfo, x, contribs []float64, k int) (raise, lower, withheld []int) {
	if k <= 0 {
		return nil, nil, nil
	}
	n := min(len(infos), len(x), len(contribs))
	idx := make([]int, 0, n)
	for j := 0; j < n; j++ {
		if c := contribs[j]; c != 0 && !math.IsNaN(c) {
			idx = append(idx, j)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return math.Abs(contribs[idx[a]]) > math.Abs(contribs[idx[b]])
	})
	for _, j := range idx {
		up := contribs[j] > 0
		if up && len(raise) >= k || !up && len(lower) >= k {
			if len(raise) >= k && len(lower) >= k {
				break
			}
			continue
		}
		switch {
		case WrongWay(infos[j], x[j], contribs[j]):
			withheld = append(withheld, j)
		case up:
			raise = append(raise, j)
		default:
			lower = append(lower, j)
		}
	}
	return raise, lower, withheld
}

// Phrase states a feature's value and whether it raised or lowered the
// risk, e.g. "3 repair requests in the last 90 days raised the risk" or
// "Rent arrears balance: not recorded, which lowered the risk". Day counts
// read as durations before the score date; PhraseIn names dates.
func Phrase(f FeatureInfo, v float64, raised bool) string {
	return PhraseIn(Context{}, f, v, raised)
}

// PhraseIn is Phrase with a phrasing context (the as-of date).
func PhraseIn(c Context, f FeatureInfo, v float64, raised bool) string {
	return phraseText(DescribeIn(c, f, v), v, raised)
}

func phraseText(clause string, v float64, raised bool) string {
	effect := "lowered the risk"
	if raised {
		effect = "raised the risk"
	}
	d := capitalise(clause)
	if math.IsNaN(v) || strings.Contains(d, ": ") {
		// "Rent arrears: not recorded, which raised the risk".
		return d + ", which " + effect
	}
	return d + " " + effect
}

// Describe states a feature's value as a clause without the effect (see
// DescribeIn), with day counts as durations before the score date.
func Describe(f FeatureInfo, v float64) string { return DescribeIn(Context{}, f, v) }

// DescribeIn states a feature's value as a clause without the effect:
// from ZeroTemplate for a zero value, from Template (see the placeholders
// above), or from the description, value and window, e.g. "rent arrears
// balance of £1,240 in the last 90 days". A flag states the fact ("Claiming
// council tax support in the last year"; for 0 its ZeroTemplate, else "No
// record of …"). A missing value is "not recorded", or the reason Missing
// gives.
func DescribeIn(c Context, f FeatureInfo, v float64) string {
	subject := strings.TrimSuffix(strings.TrimSpace(f.Description), ".")
	if subject == "" {
		subject = Humanise(f.Name)
	}
	window := Window(f.WindowDays)
	if window != "" && strings.Contains(strings.ToLower(subject), window) {
		window = "" // a description that already names its window
	}
	if math.IsNaN(v) {
		if why, ok := strings.CutPrefix(f.Missing, "empty when "); ok && !strings.Contains(why, "such event") && !strings.Contains(why, "no event") {
			// "the household has never had early help"
			return why
		}
		s := subject
		if window != "" {
			s += " " + window
		}
		return s + ": not recorded"
	}
	if v == 0 && f.ZeroTemplate != "" {
		return render(f.ZeroTemplate, f, v, c)
	}
	if f.Unit == "flag" {
		fact := ""
		switch {
		case f.Template != "":
			fact = render(f.Template, f, 1, c)
		default:
			fact = subject
			if w, ok := strings.CutPrefix(fact, "Whether "); ok {
				fact = w
			}
			if window != "" {
				fact += " " + window
			}
		}
		if v != 0 {
			return fact
		}
		return "No record of " + lowerFirst(fact)
	}
	if f.Template != "" {
		return render(f.Template, f, v, c)
	}
	val := FormatValue(f.Unit, v)
	s := subject + " of " + val
	if window != "" {
		s += " " + window
	}
	return s
}

// lowerFirst lower-cases the first letter of s unless it begins an acronym
// ("NI number").
func lowerFirst(s string) string {
	rs := []rune(s)
	if len(rs) == 0 || len(rs) > 1 && unicode.IsUpper(rs[1]) {
		return s
	}
	rs[0] = unicode.ToLower(rs[0])
	return string(rs)
}

// Window phrases a look-back window: "in the last 90 days", "in the last
// year", "in the last 2 years"; "" for 0 (all history or point in time).
func Window(days int) string {
	switch {
	case days <= 0:
		return ""
	case days == 1:
		return "in the last day"
	case days == 7:
		return "in the last week"
	case days == 365 || days == 366:
		return "in the last year"
	case days%365 == 0:
		return "in the last " + strconv.Itoa(days/365) + " years"
	}
	return "in the last " + strconv.Itoa(days) + " days"
}

// FormatValue formats v for its unit: "£1,240" (GBP, whole pounds), "12"
// (count), "1 day"/"12 days", "45%" (percent, in percentage points),
// "Yes"/"No" (flag), "0.75" (ratio), "1 person"/"3 people", "34 years"
// (years, one decimal where needed); other units give the number with at
// most two decimals.
func FormatValue(unit string, v float64) string {
	switch unit {
	case "GBP":
		s := thousands(math.Round(math.Abs(v)))
		if math.Round(v) < 0 {
			return "-£" + s
		}
		return "£" + s
	case "count":
		return groupSigned(math.Round(v))
	case "days":
		return plural(math.Round(v), "day", "days")
	case "percent":
		return trimFloat(v, 1) + "%"
	case "flag":
		if v != 0 {
			return "Yes"
		}
		return "No"
	case "ratio":
		return strconv.FormatFloat(v, 'f', 2, 64)
	case "people":
		return plural(math.Round(v), "person", "people")
	case "years":
		return pluralText(trimFloat(v, 1), v == 1, "year", "years")
	}
	return trimFloat(v, 2)
}

// FormatNumber formats v for a template that carries its unit: whole
// pounds with thousands separators ("1,240" for "£{value}"), whole counts,
// days and people, one decimal at most for percent and years ("92.5" for
// "{value}%"), two decimals for ratios and Yes/No for flags.
func FormatNumber(unit string, v float64) string {
	switch unit {
	case "GBP", "count", "days", "people":
		return groupSigned(math.Round(v))
	case "percent", "years":
		return trimFloat(v, 1)
	case "flag":
		return FormatValue(unit, v)
	}
	return trimFloat(v, 2)
}

// trimFloat formats v with at most prec decimals and no trailing zeros.
func trimFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func plural(v float64, one, many string) string {
	return pluralText(groupSigned(v), v == 1, one, many)
}

func pluralText(s string, isOne bool, one, many string) string {
	if isOne {
		return s + " " + one
	}
	return s + " " + many
}

func groupSigned(v float64) string {
	if v < 0 && v > -0.5 {
		v = 0
	}
	if v < 0 {
		return "-" + thousands(-v)
	}
	return thousands(v)
}

// thousands writes a whole non-negative number with thousands separators.
func thousands(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// Humanise turns an internal feature name into words for people when no
// description exists: "rent_arrears_90d" → "rent arrears in the last 90
// days", "repairsCount" → "repairs count".
func Humanise(name string) string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == '.' || unicode.IsSpace(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	var out []string
	for _, w := range words {
		if n, ok := windowToken(w); ok {
			if p := Window(n); p != "" {
				out = append(out, p)
				continue
			}
		}
		out = append(out, w)
	}
	if len(out) == 0 {
		return "unnamed feature"
	}
	return strings.Join(out, " ")
}

// windowToken reads tokens such as "90d", "12m" (months as 30 days) or
// "2y" as a window in days.
func windowToken(w string) (int, bool) {
	if len(w) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(w[:len(w)-1])
	if err != nil || n <= 0 {
		return 0, false
	}
	switch w[len(w)-1] {
	case 'd':
		return n, true
	case 'w':
		return 7 * n, true
	case 'm':
		return 30 * n, true
	case 'y':
		return 365 * n, true
	}
	return 0, false
}

func capitalise(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}
