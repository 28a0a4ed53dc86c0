package assemble

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"caserisk/features/contract"
)

// peopleIndex is every resident's person records (CSR over residents, the
// records of each in source order, then record id order).
type peopleIndex struct {
	off  []int32
	recs []*personRecord
}

func groupPeople(ix *index, ppl []*peopleResult) *peopleIndex {
	n := len(ix.residents)
	pi := &peopleIndex{off: make([]int32, n+1)}
	present := func(rec int) bool { return ix.inPeople[rec] }
	for rec, r := range ix.recRes {
		if present(rec) {
			pi.off[r+1]++
		}
	}
	for i := range n {
		pi.off[i+1] += pi.off[i]
	}
	pi.recs = make([]*personRecord, pi.off[n])
	next := make([]int32, n)
	copy(next, pi.off[:n])
	for si, pr := range ppl {
		base := int(ix.recOff[si])
		for k := range pr.records {
			rec := base + k
			if !present(rec) {
				continue
			}
			r := ix.recRes[rec]
			pi.recs[next[r]] = &pr.records[k]
			next[r]++
		}
	}
	return pi
}

// counts are the rows of the index files written.
type counts struct{ residents, residences int }

// blockSize is how many residents one task of writeIndex handles.
const blockSize = 4096

// blockOut is one block's rows of residents.csv and residences.csv.
type blockOut struct {
	residents, residences bytes.Buffer
	nres, nstays          int
	stats                 ResidenceStats
	recordsPer            []int
	err                   error
}

// writeIndex writes residents.csv and residences.csv: blocks of residents
// are computed in parallel and written in resident id order.
func writeIndex(ctx context.Context, outDir string, c *contract.Contract, ix *index, people *peopleIndex,
	sOff []int64, sAll []sighting, seen *seenState, r rules, workers int, rep *Report) (counts, error) {
	resF, _ := c.File("residents")
	stayF, _ := c.File("residences")
	n := len(ix.residents)
	nb := (n + blockSize - 1) / blockSize
	blocks := make([]*blockOut, nb)
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				blocks[b] = computeBlock(ctx, resF, stayF, ix, people, sOff, sAll, seen, r, b*blockSize, min(n, (b+1)*blockSize))
			}
		}()
	}
	for b := range nb {
		next <- b
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return counts{}, err
	}
	resOut, err := create(outDir, resF.Name)
	if err != nil {
		return counts{}, err
	}
	stayOut, err := create(outDir, stayF.Name)
	if err != nil {
		resOut.close()
		return counts{}, err
	}
	var cnt counts
	rep.RecordsPer = make([]int, recordsPerCap+1)
	contract.NewWriter(resOut.bw, resF).WriteHeader()
	contract.NewWriter(stayOut.bw, stayF).WriteHeader()
	for _, b := range blocks {
		if b.err != nil {
			resOut.close()
			stayOut.close()
			return counts{}, b.err
		}
		resOut.bw.Write(b.residents.Bytes())
		stayOut.bw.Write(b.residences.Bytes())
		cnt.residents += b.nres
		cnt.residences += b.nstays
		s, t := &rep.Residence, b.stats
		s.Sightings += t.Sightings
		s.FromSightings += t.FromSightings
		s.FromPeopleRecords += t.FromPeopleRecords
		s.NoAddress += t.NoAddress
		s.Stays += t.Stays
		s.Moves += t.Moves
		s.NoiseRunsMerged += t.NoiseRunsMerged
		s.OpenAtEnd += t.OpenAtEnd
		s.EndedAtDeath += t.EndedAtDeath
		s.EndedMovedAway += t.EndedMovedAway
		for k, v := range b.recordsPer {
			rep.RecordsPer[k] += v
		}
	}
	err1, err2 := resOut.close(), stayOut.close()
	if err1 != nil {
		return counts{}, err1
	}
	return cnt, err2
}

// computeBlock identifies residents lo..hi-1 and infers their stays.
func computeBlock(ctx context.Context, resF, stayF *contract.File, ix *index, people *peopleIndex,
	sOff []int64, sAll []sighting, seen *seenState, r rules, lo, hi int) *blockOut {
	b := &blockOut{recordsPer: make([]int, recordsPerCap+1)}
	if ctx.Err() != nil {
		b.err = ctx.Err()
		return b
	}
	rw := contract.NewWriter(&b.residents, resF)
	sw := contract.NewWriter(&b.residences, stayF)
	for p := lo; p < hi; p++ {
		id := ix.residents[p]
		who := identify(people.recs[people.off[p]:people.off[p+1]])
		b.recordsPer[min(who.records, recordsPerCap)]++
		ss := sortSightings(sAll[sOff[p]:sOff[p+1]])
		b.stats.Sightings += len(ss)
		facts := personFacts{sightings: ss, first: seen.first[p], last: seen.last[p],
			birth: who.birth, death: who.death, fallback: who.fallback}
		stays, ending, merged := inferStays(&facts, r)
		b.stats.NoiseRunsMerged += merged
		switch {
		case len(ss) > 0:
			b.stats.FromSightings++
		case who.fallback != 0:
			b.stats.FromPeopleRecords++
		default:
			b.stats.NoAddress++
		}
		if len(stays) > 0 {
			b.stats.Moves += len(stays) - 1
			switch ending {
			case endDeath:
				b.stats.EndedAtDeath++
			case endMovedAway:
				b.stats.EndedMovedAway++
			default:
				b.stats.OpenAtEnd++
			}
		}
		first := firstSeen(&facts, stays, r)
		rw.SetString("resident_id", id)
		rw.SetString("given_name", who.given)
		rw.SetString("family_name", who.family)
		if who.birth != contract.NoDay {
			rw.SetDate("date_of_birth", who.birth)
		}
		if who.sex != "" {
			rw.SetCode("sex", who.sex)
		}
		rw.SetCode("ethnic_group", who.eth)
		rw.SetCode("disability", who.dis)
		rw.SetDate("first_seen_date", first)
		if who.death != contract.NoDay {
			rw.SetDate("date_of_death", who.death)
			if who.drec != contract.NoDay {
				rw.SetDate("death_recorded_date", who.drec)
			}
		}
		if err := rw.WriteRow(); err != nil {
			b.err = fmt.Errorf("assemble: resident %s: %w", id, err)
			return b
		}
		b.nres++
		for _, s := range stays {
			sw.SetString("resident_id", id)
			sw.SetInt("uprn", s.uprn)
			sw.SetDate("start_date", s.start)
			if s.end != contract.NoDay {
				sw.SetDate("end_date", s.end)
			}
			if err := sw.WriteRow(); err != nil {
				b.err = fmt.Errorf("assemble: residence of %s: %w", id, err)
				return b
			}
			b.nstays++
		}
		b.stats.Stays += len(stays)
	}
	return b
}

// firstSeen returns the first day the person appears: the earliest of any
// row's date and the first stay's start (which may be the birth); with
// neither, the date of birth when it falls within the history, else the
// history's first day.
func firstSeen(p *personFacts, stays []stay, r rules) contract.Day {
	d := p.first
	if len(stays) > 0 && (d == contract.NoDay || stays[0].start < d) {
		d = stays[0].start
	}
	if d == contract.NoDay {
		if p.birth != contract.NoDay && p.birth >= r.historyStart {
			return p.birth
		}
		return r.historyStart
	}
	return d
}
