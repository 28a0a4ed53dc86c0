package core

import (
	"context"
	"fmt"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// LinkQueue returns a page of the linkage clerical review queue (ids and
// weights, no personal details) and its counts, audited as a read of
// linkage/review.
func (c *Core) LinkQueue(ctx context.Context, a Actor, q store.LinkQueueQuery) ([]store.LinkPair, store.LinkQueueCounts, error) {
	if err := c.require(a, auth.LinkageReview); err != nil {
		return nil, store.LinkQueueCounts{}, err
	}
	if err := c.record(ctx, a, audit.Read, "linkage/review"); err != nil {
		return nil, store.LinkQueueCounts{}, err
	}
	ps, n, err := c.st.LinkQueue(ctx, q)
	if err != nil {
		return nil, store.LinkQueueCounts{}, fmt.Errorf("read the review queue: %w", err)
	}
	return ps, n, nil
}

// LinkCounts returns the review queue's counts (no audit: counts only).
func (c *Core) LinkCounts(ctx context.Context, a Actor) (store.LinkQueueCounts, error) {
	if err := c.require(a, auth.LinkageReview); err != nil {
		return store.LinkQueueCounts{}, err
	}
	_, n, err := c.st.LinkQueue(ctx, store.LinkQueueQuery{Limit: 1})
	if err != nil {
		return store.LinkQueueCounts{}, fmt.Errorf("read the review queue: %w", err)
	}
	return n, nil
}

// LinkPair returns a pair of the review queue with the two records'
// personal details, audited as a read of linkage/pair/ID.
func (c *Core) LinkPair(ctx context.Context, a Actor, id int64) (store.LinkPairView, error) {
	if err := c.require(a, auth.LinkageReview); err != nil {
		return store.LinkPairView{}, err
	}
	wait := c.submit(ctx, a, audit.Read, fmt.Sprintf("linkage/pair/%d", id))
	v, err := c.st.LinkPair(ctx, id)
	if werr := wait(); werr != nil {
		return store.LinkPairView{}, werr
	}
	if err != nil {
		return store.LinkPairView{}, fmt.Errorf("linkage pair %d: %w", id, err)
	}
	return v, nil
}

// NextLinkPair returns the first undecided pair after position after (ids
// only; ErrNotFound when every pair is decided).
func (c *Core) NextLinkPair(ctx context.Context, a Actor, after int) (store.LinkPair, error) {
	if err := c.require(a, auth.LinkageReview); err != nil {
		return store.LinkPair{}, err
	}
	p, err := c.st.NextLinkPair(ctx, after)
	if err != nil {
		return store.LinkPair{}, fmt.Errorf("next linkage pair: %w", err)
	}
	return p, nil
}

// DecideLinkPair records the actor's decision on a pair, audited as
// link_accept or link_reject.
func (c *Core) DecideLinkPair(ctx context.Context, a Actor, id int64, v store.LinkVerdict) (store.LinkDecision, error) {
	if err := c.require(a, auth.LinkageReview); err != nil {
		return store.LinkDecision{}, err
	}
	action := audit.LinkAccept
	if v == store.LinkReject {
		action = audit.LinkReject
	}
	if err := c.record(ctx, a, action, fmt.Sprintf("linkage/pair/%d", id)); err != nil {
		return store.LinkDecision{}, err
	}
	d, err := c.st.DecideLinkPair(ctx, id, v, a.UserID, a.Name)
	if err != nil {
		return store.LinkDecision{}, fmt.Errorf("decide linkage pair %d: %w", id, err)
	}
	return d, nil
}

// ImportLinkReview loads a clerical review queue with the records'
// details, audited as linkage.import.
func (c *Core) ImportLinkReview(ctx context.Context, a Actor, imp store.LinkReviewImport) (store.LinkQueueCounts, error) {
	if err := c.require(a, auth.LinkageLoad); err != nil {
		return store.LinkQueueCounts{}, err
	}
	if err := c.record(ctx, a, audit.LinkageImport, "linkage/review"); err != nil {
		return store.LinkQueueCounts{}, err
	}
	n, err := c.st.ImportLinkReview(ctx, imp)
	if err != nil {
		return store.LinkQueueCounts{}, fmt.Errorf("load the review queue: %w", err)
	}
	return n, nil
}

// LinkDecisions returns every decision made on the review queue, audited
// as linkage.export.
func (c *Core) LinkDecisions(ctx context.Context, a Actor) ([]store.LinkDecision, error) {
	if err := c.require(a, auth.LinkageLoad); err != nil {
		return nil, err
	}
	if err := c.record(ctx, a, audit.LinkageExport, "linkage/decisions"); err != nil {
		return nil, err
	}
	ds, err := c.st.LinkDecisions(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the decisions: %w", err)
	}
	return ds, nil
}
