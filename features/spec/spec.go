// Package spec reads and checks the declarative feature spec: the YAML file
// that says which windowed aggregations of which service's events become
// features, for which entity (resident or tenancy) and at which scope
// (the person, the household, the address, the tenancy), with each
// feature's plain-English description, unit and explanation templates.
//
// Named cross-service signals that a spec line cannot express are written
// in Go (package build); a spec turns them on by name.
//
// A default spec ships inside the binary (Default). Every error in a spec
// names the line of the spec it comes from.
package spec

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"caserisk/features/contract"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the text of the default spec shipped in the binary.
func DefaultYAML() []byte { return slices.Clone(defaultYAML) }

// Entities a spec builds features for.
const (
	Resident = "resident"
	Tenancy  = "tenancy"
)

// Scopes say whose events a feature aggregates.
const (
	// ScopePerson is the resident's own events (resident entity only).
	ScopePerson = "person"
	// ScopeTenant is the events of the tenancy's tenants (tenancy entity only).
	ScopeTenant = "tenant"
	// ScopeHousehold is the events of everyone living at the entity's UPRN on the as-of date.
	ScopeHousehold = "household"
	// ScopeAddress is the events recorded against the entity's UPRN, whoever they name.
	ScopeAddress = "address"
	// ScopeTenancy is the events recorded against the tenancy (files with a tenancy_id column).
	ScopeTenancy = "tenancy"
)

// Aggregations a spec feature may use.
const (
	AggCount          = "count"            // matching events
	AggAny            = "any"              // 1 if any event matches, else 0
	AggSum            = "sum"              // sum of a numeric column
	AggMean           = "mean"             // mean of a numeric column
	AggMin            = "min"              // minimum of a numeric column
	AggMax            = "max"              // maximum of a numeric column
	AggLast           = "last"             // the column's value on the latest matching event that has one
	AggDistinct       = "distinct"         // distinct values of a code or text column
	AggDaysSinceFirst = "days_since_first" // days from the earliest matching event to the as-of date
	AggDaysSinceLast  = "days_since_last"  // days from the latest matching event to the as-of date
	AggShare          = "share"            // share of matching events that also meet share_of
)

var aggregations = []string{AggCount, AggAny, AggSum, AggMean, AggMin, AggMax, AggLast,
	AggDistinct, AggDaysSinceFirst, AggDaysSinceLast, AggShare}

// Units a feature may have (the meta.json unit field).
var units = []string{"GBP", "count", "days", "percent", "flag", "ratio", "people", "years"}

// Units returns the units a feature may have.
func Units() []string { return slices.Clone(units) }

// Aggregations returns the aggregation names a spec may use.
func Aggregations() []string { return slices.Clone(aggregations) }

// Cond is a filter on a code column: the event's value is one of Codes.
type Cond struct {
	Column string
	Codes  []string
}

// Feature is one aggregation feature after window expansion.
type Feature struct {
	Name    string
	Entity  string // Resident or Tenancy
	Service string // the contract file's service key
	Scope   string
	Agg     string
	Column  string // the aggregated column (sum, mean, min, max, last, distinct)
	// Window is the look-back in days: events dated in (as_of - Window, as_of].
	// 0 means all history up to the as-of date.
	Window       int
	Where        []Cond // all must hold for an event to count
	ShareOf      []Cond // for AggShare: the condition whose share is measured
	Description  string
	Unit         string
	Template     string
	ZeroTemplate string
	Missing      string // when the value is empty (NaN), in plain English
	// Direction is the effect domain knowledge expects: Increasing (the
	// risk rises with the value), Decreasing, or "" for none. Gradient
	// boosting honours it as a monotone constraint; model reports list a
	// learned effect that runs against it.
	Direction string
	Line      int // line of the feature in the spec
}

// Directions a feature may declare.
const (
	Increasing = "increasing"
	Decreasing = "decreasing"
)

// Signal is a named cross-service signal (written in Go) that the spec turns on.
type Signal struct {
	Name string
	// Direction is the effect domain knowledge expects of the signal (see
	// Feature.Direction).
	Direction string
	Line      int
}

// Section is the spec for one entity.
type Section struct {
	Signals  []Signal
	Features []Feature
}

// Spec is a parsed, checked feature spec.
type Spec struct {
	Version int
	// Protected lists the protected characteristics (residents.csv columns
	// sex, ethnic_group, disability) that this spec uses as features. They
	// are always written as audit columns; they are features only if listed.
	Protected []string
	Resident  Section
	Tenancy   Section
	// SHA256 is the hex digest of the spec's text.
	SHA256 string
	// Source names where the spec came from, for error messages.
	Source string
}

// Section returns the section for an entity, or nil for an unknown entity.
func (s *Spec) Section(entity string) *Section {
	switch entity {
	case Resident:
		return &s.Resident
	case Tenancy:
		return &s.Tenancy
	}
	return nil
}

// Error is a fault in a spec, with the line it is on.
type Error struct {
	Source string
	Line   int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg) }

// Default returns the default spec, checked against the default contract.
func Default() (*Spec, error) {
	return Parse(defaultYAML, "default spec", contract.Default())
}

// Load reads and checks the spec in the named file.
func Load(path string, c *contract.Contract) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read feature spec: %w", err)
	}
	return Parse(b, path, c)
}

// Parse parses and checks a spec's YAML text against contract c. source
// names the spec in errors.
func Parse(text []byte, source string, c *contract.Contract) (*Spec, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(text))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: not valid YAML: %w", source, err)
	}
	sum := sha256.Sum256(text)
	p := &parser{src: source, c: c}
	s := &Spec{SHA256: hex.EncodeToString(sum[:]), Source: source}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{source, doc.Line, "a spec is a mapping with keys version, protected, resident, tenancy"}
	}
	root := doc.Content[0]
	if err := p.keys(root, "version", "protected", "resident", "tenancy"); err != nil {
		return nil, err
	}
	v := value(root, "version")
	if v == nil {
		return nil, &Error{source, root.Line, "missing key version (this builder reads version 1)"}
	}
	if v.Value != "1" {
		return nil, &Error{source, v.Line, fmt.Sprintf("version %q is not supported; this builder reads version 1", v.Value)}
	}
	s.Version = 1
	if n := value(root, "protected"); n != nil {
		list, err := p.strings(n)
		if err != nil {
			return nil, err
		}
		res, _ := c.File("residents")
		for i, name := range list {
			col, ok := res.Column(name)
			if !ok || !col.Protected && name != "sex" {
				return nil, &Error{source, n.Content[i].Line, fmt.Sprintf("%q is not a protected characteristic of residents.csv (sex, ethnic_group, disability)", name)}
			}
		}
		s.Protected = list
	}
	names := map[string]int{}
	for _, ent := range []string{Resident, Tenancy} {
		n := value(root, ent)
		if n == nil {
			continue
		}
		sec, err := p.section(n, ent, names)
		if err != nil {
			return nil, err
		}
		*s.Section(ent) = *sec
	}
	return s, nil
}

type parser struct {
	src string
	c   *contract.Contract
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) error {
	return &Error{p.src, n.Line, fmt.Sprintf(format, args...)}
}

// value returns the value node of key in mapping m, or nil.
func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// keys checks that mapping m uses only the allowed keys, each once.
func (p *parser) keys(m *yaml.Node, allowed ...string) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if !slices.Contains(allowed, k.Value) {
			return p.errf(k, "unknown key %q; allowed: %s", k.Value, strings.Join(allowed, ", "))
		}
		if seen[k.Value] {
			return p.errf(k, "key %q appears twice", k.Value)
		}
		seen[k.Value] = true
	}
	return nil
}

func (p *parser) scalar(m *yaml.Node, key string) (string, *yaml.Node, error) {
	n := value(m, key)
	if n == nil {
		return "", nil, nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", n, p.errf(n, "%s must be a single value", key)
	}
	return n.Value, n, nil
}

func (p *parser) strings(n *yaml.Node) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n, "expected a list")
	}
	out := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		if e.Kind != yaml.ScalarNode {
			return nil, p.errf(e, "expected a single value in the list")
		}
		out = append(out, e.Value)
	}
	return out, nil
}

func (p *parser) section(n *yaml.Node, entity string, names map[string]int) (*Section, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "%s must be a mapping with keys signals, features", entity)
	}
	if err := p.keys(n, "signals", "features"); err != nil {
		return nil, err
	}
	sec := &Section{}
	if sn := value(n, "signals"); sn != nil {
		sigs, err := p.signals(sn)
		if err != nil {
			return nil, err
		}
		for _, sg := range sigs {
			if prev, dup := names[entity+"/"+sg.Name]; dup {
				return nil, &Error{p.src, sg.Line, fmt.Sprintf("feature %q is already defined at line %d", sg.Name, prev)}
			}
			names[entity+"/"+sg.Name] = sg.Line
			sec.Signals = append(sec.Signals, sg)
		}
	}
	fn := value(n, "features")
	if fn == nil {
		return sec, nil
	}
	if fn.Kind != yaml.SequenceNode {
		return nil, p.errf(fn, "features must be a list")
	}
	var refs []ref
	for _, item := range fn.Content {
		fs, rs, err := p.feature(item, entity)
		if err != nil {
			return nil, err
		}
		refs = append(refs, rs...)
		for _, f := range fs {
			if prev, dup := names[entity+"/"+f.Name]; dup {
				return nil, &Error{p.src, f.Line, fmt.Sprintf("feature %q is already defined at line %d", f.Name, prev)}
			}
			names[entity+"/"+f.Name] = f.Line
			sec.Features = append(sec.Features, f)
		}
	}
	for _, r := range refs {
		if _, ok := names[entity+"/"+r.name]; !ok {
			return nil, &Error{p.src, r.line, fmt.Sprintf("template refers to %q, which is not a %s feature or signal of this spec", r.name, entity)}
		}
	}
	return sec, nil
}

// signals reads a section's signals: a list of names, each either a plain
// name or a mapping with name and direction.
func (p *parser) signals(n *yaml.Node) ([]Signal, error) {
	if n.Kind == yaml.ScalarNode {
		return []Signal{{Name: n.Value, Line: n.Line}}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n, "signals must be a list of names, or of mappings with name and direction")
	}
	var out []Signal
	for _, e := range n.Content {
		switch e.Kind {
		case yaml.ScalarNode:
			out = append(out, Signal{Name: e.Value, Line: e.Line})
		case yaml.MappingNode:
			if err := p.keys(e, "name", "direction"); err != nil {
				return nil, err
			}
			name, nn, err := p.scalar(e, "name")
			if err != nil {
				return nil, err
			}
			if name == "" {
				return nil, p.errf(e, "a signal mapping needs a name")
			}
			sg := Signal{Name: name, Line: nn.Line}
			if sg.Direction, err = p.direction(e); err != nil {
				return nil, err
			}
			out = append(out, sg)
		default:
			return nil, p.errf(e, "a signal is a name, or a mapping with name and direction")
		}
	}
	return out, nil
}

// direction reads a mapping's optional direction key.
func (p *parser) direction(m *yaml.Node) (string, error) {
	d, dn, err := p.scalar(m, "direction")
	if err != nil || d == "" {
		return "", err
	}
	if d != Increasing && d != Decreasing {
		return "", p.errf(dn, "direction %q: want %s (the risk rises with the value) or %s", d, Increasing, Decreasing)
	}
	return d, nil
}

// ref is a template's reference to another feature of the row.
type ref struct {
	name string
	line int
}

// placeholders a template may hold ({window} is filled when the spec is read).
var placeholderKinds = []string{"value", "share", "when", "since"}

// template checks a template's placeholders: {value}, {share}, {when},
// {since}, {window}, a choice {singular|plural}, or a reference to another
// feature {when:name}. It returns the references, and whether the template
// says the feature's own value.
func (p *parser) template(n *yaml.Node, f *Feature, key, t string) (refs []ref, saysValue bool, err error) {
	rest := t
	for {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			return refs, saysValue, nil
		}
		if rest[i] == '}' {
			return nil, false, p.errf(n, "%s of %s: a } without its {", key, f.Name)
		}
		end := strings.IndexAny(rest[i+1:], "{}")
		if end < 0 || rest[i+1+end] != '}' {
			return nil, false, p.errf(n, "%s of %s: a { without its }", key, f.Name)
		}
		tok := rest[i+1 : i+1+end]
		rest = rest[i+2+end:]
		if strings.Contains(tok, "|") || tok == "window" {
			continue
		}
		kind, name, isRef := strings.Cut(tok, ":")
		if !slices.Contains(placeholderKinds, kind) {
			return nil, false, p.errf(n, "%s of %s: unknown placeholder {%s}; use {value}, {share}, {when}, {since}, {window}, {one|many} or {when:feature}", key, f.Name, tok)
		}
		if isRef {
			if !validName(name) {
				return nil, false, p.errf(n, "%s of %s: {%s} does not name a feature", key, f.Name, tok)
			}
			refs = append(refs, ref{name: name, line: n.Line})
			continue
		}
		saysValue = true
		switch {
		case (kind == "when" || kind == "since") && f.Unit != "days":
			return nil, false, p.errf(n, "%s of %s: {%s} turns a count of days into a date; the unit is %s", key, f.Name, kind, f.Unit)
		case kind == "share" && f.Unit != "ratio":
			return nil, false, p.errf(n, "%s of %s: {share} says a share between 0 and 1 in words; the unit is %s", key, f.Name, f.Unit)
		}
	}
}

// notKnownAtEvent lists columns whose value is set later than the row's
// event date (an investigation's outcome is known when it closes): a
// feature may not filter on them or aggregate them.
var notKnownAtEvent = map[string][]string{
	"fraud_investigations": {"closed_date", "outcome", "fraud_type"},
	"tenancies":            {"end_date", "end_reason"},
}

func (p *parser) feature(n *yaml.Node, entity string) ([]Feature, []ref, error) {
	fs, err := p.feature1(n, entity)
	if err != nil {
		return nil, nil, err
	}
	f := &fs[0]
	var refs []ref
	for _, t := range []struct{ key, text string }{{"template", f.Template}, {"zero_template", f.ZeroTemplate}} {
		rs, says, err := p.template(n, f, t.key, t.text)
		if err != nil {
			return nil, nil, err
		}
		refs = append(refs, rs...)
		if t.key == "template" && !says && f.Unit != "flag" {
			return nil, nil, p.errf(n, "template of %s must say the value: {value}, {share}, {when} or {since}", f.Name)
		}
	}
	if f.Unit == "flag" && f.ZeroTemplate == "" {
		return nil, nil, p.errf(n, "%s is a yes/no feature: give zero_template, what to say when it is no", f.Name)
	}
	if f.Direction, err = p.direction(n); err != nil {
		return nil, nil, err
	}
	for i := range fs {
		fs[i].Direction = f.Direction
	}
	return fs, refs, nil
}

func (p *parser) feature1(n *yaml.Node, entity string) ([]Feature, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "a feature must be a mapping")
	}
	if err := p.keys(n, "name", "service", "scope", "agg", "column", "window", "windows", "where",
		"share_of", "description", "unit", "template", "zero_template", "missing", "direction"); err != nil {
		return nil, err
	}
	f := Feature{Entity: entity, Line: n.Line}
	var err error
	get := func(key string, dst *string, required bool) *yaml.Node {
		if err != nil {
			return nil
		}
		var vn *yaml.Node
		*dst, vn, err = p.scalar(n, key)
		if err == nil && required && *dst == "" {
			err = p.errf(n, "feature lacks %s", key)
		}
		return vn
	}
	get("name", &f.Name, true)
	sn := get("service", &f.Service, true)
	scn := get("scope", &f.Scope, false)
	an := get("agg", &f.Agg, true)
	cn := get("column", &f.Column, false)
	get("description", &f.Description, true)
	un := get("unit", &f.Unit, false)
	get("template", &f.Template, true)
	get("zero_template", &f.ZeroTemplate, false)
	get("missing", &f.Missing, false)
	if err != nil {
		return nil, err
	}
	if !validName(f.Name) {
		return nil, p.errf(n, "feature name %q: use lower-case letters, digits, _ and {w}", f.Name)
	}
	file, ok := p.c.File(f.Service)
	if !ok || f.Service != file.Service {
		return nil, p.errf(sn, "unknown service %q", f.Service)
	}
	if file.Kind != contract.Events {
		return nil, p.errf(sn, "service %q is a %s file; aggregations need an events file", f.Service, file.Kind)
	}
	if f.Scope == "" {
		f.Scope = map[string]string{Resident: ScopePerson, Tenancy: ScopeTenant}[entity]
		scn = n
	}
	scopes := map[string][]string{Resident: {ScopePerson, ScopeHousehold, ScopeAddress},
		Tenancy: {ScopeTenant, ScopeHousehold, ScopeAddress, ScopeTenancy}}[entity]
	if !slices.Contains(scopes, f.Scope) {
		return nil, p.errf(scn, "scope %q is not one of %s for a %s feature", f.Scope, strings.Join(scopes, ", "), entity)
	}
	if f.Scope == ScopeAddress && !file.AddressBased {
		return nil, p.errf(scn, "scope address needs a file with a uprn column; %s has none", file.Name)
	}
	if f.Scope == ScopeTenancy {
		if _, ok := file.Column("tenancy_id"); !ok {
			return nil, p.errf(scn, "scope tenancy needs a file with a tenancy_id column; %s has none", file.Name)
		}
	}
	if !slices.Contains(aggregations, f.Agg) {
		return nil, p.errf(an, "unknown aggregation %q; allowed: %s", f.Agg, strings.Join(aggregations, ", "))
	}
	late := notKnownAtEvent[f.Service]
	needCol := map[string]bool{AggSum: true, AggMean: true, AggMin: true, AggMax: true, AggLast: true, AggDistinct: true}[f.Agg]
	var defUnit string
	switch {
	case needCol && f.Column == "":
		return nil, p.errf(an, "aggregation %s needs a column", f.Agg)
	case !needCol && f.Column != "":
		return nil, p.errf(cn, "aggregation %s takes no column", f.Agg)
	case needCol:
		col, ok := file.Column(f.Column)
		if !ok {
			return nil, p.errf(cn, "unknown column %q in %s", f.Column, file.Name)
		}
		if col.Personal || col.Protected {
			return nil, p.errf(cn, "column %s holds personal data or a protected characteristic; it cannot be a feature", f.Column)
		}
		if slices.Contains(late, f.Column) {
			return nil, p.errf(cn, "column %s of %s is known only after the event date; it would leak the future", f.Column, file.Name)
		}
		numeric := col.Type == contract.Int || col.Type == contract.Float || col.Type == contract.Bool
		if f.Agg == AggDistinct {
			if col.Type != contract.Code && col.Type != contract.String {
				return nil, p.errf(cn, "distinct needs a code or text column; %s is %s", f.Column, col.Type)
			}
			defUnit = "count"
		} else {
			if !numeric {
				return nil, p.errf(cn, "%s needs a numeric column; %s is %s", f.Agg, f.Column, col.Type)
			}
			defUnit = col.Unit
		}
	default:
		defUnit = map[string]string{AggCount: "count", AggAny: "flag", AggDaysSinceFirst: "days",
			AggDaysSinceLast: "days", AggShare: "ratio"}[f.Agg]
	}
	if f.Unit == "" {
		f.Unit = defUnit
		un = n
	}
	if !slices.Contains(units, f.Unit) {
		return nil, p.errf(un, "unit %q is not one of %s", f.Unit, strings.Join(units, ", "))
	}
	if wn := value(n, "where"); wn != nil {
		if f.Where, err = p.conds(wn, file, late); err != nil {
			return nil, err
		}
	}
	sh := value(n, "share_of")
	switch {
	case f.Agg == AggShare && sh == nil:
		return nil, p.errf(an, "aggregation share needs share_of")
	case f.Agg != AggShare && sh != nil:
		return nil, p.errf(sh, "share_of is only for aggregation share")
	case sh != nil:
		if f.ShareOf, err = p.conds(sh, file, late); err != nil {
			return nil, err
		}
	}
	if f.Missing == "" {
		f.Missing = defaultMissing(f.Agg)
	}
	// Windows.
	wn, wsn := value(n, "window"), value(n, "windows")
	var windows []int
	var wline *yaml.Node
	switch {
	case wn != nil && wsn != nil:
		return nil, p.errf(wsn, "give window or windows, not both")
	case wn != nil:
		w, err := p.window(wn)
		if err != nil {
			return nil, err
		}
		windows, wline = []int{w}, wn
	case wsn != nil:
		if wsn.Kind != yaml.SequenceNode || len(wsn.Content) == 0 {
			return nil, p.errf(wsn, "windows must be a non-empty list of days or all")
		}
		for _, e := range wsn.Content {
			w, err := p.window(e)
			if err != nil {
				return nil, err
			}
			windows = append(windows, w)
		}
		wline = wsn
		if !strings.Contains(f.Name, "{w}") {
			return nil, p.errf(wsn, "a feature with several windows needs {w} in its name")
		}
	default:
		windows = []int{0}
	}
	_ = wline
	out := make([]Feature, 0, len(windows))
	for _, w := range windows {
		g := f
		g.Window = w
		g.Where = slices.Clone(f.Where)
		g.Name = strings.ReplaceAll(f.Name, "{w}", windowTag(w))
		g.Description = expandWindow(f.Description, w)
		g.Template = expandWindow(f.Template, w)
		g.ZeroTemplate = expandWindow(f.ZeroTemplate, w)
		out = append(out, g)
	}
	return out, nil
}

func defaultMissing(agg string) string {
	switch agg {
	case AggCount, AggAny, AggDistinct, AggSum:
		return ""
	case AggDaysSinceFirst, AggDaysSinceLast:
		return "empty when no such event is known on the as-of date"
	case AggShare:
		return "empty when there is no event to take a share of"
	}
	return "empty when no such event with a value is known on the as-of date"
}

func (p *parser) window(n *yaml.Node) (int, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, p.errf(n, "a window is a number of days or all")
	}
	if n.Value == "all" {
		return 0, nil
	}
	w, err := strconv.Atoi(n.Value)
	if err != nil || w <= 0 || w > 36600 {
		return 0, p.errf(n, "window %q is not a number of days between 1 and 36600, or all", n.Value)
	}
	return w, nil
}

func (p *parser) conds(n *yaml.Node, file *contract.File, late []string) ([]Cond, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "a filter is a mapping from a code column to a list of codes")
	}
	var out []Cond
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		col, ok := file.Column(k.Value)
		if !ok {
			return nil, p.errf(k, "unknown column %q in %s", k.Value, file.Name)
		}
		if col.Type != contract.Code && col.Type != contract.Bool {
			return nil, p.errf(k, "filters test code columns; %s is %s", k.Value, col.Type)
		}
		if col.Personal || col.Protected {
			return nil, p.errf(k, "column %s is a protected characteristic; it cannot filter a feature", k.Value)
		}
		if slices.Contains(late, k.Value) {
			return nil, p.errf(k, "column %s of %s is known only after the event date; it would leak the future", k.Value, file.Name)
		}
		codes, err := p.strings(v)
		if err != nil {
			return nil, err
		}
		allowed := col.Codes
		if col.Type == contract.Bool {
			allowed = []string{"Y", "N"}
		}
		for j, code := range codes {
			if !slices.Contains(allowed, code) {
				line := v.Line
				if v.Kind == yaml.SequenceNode {
					line = v.Content[j].Line
				}
				return nil, &Error{p.src, line, fmt.Sprintf("unknown code %q for %s.%s; allowed: %s", code, file.Name, k.Value, strings.Join(allowed, ", "))}
			}
		}
		out = append(out, Cond{Column: k.Value, Codes: codes})
	}
	return out, nil
}

func validName(s string) bool {
	s = strings.ReplaceAll(s, "{w}", "w")
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func windowTag(w int) string {
	if w == 0 {
		return "all"
	}
	return strconv.Itoa(w) + "d"
}

// expandWindow fills {window}: "in {window}" reads "in the last 90 days"
// or, for all history, "since records began".
func expandWindow(s string, w int) string {
	if w == 0 {
		s = strings.ReplaceAll(s, "in {window}", "since records began")
	}
	return strings.ReplaceAll(s, "{window}", WindowPhrase(w))
}

// WindowPhrase returns a window in words, as used in descriptions and
// templates: "the last 90 days", "the last year", "all recorded history".
func WindowPhrase(w int) string {
	switch {
	case w == 0:
		return "all recorded history"
	case w == 365:
		return "the last year"
	case w%365 == 0:
		return fmt.Sprintf("the last %d years", w/365)
	}
	return fmt.Sprintf("the last %d days", w)
}
