package store

import (
	"cmp"
	"slices"
	"strings"

	"caserisk/features/link/assemble"
	"caserisk/features/link/review"
)

// LinkReviewFrom turns a clerical review queue (features/link/review), its
// summary (nil when the queue came without one) and its records' details
// into the form ImportLinkReview loads, the details sorted by source and
// record id.
func LinkReviewFrom(pairs []review.Pair, summary *review.Summary, people map[assemble.Key]review.Person) LinkReviewImport {
	key := func(k assemble.Key) LinkKey { return LinkKey{Source: k.Source, RecordID: k.RecordID} }
	imp := LinkReviewImport{Pairs: make([]LinkPair, len(pairs))}
	if s := summary; s != nil {
		imp.Summary = &LinkReviewSummary{Size: s.Size, NearThreshold: s.NearThreshold, Decisions: s.Decisions,
			AlreadyReviewed: s.AlreadyReviewed, ByModel: s.ByModel, ByModelLinked: s.ByModelLinked,
			ByModelApart: s.ByModelApart, ByModelPairs: s.ByModelPairs}
	}
	for i := range pairs {
		p := &pairs[i]
		lp := LinkPair{A: key(p.A), B: key(p.B), Weight: p.Weight, Prob: p.Prob, Linked: p.Linked}
		for _, f := range p.Fields {
			lp.Fields = append(lp.Fields, LinkField{Field: f.Name, Level: f.Level, Weight: f.Weight})
		}
		imp.Pairs[i] = lp
	}
	keys := make([]assemble.Key, 0, len(people))
	for k := range people {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b assemble.Key) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.RecordID, b.RecordID))
	})
	for _, k := range keys {
		p := people[k]
		imp.People = append(imp.People, LinkPerson{Key: key(k), GivenName: p.GivenName, FamilyName: p.FamilyName,
			DateOfBirth: p.DateOfBirth, Sex: p.Sex, Address: p.Address, Postcode: p.Postcode, UPRN: p.UPRN,
			NINumber: p.NINumber, DateOfDeath: p.DateOfDeath})
	}
	return imp
}
