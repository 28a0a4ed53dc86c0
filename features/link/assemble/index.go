package assemble

import (
	"fmt"
	"slices"
	"sync"

	"caserisk/features/contract"
)

// index numbers the residents (in resident id order) and the mapped person
// records (by source in contract order, then record id), and maps each
// record to its resident.
type index struct {
	residents []string           // resident ids, sorted
	bySource  []map[string]int32 // per raw source: record id -> record number
	recOff    []int32            // per raw source: its first record number; len sources+1
	recRes    []int32            // per record: resident number
	// Set while reading; each source's range is written by one goroutine
	// for rows and one for person records.
	inRows   []bool
	inPeople []bool
}

func newIndex(c *contract.Contract, ids map[Key]string, workers int) (*index, error) {
	sources := c.RawSources()
	at := make(map[string]int, len(sources))
	for i, f := range sources {
		at[f.Service] = i
	}
	recs := make([][]string, len(sources))
	resSet := make(map[string]struct{}, len(ids)/2+1)
	for k, id := range ids {
		i, ok := at[k.Source]
		if !ok {
			return nil, fmt.Errorf("assemble: the mapping names source %q for record %q: not a raw source of the contract", k.Source, k.RecordID)
		}
		if id == "" {
			return nil, fmt.Errorf("assemble: the mapping gives record %q of %s an empty resident id", k.RecordID, k.Source)
		}
		recs[i] = append(recs[i], k.RecordID)
		resSet[id] = struct{}{}
	}
	ix := &index{residents: make([]string, 0, len(resSet))}
	for id := range resSet {
		ix.residents = append(ix.residents, id)
	}
	slices.Sort(ix.residents)
	resNo := make(map[string]int32, len(ix.residents))
	for i, id := range ix.residents {
		resNo[id] = int32(i)
	}
	// Number the records: sources in contract order, record ids sorted
	// within each (each source's map is built in parallel).
	ix.bySource = make([]map[string]int32, len(sources))
	ix.recOff = make([]int32, len(sources)+1)
	for i := range sources {
		ix.recOff[i+1] = ix.recOff[i] + int32(len(recs[i]))
	}
	ix.recRes = make([]int32, len(ids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for i, f := range sources {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			slices.Sort(recs[i])
			m := make(map[string]int32, len(recs[i]))
			for k, r := range recs[i] {
				n := ix.recOff[i] + int32(k)
				m[r] = n
				ix.recRes[n] = resNo[ids[Key{f.Service, r}]]
			}
			ix.bySource[i] = m
		}()
	}
	wg.Wait()
	ix.inRows = make([]bool, len(ix.recRes))
	ix.inPeople = make([]bool, len(ix.recRes))
	return ix, nil
}

// record returns the record number of a source's record id.
func (ix *index) record(source int, id string) (int32, bool) {
	n, ok := ix.bySource[source][id]
	return n, ok
}

// notFound counts mapped records met in no people file and no row.
func (ix *index) notFound() int {
	n := 0
	for i := range ix.recRes {
		if !ix.inRows[i] && !ix.inPeople[i] {
			n++
		}
	}
	return n
}
