package link

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestDiagnose lists the comparison patterns of missed and false links
// (development aid; needs CASERISK_LINK_DIR).
func TestDiagnose(t *testing.T) {
	dir := os.Getenv("CASERISK_LINK_DIR")
	if dir == "" || os.Getenv("CASERISK_LINK_DIAG") == "" {
		t.Skip("CASERISK_LINK_DIR/CASERISK_LINK_DIAG not set")
	}
	recs, err := ReadRecords(context.Background(), filepath.Join(dir, "raw"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Link(context.Background(), recs, DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	truth, _ := ReadTruth(filepath.Join(dir, "oracle", "links.csv"))
	type row struct {
		s string
		n int
	}
	desc := func(p Pattern) string {
		s := ""
		for f := 0; f < NumFields; f++ {
			s += fmt.Sprintf("%s=%s ", FieldNames[f][:3], LevelNames[f][p.Level(f)])
		}
		return s
	}
	missed, false_ := map[string]int{}, map[string]int{}
	for _, c := range res.pairs {
		ra, rb := res.nodeRecs[c.a][0], res.nodeRecs[c.b][0]
		same := truth[recs[ra].Key()] == truth[recs[rb].Key()]
		w := res.Model.weight(c.pat)
		linked := res.Cluster[ra] == res.Cluster[rb]
		k := fmt.Sprintf("%6.1f %s", w, desc(c.pat))
		if same && !linked {
			missed[k]++
		}
		if !same && linked {
			false_[k]++
		}
	}
	for name, m := range map[string]map[string]int{"missed": missed, "false": false_} {
		var rows []row
		for k, n := range m {
			rows = append(rows, row{k, n})
		}
		slices.SortFunc(rows, func(a, b row) int { return b.n - a.n })
		fmt.Println("==", name, len(rows))
		for i, r := range rows {
			if i > 25 {
				break
			}
			fmt.Println(r.n, r.s)
		}
	}
}
