package link

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"caserisk/features/link/assemble"
)

// linkWith links the test borough with the review queue's size and
// decisions given.
func linkWith(t *testing.T, size int, ds []Decision) *Result {
	t.Helper()
	recs, err := ReadRecords(context.Background(), filepath.Join("testdata", "borough", "raw"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Model.USamples = 100_000
	cfg.Review.Size = size
	res, err := Link(context.Background(), recs, cfg, ds)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkQueue checks a queue against its summary: one pair per decision,
// the most uncertain first, at most Size, and counts that add up.
func checkQueue(t *testing.T, res *Result) ([]Pair, ReviewSummary) {
	t.Helper()
	q, s := res.ReviewPairs(), res.Review()
	if s != res.Stats.Review {
		t.Fatalf("the summary in the stats differs: %+v, %+v", res.Stats.Review, s)
	}
	if len(q) != s.Queued || s.Size > 0 && s.Queued > s.Size {
		t.Fatalf("%d pairs queued, summary %+v", len(q), s)
	}
	if s.Decisions != s.Queued+s.ByModel+s.AlreadyReviewed || s.ByModel != s.ByModelLinked+s.ByModelApart {
		t.Fatalf("decisions do not add up: %+v", s)
	}
	if s.NearThreshold != s.QueuedPairs+s.ByModelPairs+s.ReviewedPairs || s.Decisions > s.NearThreshold {
		t.Fatalf("pairs do not add up: %+v", s)
	}
	seen := map[[2]int32]bool{}
	prev := -1.0
	for i, p := range q {
		if p.Prob < s.Low || p.Prob >= s.High {
			t.Fatalf("pair %d: probability %v outside [%v, %v)", i, p.Prob, s.Low, s.High)
		}
		ca, cb := res.Cluster[p.A], res.Cluster[p.B]
		k := [2]int32{min(ca, cb), max(ca, cb)}
		if seen[k] {
			t.Fatalf("pair %d asks again about residents %v", i, k)
		}
		seen[k] = true
		if p.Linked != (ca == cb) {
			t.Fatalf("pair %d: linked %v but clusters %v", i, p.Linked, k)
		}
		d := math.Abs(p.Prob - 0.5)
		if d < prev-1e-9 {
			t.Fatalf("pair %d (|p-½| %v) comes after a more certain one (%v)", i, d, prev)
		}
		prev = d
	}
	return q, s
}

// TestReviewQueueSizing: the queue holds one pair per decision that would
// join two residents or split one, the most uncertain first, at most the
// configured size; the rest are counted as left to the model.
func TestReviewQueueSizing(t *testing.T) {
	all := linkWith(t, 0, nil)
	qAll, sAll := checkQueue(t, all)
	t.Logf("all: %+v", sAll)
	if sAll.ByModel != 0 || sAll.Queued != sAll.Decisions {
		t.Fatalf("no limit: %+v", sAll)
	}
	if sAll.Decisions < 6 || sAll.Decisions >= sAll.NearThreshold {
		t.Fatalf("the test borough has %d decisions in %d pairs near the threshold: too few, or none shared", sAll.Decisions, sAll.NearThreshold)
	}
	const size = 5
	some := linkWith(t, size, nil)
	q, s := checkQueue(t, some)
	if s.Queued != size || s.ByModel != sAll.Decisions-size || s.NearThreshold != sAll.NearThreshold {
		t.Fatalf("size %d: %+v (without a limit %+v)", size, s, sAll)
	}
	// The sized queue is the first pairs of the whole one.
	for i := range q {
		if q[i] != qAll[i] {
			t.Fatalf("pair %d differs from the unlimited queue's", i)
		}
	}

	// Against the truth: the counts agree with the summary, and the sized
	// queue holds a larger share of the model's mistakes than the decisions
	// near the threshold as a whole (the most uncertain come first).
	truth, err := ReadTruth(filepath.Join("testdata", "borough", "oracle", "links.csv"))
	if err != nil {
		t.Fatal(err)
	}
	m := Evaluate(some, truth)
	t.Logf("review queue: %d of %d queued decisions wrong; %d of %d overall", m.ReviewQueuedWrong, m.ReviewQueued, m.ReviewDecisionsWrong, m.ReviewDecisions)
	if m.ReviewQueued != size || m.ReviewDecisions != s.Decisions || m.ReviewQueuedWrong > m.ReviewDecisionsWrong {
		t.Fatalf("queue evaluation %+v, summary %+v", m, s)
	}
	if mAll := Evaluate(all, truth); mAll.ReviewQueuedWrong != mAll.ReviewDecisionsWrong || mAll.ReviewDecisionsWrong != m.ReviewDecisionsWrong {
		t.Fatalf("the whole queue holds %d of %d wrong decisions", mAll.ReviewQueuedWrong, mAll.ReviewDecisionsWrong)
	}
	if float64(m.ReviewQueuedWrong)/float64(m.ReviewQueued) < float64(m.ReviewDecisionsWrong)/float64(m.ReviewDecisions) {
		t.Errorf("the queue's share of mistakes is below the decisions' share")
	}

	// A reviewer keeps apart the first two residents the queue asks to join:
	// the next run neither joins them nor asks about them again.
	var rej *Pair
	for i := range q {
		if !q[i].Linked {
			rej = &q[i]
			break
		}
	}
	if rej == nil {
		t.Skip("no join in the first pairs of the queue")
	}
	a, b := some.Records[rej.A], some.Records[rej.B]
	again := linkWith(t, size, []Decision{{A: a.Key(), B: b.Key()}})
	q2, s2 := checkQueue(t, again)
	if s2.ReviewedPairs == 0 {
		t.Fatalf("the decided pair is not counted: %+v", s2)
	}
	ca, cb := clusterOf(again, a.Key()), clusterOf(again, b.Key())
	if ca == cb {
		t.Fatal("a rejected pair ended in one resident")
	}
	for _, p := range q2 {
		x, y := again.Cluster[p.A], again.Cluster[p.B]
		if x == ca && y == cb || x == cb && y == ca {
			t.Fatal("the queue asks again about two residents a reviewer kept apart")
		}
	}
}

func clusterOf(r *Result, k assemble.Key) int32 {
	for i := range r.Records {
		if r.Records[i].Key() == k {
			return r.Cluster[i]
		}
	}
	return -1
}

func TestReviewSizeConfig(t *testing.T) {
	if _, err := ParseConfig([]byte("review:\n  size: -1\n"), "c.yaml"); err == nil {
		t.Fatal("a negative review size was accepted")
	}
	c, err := ParseConfig([]byte("review:\n  size: 40\n"), "c.yaml")
	if err != nil || c.Review.Size != 40 || c.Review.Low != DefaultConfig().Review.Low {
		t.Fatalf("review size: %+v, %v", c.Review, err)
	}
}
