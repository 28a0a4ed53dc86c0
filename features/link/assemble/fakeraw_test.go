package assemble

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"caserisk/features/contract"
)

// fakeRaw turns a joined borough into a raw directory without the raw
// generator: each source's record id is the source key and the resident id
// (one record per person per source), person records copy residents.csv
// with the person's latest true UPRN. It returns the true mapping.
func fakeRaw(t testing.TB, joined, raw string) map[Key]string {
	t.Helper()
	ctx := context.Background()
	c := contract.Default()
	if err := os.MkdirAll(raw, 0o755); err != nil {
		t.Fatal(err)
	}
	props, _ := c.File("properties")
	if _, _, err := copyProperties(ctx, joined, raw, props); err != nil {
		t.Fatal(err)
	}
	// Residents' details and latest UPRN.
	type det struct {
		row  []string
		days []contract.Day
		uprn int64
	}
	dets := map[string]*det{}
	resF, _ := c.File("residents")
	rr, err := contract.Open(joined, resF)
	if err != nil {
		t.Fatal(err)
	}
	for {
		row, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		dets[row.Str[0]] = &det{row: append([]string(nil), row.Str...), days: append([]contract.Day(nil), row.Day...)}
	}
	rr.Close()
	stayF, _ := c.File("residences")
	sr, err := contract.Open(joined, stayF)
	if err != nil {
		t.Fatal(err)
	}
	latest := map[string]contract.Day{}
	for {
		row, err := sr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		id := row.Str[0]
		if d, ok := latest[id]; !ok || row.Day[2] > d {
			latest[id] = row.Day[2]
			dets[id].uprn = int64(row.Num[1])
		}
	}
	sr.Close()
	ids := map[Key]string{}
	for _, f := range c.RawSources() {
		r, err := contract.Open(joined, f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rf, pf := contract.RawFile(f), contract.RawPeople(f)
		out, _ := os.Create(filepath.Join(raw, rf.Name))
		bw := bufio.NewWriter(out)
		w := contract.NewWriter(bw, rf)
		w.WriteHeader()
		cRes := colIndex(f, "resident_id")
		set := setters(rf, cRes)
		var order []string
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			id := row.Str[cRes]
			k := Key{f.Service, f.Service + ":" + id}
			if _, ok := ids[k]; !ok {
				ids[k] = id
				order = append(order, id)
			}
			w.SetString(contract.RawRecordID, k.RecordID)
			for _, s := range set {
				if s != nil {
					s(w, row)
				}
			}
			if err := w.WriteRow(); err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		bw.Flush()
		out.Close()
		pout, _ := os.Create(filepath.Join(raw, pf.Name))
		pbw := bufio.NewWriter(pout)
		pw := contract.NewWriter(pbw, pf)
		pw.WriteHeader()
		for _, id := range order {
			d := dets[id]
			pw.SetString(contract.RawRecordID, f.Service+":"+id)
			pw.SetString("given_name", d.row[1])
			pw.SetString("family_name", d.row[2])
			if d.days[3] != contract.NoDay {
				pw.SetDate("date_of_birth", d.days[3])
			}
			if d.row[4] != "" {
				pw.SetCode("sex", d.row[4])
			}
			if d.uprn != 0 {
				pw.SetInt("uprn", d.uprn)
			}
			pw.SetCode("ethnic_group", d.row[5])
			pw.SetCode("disability", d.row[6])
			if d.days[8] != contract.NoDay {
				pw.SetDate("date_of_death", d.days[8])
			}
			if d.days[9] != contract.NoDay {
				pw.SetDate("death_recorded_date", d.days[9])
			}
			if err := pw.WriteRow(); err != nil {
				t.Fatal(err)
			}
		}
		pbw.Flush()
		pout.Close()
	}
	return ids
}
