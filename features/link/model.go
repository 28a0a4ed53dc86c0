package link

import (
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
)

// Model is a fitted Fellegi–Sunter model: for each field and level, m (the
// probability of the level among matching pairs) and u (among non-matching
// pairs); Lambda is the prior share of matches among candidate pairs.
// Level 0 (null) carries no evidence and has no m or u.
type Model struct {
	Lambda     float64
	M, U       [NumFields][]float64
	Iterations int  // EM iterations run
	Converged  bool // EM stopped on the tolerance, not the iteration cap
	bf         [NumFields][16]float64
	prior      float64
}

// Weight returns the log2 Bayes factor of a field's level (0 for null).
func (m *Model) Weight(field, level int) float64 { return m.bf[field][level] }

// PriorWeight is log2(λ/(1−λ)), the weight every pair starts from.
func (m *Model) PriorWeight() float64 { return m.prior }

func (m *Model) finish() {
	for f := 0; f < NumFields; f++ {
		for l := 1; l < len(m.M[f]); l++ {
			m.bf[f][l] = math.Log2(m.M[f][l] / m.U[f][l])
		}
	}
	m.prior = math.Log2(m.Lambda / (1 - m.Lambda))
}

// evidence is the summed Bayes factors of a pattern (without the prior).
func (m *Model) evidence(p Pattern) float64 {
	var w float64
	for f := 0; f < NumFields; f++ {
		w += m.bf[f][p.Level(f)]
	}
	return w
}

// weight returns the match weight of a pattern: prior plus evidence.
func (m *Model) weight(p Pattern) float64 { return m.prior + m.evidence(p) }

// Prob turns a match weight into a match probability.
func Prob(weight float64) float64 { return 1 / (1 + math.Exp2(-weight)) }

// defaultM seeds m before EM.
var defaultM = [NumFields][]float64{
	FieldGiven:   {0, 0.84, 0.01, 0.04, 0.04, 0.02, 0.01, 0.04},
	FieldFamily:  {0, 0.88, 0.01, 0.05, 0.02, 0.04},
	FieldDOB:     {0, 0.9, 0.03, 0.03, 0.02, 0.02},
	FieldAddress: {0, 0.5, 0.15, 0.1, 0.05, 0.02, 0.03, 0.15},
	FieldNI:      {0, 0.95, 0.03, 0.02},
	FieldSex:     {0, 0.98, 0.02},
}

// patternCount is a distinct comparison pattern and how many record pairs
// have it.
type patternCount struct {
	p Pattern
	n float64
}

// sampleU estimates u from random record pairs: the share of each level
// among pairs of records drawn uniformly (nearly all non-matches).
func (l *linker) sampleU() [NumFields][]float64 {
	var counts [NumFields][16]float64
	nr := len(l.recs)
	const chunks = 8
	per := l.cfg.Model.USamples / chunks
	res := make([][NumFields][16]float64, chunks)
	l.parallel(chunks, func(c int) {
		rng := rand.New(rand.NewPCG(l.cfg.Model.Seed, uint64(c)+1))
		for i := 0; i < per; i++ {
			a, b := rng.IntN(nr), rng.IntN(nr)
			if a == b {
				continue
			}
			p := compareNodes(&l.nodes[l.nodeOf[a]], &l.nodes[l.nodeOf[b]], &l.th)
			for f := 0; f < NumFields; f++ {
				res[c][f][p.Level(f)]++
			}
		}
	})
	for c := range res {
		for f := range counts {
			for lv := range counts[f] {
				counts[f][lv] += res[c][f][lv]
			}
		}
	}
	var u [NumFields][]float64
	for f := 0; f < NumFields; f++ {
		nl := len(LevelNames[f])
		u[f] = make([]float64, nl)
		var tot float64
		for lv := 1; lv < nl; lv++ {
			tot += counts[f][lv]
		}
		for lv := 1; lv < nl; lv++ {
			// Half a pair's pseudo-count keeps a level never seen at random
			// (a day-month swap, say) finite.
			u[f][lv] = (counts[f][lv] + 0.5) / (tot + 0.5*float64(nl-1))
		}
	}
	return u
}

// em estimates m and λ by expectation–maximisation over the candidate
// pairs' patterns, all fields in the likelihood (u held unless estU).
func em(pats []patternCount, m0, u [NumFields][]float64, lambda0 float64, fixLambda, estU bool, maxIter int, tol float64) Model {
	return emFit(pats, m0, u, lambda0, emOpts{active: allFields(), fixLambda: fixLambda, estU: estU, maxIter: maxIter, tol: tol})
}

// WriteModel writes the model as JSON: λ, the prior weight and, per field
// and level, m, u and the level's weight (log2 m/u).
func (r *Result) WriteModel(w io.Writer) error {
	type level struct {
		Level  string  `json:"level"`
		M      float64 `json:"m"`
		U      float64 `json:"u"`
		Weight float64 `json:"weight"`
	}
	type field struct {
		Field  string  `json:"field"`
		Levels []level `json:"levels"`
	}
	out := struct {
		Lambda      float64 `json:"lambda"`
		PriorWeight float64 `json:"prior_weight"`
		Iterations  int     `json:"em_iterations"`
		Converged   bool    `json:"em_converged"`
		Fields      []field `json:"fields"`
	}{Lambda: r.Model.Lambda, PriorWeight: r.Model.prior, Iterations: r.Model.Iterations, Converged: r.Model.Converged}
	for f := 0; f < NumFields; f++ {
		fl := field{Field: FieldNames[f]}
		for lv := 1; lv < len(LevelNames[f]); lv++ {
			fl.Levels = append(fl.Levels, level{LevelNames[f][lv], r.Model.M[f][lv], r.Model.U[f][lv], r.Model.bf[f][lv]})
		}
		out.Fields = append(out.Fields, fl)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// fieldWeight is field f's weight at level lv for a pair one of whose
// nodes is a: the model's weight, term-frequency adjusted on an exact name.
func (r *Result) fieldWeight(f, lv int, a uint32) float64 {
	w := r.Model.bf[f][lv]
	if lv == lvExact && r.tf[f] != nil {
		w += float64(r.tf[f][a])
	}
	return w
}

// pairEvidence is the summed field weights of a pair of nodes (one of them
// a) with pattern pat, without the prior.
func (r *Result) pairEvidence(a uint32, pat Pattern) float64 {
	var w float64
	for f := 0; f < NumFields; f++ {
		w += r.fieldWeight(f, pat.Level(f), a)
	}
	return w
}

// pairWeight is a candidate pair's match weight.
func (r *Result) pairWeight(c cand) float64 { return r.Model.prior + r.pairEvidence(c.a, c.pat) }
