// Package artifact is caserisk's versioned model file: one JSON document
// holding everything needed to score, explain and audit a trained model —
// the algorithm and its parameters, the feature schema with each feature's
// description and bin cuts, the trees or coefficients, the calibrator, a
// fingerprint of the training data, the held-out metrics, feature
// importance, and a SHA-256 checksum over the rest.
//
// Load refuses a file that is not a caserisk model, one written by a newer
// caserisk (format_version above FormatVersion), one whose checksum does not
// match its content (corruption or tampering), and one whose structure is
// inconsistent (trees pointing outside the feature list, a calibrator with
// bad breakpoints). Save writes atomically, so a reader never sees half a
// model.
package artifact

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"caserisk/models/calibrate"
	"caserisk/models/dataset"
	"caserisk/models/logistic"
	"caserisk/models/metrics"
	"caserisk/models/tree"
)

const (
	// Format is the value of the format field of every model file.
	Format = "caserisk-model"
	// FormatVersion is the newest format version this code reads and the
	// one it writes.
	FormatVersion = 1
	// GBDT and Logistic are the algorithm names.
	GBDT     = "gbdt"
	Logistic = "logistic"
)

// Feature is one model input: its name and description (from the feature
// builder's metadata) and, for gbdt, the training bin cuts.
type Feature struct {
	dataset.FeatureMeta
	// Cuts are the ascending bin cut points the trainer used.
	Cuts []float64 `json:"cuts,omitempty"`
	// Range is the lowest and highest value in training, kept for features
	// with a declared direction: it places a value at the direction's
	// low-risk end when reasons are checked against it.
	Range []float64 `json:"range,omitempty"`
}

// Imputation prepares a row for the logistic model, which needs finite
// inputs: a missing value is replaced by the training mean of its feature,
// and for each feature listed in Indicators a 0/1 "was missing" input is
// appended, in that order, so that missingness itself can carry weight.
type Imputation struct {
	Values     []float64 `json:"values"`
	Indicators []int     `json:"indicators,omitempty"`
}

// Training fingerprints the rows a model was trained on and says how the
// held-out rows were used.
type Training struct {
	Source     string   `json:"source"`     // the training file's base name
	SHA256     string   `json:"sha256"`     // dataset.Table.Fingerprint of the training rows
	Rows       int      `json:"rows"`       // labelled training rows
	Positives  int      `json:"positives"`  // training rows labelled 1
	LabelRate  float64  `json:"label_rate"` // Positives / Rows
	Unlabelled int      `json:"unlabelled"` // rows dropped for an empty label
	AsOf       []string `json:"as_of"`      // distinct as-of dates, sorted
	Ignored    []string `json:"ignored"`    // columns read but not used as features
	Seconds    float64  `json:"seconds"`    // wall-clock fitting time
	Rounds     int      `json:"rounds"`     // gbdt: rounds run
	BestRound  int      `json:"best_round"` // gbdt: last round kept (0-based)
	Converged  *bool    `json:"converged"`  // logistic: whether the solver converged
	HeldOut    string   `json:"held_out"`   // how the held-out rows were chosen and used
	Tuning     int      `json:"tuning"`     // held-out rows for early stopping and calibration
	Evaluated  int      `json:"evaluated"`  // held-out rows behind the validation metrics
}

// Validation holds the metrics on held-out rows the model never saw while
// fitting trees, coefficients, the stopping round or the calibrator.
type Validation struct {
	Rows   int             `json:"rows"`
	Report *metrics.Report `json:"report"`
}

// Model is a trained model as stored in a model file.
type Model struct {
	Format          string                `json:"format"`
	FormatVersion   int                   `json:"format_version"`
	Algorithm       string                `json:"algorithm"`
	Target          string                `json:"target"`
	Params          map[string]any        `json:"params"`
	Features        []Feature             `json:"features"`
	Ensemble        *tree.Ensemble        `json:"ensemble,omitempty"`
	Logistic        *logistic.Model       `json:"logistic,omitempty"`
	Imputation      *Imputation           `json:"imputation,omitempty"`
	Calibration     *calibrate.Calibrator `json:"calibration,omitempty"`
	Training        Training              `json:"training"`
	Validation      *Validation           `json:"validation,omitempty"`
	Importance      map[string]float64    `json:"importance,omitempty"`
	Profiles        *DriftProfiles        `json:"drift_profiles,omitempty"`
	Created         string                `json:"created"`
	CaseriskVersion string                `json:"caserisk_version"`
	Checksum        string                `json:"checksum"`
}

// Names returns the feature names in model order.
func (m *Model) Names() []string {
	out := make([]string, len(m.Features))
	for i, f := range m.Features {
		out[i] = f.Name
	}
	return out
}

// canonical returns the model's JSON without the checksum: the bytes the
// checksum covers. encoding/json writes struct fields in declaration
// order, map keys sorted and floats in their shortest exact form, so the
// same model always gives the same bytes.
func (m *Model) canonical() ([]byte, error) {
	c := *m
	c.Checksum = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("encode model: %w", err)
	}
	return b, nil
}

// Sum returns the SHA-256 of the canonical content, in hex.
func (m *Model) Sum() (string, error) {
	b, err := m.canonical()
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

// Marshal sets the format fields and the checksum and returns the file's
// bytes.
func (m *Model) Marshal() ([]byte, error) {
	m.Format, m.FormatVersion = Format, FormatVersion
	b, err := m.canonical()
	if err != nil {
		return nil, err
	}
	s := sha256.Sum256(b)
	m.Checksum = hex.EncodeToString(s[:])
	// The checksum is the last field: the file is the canonical bytes with
	// its empty value filled in (encoding the model once).
	const empty = `,"checksum":""}`
	if !bytes.HasSuffix(b, []byte(empty)) {
		return nil, fmt.Errorf("encode model: the checksum is not the last field")
	}
	out := append(b[:len(b)-len(empty)], `,"checksum":"`+m.Checksum+`"}`+"\n"...)
	return out, nil
}

// Save checks the model and writes it to path atomically: to a temporary
// file in the same directory, synced, then renamed over path.
func (m *Model) Save(path string) (err error) {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	b, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save model %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save model %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// Load reads and checks a model file.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", filepath.Base(path), err)
	}
	return m, nil
}

// ErrChecksum reports a model whose content does not match its checksum.
var ErrChecksum = errors.New("checksum mismatch: the model file was changed or corrupted after it was written")

// Parse decodes and checks a model file's bytes: its format, its version,
// its checksum and its structure.
func Parse(b []byte) (*Model, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	m := &Model{}
	decErr := dec.Decode(m)
	if decErr != nil || m.Format != Format || m.FormatVersion != FormatVersion {
		// Say what the file is before what is wrong with its content: not
		// a model, or one from a newer caserisk (whose fields this one may
		// not know).
		var head struct {
			Format        string `json:"format"`
			FormatVersion int    `json:"format_version"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			return nil, fmt.Errorf("not a caserisk model: %w", err)
		}
		switch {
		case head.Format != Format:
			return nil, fmt.Errorf("not a caserisk model: format is %q, want %q", head.Format, Format)
		case head.FormatVersion > FormatVersion:
			return nil, fmt.Errorf("model format version %d is newer than this caserisk reads (%d): upgrade caserisk to load it",
				head.FormatVersion, FormatVersion)
		case head.FormatVersion < 1:
			return nil, fmt.Errorf("unknown model format version %d (this caserisk reads 1 to %d)", head.FormatVersion, FormatVersion)
		}
		if decErr != nil {
			return nil, fmt.Errorf("decode model: %w", decErr)
		}
	}
	if m.Checksum == "" {
		return nil, fmt.Errorf("model has no checksum")
	}
	// The file as Marshal wrote it is its canonical content with the
	// checksum filled in: hashing the bytes themselves, with the checksum
	// emptied, confirms it without encoding the model again. A file that
	// was reformatted is checked against its re-encoded content.
	if !rawChecksumMatches(b, m.Checksum) {
		sum, err := m.Sum()
		if err != nil {
			return nil, err
		}
		if sum != m.Checksum {
			return nil, fmt.Errorf("%w (stored %.12s…, content %.12s…)", ErrChecksum, m.Checksum, sum)
		}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// rawChecksumMatches reports whether b is exactly a canonical encoding
// with checksum sum as its last field: the SHA-256 of b without the
// trailing newline and with the checksum's value emptied equals sum.
func rawChecksumMatches(b []byte, sum string) bool {
	b = bytes.TrimSuffix(b, []byte("\n"))
	tail := `,"checksum":"` + sum + `"}`
	if len(sum) != 2*sha256.Size || !bytes.HasSuffix(b, []byte(tail)) {
		return false
	}
	h := sha256.New()
	h.Write(b[:len(b)-len(tail)])
	h.Write([]byte(`,"checksum":""}`))
	return hex.EncodeToString(h.Sum(nil)) == sum
}

// Validate checks the model's structure: a known algorithm with its
// parameters present and sized to the feature list, unique feature names,
// ascending cuts and a valid calibrator.
func (m *Model) Validate() error {
	if m.Target == "" {
		return fmt.Errorf("model has no target")
	}
	if len(m.Features) == 0 {
		return fmt.Errorf("model has no features")
	}
	seen := make(map[string]bool, len(m.Features))
	for i, f := range m.Features {
		if f.Name == "" {
			return fmt.Errorf("features[%d] has no name", i)
		}
		if seen[f.Name] {
			return fmt.Errorf("features[%d]: %q is listed twice", i, f.Name)
		}
		seen[f.Name] = true
		for k := 1; k < len(f.Cuts); k++ {
			if !(f.Cuts[k] > f.Cuts[k-1]) {
				return fmt.Errorf("features[%d] (%s): cuts are not strictly ascending at %d", i, f.Name, k)
			}
		}
		if err := f.checkDirection(); err != nil {
			return fmt.Errorf("features[%d] (%s): %w", i, f.Name, err)
		}
	}
	n := len(m.Features)
	switch m.Algorithm {
	case GBDT:
		if m.Ensemble == nil || m.Logistic != nil {
			return fmt.Errorf("gbdt model must have an ensemble and no logistic part")
		}
		if m.Ensemble.NumFeatures != n {
			return fmt.Errorf("ensemble expects %d features, the model lists %d", m.Ensemble.NumFeatures, n)
		}
		if math.IsNaN(m.Ensemble.Base) || math.IsInf(m.Ensemble.Base, 0) {
			return fmt.Errorf("ensemble base margin is not finite")
		}
		if err := m.Ensemble.Validate(); err != nil {
			return fmt.Errorf("ensemble: %w", err)
		}
	case Logistic:
		if m.Logistic == nil || m.Ensemble != nil || m.Imputation == nil {
			return fmt.Errorf("logistic model must have coefficients and an imputation, and no ensemble")
		}
		if err := m.Logistic.Validate(); err != nil {
			return fmt.Errorf("logistic: %w", err)
		}
		imp := m.Imputation
		if len(imp.Values) != n {
			return fmt.Errorf("imputation has %d values for %d features", len(imp.Values), n)
		}
		for i, v := range imp.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("imputation value %d (%s) is not finite", i, m.Features[i].Name)
			}
		}
		for k, j := range imp.Indicators {
			if j < 0 || j >= n || (k > 0 && j <= imp.Indicators[k-1]) {
				return fmt.Errorf("imputation indicators must be ascending feature indices in [0, %d)", n)
			}
		}
		if want := n + len(imp.Indicators); len(m.Logistic.Coef) != want {
			return fmt.Errorf("logistic model has %d coefficients, want %d (%d features + %d missing indicators)",
				len(m.Logistic.Coef), want, n, len(imp.Indicators))
		}
	default:
		return fmt.Errorf("unknown algorithm %q (want %s or %s)", m.Algorithm, GBDT, Logistic)
	}
	if m.Calibration != nil {
		if err := m.Calibration.Validate(); err != nil {
			return fmt.Errorf("calibration: %w", err)
		}
	}
	return nil
}

// SchemaError is a table whose feature columns differ from the model's.
type SchemaError struct {
	Missing []string // model features the table lacks
	Extra   []string // table features the model does not know
}

func (e *SchemaError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("missing %d column(s) the model needs: %s", len(e.Missing), strings.Join(e.Missing, ", ")))
	}
	if len(e.Extra) > 0 {
		parts = append(parts, fmt.Sprintf("%d extra column(s) the model does not know: %s", len(e.Extra), strings.Join(e.Extra, ", ")))
	}
	return "table does not match the model's features: " + strings.Join(parts, "; ")
}

// FeatureIndex maps the model's features to the table's columns:
// idx[i] is the table column holding model feature i. The table must have
// exactly the model's features (in any order); otherwise the error is a
// *SchemaError naming the missing and extra columns. An extra column is
// refused rather than skipped because it usually means the table was built
// with a different feature spec than the model's.
func (m *Model) FeatureIndex(t *dataset.Table) ([]int, error) {
	idx := make([]int, len(m.Features))
	var e SchemaError
	for i, f := range m.Features {
		idx[i] = slices.Index(t.Names, f.Name)
		if idx[i] < 0 {
			e.Missing = append(e.Missing, f.Name)
		}
	}
	names := m.Names()
	for _, n := range t.Names {
		if !slices.Contains(names, n) {
			e.Extra = append(e.Extra, n)
		}
	}
	if len(e.Missing) > 0 || len(e.Extra) > 0 {
		return nil, &e
	}
	return idx, nil
}
