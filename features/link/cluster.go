package link

import (
	"cmp"
	"context"
	"slices"

	"caserisk/features/contract"
)

// Reasons a merge is refused.
const (
	refuseWeight = "pair_weight_below_guard"
	refuseDOB    = "conflicting_dates_of_birth"
	refuseNI     = "different_ni_numbers"
	refuseReview = "rejected_in_review"
	refuseGiven  = "different_given_names"
)

// Marks on a node's neg entries (the top bits): why the pair must not share
// a cluster.
const (
	negWeight = 0
	negGiven  = 1 << 29
	negReview = 2 << 29
	negMask   = 3 << 29
)

// clusterer is a union-find over nodes that keeps, per cluster, its
// members (a circular list), its distinct dates of birth and NI numbers,
// so a merge can be checked against the guard.
type clusterer struct {
	parent []int32
	size   []int32
	next   []int32 // circular member list
	dobs   [][]contract.Day
	nis    [][]string
	neg    [][]uint32 // per node: nodes it must not share a cluster with, marked (neg*)
	guard  Guard
}

func (c *clusterer) find(x int32) int32 {
	for c.parent[x] != x {
		c.parent[x] = c.parent[c.parent[x]]
		x = c.parent[x]
	}
	return x
}

// refuse returns why clusters ra and rb must not merge, or "".
func (c *clusterer) refuse(ra, rb int32) string {
	if c.guard.DOB {
		for _, a := range c.dobs[ra] {
			for _, b := range c.dobs[rb] {
				if dobConflict(a, b) {
					return refuseDOB
				}
			}
		}
	}
	if c.guard.NI {
		for _, a := range c.nis[ra] {
			for _, b := range c.nis[rb] {
				if a != b && !oneEdit(a, b) {
					return refuseNI
				}
			}
		}
	}
	small, other := ra, rb
	if c.size[rb] < c.size[ra] {
		small, other = rb, ra
	}
	x := small
	for {
		for _, y := range c.neg[x] {
			if c.find(int32(y&^negMask)) == other {
				switch y & negMask {
				case negReview:
					return refuseReview
				case negGiven:
					return refuseGiven
				}
				return refuseWeight
			}
		}
		x = c.next[x]
		if x == small {
			break
		}
	}
	return ""
}

func (c *clusterer) union(ra, rb int32) {
	if c.size[ra] < c.size[rb] {
		ra, rb = rb, ra
	}
	c.parent[rb] = ra
	c.size[ra] += c.size[rb]
	c.next[ra], c.next[rb] = c.next[rb], c.next[ra]
	for _, d := range c.dobs[rb] {
		if !slices.Contains(c.dobs[ra], d) {
			c.dobs[ra] = append(c.dobs[ra], d)
		}
	}
	for _, n := range c.nis[rb] {
		if !slices.Contains(c.nis[ra], n) {
			c.nis[ra] = append(c.nis[ra], n)
		}
	}
	c.dobs[rb], c.nis[rb] = nil, nil
}

// dobConflict: two dates of birth that no day-month swap or one-digit slip
// explains.
func dobConflict(a, b contract.Day) bool {
	if a == b {
		return false
	}
	ay, am, ad := a.Civil()
	by, bm, bd := b.Civil()
	if ay == by && (am == bd && ad == bm || am == 1 && ad == 1 || bm == 1 && bd == 1) {
		return false // a day-month swap, or 1 January standing in for an unknown date
	}
	return digitDiff(ay, by, 4)+digitDiff(am, bm, 2)+digitDiff(ad, bd, 2) > 1
}

// cluster merges links strongest first under the guard and numbers the
// clusters.
func (r *Result) cluster(ctx context.Context, forced, cannot [][2]int32) error {
	cfg := r.Config
	n := len(r.nodes)
	c := &clusterer{parent: make([]int32, n), size: make([]int32, n), next: make([]int32, n),
		dobs: make([][]contract.Day, n), nis: make([][]string, n), neg: make([][]uint32, n), guard: cfg.Guard}
	for i := range r.nodes {
		c.parent[i], c.size[i], c.next[i] = int32(i), 1, int32(i)
		if d := r.nodes[i].dob; d != contract.NoDay {
			c.dobs[i] = []contract.Day{d}
		}
		if s := r.nodes[i].ni; s != "" {
			c.nis[i] = []string{s}
		}
	}
	// Links, and the pairs whose evidence is strongly against.
	type edge struct {
		w    float64
		a, b int32
	}
	var edges []edge
	r.Stats.RefusedBy = map[string]int{}
	for _, p := range r.pairs {
		ev := r.pairEvidence(p.a, p.pat)
		w := ev + r.Model.prior
		twin := cfg.Guard.Given && p.pat.Level(FieldGiven) == givenElse && p.pat.Level(FieldNI) != lvExact
		if Prob(w) >= cfg.Threshold && !twin {
			edges = append(edges, edge{w, int32(p.a), int32(p.b)})
		} else if twin && Prob(w) >= cfg.Threshold {
			r.Stats.Refused++
			r.Stats.RefusedBy[refuseGiven]++
			c.neg[p.a] = append(c.neg[p.a], p.b|negGiven)
			c.neg[p.b] = append(c.neg[p.b], p.a|negGiven)
		} else if ev < cfg.Guard.MinWeight {
			c.neg[p.a] = append(c.neg[p.a], p.b|negWeight)
			c.neg[p.b] = append(c.neg[p.b], p.a|negWeight)
		} else if cfg.Guard.Given && p.pat.Level(FieldGiven) == givenElse {
			c.neg[p.a] = append(c.neg[p.a], p.b|negGiven)
			c.neg[p.b] = append(c.neg[p.b], p.a|negGiven)
		}
	}
	for _, p := range cannot {
		c.neg[p[0]] = append(c.neg[p[0]], uint32(p[1])|negReview)
		c.neg[p[1]] = append(c.neg[p[1]], uint32(p[0])|negReview)
	}
	r.Stats.Links = len(edges)
	slices.SortFunc(edges, func(x, y edge) int {
		if x.w != y.w {
			return cmp.Compare(y.w, x.w)
		}
		if x.a != y.a {
			return cmp.Compare(x.a, y.a)
		}
		return cmp.Compare(x.b, y.b)
	})
	// Reviewed matches first: only a reviewer's rejection stops them.
	for _, p := range forced {
		ra, rb := c.find(p[0]), c.find(p[1])
		if ra == rb {
			continue
		}
		if why := c.refuse(ra, rb); why == refuseReview {
			r.Stats.Refused++
			r.Stats.RefusedBy[why]++
			r.Stats.ConflictingAccepts++
			continue
		}
		c.union(ra, rb)
	}
	for i, e := range edges {
		if i%(1<<18) == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ra, rb := c.find(e.a), c.find(e.b)
		if ra == rb {
			continue
		}
		if why := c.refuse(ra, rb); why != "" {
			r.Stats.Refused++
			r.Stats.RefusedBy[why]++
			continue
		}
		c.union(ra, rb)
	}
	// Number clusters by their smallest (source, record_id).
	first := make([]int32, n) // per root: its smallest record
	for i := range first {
		first[i] = -1
	}
	for ni := range r.nodes {
		root := c.find(int32(ni))
		for _, rec := range r.nodeRecs[ni] {
			if f := first[root]; f < 0 || keyLess(&r.Records[rec], &r.Records[f]) < 0 {
				first[root] = rec
			}
		}
	}
	var roots []int32
	for i, f := range first {
		if f >= 0 {
			roots = append(roots, int32(i))
		}
	}
	slices.SortFunc(roots, func(a, b int32) int { return keyLess(&r.Records[first[a]], &r.Records[first[b]]) })
	num := make([]int32, n)
	for i, root := range roots {
		num[root] = int32(i)
	}
	r.Cluster = make([]int32, len(r.Records))
	for i := range r.Records {
		r.Cluster[i] = num[c.find(r.nodeOf[i])]
	}
	r.Stats.Clusters = len(roots)
	return nil
}
