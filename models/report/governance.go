package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Governance holds what only a person can say about a deployment: who owns
// the tool, whom to contact, and the human process around it. It is read
// from a small YAML file; nothing here is ever invented by the code, and a
// field left empty is reported as not provided.
type Governance struct {
	Organisation        string `yaml:"organisation" json:"organisation"`
	Team                string `yaml:"team" json:"team"`
	SeniorResponsible   string `yaml:"senior_responsible_owner" json:"senior_responsible_owner"`
	Contact             string `yaml:"contact" json:"contact"`
	Website             string `yaml:"website" json:"website"`
	Supplier            string `yaml:"supplier" json:"supplier"`
	Phase               string `yaml:"phase" json:"phase"` // e.g. pilot, production
	HumanReview         string `yaml:"human_review" json:"human_review"`
	Appeals             string `yaml:"appeals" json:"appeals"`
	Training            string `yaml:"required_training" json:"required_training"`
	DPIA                string `yaml:"dpia" json:"dpia"`
	EqualityImpact      string `yaml:"equality_impact_assessment" json:"equality_impact_assessment"`
	LawfulBasis         string `yaml:"lawful_basis" json:"lawful_basis"`
	DataSharing         string `yaml:"data_sharing" json:"data_sharing"`
	AlternativesWeighed string `yaml:"alternatives_considered" json:"alternatives_considered"`
}

// LoadGovernance reads a governance YAML file; unknown keys are an error
// naming the line, so a typo does not silently leave a field empty.
func LoadGovernance(path string) (*Governance, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("governance config: %w", err)
	}
	var g Governance
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&g); err != nil && err != io.EOF {
		return nil, fmt.Errorf("governance config %s: %w", path, err)
	}
	return &g, nil
}

// NotProvided is what the record says for a field the owner has not filled.
const NotProvided = "Not provided: to be completed by the tool's owner."

func orNot(s string) string {
	if strings.TrimSpace(s) == "" {
		return NotProvided
	}
	return s
}

// Facts are what the model artifact and data say about the model.
type Facts struct {
	Name         string            `json:"name"`
	Target       string            `json:"target"` // complex_case or tenancy_fraud
	Algorithm    string            `json:"algorithm"`
	Version      string            `json:"version"`
	Created      string            `json:"created"`
	Engine       string            `json:"engine"`
	Params       map[string]any    `json:"params,omitempty"`
	Features     int               `json:"features"`
	Services     []string          `json:"services"`
	TrainAsOf    []string          `json:"training_as_of"`
	TrainRows    int               `json:"training_rows"`
	TrainLabel   float64           `json:"training_label_rate"`
	EvalAsOf     []string          `json:"evaluation_as_of"`
	DataSHA256   string            `json:"training_data_sha256"`
	Calibration  string            `json:"calibration"`
	ContractVer  string            `json:"contract_version,omitempty"`
	ExtraFacts   map[string]string `json:"extra,omitempty"`
	AuditColumns []string          `json:"audit_characteristics"`
}

// purposeOf describes a target's prediction in plain words: its purpose,
// how it is used, by whom, and the outcome it predicts.
func purposeOf(target string) (purpose, use, users, outcome string) {
	switch target {
	case "complex_case":
		return "Identify residents whose household may reach a crisis service in the next 12 months (a child protection plan, a child becoming looked after, an adult safeguarding enquiry, a homelessness duty or temporary accommodation, an eviction), so that early help can be offered first.",
			"Each month the highest-ranked residents, up to the caseworkers' capacity, are listed for review with the reasons behind each score. A caseworker reviews the resident's record and decides whether to offer help; the score never triggers an action by itself.",
			"Caseworkers in early help and adult and children's services.",
			"escalation to a crisis service within 12 months"
	case "tenancy_fraud":
		return "Rank council tenancies by the risk of tenancy fraud (unlawful subletting, non-occupation, false succession), so that fraud officers can triage referrals and recover homes for families who need them.",
			"Fraud officers see the highest-ranked tenancies with the evidence behind each rank and decide whether to open an investigation; only an investigation, not the score, can find fraud.",
			"Tenancy-fraud officers.",
			"an investigation confirming tenancy fraud within 12 months"
	}
	return "Predict " + target + ".", "Scores are reviewed by a person before any action.", "Staff of the service that owns the target.", target
}

// WriteModelCard writes the model card as Markdown from the facts, the
// report and the governance config.
func WriteModelCard(w io.Writer, f Facts, r *Report, g *Governance) error {
	purpose, use, users, outcome := purposeOf(f.Target)
	m := r.Model.Metrics
	var b strings.Builder
	fmt.Fprintf(&b, "# Model card: %s\n\n", f.Name)
	fmt.Fprintf(&b, "| | |\n|---|---|\n| Target | `%s` (%s) |\n| Algorithm | %s |\n| Model version | %s |\n| Created | %s |\n| Engine | %s |\n| Owner | %s |\n| Contact | %s |\n\n",
		f.Target, outcome, f.Algorithm, f.Version, f.Created, f.Engine, orNot(g.Organisation+teamSuffix(g.Team)), orNot(g.Contact))
	fmt.Fprintf(&b, "## Intended use\n\n%s\n\n%s\n\nUsers: %s\n\n", purpose, use, users)
	b.WriteString("**Out of scope.** Automated decisions of any kind; eligibility for services; use by another service or for a purpose other than the one above; residents outside the data the model was trained on.\n\n")
	fmt.Fprintf(&b, "## Data\n\n- Services whose records feed the features (%d): %s.\n", len(f.Services), strings.Join(f.Services, ", "))
	fmt.Fprintf(&b, "- Features: %d, computed point-in-time (only records known on each as-of date).\n", f.Features)
	fmt.Fprintf(&b, "- Training as-of dates: %s; %d rows; label rate %.4f.\n", list(f.TrainAsOf), f.TrainRows, f.TrainLabel)
	fmt.Fprintf(&b, "- Evaluation as-of dates: %s (a temporal hold-out when later than every training date); %d rows.\n", list(f.EvalAsOf), r.Rows)
	if f.DataSHA256 != "" {
		fmt.Fprintf(&b, "- Training data fingerprint (SHA-256): `%s`.\n", f.DataSHA256)
	}
	if len(f.AuditColumns) > 0 {
		fmt.Fprintf(&b, "- Protected characteristics used for the fairness audit only, not as features: %s.\n", strings.Join(f.AuditColumns, ", "))
	}
	b.WriteString("\n## Performance on the evaluation rows\n\n| metric | value | 95% interval |\n|---|---|---|\n")
	row := func(name string, v, lo, hi float64) {
		fmt.Fprintf(&b, "| %s | %.4f | %.4f–%.4f |\n", name, v, lo, hi)
	}
	row("ROC-AUC", m.ROCAUC.Value, m.ROCAUC.Lo, m.ROCAUC.Hi)
	row("Average precision", m.AveragePrecision.Value, m.AveragePrecision.Lo, m.AveragePrecision.Hi)
	row("Log-loss", m.LogLoss.Value, m.LogLoss.Lo, m.LogLoss.Hi)
	row("Brier score", m.Brier.Value, m.Brier.Lo, m.Brier.Hi)
	row("Expected calibration error", m.ECE.Value, m.ECE.Lo, m.ECE.Hi)
	for _, k := range m.TopK {
		row(fmt.Sprintf("Precision in the top %d", k.K), k.Precision.Value, k.Precision.Lo, k.Precision.Hi)
		row(fmt.Sprintf("Recall in the top %d", k.K), k.Recall.Value, k.Recall.Lo, k.Recall.Hi)
	}
	fmt.Fprintf(&b, "\nBase rate on these rows: %.4f. %s\n", m.Prevalence, capacitySentence(r))
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "\n**Warning.** %s\n", w)
	}
	if st := r.Stock; st != nil {
		fmt.Fprintf(&b, "\n### Over every row (the whole stock)\n\n%s\n", stockSentence(r))
	}
	if r.Oracle != nil {
		fmt.Fprintf(&b, "The true probabilities (synthetic data only) reach an AUC of %.4f on the same rows: the ceiling.\n", r.Oracle.Metrics.ROCAUC.Value)
	}
	if r.Baseline != nil {
		fmt.Fprintf(&b, "The baseline %s reaches an AUC of %.4f on the same rows.\n", r.Baseline.Name, r.Baseline.Metrics.ROCAUC.Value)
	}
	b.WriteString("\n## Fairness\n\n")
	b.WriteString(fairnessSummary(r))
	b.WriteString("\n## Limits and risks\n\n")
	for _, l := range limits(f) {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	fmt.Fprintf(&b, "\n## Human oversight\n\n%s\n\nAppeals and corrections: %s\n", orNot(g.HumanReview), orNot(g.Appeals))
	_, err := io.WriteString(w, b.String())
	return err
}

// capacitySentence states what the model finds at capacity, or why that
// is not shown.
func capacitySentence(r *Report) string {
	cp := r.Model.AtCapacity
	if cp.K == 0 {
		return fmt.Sprintf("The capacity of %d cases is more than the %d rows evaluated, so no figure at capacity is given.", r.Capacity, r.Rows)
	}
	return fmt.Sprintf("At capacity %d the model finds %d outcomes, %.1f times what random review would find.", cp.K, cp.Positives, cp.Lift)
}

func precisionAtCapacity(r *Report) string {
	cp := r.Model.AtCapacity
	if cp.K == 0 {
		return fmt.Sprintf("no precision at capacity (%d cases, more than the rows)", r.Capacity)
	}
	return fmt.Sprintf("precision in the top %d: %.3f", cp.K, cp.Precision)
}

// stockSentence states how the model ranks every row: against the
// confirmed positives and, with an oracle, against the truth.
func stockSentence(r *Report) string {
	st := r.Stock
	var b strings.Builder
	fmt.Fprintf(&b, "Ranking all %d rows (%d labelled): ", st.Rows, st.Labelled)
	var parts []string
	for _, k := range st.Council.TopK {
		parts = append(parts, fmt.Sprintf("the top %d hold %.1f%% of the %d confirmed positives", k.K, 100*k.Recall.Value, st.Confirmed))
	}
	b.WriteString(strings.Join(parts, ", ") + ".")
	if o := st.Oracle; o != nil {
		fmt.Fprintf(&b, " Against the oracle's truth (synthetic data only; %d truly positive): average precision %.3f, ROC-AUC %.3f", st.Truth, o.AveragePrecision.Value, o.ROCAUC.Value)
		for _, k := range o.TopK {
			fmt.Fprintf(&b, ", precision %.2f and recall %.2f in the top %d", k.Precision.Value, k.Recall.Value, k.K)
		}
		b.WriteString(".")
		if bias := st.Bias; bias != nil {
			fmt.Fprintf(&b, " Of the labelled rows %.1f%% are truly positive, against %.2f%% of all rows; %.1f%% of the truly positive rows carry a positive label.",
				100*bias.TruthRateLabelled, 100*bias.TruthRateStock, 100*bias.FoundShare)
		}
	}
	return b.String()
}

func teamSuffix(team string) string {
	if team == "" {
		return ""
	}
	return ", " + team
}

func list(xs []string) string {
	if len(xs) == 0 {
		return "not recorded"
	}
	return strings.Join(xs, ", ")
}

func fairnessSummary(r *Report) string {
	if r.Fairness == nil {
		return "No fairness audit was run: the evaluation table had no audit columns.\n"
	}
	var b strings.Builder
	fr := r.Fairness
	fmt.Fprintf(&b, "Audited at capacity (%d selected of %d) for: ", fr.Selected, fr.Rows)
	var names []string
	for _, c := range fr.Characteristics {
		names = append(names, c.Name)
	}
	b.WriteString(strings.Join(names, ", ") + ".\n\n")
	flags := fr.Flags()
	if len(flags) == 0 {
		fmt.Fprintf(&b, "No judged group's selection rate or true-positive rate fell below %.2f of the best-served group's.\n", fr.RatioFlag)
	} else {
		fmt.Fprintf(&b, "Flagged (below %.2f of the best-served group's rate):\n\n", fr.RatioFlag)
		for _, f := range flags {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	var small []string
	for _, c := range fr.Characteristics {
		for _, g := range c.Groups {
			if g.TooSmall {
				small = append(small, c.Name+"="+g.Name)
			}
		}
	}
	if len(small) > 0 {
		fmt.Fprintf(&b, "\nToo small to judge (fewer than %d rows, %d outcomes or %d expected selections): %s.\n", fr.MinGroup, fr.MinPositives, fr.MinExpected, strings.Join(small, ", "))
	}
	return b.String()
}

func limits(f Facts) []string {
	out := []string{
		"Scores are probabilities for a group of similar residents, not facts about a person; every flag is reviewed by a person before any action.",
		"The model learns from recorded outcomes. Groups that services record less often (or more often) are scored with that bias.",
		"Joined records can be wrong: a false match between two people's records changes both their features.",
		"Performance drifts as services and the population change: monitor with `caserisk drift` and re-evaluate before each promotion.",
	}
	if f.Target == "tenancy_fraud" {
		out = append(out, "Fraud labels exist only where an investigation closed. Investigations follow referrals and data matches, not a random sample, so metrics on investigated tenancies measure what investigators already suspect, and a model trained on them alone learns what investigators found; a model trained positive–unlabelled learns from every tenancy, but still only from the frauds that were confirmed.")
	}
	if f.Target == "complex_case" {
		out = append(out, "A 2020 study by the What Works Centre for Children's Social Care did not find that such models worked well in four councils: treat the figures above as the evidence, and the ranking as one input among many.")
	}
	return out
}

// ATRS is an Algorithmic Transparency Recording Standard record: tier 1
// for the public and the five sections of tier 2 for specialists.
type ATRS struct {
	Tier1 map[string]string            `json:"tier_1"`
	Tier2 map[string]map[string]string `json:"tier_2"`
}

// NewATRS builds the record from the facts, report and governance config.
func NewATRS(f Facts, r *Report, g *Governance) *ATRS {
	purpose, use, users, outcome := purposeOf(f.Target)
	m := r.Model.Metrics
	perf := fmt.Sprintf("On %d evaluation rows (as of %s): ROC-AUC %.3f (95%% interval %.3f–%.3f); average precision %.3f against a base rate of %.3f; "+
		"%s; expected calibration error %.4f.",
		r.Rows, list(f.EvalAsOf), m.ROCAUC.Value, m.ROCAUC.Lo, m.ROCAUC.Hi, m.AveragePrecision.Value, m.Prevalence,
		precisionAtCapacity(r), m.ECE.Value)
	for _, w := range r.Warnings {
		perf += " " + w
	}
	if r.Stock != nil {
		perf += " " + stockSentence(r)
	}
	risks := strings.Join(limits(f), " ")
	if r.Fairness != nil {
		risks += " Fairness audit: " + strings.ReplaceAll(strings.TrimSpace(fairnessSummary(r)), "\n", " ")
	}
	return &ATRS{
		Tier1: map[string]string{
			"name":        "caserisk " + f.Target + " model " + f.Version,
			"description": purpose + " " + use,
			"website":     orNot(g.Website),
			"contact":     orNot(g.Contact),
		},
		Tier2: map[string]map[string]string{
			"1_owner_and_responsibility": {
				"organisation":             orNot(g.Organisation),
				"team":                     orNot(g.Team),
				"senior_responsible_owner": orNot(g.SeniorResponsible),
				"external_supplier":        orNot(g.Supplier),
			},
			"2_description_and_rationale": {
				"scope":                   purpose,
				"benefit":                 "Earlier, better-targeted help within a fixed review capacity. " + capacitySentence(r),
				"alternatives_considered": orNot(g.AlternativesWeighed),
			},
			"3_decision_making_process": {
				"process_integration":        use,
				"users":                      users,
				"information_provided":       "A risk band with plain-English reasons raising and lowering the score, and the resident's record across services.",
				"human_decisions_and_review": orNot(g.HumanReview),
				"required_training":          orNot(g.Training),
				"appeals_and_review":         orNot(g.Appeals),
			},
			"4_tool_specification": {
				"phase":                orNot(g.Phase),
				"model_type":           f.Algorithm + " (" + f.Engine + "), calibration " + f.Calibration,
				"outcome_predicted":    outcome,
				"data_sources":         strings.Join(f.Services, ", "),
				"training_data":        fmt.Sprintf("As-of dates %s; %d rows; label rate %.4f; SHA-256 %s.", list(f.TrainAsOf), f.TrainRows, f.TrainLabel, f.DataSHA256),
				"features":             fmt.Sprintf("%d features computed point-in-time from the services above.", f.Features),
				"sensitive_attributes": "Protected characteristics (" + strings.Join(f.AuditColumns, ", ") + ") are used to audit fairness, not as features.",
				"performance":          perf,
				"lawful_basis":         orNot(g.LawfulBasis),
				"data_sharing":         orNot(g.DataSharing),
			},
			"5_risks_mitigations_and_impact_assessments": {
				"dpia":                       orNot(g.DPIA),
				"equality_impact_assessment": orNot(g.EqualityImpact),
				"risks_and_mitigations":      risks,
			},
		},
	}
}

// WriteJSON writes the record as indented JSON.
func (a *ATRS) WriteJSON(w io.Writer) error { return writeIndented(w, a) }

// WriteMarkdown writes the record as Markdown, sections in the standard's order.
func (a *ATRS) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Algorithmic Transparency Record\n\n## Tier 1: overview\n\n")
	for _, k := range []string{"name", "description", "website", "contact"} {
		fmt.Fprintf(&b, "**%s.** %s\n\n", title(k), a.Tier1[k])
	}
	b.WriteString("## Tier 2: detail\n")
	secs := make([]string, 0, len(a.Tier2))
	for s := range a.Tier2 {
		secs = append(secs, s)
	}
	sort.Strings(secs)
	for _, s := range secs {
		fmt.Fprintf(&b, "\n### %s\n\n", title(s[2:]))
		keys := make([]string, 0, len(a.Tier2[s]))
		for k := range a.Tier2[s] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "**%s.** %s\n\n", title(k), a.Tier2[s][k])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func title(key string) string {
	s := strings.ReplaceAll(key, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
