package link

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// fnv64 is FNV-1a over s, continuing from h (deterministic across runs,
// unlike maphash, so block order and hence every output is reproducible).
func fnv64(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func fnvInt(h uint64, v uint64) uint64 {
	for i := 0; i < 8; i++ {
		h ^= v & 0xff
		h *= 1099511628211
		v >>= 8
	}
	return h
}

const fnvOffset = 14695981039346656037

// blockKey returns the node's key for a rule, or 0 when a part is missing.
func blockKey(n *node, rule []string) uint64 {
	h := uint64(fnvOffset)
	for i, part := range rule {
		h = fnvInt(h, uint64(i)+0x9e37)
		switch part {
		case "ni":
			if n.ni == "" {
				return 0
			}
			h = fnv64(h, n.ni)
		case "uprn":
			if n.uprn == 0 {
				return 0
			}
			h = fnvInt(h, uint64(n.uprn))
		case "postcode":
			if n.pc == "" {
				return 0
			}
			h = fnv64(h, n.pc)
		case "sector":
			if n.sector == "" {
				return 0
			}
			h = fnv64(h, n.sector)
		case "dob":
			if n.y == 0 {
				return 0
			}
			h = fnvInt(h, uint64(n.dob))
		case "birth_year":
			if n.y == 0 {
				return 0
			}
			h = fnvInt(h, uint64(n.y))
		case "dob_month_day":
			if n.y == 0 {
				return 0
			}
			h = fnvInt(h, uint64(n.m*100+n.d))
		case "given":
			if n.given == "" {
				return 0
			}
			h = fnv64(h, n.given)
		case "given_initial":
			if n.given == "" {
				return 0
			}
			h = fnvInt(h, uint64(n.given[0]))
		case "given_soundex":
			if n.sxGiven == 0 {
				return 0
			}
			h = fnvInt(h, uint64(n.sxGiven))
		case "family":
			if n.family == "" {
				return 0
			}
			h = fnv64(h, n.family)
		case "family_soundex":
			if n.sxFamily == 0 {
				return 0
			}
			h = fnvInt(h, uint64(n.sxFamily))
		case "names_soundex":
			if n.sxGiven == 0 || n.sxFamily == 0 {
				return 0
			}
			a, b := n.sxGiven, n.sxFamily
			if a > b {
				a, b = b, a
			}
			h = fnvInt(h, uint64(a)<<32|uint64(b))
		case "address":
			if n.addr == "" {
				return 0
			}
			h = fnv64(h, n.addr)
		default:
			panic("link: unknown blocking key " + part)
		}
	}
	if h == 0 {
		h = 1
	}
	return h
}

// cand is a candidate pair of nodes (a < b) and its comparison pattern.
type cand struct {
	a, b uint32
	pat  Pattern
}

// RuleStats is what one blocking rule found.
type RuleStats struct {
	Rule          string `json:"rule"`
	Blocks        int    `json:"blocks"`         // blocks of two or more records
	Pairs         int64  `json:"pairs"`          // new candidate pairs (not found by an earlier rule)
	Capped        int    `json:"blocks_capped"`  // blocks dropped for size
	CappedRecords int64  `json:"records_capped"` // distinct records in those blocks
}

type block struct{ lo, hi int32 }

// blockPairs finds the candidate pairs of every rule and compares them.
// A pair is kept by the first rule whose (uncapped) block holds it.
func (l *linker) blockPairs(ctx context.Context) ([]cand, []RuleStats, error) {
	rules := l.cfg.Blocking.Rules
	nn := len(l.nodes)
	keys := make([][]uint64, len(rules))
	capped := make([]map[uint64]bool, len(rules))
	stats := make([]RuleStats, len(rules))
	var all []cand
	type ent struct {
		key  uint64
		node uint32
	}
	for r, rule := range rules {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		stats[r].Rule = strings.Join(rule, "+")
		k := make([]uint64, nn)
		var ents []ent
		for i := range l.nodes {
			k[i] = blockKey(&l.nodes[i], rule)
			if k[i] != 0 {
				ents = append(ents, ent{k[i], uint32(i)})
			}
		}
		keys[r] = k
		slices.SortFunc(ents, func(x, y ent) int {
			if x.key != y.key {
				if x.key < y.key {
					return -1
				}
				return 1
			}
			return int(x.node) - int(y.node)
		})
		capped[r] = make(map[uint64]bool)
		var blocks []block
		for i := 0; i < len(ents); {
			j := i + 1
			for j < len(ents) && ents[j].key == ents[i].key {
				j++
			}
			switch s := j - i; {
			case s > l.cfg.Blocking.MaxBlock:
				stats[r].Capped++
				stats[r].CappedRecords += int64(s)
				capped[r][ents[i].key] = true
			case s > 1:
				stats[r].Blocks++
				blocks = append(blocks, block{int32(i), int32(j)})
			}
			i = j
		}
		nodesOf := make([]uint32, len(ents))
		for i, e := range ents {
			nodesOf[i] = e.node
		}
		// Chunks of blocks, compared by the workers, joined in order.
		var chunks []block // ranges of blocks
		var work int64
		start := 0
		for i, b := range blocks {
			s := int64(b.hi - b.lo)
			work += s * (s - 1) / 2
			if work >= 1<<16 || i == len(blocks)-1 {
				chunks = append(chunks, block{int32(start), int32(i + 1)})
				start, work = i+1, 0
			}
		}
		out := make([][]cand, len(chunks))
		var next atomic.Int64
		var wg sync.WaitGroup
		var failed atomic.Bool
		for w := 0; w < l.workers(); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					c := int(next.Add(1) - 1)
					if c >= len(chunks) || failed.Load() {
						return
					}
					if c%64 == 0 && ctx.Err() != nil {
						failed.Store(true)
						return
					}
					var res []cand
					for _, b := range blocks[chunks[c].lo:chunks[c].hi] {
						ns := nodesOf[b.lo:b.hi]
						for x := 0; x < len(ns); x++ {
							a := ns[x]
							na := &l.nodes[a]
						pairs:
							for y := x + 1; y < len(ns); y++ {
								bb := ns[y]
								for q := 0; q < r; q++ {
									if ka := keys[q][a]; ka != 0 && ka == keys[q][bb] && !capped[q][ka] {
										continue pairs
									}
								}
								res = append(res, cand{a, bb, compareNodes(na, &l.nodes[bb], &l.th)})
							}
						}
					}
					out[c] = res
				}
			}()
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		for _, o := range out {
			stats[r].Pairs += int64(len(o))
			all = append(all, o...)
		}
	}
	return all, stats, nil
}

func (s RuleStats) String() string {
	return fmt.Sprintf("%s: %d pairs from %d blocks, %d blocks (%d records) capped", s.Rule, s.Pairs, s.Blocks, s.Capped, s.CappedRecords)
}
