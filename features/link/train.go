package link

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Estimation in the manner of Splink: u is fixed from random record pairs;
// m is estimated by expectation–maximisation in training sessions, each
// over the pairs that share one training key (say the date of birth), with
// the fields of that key left out of the likelihood, since within the
// session they agree by construction and say nothing of m. A field's m is
// the mean of its estimates in the sessions that did not block on it.
// The share of matches among the candidate pairs (λ) is then estimated with
// m and u held, and term-frequency adjustments make an exact match on a
// common name count for less than one on a rare name.

// SessionStats describes one training session.
type SessionStats struct {
	Rule        string   `json:"rule"`
	Pairs       int64    `json:"pairs"`        // distinct-record pairs compared
	RecordPairs float64  `json:"record_pairs"` // record pairs they stand for
	Lambda      float64  `json:"lambda"`       // match share within the session
	Iterations  int      `json:"em_iterations"`
	Estimated   []string `json:"fields_estimated"`
}

// keyFields gives the compared fields a blocking key fixes.
var keyFields = map[string][]int{
	"ni": {FieldNI}, "uprn": {FieldAddress}, "postcode": {FieldAddress}, "sector": {FieldAddress}, "address": {FieldAddress},
	"dob": {FieldDOB}, "birth_year": {FieldDOB}, "dob_month_day": {FieldDOB},
	"given": {FieldGiven}, "given_initial": {FieldGiven}, "given_soundex": {FieldGiven},
	"family": {FieldFamily}, "family_soundex": {FieldFamily}, "names_soundex": {FieldGiven, FieldFamily},
}

// emOpts sets one EM fit.
type emOpts struct {
	active    [NumFields]bool // fields in the likelihood
	fixM      bool            // m held (estimate λ only)
	fixLambda bool
	estU      bool
	maxIter   int
	tol       float64
}

func allFields() (a [NumFields]bool) {
	for f := range a {
		a[f] = true
	}
	return a
}

// emFit runs expectation–maximisation over pattern counts.
func emFit(pats []patternCount, m0, u [NumFields][]float64, lambda0 float64, o emOpts) Model {
	var mod Model
	for f := 0; f < NumFields; f++ {
		mod.M[f] = slices.Clone(m0[f])
		mod.U[f] = slices.Clone(u[f])
	}
	mod.Lambda = lambda0
	post := make([]float64, len(pats))
	for it := 0; it < o.maxIter; it++ {
		mod.finish()
		for i, pc := range pats {
			w := mod.prior
			for f := 0; f < NumFields; f++ {
				if o.active[f] {
					w += mod.bf[f][pc.p.Level(f)]
				}
			}
			post[i] = Prob(w)
		}
		var num, unum [NumFields][16]float64
		var tot, matched float64
		for i, pc := range pats {
			w := pc.n * post[i]
			matched += w
			tot += pc.n
			for f := 0; f < NumFields; f++ {
				num[f][pc.p.Level(f)] += w
				unum[f][pc.p.Level(f)] += pc.n - w
			}
		}
		if o.estU {
			for f := 0; f < NumFields; f++ {
				nl := len(LevelNames[f])
				var den float64
				for lv := 1; lv < nl; lv++ {
					den += unum[f][lv] + 0.5
				}
				for lv := 1; lv < nl; lv++ {
					mod.U[f][lv] = (unum[f][lv] + 0.5) / den
				}
			}
		}
		delta := 0.0
		if !o.fixM {
			for f := 0; f < NumFields; f++ {
				if !o.active[f] {
					continue
				}
				nl := len(LevelNames[f])
				var den float64
				for lv := 1; lv < nl; lv++ {
					den += num[f][lv] + 0.5
				}
				for lv := 1; lv < nl; lv++ {
					v := (num[f][lv] + 0.5) / den
					delta = max(delta, math.Abs(v-mod.M[f][lv]))
					mod.M[f][lv] = v
				}
			}
		}
		if !o.fixLambda && tot > 0 {
			v := min(max(matched/tot, 1e-9), 1-1e-9)
			delta = max(delta, math.Abs(v-mod.Lambda))
			mod.Lambda = v
		}
		mod.Iterations = it + 1
		if delta < o.tol {
			mod.Converged = true
			break
		}
	}
	mod.finish()
	return mod
}

// sessionPatterns compares the node pairs that share rule's key (blocks
// larger than maxBlock skipped), in key order until maxPairs pairs, and
// returns their pattern counts weighted by the record pairs each stands
// for. The result does not depend on the number of workers.
func (l *linker) sessionPatterns(ctx context.Context, rule []string, maxBlock int, maxPairs int64) ([]patternCount, int64, error) {
	type ent struct {
		key  uint64
		node uint32
	}
	ents := make([]ent, 0, len(l.nodes))
	for i := range l.nodes {
		if k := blockKey(&l.nodes[i], rule); k != 0 {
			ents = append(ents, ent{k, uint32(i)})
		}
	}
	slices.SortFunc(ents, func(x, y ent) int {
		if c := cmp.Compare(x.key, y.key); c != 0 {
			return c
		}
		return cmp.Compare(x.node, y.node)
	})
	var blocks []block
	var pairs int64
	for i := 0; i < len(ents) && pairs < maxPairs; {
		j := i + 1
		for j < len(ents) && ents[j].key == ents[i].key {
			j++
		}
		if s := int64(j - i); s > 1 && s <= int64(maxBlock) {
			blocks = append(blocks, block{int32(i), int32(j)})
			pairs += s * (s - 1) / 2
		}
		i = j
	}
	const per = 256
	nch := (len(blocks) + per - 1) / per
	hists := make([]denseHist, l.workers())
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Bool
	for w := 0; w < l.workers(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := newDenseHist()
			hists[w] = h
			for {
				c := int(next.Add(1) - 1)
				if c >= nch || failed.Load() {
					return
				}
				if c%64 == 0 && ctx.Err() != nil {
					failed.Store(true)
					return
				}
				for _, b := range blocks[c*per : min((c+1)*per, len(blocks))] {
					for x := b.lo; x < b.hi; x++ {
						a := ents[x].node
						na, wa := &l.nodes[a], float64(len(l.nrecs[a]))
						for y := x + 1; y < b.hi; y++ {
							bb := ents[y].node
							h.add(compareNodes(na, &l.nodes[bb], &l.th), wa*float64(len(l.nrecs[bb])))
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	all := newDenseHist()
	for _, h := range hists {
		for i, n := range h {
			all[i] += n // sums of integers: exact, so order-free
		}
	}
	return all.patterns(), pairs, nil
}

// patternSpace is the number of distinct patterns: the product of the
// fields' level counts.
var patternSpace = func() int {
	n := 1
	for f := 0; f < NumFields; f++ {
		n *= len(LevelNames[f])
	}
	return n
}()

// denseIndex numbers a pattern in [0, patternSpace) (mixed radix).
func denseIndex(p Pattern) int {
	i := 0
	for f := NumFields - 1; f >= 0; f-- {
		i = i*len(LevelNames[f]) + p.Level(f)
	}
	return i
}

// denseHist counts patterns in a flat array (no map in the hot loop).
type denseHist []float64

func newDenseHist() denseHist { return make(denseHist, patternSpace) }

func (h denseHist) add(p Pattern, n float64) { h[denseIndex(p)] += n }

// patterns returns the non-zero counts in pattern order.
func (h denseHist) patterns() []patternCount {
	var out []patternCount
	for i, n := range h {
		if n == 0 {
			continue
		}
		var p Pattern
		for f := 0; f < NumFields; f++ {
			nl := len(LevelNames[f])
			p = p.with(f, i%nl)
			i /= nl
		}
		out = append(out, patternCount{p, n})
	}
	slices.SortFunc(out, func(a, b patternCount) int { return cmp.Compare(a.p, b.p) })
	return out
}

func sortedPatterns(h map[Pattern]float64) []patternCount {
	pats := make([]patternCount, 0, len(h))
	for p, n := range h {
		pats = append(pats, patternCount{p, n})
	}
	slices.SortFunc(pats, func(a, b patternCount) int { return cmp.Compare(a.p, b.p) })
	return pats
}

// trainSessions estimates m by EM in one training session per rule of
// cfg.Model.Training, starting from m0, with u held.
func (l *linker) trainSessions(ctx context.Context, m0, u [NumFields][]float64) ([NumFields][]float64, []SessionStats, error) {
	cfg := l.cfg.Model
	var sum [NumFields][]float64
	var n [NumFields]int
	var stats []SessionStats
	for _, rule := range cfg.Training {
		pats, pairs, err := l.sessionPatterns(ctx, rule, l.cfg.Blocking.MaxBlock, cfg.TrainingPairs)
		if err != nil {
			return m0, nil, err
		}
		o := emOpts{active: allFields(), maxIter: cfg.MaxIterations, tol: cfg.Tolerance}
		for _, k := range rule {
			for _, f := range keyFields[k] {
				o.active[f] = false
			}
		}
		mod := emFit(pats, m0, u, 0.1, o)
		st := SessionStats{Rule: strings.Join(rule, "+"), Pairs: pairs, Lambda: mod.Lambda, Iterations: mod.Iterations}
		for _, pc := range pats {
			st.RecordPairs += pc.n
		}
		for f := 0; f < NumFields; f++ {
			if !o.active[f] || len(pats) == 0 {
				continue
			}
			st.Estimated = append(st.Estimated, FieldNames[f])
			if sum[f] == nil {
				sum[f] = make([]float64, len(mod.M[f]))
			}
			for lv := range mod.M[f] {
				sum[f][lv] += mod.M[f][lv]
			}
			n[f]++
		}
		stats = append(stats, st)
	}
	m := m0
	for f := 0; f < NumFields; f++ {
		if n[f] == 0 {
			continue
		}
		m[f] = make([]float64, len(sum[f]))
		for lv := range sum[f] {
			m[f][lv] = sum[f][lv] / float64(n[f])
		}
	}
	return m, stats, nil
}

// tfFields are the fields whose exact level may be adjusted for term
// frequency.
var tfFields = []int{FieldGiven, FieldFamily}

// termFrequencies returns, per tf field, each node's adjustment of an exact
// match's weight: log2(u_exact / tf), tf being the share of records holding
// the node's value (at least minU), so that the exact level's u becomes the
// value's own frequency (Splink's term-frequency adjustment).
func (l *linker) termFrequencies(u [NumFields][]float64, fields []string, minU float64) [NumFields][]float32 {
	var adj [NumFields][]float32
	for _, f := range tfFields {
		if !slices.Contains(fields, FieldNames[f]) {
			continue
		}
		val := func(n *node) string {
			if f == FieldGiven {
				return n.given
			}
			return n.family
		}
		count := make(map[string]int)
		total := 0
		for i := range l.nodes {
			if v := val(&l.nodes[i]); v != "" {
				count[v] += len(l.nrecs[i])
				total += len(l.nrecs[i])
			}
		}
		adj[f] = make([]float32, len(l.nodes))
		if total == 0 {
			continue
		}
		for i := range l.nodes {
			if v := val(&l.nodes[i]); v != "" {
				tf := max(float64(count[v])/float64(total), minU)
				adj[f][i] = float32(math.Log2(u[f][lvExact] / tf))
			}
		}
	}
	return adj
}
