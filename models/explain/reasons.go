package explain

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
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
	// (FormatNumber), which the template carries. A feature in days before
	// the as-of date can name the evidence's date instead (see DateOf):
	// {since} ("since March 2023"), {date} ("in March 2023") and {for}
	// ("for 4 years").
	Template string `json:"template,omitempty"`
	// ZeroTemplate phrases a zero value, e.g. "No contact with children's
	// services in the last year".
	ZeroTemplate string `json:"zero_template,omitempty"`
	// Missing says when the value is empty, e.g. "empty when the household
	// has never had early help"; a specific one phrases a missing value.
	Missing string `json:"missing,omitempty"`
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
// phrases each. infos, x and contribs are aligned by feature; contribs may
// carry the bias as an extra last element, which is ignored. A feature
// without a description is phrased from a humanised form of its name.
// Dates in the evidence are phrased as durations ("for 22 months"):
// ReasonsAt names them when the as-of date is known.
func Reasons(infos []FeatureInfo, x, contribs []float64, k int) (raising, lowering []Reason) {
	return ReasonsAt(infos, x, contribs, k, time.Time{})
}

// ReasonsAt is Reasons for a row built as of asOf: a feature counting days
// before the as-of date names the date ("registered to vote at another
// address since March 2023"). A zero asOf phrases durations instead.
func ReasonsAt(infos []FeatureInfo, x, contribs []float64, k int, asOf time.Time) (raising, lowering []Reason) {
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
		if (up && len(raising) >= k) || (!up && len(lowering) >= k) {
			continue
		}
		r := Reason{Feature: infos[j].Name, Text: PhraseAt(infos[j], x[j], up, asOf), Contribution: contribs[j], Value: x[j]}
		if up {
			raising = append(raising, r)
		} else {
			lowering = append(lowering, r)
		}
	}
	return raising, lowering
}

// Phrase states a feature's value and whether it raised or lowered the
// risk, e.g. "3 repair requests in the last 90 days raised the risk" or
// "Rent arrears balance: not recorded, which lowered the risk".
func Phrase(f FeatureInfo, v float64, raised bool) string { return PhraseAt(f, v, raised, time.Time{}) }

// PhraseAt is Phrase for a row built as of asOf (see ReasonsAt).
func PhraseAt(f FeatureInfo, v float64, raised bool, asOf time.Time) string {
	effect := "lowered the risk"
	if raised {
		effect = "raised the risk"
	}
	d := capitalise(DescribeAt(f, v, asOf))
	if math.IsNaN(v) || strings.Contains(d, ": ") {
		// "Open safeguarding case: Yes, which raised the risk".
		return d + ", which " + effect
	}
	return d + " " + effect
}

// Describe states a feature's value as a clause without the effect:
// from ZeroTemplate for a zero value, from Template, or from the
// description, value and window, e.g. "rent arrears balance of £1,240 in
// the last 90 days". A missing value is "not recorded".
func Describe(f FeatureInfo, v float64) string { return DescribeAt(f, v, time.Time{}) }

// DescribeAt is Describe for a row built as of asOf: a template's {since},
// {date} and {for} are filled from the value in days before asOf (see
// DateOf; a zero asOf gives durations).
func DescribeAt(f FeatureInfo, v float64, asOf time.Time) string {
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
		return f.ZeroTemplate
	}
	if f.Template != "" {
		t := strings.ReplaceAll(f.Template, "{value}", FormatNumber(f.Unit, v))
		if f.Unit == "days" && strings.Contains(t, "{") {
			t = strings.NewReplacer("{since}", DateOf(v, asOf, "since"), "{date}", DateOf(v, asOf, "in"),
				"{for}", "for "+Duration(v)).Replace(t)
		}
		return t
	}
	val := FormatValue(f.Unit, v)
	if f.Unit == "flag" {
		s := subject
		if window != "" {
			s += " " + window
		}
		return s + ": " + val
	}
	s := subject + " of " + val
	if window != "" {
		s += " " + window
	}
	return s
}

// DateOf phrases the day v days before asOf for evidence in the records:
// with prep "since", "since March 2023"; with "in", "in March 2023". A zero
// asOf (the as-of date unknown) gives the duration instead: "for 1 year
// and 10 months" or "1 year and 10 months ago".
func DateOf(v float64, asOf time.Time, prep string) string {
	if asOf.IsZero() {
		if prep == "since" {
			return "for " + Duration(v)
		}
		return Duration(v) + " ago"
	}
	d := asOf.AddDate(0, 0, -int(math.Round(v)))
	if v < 1 {
		if prep == "since" {
			return "since today"
		}
		return "today"
	}
	return prep + " " + d.Format("January 2006")
}

// Duration phrases a number of days for people: "12 days" under two
// months, "10 months" under two years, "4 years" or "4 years and 3
// months" beyond (whole months, rounded down).
func Duration(days float64) string {
	if days < 0 || math.IsNaN(days) {
		days = 0
	}
	d := int(math.Floor(days))
	if d < 61 {
		return plural(float64(d), "day", "days")
	}
	months := int(math.Floor(days / (365.25 / 12)))
	if months < 24 {
		return plural(float64(months), "month", "months")
	}
	y, m := months/12, months%12
	s := plural(float64(y), "year", "years")
	if m > 0 {
		s += " and " + plural(float64(m), "month", "months")
	}
	return s
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
	case "flag", "ratio":
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
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}
