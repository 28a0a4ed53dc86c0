package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"caserisk/features/link/review"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// The record linkage's clerical review queue (issue #10): a data steward
// sees the pairs of person records the linkage was least sure of, one pair
// at a time side by side, and decides whether they are one person. The
// queue is loaded with 'caserisk link review import' and the decisions
// leave with 'caserisk link review export'. The records' details are
// personal data: they are shown on the pair page only, to a role with the
// linkage-review purpose, and each view and decision is audited (with ids
// only) before it happens.

const linkageReviewPath = "/linkage/review"

type linkQueueRow struct {
	store.LinkPair
	ASource, BSource string
}

type linkQueueData struct {
	Counts     store.LinkQueueCounts
	Rows       []linkQueueRow
	From, To   int
	Shown      int // pairs the filter selects
	Undecided  bool
	Prev, Next string
	// NextPair is the first undecided pair's address; "" when none.
	NextPair string
}

// linkageWhat names the review queue on a forbidden page.
const linkageWhat = "the record linkage review queue"

// linkageAllowed answers with a forbidden page, before the request's form
// is read, when the signed-in role may not review; the core checks again
// for every read and decision.
func (p *pages) linkageAllowed(c *gin.Context) bool {
	if !p.policy.Allows(principalOf(c).Role, auth.LinkageReview) {
		p.forbidden(c, linkageWhat)
		return false
	}
	return true
}

// linkageQueue lists the review queue by position (the most uncertain
// first) with the counts decided and left, and what the queue leaves to the
// model. It shows ids, weights and decisions only, no person's details.
func (p *pages) linkageQueue(c *gin.Context) {
	if !p.linkageAllowed(c) {
		return
	}
	offset, err := strconv.Atoi(c.DefaultQuery("offset", "0"))
	if err != nil || offset < 0 || offset > 10_000_000 {
		p.errorPage(c, http.StatusBadRequest, "Page not found", "The page number in the address is not valid.")
		return
	}
	undecided := c.Query("all") != "1"
	ctx := c.Request.Context()
	pairs, counts, err := p.core.LinkQueue(ctx, p.actor(c), store.LinkQueueQuery{Undecided: undecided, Offset: offset, Limit: p.o.QueuePage})
	if err != nil {
		p.coreError(c, "read the review queue", linkageWhat, err)
		return
	}
	d := linkQueueData{Counts: counts, Undecided: undecided, From: offset + 1, To: offset + len(pairs), Shown: counts.Pairs}
	if undecided {
		d.Shown = counts.Left()
	}
	for _, lp := range pairs {
		d.Rows = append(d.Rows, linkQueueRow{LinkPair: lp, ASource: serviceText(lp.A.Source), BSource: serviceText(lp.B.Source)})
	}
	page := func(off int) string {
		v := url.Values{"offset": {strconv.Itoa(off)}}
		if !undecided {
			v.Set("all", "1")
		}
		return linkageReviewPath + "?" + v.Encode()
	}
	if offset > 0 {
		d.Prev = page(max(0, offset-p.o.QueuePage))
	}
	if offset+len(pairs) < d.Shown {
		d.Next = page(offset + len(pairs))
	}
	if counts.Left() > 0 {
		d.NextPair = linkageReviewPath + "/next"
	}
	flash := ""
	if c.Query("done") == "1" {
		flash = "Every pair in the queue has a decision."
	}
	p.render(c, http.StatusOK, "linkage_queue", view{Title: "Linkage review", Flash: flash, Data: d})
}

// linkageNext sends the reviewer to the first undecided pair after the
// position ?after= (wrapping round to the start), or back to the queue when
// every pair is decided.
func (p *pages) linkageNext(c *gin.Context) {
	if !p.linkageAllowed(c) {
		return
	}
	after, err := strconv.Atoi(c.DefaultQuery("after", "0"))
	if err != nil || after < 0 {
		after = 0
	}
	lp, err := p.core.NextLinkPair(c.Request.Context(), p.actor(c), after)
	if errors.Is(err, store.ErrNotFound) {
		c.Redirect(http.StatusSeeOther, linkageReviewPath+"?done=1")
		return
	}
	if err != nil {
		p.coreError(c, "find the next pair to review", linkageWhat, err)
		return
	}
	to := fmt.Sprintf("%s/pairs/%d", linkageReviewPath, lp.ID)
	if v := c.Query("decided"); v == string(store.LinkAccept) || v == string(store.LinkReject) {
		to += "?decided=" + v
	}
	c.Redirect(http.StatusSeeOther, to)
}

// linkDetail is one row of the side-by-side view; Differ marks two
// recorded values that are not the same.
type linkDetail struct {
	Label, A, B string
	Differ      bool
}

// linkComparison is one compared field in words.
type linkComparison struct {
	Field, Level, Text, Evidence string
	Weight                       float64
}

type linkPairData struct {
	Pair             store.LinkPair
	Total            int
	Counts           store.LinkQueueCounts
	ASource, BSource string
	AFound, BFound   bool
	Details          []linkDetail
	Comparisons      []linkComparison
	Action           string
}

// linkagePair shows one pair side by side with each field's comparison
// and the decision form. The view is audited before it is shown.
func (p *pages) linkagePair(c *gin.Context) {
	if !p.linkageAllowed(c) {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		p.notFound(c, "review pair")
		return
	}
	ctx := c.Request.Context()
	v, err := p.core.LinkPair(ctx, p.actor(c), id)
	if errors.Is(err, store.ErrNotFound) {
		p.notFound(c, "review pair")
		return
	}
	if err != nil {
		p.coreError(c, "read the pair", linkageWhat, err)
		return
	}
	counts, err := p.core.LinkCounts(ctx, p.actor(c))
	if err != nil {
		p.coreError(c, "read the review queue", linkageWhat, err)
		return
	}
	d := linkPairData{Pair: v.Pair, Counts: counts, Total: counts.Pairs,
		ASource: serviceText(v.Pair.A.Source), BSource: serviceText(v.Pair.B.Source),
		AFound: v.A != nil, BFound: v.B != nil,
		Action: fmt.Sprintf("%s/pairs/%d", linkageReviewPath, id)}
	d.Details = linkDetails(v.A, v.B)
	for _, f := range v.Pair.Fields {
		cmp := linkComparison{Field: sentence(review.FieldText(f.Field)), Level: f.Level, Text: review.LevelText(f.Field, f.Level), Weight: f.Weight}
		switch {
		case f.Weight > 0:
			cmp.Evidence = "For one person"
		case f.Weight < 0:
			cmp.Evidence = "Against"
		default:
			cmp.Evidence = "None"
		}
		d.Comparisons = append(d.Comparisons, cmp)
	}
	flash := ""
	switch c.Query("decided") {
	case string(store.LinkAccept):
		flash = "Decision recorded: the last pair is one person."
	case string(store.LinkReject):
		flash = "Decision recorded: the last pair is two people."
	}
	p.render(c, http.StatusOK, "linkage_pair", view{Title: "Are these records one person?", Flash: flash, Data: d})
}

// linkDetails lays two records' details side by side.
func linkDetails(a, b *store.LinkPerson) []linkDetail {
	labels := []string{"Given name", "Family name", "Date of birth", "Sex", "Address", "Postcode", "UPRN", "National Insurance number", "Date of death"}
	values := func(p *store.LinkPerson) []string {
		if p == nil {
			return make([]string, len(labels))
		}
		return []string{p.GivenName, p.FamilyName, p.DateOfBirth, p.Sex, p.Address, p.Postcode, p.UPRN, p.NINumber, p.DateOfDeath}
	}
	va, vb := values(a), values(b)
	var out []linkDetail
	for i, l := range labels {
		if l == "Date of death" && va[i] == "" && vb[i] == "" {
			continue
		}
		out = append(out, linkDetail{Label: l, A: va[i], B: vb[i], Differ: va[i] != "" && vb[i] != "" && va[i] != vb[i]})
	}
	return out
}

// linkageDecide records the reviewer's decision on a pair (accept: one
// person; reject: two people) or skips it, then goes to the next pair. A
// decision is audited before it is stored.
func (p *pages) linkageDecide(c *gin.Context) {
	if !p.linkageAllowed(c) {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		p.notFound(c, "review pair")
		return
	}
	// The pair's position only steers the reviewer to the next pair; the
	// decision is keyed by the id.
	pos, err := strconv.Atoi(c.PostForm("position"))
	if err != nil || pos < 0 {
		pos = 0
	}
	next := fmt.Sprintf("%s/next?after=%d", linkageReviewPath, pos)
	choice := c.PostForm("decision")
	if choice == "skip" {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	verdict, err := store.ParseLinkVerdict(choice)
	if err != nil {
		p.errorPage(c, http.StatusBadRequest, "Choose a decision", "Go back and choose accept (one person), reject (two people) or skip.")
		return
	}
	_, err = p.core.DecideLinkPair(c.Request.Context(), p.actor(c), id, verdict)
	if errors.Is(err, store.ErrNotFound) {
		p.notFound(c, "review pair")
		return
	}
	if err != nil {
		p.coreError(c, "record the decision", linkageWhat, err)
		return
	}
	c.Redirect(http.StatusSeeOther, next+"&decided="+string(verdict))
}
