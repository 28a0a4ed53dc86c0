package link

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"caserisk/features/contract"
	"caserisk/features/link/assemble"
)

// Stats are counts and timings of one linkage run: no personal data.
type Stats struct {
	Records            int            `json:"records"`
	Nodes              int            `json:"distinct_records"` // distinct normalised details
	CandidatePairs     int64          `json:"candidate_pairs"`  // distinct pairs of distinct records
	Rules              []RuleStats    `json:"rules"`
	EMIterations       int            `json:"em_iterations"`
	Sessions           []SessionStats `json:"training_sessions,omitempty"`
	CandidateLambda    float64        `json:"candidate_lambda,omitempty"` // match share among candidate pairs
	Links              int            `json:"links"`                      // candidate pairs at or above the threshold
	Forced             int            `json:"forced_links"`
	CannotLink         int            `json:"cannot_links"`
	Clusters           int            `json:"clusters"`
	Refused            int            `json:"refused_merges"`
	RefusedBy          map[string]int `json:"refused_by"`
	DecisionsUnmatched int            `json:"decisions_unmatched"` // decisions naming unknown records
	// ConflictingAccepts counts accepted pairs not linked because linking
	// them would join a pair a reviewer rejected (directly or through
	// other accepted pairs or identical records): rejections win.
	ConflictingAccepts int     `json:"conflicting_accepts"`
	Phases             []Phase `json:"phases"`
	// Review counts the clerical review queue and what it leaves to the model.
	Review ReviewSummary `json:"review"`
}

// Phase is the wall time of one step.
type Phase struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Result is a linkage: the records, the cluster of each, the scored
// candidate pairs and the fitted model.
type Result struct {
	Records []Record
	// Cluster gives each record's cluster, numbered 0.. in resident-id
	// order (by each cluster's smallest (source, record_id)).
	Cluster []int32
	Model   Model
	Stats   Stats
	Config  Config

	nodes    []node
	nodeOf   []int32 // record -> node
	nodeRecs [][]int32
	pairs    []cand
	tf       [NumFields][]float32 // per node: term-frequency adjustment of an exact match
	reviewed [][2]int32           // record pairs a reviewer decided (Decisions given to Link)

	queueOnce sync.Once // the review queue, built once (reviewQueue)
	queueSS   []scored
	queueRefs []pairRef
}

// Decision is a reviewer's verdict on a pair of records.
type Decision struct {
	A, B   assemble.Key
	Accept bool
}

type linker struct {
	cfg      Config
	th       thresholds
	recs     []Record
	nodes    []node
	nodeOf   []int32
	nrecs    [][]int32
	reviewed [][2]int32 // record pairs with a decision
}

func (l *linker) workers() int {
	if l.cfg.Workers <= 0 {
		return 2
	}
	return l.cfg.Workers
}

// parallel runs f(0..n-1) on the workers.
func (l *linker) parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	ch := make(chan int)
	for w := 0; w < l.workers(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		ch <- i
	}
	close(ch)
	wg.Wait()
}

// Link links records into clusters of one person each. Decisions from
// clerical review are honoured: accepted pairs are linked whatever their
// score, rejected pairs are never in one cluster.
func Link(ctx context.Context, recs []Record, cfg Config, decisions []Decision) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("link config: %w", err)
	}
	l := &linker{cfg: cfg, recs: recs, th: thresholds{
		nameJW1: float32(cfg.Comparisons.NameJW[0]), nameJW2: float32(cfg.Comparisons.NameJW[1]),
		addrTok1: cfg.Comparisons.Address[0], addrTok2: cfg.Comparisons.Address[1]}}
	res := &Result{Records: recs, Config: cfg}
	st := &res.Stats
	st.Records = len(recs)
	t0 := time.Now()
	phase := func(name string) {
		now := time.Now()
		st.Phases = append(st.Phases, Phase{name, now.Sub(t0).Seconds()})
		t0 = now
	}

	// Collapse identical details into nodes. A record named in a reviewer's
	// rejection keeps a node of its own, so the rejection can hold even
	// against a record with identical details.
	solo := l.rejected(decisions)
	l.collapse(solo)
	st.Nodes = len(l.nodes)
	phase("collapse")
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	pairs, rules, err := l.blockPairs(ctx)
	if err != nil {
		return nil, err
	}
	st.Rules = rules
	st.CandidatePairs = int64(len(pairs))
	phase("block+compare")

	// Decisions, as node pairs.
	forced, cannot := l.decisionPairs(decisions, st)

	// The model.
	u := l.sampleU()
	for f, levels := range cfg.Model.U {
		fi := slices.Index(FieldNames[:], f)
		for lv, v := range levels {
			u[fi][slices.Index(LevelNames[fi], lv)] = v
		}
	}
	m0 := defaultM
	if len(forced) >= 20 { // seed m from reviewed matches
		m0 = seedM(forced, l)
	}
	for f, levels := range cfg.Model.M {
		fi := slices.Index(FieldNames[:], f)
		m0[fi] = slices.Clone(m0[fi])
		for lv, v := range levels {
			m0[fi][slices.Index(LevelNames[fi], lv)] = v
		}
	}
	phase("u")
	candPatterns := func() []patternCount {
		hist := newDenseHist()
		for _, p := range pairs {
			hist.add(p.pat, float64(len(l.nrecs[p.a])*len(l.nrecs[p.b])))
		}
		return hist.patterns()
	}
	switch {
	case cfg.Model.Fixed:
		res.Model = em(nil, m0, u, cfg.Model.Lambda, true, false, 0, 1)
	case len(cfg.Model.Training) > 0:
		// Splink's recipe: m from training sessions, then λ among the
		// candidates with m and u held.
		m, sess, err := l.trainSessions(ctx, m0, u)
		if err != nil {
			return nil, err
		}
		st.Sessions = sess
		// The share of matches among the candidates (m and u held) counts
		// the expected matches; with the pairs of identical records they
		// give the probability that two random records match, the prior
		// every pair is scored from (blocking is no evidence of a match:
		// the blocked fields' own weights count it).
		pats := candPatterns()
		cm := emFit(pats, m, u, 0.5, emOpts{active: allFields(), fixM: true, maxIter: cfg.Model.MaxIterations, tol: cfg.Model.Tolerance})
		var matches float64
		for _, pc := range pats {
			matches += pc.n * Prob(cm.weight(pc.p))
		}
		for _, rs := range l.nrecs {
			matches += float64(len(rs)) * float64(len(rs)-1) / 2
		}
		st.CandidateLambda = cm.Lambda
		lambda := cfg.Model.Lambda
		if nr := float64(len(recs)); lambda == 0 && nr > 1 {
			lambda = min(max(matches/(nr*(nr-1)/2), 1e-12), 0.5)
		}
		res.Model = emFit(nil, m, u, lambda, emOpts{fixM: true, fixLambda: true})
		res.Model.Iterations, res.Model.Converged = cm.Iterations, cm.Converged
	default:
		lambda := cfg.Model.Lambda
		if lambda == 0 {
			lambda = 0.1
		}
		res.Model = em(candPatterns(), m0, u, lambda, cfg.Model.Lambda != 0, cfg.Model.EstimateU, cfg.Model.MaxIterations, cfg.Model.Tolerance)
	}
	st.EMIterations = res.Model.Iterations
	res.tf = l.termFrequencies(res.Model.U, cfg.Model.TermFrequency, cfg.Model.TFMinU)
	phase("em")
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	res.nodes, res.nodeOf, res.nodeRecs, res.pairs, res.reviewed = l.nodes, l.nodeOf, l.nrecs, pairs, l.reviewed
	if err := res.cluster(ctx, forced, cannot); err != nil {
		return nil, err
	}
	phase("cluster")
	res.reviewQueue()
	phase("review queue")
	return res, nil
}

// collapse groups records with identical details into nodes, numbered in
// the order of their first record. The records are sharded by a hash of
// their details over the workers, each shard grouped by its own map, and
// the shards' nodes merged by first record, so the numbering does not
// depend on the number of workers.
func (l *linker) collapse(solo map[int32]bool) {
	recs := l.recs
	nw := l.workers()
	key := func(kb []byte, i int) []byte {
		kb = appendDetails(kb[:0], &recs[i])
		if solo[int32(i)] {
			kb = append(kb, '|', '#')
			kb = strconv.AppendInt(kb, int64(i), 10)
		}
		return kb
	}
	shard := make([]uint8, len(recs))
	local := make([]int32, len(recs))
	firsts := make([][]int32, nw) // per shard, per local node: its first record
	var wg sync.WaitGroup
	// Shard by hash, in parallel chunks of records.
	chunk := (len(recs) + nw - 1) / max(nw, 1)
	for w := 0; w < nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var kb []byte
			for i := w * chunk; i < min((w+1)*chunk, len(recs)); i++ {
				kb = key(kb, i)
				h := uint64(fnvOffset)
				for _, c := range kb {
					h ^= uint64(c)
					h *= 1099511628211
				}
				shard[i] = uint8(h % uint64(nw))
			}
		}()
	}
	wg.Wait()
	for w := 0; w < nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			index := make(map[string]int32, len(recs)/nw+1)
			var kb []byte
			for i := range recs {
				if int(shard[i]) != w {
					continue
				}
				kb = key(kb, i)
				id, ok := index[string(kb)]
				if !ok {
					id = int32(len(firsts[w]))
					index[string(kb)] = id
					firsts[w] = append(firsts[w], int32(i))
				}
				local[i] = id
			}
		}()
	}
	wg.Wait()
	// Merge the shards' nodes by first record.
	var first []int32
	global := make([][]int32, nw)
	for w := range firsts {
		first = append(first, firsts[w]...)
		global[w] = make([]int32, len(firsts[w]))
	}
	slices.Sort(first)
	pos := make([]int, nw)
	for g, i := range first {
		w := shard[i]
		global[w][pos[w]] = int32(g)
		pos[w]++
	}
	l.nodeOf = make([]int32, len(recs))
	count := make([]int32, len(first)+1)
	for i := range recs {
		id := global[shard[i]][local[i]]
		l.nodeOf[i] = id
		count[id+1]++
	}
	// Each node's records, in record order, on one backing array.
	for n := 1; n < len(count); n++ {
		count[n] += count[n-1]
	}
	flat := make([]int32, len(recs))
	fill := slices.Clone(count[:len(first)])
	for i, id := range l.nodeOf {
		flat[fill[id]] = int32(i)
		fill[id]++
	}
	l.nrecs = make([][]int32, len(first))
	for n := range l.nrecs {
		l.nrecs[n] = flat[count[n]:count[n+1]:count[n+1]]
	}
	nk := newNicknames()
	l.nodes = make([]node, len(first))
	per := (len(first) + nw - 1) / max(nw, 1)
	for w := 0; w < nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := w * per; n < min((w+1)*per, len(first)); n++ {
				l.nodes[n] = makeNode(&recs[first[n]], nk)
			}
		}()
	}
	wg.Wait()
}

// appendDetails appends the record's normalised details (what collapses
// records into one node) to kb.
func appendDetails(kb []byte, r *Record) []byte {
	kb = append(kb, r.Given...)
	kb = append(kb, '|')
	kb = append(kb, r.Family...)
	kb = append(kb, '|')
	kb = strconv.AppendInt(kb, int64(r.DOB), 10)
	kb = append(kb, '|', r.Sex, '|')
	kb = append(kb, r.Address...)
	kb = append(kb, '|')
	kb = append(kb, r.Postcode...)
	kb = append(kb, '|')
	kb = strconv.AppendInt(kb, r.UPRN, 10)
	kb = append(kb, '|')
	kb = append(kb, r.NI...)
	return kb
}

// rejected returns the records named in a rejection.
func (l *linker) rejected(ds []Decision) map[int32]bool {
	var keys map[assemble.Key]bool
	for _, d := range ds {
		if !d.Accept {
			if keys == nil {
				keys = make(map[assemble.Key]bool)
			}
			keys[d.A], keys[d.B] = true, true
		}
	}
	if keys == nil {
		return nil
	}
	out := make(map[int32]bool)
	for i := range l.recs {
		if keys[l.recs[i].Key()] {
			out[int32(i)] = true
		}
	}
	return out
}

// decisionPairs turns decisions into node pairs. A decision naming a record
// not in the data is counted and skipped. An accepted pair whose two
// records' details are those of a rejected pair (accept A–B and reject A–C
// where B and C are identical records) contradicts it: the rejection wins,
// and the accept is counted in Stats.ConflictingAccepts and dropped.
func (l *linker) decisionPairs(ds []Decision, st *Stats) (forced, cannot [][2]int32) {
	if len(ds) == 0 {
		return nil, nil
	}
	at := make(map[assemble.Key]int32, len(l.recs))
	for i := range l.recs {
		at[l.recs[i].Key()] = int32(i)
	}
	var kb []byte
	details := func(a, b int32) [2]string {
		kb = appendDetails(kb[:0], &l.recs[a])
		x := string(kb)
		kb = appendDetails(kb[:0], &l.recs[b])
		y := string(kb)
		if x > y {
			x, y = y, x
		}
		return [2]string{x, y}
	}
	type decided struct {
		a, b   int32
		accept bool
	}
	var dd []decided
	rejectedDetails := make(map[[2]string]bool)
	for _, d := range ds {
		a, okA := at[d.A]
		b, okB := at[d.B]
		if !okA || !okB {
			st.DecisionsUnmatched++
			continue
		}
		dd = append(dd, decided{a, b, d.Accept})
		l.reviewed = append(l.reviewed, [2]int32{a, b})
		if !d.Accept {
			rejectedDetails[details(a, b)] = true
		}
	}
	for _, d := range dd {
		p := [2]int32{l.nodeOf[d.a], l.nodeOf[d.b]}
		switch {
		case !d.accept:
			cannot = append(cannot, p)
		case rejectedDetails[details(d.a, d.b)]:
			st.ConflictingAccepts++
		default:
			forced = append(forced, p)
		}
	}
	st.Forced, st.CannotLink = len(forced), len(cannot)
	return forced, cannot
}

// seedM estimates m from reviewed matches (with a pseudo-count per level).
func seedM(forced [][2]int32, l *linker) [NumFields][]float64 {
	var m [NumFields][]float64
	var cnt [NumFields][16]float64
	for _, p := range forced {
		pat := compareNodes(&l.nodes[p[0]], &l.nodes[p[1]], &l.th)
		for f := 0; f < NumFields; f++ {
			cnt[f][pat.Level(f)]++
		}
	}
	for f := 0; f < NumFields; f++ {
		nl := len(LevelNames[f])
		m[f] = make([]float64, nl)
		var tot float64
		for lv := 1; lv < nl; lv++ {
			tot += cnt[f][lv] + 1
		}
		for lv := 1; lv < nl; lv++ {
			m[f][lv] = (cnt[f][lv] + 1) / tot
		}
	}
	return m
}

// ResidentIDs maps every record to its resident id: "RL" and a zero-padded
// number, numbered by each cluster's smallest (source, record_id).
func (r *Result) ResidentIDs() map[assemble.Key]string {
	out := make(map[assemble.Key]string, len(r.Records))
	width := max(7, len(fmt.Sprint(r.Stats.Clusters)))
	ids := make([]string, r.Stats.Clusters)
	for c := range ids {
		ids[c] = fmt.Sprintf("RL%0*d", width, c+1)
	}
	for i := range r.Records {
		out[r.Records[i].Key()] = ids[r.Cluster[i]]
	}
	return out
}

func keyLess(a, b *Record) int {
	if c := strings.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	return strings.Compare(a.RecordID, b.RecordID)
}

var _ = contract.NoDay
