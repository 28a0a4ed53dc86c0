package api

import (
	"context"
	"errors"
	"fmt"

	"caserisk/serve/api/champion"
	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// This file holds the read-only accessors and shared actions that the web
// pages (Config.Pages) use, so that pages and API apply one set of rules.

// ErrArtifact reports that a registered model's artifact does not load, so
// it cannot become champion.
var ErrArtifact = errors.New("artifact does not load")

// Store returns the service's store.
func (s *Server) Store() store.Store { return s.cfg.Store }

// Policy returns the purpose rules in force.
func (s *Server) Policy() auth.Policy { return s.cfg.Policy }

// Purpose returns the purpose written to the audit log for a role's access.
func Purpose(r auth.Role) string { return purposeOf(r) }

// Audit appends rec to the audit log through the service's audit writer and
// returns once it is stored; a read whose record fails must not be served.
func (s *Server) Audit(ctx context.Context, rec audit.Record) error {
	return s.audit.append(ctx, rec)
}

// Promote makes a registered version its target's champion: the artifact
// is loaded and checked first, then the registry is updated, then the
// in-memory champion is swapped; requests in flight finish with the model
// they started with. It returns an error wrapping store.ErrNotFound for an
// unknown version and ErrArtifact when the artifact does not load. The
// caller audits the action.
func (s *Server) Promote(ctx context.Context, t store.Target, version int, by string) (store.Model, error) {
	s.promoteMu.Lock()
	defer s.promoteMu.Unlock()
	m, err := s.cfg.Store.Model(ctx, t, version)
	if err != nil {
		return store.Model{}, fmt.Errorf("read %s model v%d: %w", t, version, err)
	}
	ch, err := champion.Load(s.cfg.Load, m)
	if err != nil {
		return store.Model{}, fmt.Errorf("%w: %w", ErrArtifact, err)
	}
	promoted, err := s.cfg.Store.PromoteModel(ctx, t, version, by)
	if err != nil {
		return store.Model{}, fmt.Errorf("promote %s model v%d: %w", t, version, err)
	}
	s.install(ch)
	return promoted, nil
}
