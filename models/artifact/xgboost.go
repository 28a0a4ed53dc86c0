package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"caserisk/models/dataset"
	"caserisk/models/explain"
	"caserisk/models/tree"
)

// maxXGBFeatures bounds num_feature, so that a corrupt file cannot make the
// importer allocate names for billions of features.
const maxXGBFeatures = 1 << 20

// XGBoostModel is a binary classifier read from XGBoost's JSON model format
// (Booster.save_model("m.json"), XGBoost 1.x and 2.x).
type XGBoostModel struct {
	// Ensemble is the trees with the base margin; its margin equals
	// XGBoost's predict(output_margin=True) up to XGBoost's float32
	// arithmetic, for rows whose values are float32 numbers.
	Ensemble *tree.Ensemble
	// FeatureNames are the model's feature names, or XGBoost's defaults
	// f0, f1, ... when the model was trained without names.
	FeatureNames []string
	// Objective is XGBoost's objective, e.g. "binary:logistic".
	Objective string
	// Version is the XGBoost version that wrote the model.
	Version [3]int
}

// xgbModel mirrors the parts of XGBoost's JSON model that caserisk reads.
type xgbModel struct {
	Version []int `json:"version"`
	Learner struct {
		FeatureNames     []string `json:"feature_names"`
		FeatureTypes     []string `json:"feature_types"`
		LearnerModelPram struct {
			BaseScore  string `json:"base_score"`
			NumClass   string `json:"num_class"`
			NumFeature string `json:"num_feature"`
			NumTarget  string `json:"num_target"`
		} `json:"learner_model_param"`
		Objective struct {
			Name string `json:"name"`
		} `json:"objective"`
		GradientBooster struct {
			Name  string `json:"name"`
			Model struct {
				TreeInfo []int     `json:"tree_info"`
				Trees    []xgbTree `json:"trees"`
			} `json:"model"`
		} `json:"gradient_booster"`
	} `json:"learner"`
}

type xgbTree struct {
	LeftChildren    []int       `json:"left_children"`
	RightChildren   []int       `json:"right_children"`
	SplitIndices    []int       `json:"split_indices"`
	SplitConditions []xgbFloat  `json:"split_conditions"`
	DefaultLeft     []flexBool  `json:"default_left"`
	SumHessian      []xgbFloat  `json:"sum_hessian"`
	LossChanges     []xgbFloat  `json:"loss_changes"`
	SplitType       []int       `json:"split_type"`
	Categories      []int       `json:"categories"`
	CategoriesNodes []int       `json:"categories_nodes"`
	TreeParam       xgbTreeParm `json:"tree_param"`
}

// xgbFloat is a number of XGBoost's JSON, or one of the non-finite values
// XGBoost writes bare, as quoted by quoteNonFinite ("NaN", "-Infinity").
type xgbFloat float64

func (f *xgbFloat) UnmarshalJSON(p []byte) error {
	var v float64
	if len(p) > 0 && p[0] == '"' {
		s, err := strconv.Unquote(string(p))
		if err != nil {
			return err
		}
		if v, err = strconv.ParseFloat(s, 64); err != nil {
			return err
		}
	} else if err := json.Unmarshal(p, &v); err != nil {
		return err
	}
	*f = xgbFloat(v)
	return nil
}

type xgbTreeParm struct {
	NumNodes string `json:"num_nodes"`
}

// flexBool reads default_left entries, which XGBoost writes as 0/1 numbers
// (and some versions as true/false).
type flexBool bool

func (b *flexBool) UnmarshalJSON(p []byte) error {
	switch string(p) {
	case "1", "true":
		*b = true
	case "0", "false":
		*b = false
	default:
		return fmt.Errorf("default_left value %s is not 0, 1, true or false", p)
	}
	return nil
}

// ReadXGBoostJSON converts an XGBoost JSON model to a tree ensemble. name
// is used in error messages (a file name); errors in the JSON give its line
// and column, errors in the model the tree, field and node.
//
// Only binary classifiers with numerical splits are accepted: objectives
// binary:logistic and reg:logistic (base_score is a probability, so the base
// margin is its logit) and binary:logitraw (base_score is a margin), booster
// gbtree. Leaf values are rounded to float32 as XGBoost holds them, and
// thresholds are placed so that a float64 value goes where XGBoost sends
// its float32 rounding (see float32Threshold).
func ReadXGBoostJSON(data []byte, name string) (*XGBoostModel, error) {
	var m xgbModel
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
		// XGBoost writes NaN and infinities bare, which is not JSON: the
		// split conditions of categorical splits are NaN. Read them
		// quoted so that the model can be checked, and refused for what
		// it is rather than for its syntax.
		fixed, changed := quoteNonFinite(data)
		m = xgbModel{}
		if !changed || json.NewDecoder(bytes.NewReader(fixed)).Decode(&m) != nil {
			return nil, jsonError(data, name, err)
		}
	}
	l := &m.Learner
	out := &XGBoostModel{Objective: l.Objective.Name}
	if len(m.Version) == 3 {
		out.Version = [3]int{m.Version[0], m.Version[1], m.Version[2]}
	}
	// XGBoost 3.1 and later write the intercept as a vector, "[5E-1]".
	base, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(l.LearnerModelPram.BaseScore, "["), "]"), 64)
	if err != nil {
		return nil, fmt.Errorf("%s: learner.learner_model_param.base_score %q is not a number", name, l.LearnerModelPram.BaseScore)
	}
	base = float64(float32(base))
	switch l.Objective.Name {
	case "binary:logistic", "reg:logistic":
		if !(base > 0 && base < 1) {
			return nil, fmt.Errorf("%s: learner.learner_model_param.base_score %g is not a probability strictly between 0 and 1", name, base)
		}
		base = math.Log(base / (1 - base))
	case "binary:logitraw":
	case "":
		return nil, fmt.Errorf("%s: learner.objective.name is missing; is this an XGBoost JSON model?", name)
	default:
		return nil, fmt.Errorf("%s: learner.objective.name is %q; caserisk imports binary classifiers (binary:logistic, binary:logitraw, reg:logistic)", name, l.Objective.Name)
	}
	if g := l.GradientBooster.Name; g != "gbtree" {
		return nil, fmt.Errorf("%s: learner.gradient_booster.name is %q; only gbtree models can be imported", name, g)
	}
	for field, v := range map[string]string{"num_class": l.LearnerModelPram.NumClass, "num_target": l.LearnerModelPram.NumTarget} {
		if v != "" && v != "0" && v != "1" {
			return nil, fmt.Errorf("%s: learner.learner_model_param.%s is %s; only single-output binary models can be imported", name, field, v)
		}
	}
	nfeat, err := strconv.Atoi(l.LearnerModelPram.NumFeature)
	if err != nil || nfeat <= 0 || nfeat > maxXGBFeatures {
		return nil, fmt.Errorf("%s: learner.learner_model_param.num_feature %q is not a whole number from 1 to %d", name, l.LearnerModelPram.NumFeature, maxXGBFeatures)
	}
	switch {
	case len(l.FeatureNames) == 0:
		for i := 0; i < nfeat; i++ {
			out.FeatureNames = append(out.FeatureNames, "f"+strconv.Itoa(i))
		}
	case len(l.FeatureNames) != nfeat:
		return nil, fmt.Errorf("%s: learner.feature_names has %d names but num_feature is %d", name, len(l.FeatureNames), nfeat)
	default:
		seen := make(map[string]int, nfeat)
		for i, n := range l.FeatureNames {
			if n == "" {
				return nil, fmt.Errorf("%s: learner.feature_names[%d] is empty", name, i)
			}
			if j, dup := seen[n]; dup {
				return nil, fmt.Errorf("%s: learner.feature_names[%d] %q repeats feature_names[%d]", name, i, n, j)
			}
			seen[n] = i
		}
		out.FeatureNames = append([]string(nil), l.FeatureNames...)
	}
	model := &l.GradientBooster.Model
	if len(model.Trees) == 0 {
		return nil, fmt.Errorf("%s: learner.gradient_booster.model.trees is empty", name)
	}
	for i, g := range model.TreeInfo {
		if g != 0 {
			return nil, fmt.Errorf("%s: learner.gradient_booster.model.tree_info[%d] is %d; only single-output models can be imported", name, i, g)
		}
	}
	if err := refuseCategorical(model.Trees, out.FeatureNames, l.FeatureTypes); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	e := &tree.Ensemble{Base: base, NumFeatures: nfeat, Trees: make([]tree.Tree, len(model.Trees))}
	for i := range model.Trees {
		t, err := convertXGBTree(&model.Trees[i], nfeat)
		if err != nil {
			return nil, fmt.Errorf("%s: learner.gradient_booster.model.trees[%d]: %w", name, i, err)
		}
		e.Trees[i] = t
	}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out.Ensemble = e
	return out, nil
}

// convertXGBTree checks one XGBoost tree and renumbers its reachable nodes
// breadth-first from the root (XGBoost may keep pruned nodes in the arrays).
func convertXGBTree(x *xgbTree, nfeat int) (tree.Tree, error) {
	n := len(x.LeftChildren)
	if n == 0 {
		return tree.Tree{}, fmt.Errorf("left_children is empty")
	}
	if x.TreeParam.NumNodes != "" {
		if want, err := strconv.Atoi(x.TreeParam.NumNodes); err != nil || want != n {
			return tree.Tree{}, fmt.Errorf("tree_param.num_nodes is %q but left_children has %d entries", x.TreeParam.NumNodes, n)
		}
	}
	for field, l := range map[string]int{"right_children": len(x.RightChildren), "split_indices": len(x.SplitIndices),
		"split_conditions": len(x.SplitConditions), "default_left": len(x.DefaultLeft), "sum_hessian": len(x.SumHessian)} {
		if l != n {
			return tree.Tree{}, fmt.Errorf("%s has %d entries, left_children %d", field, l, n)
		}
	}
	if len(x.LossChanges) != 0 && len(x.LossChanges) != n {
		return tree.Tree{}, fmt.Errorf("loss_changes has %d entries, left_children %d", len(x.LossChanges), n)
	}
	if len(x.SplitType) != 0 && len(x.SplitType) != n {
		return tree.Tree{}, fmt.Errorf("split_type has %d entries, left_children %d", len(x.SplitType), n)
	}
	var t tree.Tree
	newID := make([]int32, n)
	for i := range newID {
		newID[i] = -1
	}
	order := []int{0}
	newID[0] = 0
	for k := 0; k < len(order); k++ {
		i := order[k]
		l, r := x.LeftChildren[i], x.RightChildren[i]
		if l == -1 && r == -1 {
			continue
		}
		for _, c := range [2]struct {
			field string
			v     int
		}{{"left_children", l}, {"right_children", r}} {
			if c.v < 0 || c.v >= n {
				return tree.Tree{}, fmt.Errorf("%s[%d] is %d, outside the tree's %d nodes", c.field, i, c.v, n)
			}
			if newID[c.v] >= 0 {
				return tree.Tree{}, fmt.Errorf("%s[%d]: node %d is reached twice", c.field, i, c.v)
			}
			newID[c.v] = int32(len(order))
			order = append(order, c.v)
		}
	}
	for _, i := range order {
		leaf := x.LeftChildren[i] == -1
		cover := float64(x.SumHessian[i])
		if math.IsNaN(cover) || cover < 0 {
			return tree.Tree{}, fmt.Errorf("sum_hessian[%d] is %g; covers must be non-negative", i, cover)
		}
		t.Cover = append(t.Cover, cover)
		v := float64(float32(x.SplitConditions[i]))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return tree.Tree{}, fmt.Errorf("split_conditions[%d] is %g", i, x.SplitConditions[i])
		}
		if leaf {
			t.Left = append(t.Left, -1)
			t.Right = append(t.Right, -1)
			t.Feature = append(t.Feature, -1)
			t.Threshold = append(t.Threshold, 0)
			t.DefaultLeft = append(t.DefaultLeft, false)
			t.Value = append(t.Value, v)
			t.Gain = append(t.Gain, 0)
			continue
		}
		if len(x.SplitType) > 0 && x.SplitType[i] != 0 {
			return tree.Tree{}, fmt.Errorf("split_type[%d] is %d: categorical splits cannot be imported", i, x.SplitType[i])
		}
		f := x.SplitIndices[i]
		if f < 0 || f >= nfeat {
			return tree.Tree{}, fmt.Errorf("split_indices[%d] is %d, outside the model's %d features", i, f, nfeat)
		}
		gain := 0.0
		if len(x.LossChanges) > 0 {
			gain = float64(x.LossChanges[i])
		}
		t.Left = append(t.Left, newID[x.LeftChildren[i]])
		t.Right = append(t.Right, newID[x.RightChildren[i]])
		t.Feature = append(t.Feature, int32(f))
		t.Threshold = append(t.Threshold, float32Threshold(float32(v)))
		t.DefaultLeft = append(t.DefaultLeft, bool(x.DefaultLeft[i]))
		t.Value = append(t.Value, 0)
		t.Gain = append(t.Gain, gain)
	}
	return t, nil
}

// refuseCategorical returns an error that says so when a tree splits by
// category (XGBoost's enable_categorical=True, split_type 1): caserisk's
// trees, its compiled scorer and TreeSHAP split numbers against a
// threshold only, and a category set cannot be written as one threshold.
func refuseCategorical(trees []xgbTree, names, types []string) error {
	splits, first := 0, ""
	var feats []string
	for k := range trees {
		x := &trees[k]
		for i, st := range x.SplitType {
			if st == 0 || i >= len(x.LeftChildren) || x.LeftChildren[i] == -1 {
				continue
			}
			splits++
			f := "?"
			if i < len(x.SplitIndices) && x.SplitIndices[i] >= 0 && x.SplitIndices[i] < len(names) {
				f = names[x.SplitIndices[i]]
			}
			if first == "" {
				first = fmt.Sprintf("trees[%d] node %d splits %q by category", k, i, f)
			}
			if !slices.Contains(feats, f) {
				feats = append(feats, f)
			}
		}
	}
	if splits == 0 {
		return nil
	}
	var declared []string
	for j, t := range types {
		if t == "c" && j < len(names) {
			declared = append(declared, names[j])
		}
	}
	msg := fmt.Sprintf("categorical splits are not supported: the model was trained with enable_categorical=True and has %d split(s) by category on %s (%s)",
		splits, strings.Join(quoteAll(feats), ", "), first)
	if len(declared) > 0 {
		msg += fmt.Sprintf("; feature_types marks %s categorical", strings.Join(quoteAll(declared), ", "))
	}
	return errors.New(msg + ". caserisk imports numerical splits only: retrain with enable_categorical=False and the categories one-hot encoded (one 0/1 column each) or as numbers")
}

func quoteAll(s []string) []string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return q
}

// quoteNonFinite quotes the bare NaN, Infinity and -Infinity that XGBoost
// writes for non-finite numbers (not JSON), outside strings, for xgbFloat
// to read. It reports whether it quoted any.
func quoteNonFinite(data []byte) ([]byte, bool) {
	var out []byte
	inString, escaped, last := false, false, 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			continue
		}
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out = append(append(append(append(out, data[last:i]...), '"'), tok...), '"')
				i += len(tok) - 1
				last = i + 1
				break
			}
		}
	}
	if out == nil {
		return data, false
	}
	return append(out, data[last:]...), true
}

// float32Threshold returns the float64 threshold b such that x < b exactly
// when float32(x) < t: XGBoost rounds each value to float32 before
// comparing it with its float32 threshold, so an imported tree must send a
// float64 value the way its float32 rounding would go. b is the midpoint
// between t and the float32 below it, or the next float64 above that
// midpoint when the midpoint itself rounds down (round half to even).
func float32Threshold(t float32) float64 {
	p := math.Nextafter32(t, float32(math.Inf(-1)))
	if math.IsInf(float64(p), 0) || math.IsInf(float64(t), 0) {
		return float64(t)
	}
	m := (float64(p) + float64(t)) / 2 // exact: float32s have 24-bit mantissas
	if float32(m) == t {
		return m
	}
	return math.Nextafter(m, math.Inf(1))
}

// jsonError adds the file name and the line and column of a JSON error.
func jsonError(data []byte, name string, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(data, syn.Offset)
		return fmt.Errorf("%s:%d:%d: invalid JSON: %w", name, line, col, err)
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset)
		return fmt.Errorf("%s:%d:%d: field %s: %s where %s was expected: %w", name, line, col, typ.Field, typ.Value, typ.Type, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: empty or truncated JSON: %w", name, err)
	}
	return fmt.Errorf("%s: reading XGBoost JSON: %w", name, err)
}

// lineCol converts a byte offset to a 1-based line and column.
func lineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// ImportOptions says how to turn an imported XGBoost model into a caserisk
// model file.
type ImportOptions struct {
	// Target is the label the model predicts; evaluate uses it as the
	// default label column.
	Target string
	// Source is the XGBoost file's base name, recorded in Training.Source.
	Source string
	// Meta describes the features (the feature builder's FILE.meta.json);
	// features it does not describe keep only their name. Optional.
	Meta *dataset.Meta
	// Created is the import time; Version is caserisk's.
	Created time.Time
	Version string
}

// Model wraps the imported ensemble as a gbdt caserisk model: features
// named as in XGBoost with their metadata, no calibrator (the probability is
// the sigmoid of the margin, as XGBoost's), total split gain as importance,
// and the XGBoost version and objective in Params. It has no training
// fingerprint or validation metrics: caserisk did not train it.
func (x *XGBoostModel) Model(o ImportOptions) (*Model, error) {
	if o.Target == "" {
		return nil, fmt.Errorf("import %s: no target label named", o.Source)
	}
	byName := map[string]dataset.FeatureMeta{}
	if o.Meta != nil {
		for _, f := range o.Meta.Features {
			byName[f.Name] = f
		}
	}
	m := &Model{
		Algorithm: GBDT,
		Target:    o.Target,
		Params: map[string]any{
			"imported_from":   "xgboost",
			"xgboost_version": fmt.Sprintf("%d.%d.%d", x.Version[0], x.Version[1], x.Version[2]),
			"objective":       x.Objective,
			"trees":           len(x.Ensemble.Trees),
		},
		Ensemble:        x.Ensemble,
		Created:         o.Created.UTC().Format(time.RFC3339),
		CaseriskVersion: o.Version,
		Training: Training{
			Source:  o.Source,
			HeldOut: "none: imported from XGBoost, not trained by caserisk; evaluate it on held-out rows before use",
		},
		Importance: map[string]float64{},
	}
	described := 0
	for _, n := range x.FeatureNames {
		f, ok := byName[n]
		if ok {
			described++
		} else {
			f = dataset.FeatureMeta{Name: n}
		}
		m.Features = append(m.Features, Feature{FeatureMeta: f})
	}
	if o.Meta != nil && described == 0 {
		return nil, fmt.Errorf("import %s: the feature metadata describes none of the model's %d features (model features are named like %q)",
			o.Source, len(x.FeatureNames), x.FeatureNames[0])
	}
	for j, g := range explain.TotalGain(x.Ensemble) {
		m.Importance[x.FeatureNames[j]] = g
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("import %s: %w", o.Source, err)
	}
	return m, nil
}
