package link

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"caserisk/features/contract"
	"caserisk/features/link/assemble"
)

// ReadTruth reads an oracle links file (contract.RawLinksHeader: source,
// record_id, resident_id): the true resident of every raw record.
func ReadTruth(path string) (map[assemble.Key]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read truth: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s:1: empty file: no header row", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if want := contract.RawLinksHeader(); !slices.Equal(head, want) {
		return nil, fmt.Errorf("%s:1: header is %s, want %s", path, strings.Join(head, ","), strings.Join(want, ","))
	}
	out := make(map[assemble.Key]string)
	ids := make(map[string]string) // interned resident ids
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := cr.FieldPos(0)
		for i, col := range contract.RawLinksHeader() {
			if rec[i] == "" {
				return nil, fmt.Errorf("%s:%d: column %s: missing", path, line, col)
			}
		}
		k := assemble.Key{Source: strings.Clone(rec[0]), RecordID: strings.Clone(rec[1])}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s:%d: column record_id: record repeats", path, line)
		}
		id, ok := ids[rec[2]]
		if !ok {
			id = strings.Clone(rec[2])
			ids[id] = id
		}
		out[k] = id
	}
}

// Metrics compare a linkage with the truth.
type Metrics struct {
	Records   int `json:"records"`
	Unmatched int `json:"records_not_in_truth"` // left out of every count below

	TruePairs      int64   `json:"true_pairs"`
	PredictedPairs int64   `json:"predicted_pairs"`
	CorrectPairs   int64   `json:"correct_pairs"`
	Precision      float64 `json:"pairwise_precision"`
	Recall         float64 `json:"pairwise_recall"`
	F1             float64 `json:"pairwise_f1"`

	TrueClusters      int     `json:"true_clusters"`
	PredictedClusters int     `json:"predicted_clusters"`
	ExactClusters     int     `json:"exact_clusters"`
	ClusterPrecision  float64 `json:"cluster_precision"`
	ClusterRecall     float64 `json:"cluster_recall"`
	ClusterF1         float64 `json:"cluster_f1"`

	// FalseMerges counts predicted clusters holding records of more than
	// one true person; PeopleWronglyJoined the people in them.
	FalseMerges         int `json:"false_merges"`
	PeopleWronglyJoined int `json:"people_wrongly_joined"`
	// MissedLinks counts true people split over more than one cluster.
	MissedLinks int `json:"missed_links"`

	// BlockingRecall is the share of true pairs among the candidate pairs
	// (before scoring): the ceiling on recall.
	BlockedTruePairs int64   `json:"blocked_true_pairs"`
	BlockingRecall   float64 `json:"blocking_recall"`

	// The review queue against the truth. A decision near the threshold
	// (see ReviewSummary) is one the model got wrong when two residents it
	// kept apart are one person, or one resident it made holds two people,
	// by a pair of the decision. ReviewDecisions and ReviewDecisionsWrong
	// count all the decisions; ReviewQueued and ReviewQueuedWrong those in
	// the queue: what a data steward's week corrects.
	ReviewDecisions      int `json:"review_decisions"`
	ReviewDecisionsWrong int `json:"review_decisions_wrong"`
	ReviewQueued         int `json:"review_queued"`
	ReviewQueuedWrong    int `json:"review_queued_wrong"`
}

func c2(n int64) int64 { return n * (n - 1) / 2 }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Evaluate compares r's clusters with the truth by contingency counts over
// predicted × true clusters (no enumeration of pairs).
func Evaluate(r *Result, truth map[assemble.Key]string) Metrics {
	var m Metrics
	m.Records = len(r.Records)
	tid := make(map[string]int32)
	person := make([]int32, len(r.Records))
	for i := range r.Records {
		s, ok := truth[r.Records[i].Key()]
		if !ok {
			person[i] = -1
			m.Unmatched++
			continue
		}
		id, ok := tid[s]
		if !ok {
			id = int32(len(tid))
			tid[s] = id
		}
		person[i] = id
	}
	type cell struct{ pred, true_ int32 }
	cont := make(map[cell]int64)
	predSize := make(map[int32]int64)
	trueSize := make([]int64, len(tid))
	for i, p := range person {
		if p < 0 {
			continue
		}
		cont[cell{r.Cluster[i], p}]++
		predSize[r.Cluster[i]]++
		trueSize[p]++
	}
	predPeople := make(map[int32]int)
	truePreds := make([]int, len(tid))
	for c, n := range cont {
		m.CorrectPairs += c2(n)
		predPeople[c.pred]++
		truePreds[c.true_]++
		if n == predSize[c.pred] && n == trueSize[c.true_] {
			m.ExactClusters++
		}
	}
	for _, n := range predSize {
		m.PredictedPairs += c2(n)
	}
	for _, n := range trueSize {
		m.TruePairs += c2(n)
	}
	for _, k := range predPeople {
		if k > 1 {
			m.FalseMerges++
			m.PeopleWronglyJoined += k
		}
	}
	for _, k := range truePreds {
		if k > 1 {
			m.MissedLinks++
		}
	}
	m.TrueClusters, m.PredictedClusters = len(tid), len(predSize)
	m.Precision, m.Recall = ratio(m.CorrectPairs, m.PredictedPairs), ratio(m.CorrectPairs, m.TruePairs)
	m.F1 = f1(m.Precision, m.Recall)
	m.ClusterPrecision = ratio(int64(m.ExactClusters), int64(m.PredictedClusters))
	m.ClusterRecall = ratio(int64(m.ExactClusters), int64(m.TrueClusters))
	m.ClusterF1 = f1(m.ClusterPrecision, m.ClusterRecall)

	// Blocking recall: true pairs among candidate pairs and identical-detail pairs.
	count := func(a, b []int32, same bool) int64 {
		var n int64
		for i, x := range a {
			for j, y := range b {
				if same && j <= i {
					continue
				}
				if person[x] >= 0 && person[x] == person[y] {
					n++
				}
			}
		}
		return n
	}
	for _, recs := range r.nodeRecs {
		if len(recs) > 1 {
			m.BlockedTruePairs += count(recs, recs, true)
		}
	}
	for _, c := range r.pairs {
		m.BlockedTruePairs += count(r.nodeRecs[c.a], r.nodeRecs[c.b], false)
	}
	m.BlockingRecall = ratio(m.BlockedTruePairs, m.TruePairs)
	r.evaluateQueue(&m, person)
	return m
}

// evaluateQueue fills the review queue's counts of m, person giving each
// record's true person (-1 when unknown).
func (r *Result) evaluateQueue(m *Metrics, person []int32) {
	_, queue, _ := r.reviewQueue()
	_, refs := r.pairRefs(r.Config.Review.Low, r.Config.Review.High)
	decided := make(map[[2]int32]bool, len(r.reviewed))
	for _, p := range r.reviewed {
		decided[[2]int32{min(p[0], p[1]), max(p[0], p[1])}] = true
	}
	key := func(a, b int32) [2]int32 {
		ca, cb := r.Cluster[a], r.Cluster[b]
		return [2]int32{min(ca, cb), max(ca, cb)}
	}
	wrong := make(map[[2]int32]bool)
	for _, ref := range refs {
		if decided[[2]int32{ref.a, ref.b}] {
			continue
		}
		k := key(ref.a, ref.b)
		same := person[ref.a] >= 0 && person[ref.a] == person[ref.b]
		wrong[k] = wrong[k] || same != (k[0] == k[1])
	}
	m.ReviewDecisions, m.ReviewQueued = len(wrong), len(queue)
	for _, w := range wrong {
		if w {
			m.ReviewDecisionsWrong++
		}
	}
	for _, ref := range queue {
		if wrong[key(ref.a, ref.b)] {
			m.ReviewQueuedWrong++
		}
	}
}

// String summarises the metrics on a few lines (counts only).
func (m Metrics) String() string {
	return fmt.Sprintf("records %d (%d not in truth)\npairwise precision %.4f recall %.4f F1 %.4f (true pairs %d, predicted %d, correct %d)\n"+
		"cluster precision %.4f recall %.4f F1 %.4f (true %d, predicted %d, exact %d)\nfalse merges %d (%d people wrongly joined), missed links %d\nblocking recall %.4f\n"+
		"review queue: %d of the %d queued decisions are the model's mistakes (%d of %d decisions near the threshold)",
		m.Records, m.Unmatched, m.Precision, m.Recall, m.F1, m.TruePairs, m.PredictedPairs, m.CorrectPairs,
		m.ClusterPrecision, m.ClusterRecall, m.ClusterF1, m.TrueClusters, m.PredictedClusters, m.ExactClusters,
		m.FalseMerges, m.PeopleWronglyJoined, m.MissedLinks, m.BlockingRecall,
		m.ReviewQueuedWrong, m.ReviewQueued, m.ReviewDecisionsWrong, m.ReviewDecisions)
}
