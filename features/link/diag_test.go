package link

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDiagnose lists the comparison patterns (levels only, no values) of
// true pairs that blocking misses, true candidate pairs left unlinked and
// false links (development aid; needs CASERISK_LINK_DIR and
// CASERISK_LINK_DIAG).
func TestDiagnose(t *testing.T) {
	dir := os.Getenv("CASERISK_LINK_DIR")
	if dir == "" || os.Getenv("CASERISK_LINK_DIAG") == "" {
		t.Skip("CASERISK_LINK_DIR/CASERISK_LINK_DIAG not set")
	}
	recs, err := ReadRecords(context.Background(), filepath.Join(dir, "raw"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	if y := os.Getenv("CASERISK_LINK_CONFIG"); y != "" {
		if cfg, err = ParseConfig([]byte(y), "env"); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Link(context.Background(), recs, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	truth, _ := ReadTruth(filepath.Join(dir, "oracle", "links.csv"))
	desc := func(p Pattern) string {
		var s []string
		for f := 0; f < NumFields; f++ {
			s = append(s, fmt.Sprintf("%s=%s", FieldNames[f][:3], LevelNames[f][p.Level(f)]))
		}
		return strings.Join(s, " ")
	}
	person := make([]string, len(recs))
	for i := range recs {
		person[i] = truth[recs[i].Key()]
	}
	pk := func(a, b uint32) uint64 {
		if a > b {
			a, b = b, a
		}
		return uint64(a)<<32 | uint64(b)
	}
	cands := make(map[uint64]bool, len(res.pairs))
	missed, false_, unblocked := map[string]int{}, map[string]int{}, map[string]int{}
	for _, c := range res.pairs {
		cands[pk(c.a, c.b)] = true
		w := res.pairWeight(c)
		for _, ra := range res.nodeRecs[c.a] {
			for _, rb := range res.nodeRecs[c.b] {
				same := person[ra] == person[rb]
				linked := res.Cluster[ra] == res.Cluster[rb]
				k := fmt.Sprintf("%6.1f %s", w, desc(c.pat))
				if same && !linked {
					missed[k]++
				}
				if !same && linked {
					false_[k]++
				}
			}
		}
	}
	byPerson := map[string][]int32{}
	for i := range recs {
		byPerson[person[i]] = append(byPerson[person[i]], int32(i))
	}
	for _, rs := range byPerson {
		for x := range rs {
			for y := x + 1; y < len(rs); y++ {
				a, b := res.nodeOf[rs[x]], res.nodeOf[rs[y]]
				if a == b || cands[pk(uint32(a), uint32(b))] {
					continue
				}
				p := compareNodes(&res.nodes[a], &res.nodes[b], &thresholds{nameJW1: 0.92, nameJW2: 0.8, addrTok1: 0.7, addrTok2: 0.4})
				na, nb := &res.nodes[a], &res.nodes[b]
				pc := "pc_differ"
				switch {
				case na.pc == "" || nb.pc == "":
					pc = "pc_missing"
				case na.pc == nb.pc:
					pc = "pc_same"
				}
				unblocked[desc(p)+" "+pc+" "+recs[rs[x]].Source+"/"+recs[rs[y]].Source]++
			}
		}
	}
	for _, x := range []struct {
		name string
		m    map[string]int
	}{{"unblocked", unblocked}, {"missed", missed}, {"false", false_}} {
		type row struct {
			s string
			n int
		}
		var rows []row
		tot := 0
		for k, n := range x.m {
			rows = append(rows, row{k, n})
			tot += n
		}
		slices.SortFunc(rows, func(a, b row) int { return b.n - a.n })
		fmt.Println("==", x.name, "patterns", len(rows), "record pairs", tot)
		for i, r := range rows {
			if i > 30 {
				break
			}
			fmt.Println(r.n, r.s)
		}
	}
}
