package link

import (
	"cmp"
	"math"
	"slices"
)

// The clerical review queue. The record pairs near the threshold (match
// probability in [Review.Low, Review.High)) are grouped by what a decision
// on them would change: the pairs between the same two residents are one
// decision (accepting any of them joins the two), and the pairs within one
// resident are one decision (rejecting any of them splits it). Each
// decision is put to the reviewer once, through its most uncertain pair
// (the probability nearest one half), the most uncertain decisions first;
// the queue holds at most Review.Size of them, a data steward's week. The
// rest are left as the model decided them, and counted (ReviewSummary). A
// decision a reviewer already made (a pair of records between the two
// residents, given to Link as a Decision) is not asked again.

// ReviewSummary counts what the review queue holds and what it leaves to
// the model. No personal data: counts only.
type ReviewSummary struct {
	// Size is the most decisions the queue holds (Review.Size; 0: no limit).
	Size int `json:"size"`
	// Low and High bound the match probability of the pairs considered.
	Low  float64 `json:"low"`
	High float64 `json:"high"`
	// NearThreshold counts the record pairs with a probability in [Low, High).
	NearThreshold int `json:"near_threshold_pairs"`
	// Decisions counts what those pairs come down to: each pair of residents
	// a decision could join, and each resident it could split.
	Decisions int `json:"decisions"`
	// AlreadyReviewed counts the decisions a reviewer's earlier decision
	// settles (between two residents a reviewer kept apart); ReviewedPairs
	// the record pairs a reviewer decided or such decisions hold.
	AlreadyReviewed int `json:"already_reviewed"`
	ReviewedPairs   int `json:"reviewed_pairs"`
	// Queued counts the decisions in the queue, one pair each; QueuedPairs
	// the record pairs they settle.
	Queued      int `json:"queued"`
	QueuedPairs int `json:"queued_pairs"`
	// ByModel counts the decisions left as the model made them (past the
	// queue's size): ByModelLinked kept as one resident, ByModelApart as
	// two; ByModelPairs the record pairs they hold.
	ByModel       int `json:"decided_by_model"`
	ByModelLinked int `json:"decided_by_model_linked"`
	ByModelApart  int `json:"decided_by_model_apart"`
	ByModelPairs  int `json:"decided_by_model_pairs"`
}

// reviewItem is one decision near the threshold: the residents (clusters)
// it concerns, its most uncertain record pair, and its size.
type reviewItem struct {
	ca, cb   int32   // the clusters, ca <= cb (equal: a split of one resident)
	rep      pairRef // the pair put to the reviewer
	doubt    float64 // |p − ½| of rep: lower is more uncertain
	pairs    int     // record pairs near the threshold between ca and cb
	moved    int     // records the decision would move: the smaller cluster (a join) or the cluster (a split)
	reviewed bool    // a reviewer's decision already settles it
}

// reviewQueue builds the queue once per result: the queued pairs in
// order, the scored node pairs they refer to, and the summary.
func (r *Result) reviewQueue() ([]scored, []pairRef, ReviewSummary) {
	r.queueOnce.Do(func() { r.queueSS, r.queueRefs, r.Stats.Review = r.buildReviewQueue() })
	return r.queueSS, r.queueRefs, r.Stats.Review
}

func (r *Result) buildReviewQueue() ([]scored, []pairRef, ReviewSummary) {
	cfg := r.Config.Review
	sum := ReviewSummary{Size: cfg.Size, Low: cfg.Low, High: cfg.High}
	ss, refs := r.pairRefs(cfg.Low, cfg.High)
	sum.NearThreshold = len(refs)
	var size []int // records per cluster
	for _, c := range r.Cluster {
		for int(c) >= len(size) {
			size = append(size, 0)
		}
		size[c]++
	}
	key := func(a, b int32) [2]int32 {
		ca, cb := r.Cluster[a], r.Cluster[b]
		return [2]int32{min(ca, cb), max(ca, cb)}
	}
	decided := make(map[[2]int32]bool, len(r.reviewed))
	apart := make(map[[2]int32]bool)
	for _, p := range r.reviewed {
		decided[[2]int32{min(p[0], p[1]), max(p[0], p[1])}] = true
		if k := key(p[0], p[1]); k[0] != k[1] {
			apart[k] = true // two residents a reviewer kept apart
		}
	}
	at := make(map[[2]int32]int)
	var items []reviewItem
	for _, ref := range refs {
		if decided[[2]int32{ref.a, ref.b}] {
			sum.ReviewedPairs++ // this very pair was decided
			continue
		}
		k := key(ref.a, ref.b)
		doubt := math.Abs(Prob(ss[ref.s].w) - 0.5)
		i, ok := at[k]
		if !ok {
			moved := size[k[0]]
			if k[0] != k[1] {
				moved = min(size[k[0]], size[k[1]])
			}
			at[k] = len(items)
			items = append(items, reviewItem{ca: k[0], cb: k[1], rep: ref, doubt: doubt, moved: moved, reviewed: apart[k]})
			i = len(items) - 1
		} else if doubt < items[i].doubt {
			items[i].rep, items[i].doubt = ref, doubt
		}
		items[i].pairs++
	}
	slices.SortFunc(items, func(x, y reviewItem) int {
		return cmp.Or(cmp.Compare(x.doubt, y.doubt), cmp.Compare(y.moved, x.moved),
			cmp.Compare(x.ca, y.ca), cmp.Compare(x.cb, y.cb), cmp.Compare(x.rep.a, y.rep.a), cmp.Compare(x.rep.b, y.rep.b))
	})
	sum.Decisions = len(items)
	var queue []pairRef
	for _, it := range items {
		switch {
		case it.reviewed:
			sum.AlreadyReviewed++
			sum.ReviewedPairs += it.pairs
		case cfg.Size == 0 || len(queue) < cfg.Size:
			queue = append(queue, it.rep)
			sum.Queued++
			sum.QueuedPairs += it.pairs
		default:
			sum.ByModel++
			sum.ByModelPairs += it.pairs
			if it.ca == it.cb {
				sum.ByModelLinked++
			} else {
				sum.ByModelApart++
			}
		}
	}
	return ss, queue, sum
}
