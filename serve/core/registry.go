package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"caserisk/serve/api/champion"
	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// promoteMu serialises registrations and promotions of one process, so two
// registrations of the same bytes give one version.
var promoteMu sync.Mutex

// Models lists the registered models of a target ("" for both), without
// their artifacts.
func (c *Core) Models(ctx context.Context, a Actor, t store.Target) ([]store.Model, error) {
	if err := c.require(a, auth.ModelsRead); err != nil {
		return nil, err
	}
	ms, err := c.st.Models(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	return ms, nil
}

// Model returns one registered model with its artifact.
func (c *Core) Model(ctx context.Context, a Actor, t store.Target, version int) (store.Model, error) {
	if err := c.require(a, auth.ModelsRead); err != nil {
		return store.Model{}, err
	}
	m, err := c.st.Model(ctx, t, version)
	if err != nil {
		return store.Model{}, fmt.Errorf("read %s model v%d: %w", t, version, err)
	}
	return m, nil
}

// ChampionVersions returns each target's champion version.
func (c *Core) ChampionVersions(ctx context.Context, a Actor) (map[store.Target]int, error) {
	if err := c.require(a, auth.ModelsRead); err != nil {
		return nil, err
	}
	return c.st.ChampionVersions(ctx)
}

// Register adds a model to the registry as a candidate, audited as
// model.register. The artifact must load and predict nm.Target (else
// ErrArtifact) with valid bands; the same bytes already registered for the
// target give the existing version with created false, and nothing is
// written.
func (c *Core) Register(ctx context.Context, a Actor, nm store.NewModel) (m store.Model, created bool, err error) {
	if err := c.require(a, auth.ModelsPromote); err != nil {
		return store.Model{}, false, err
	}
	if _, err := store.ParseTarget(string(nm.Target)); err != nil {
		return store.Model{}, false, err
	}
	if err := champion.ValidateBands(nm.Bands); err != nil {
		return store.Model{}, false, &store.FieldError{Field: "bands", Msg: err.Error()}
	}
	if _, err := c.load(nm.Target, nm.Artifact); err != nil {
		return store.Model{}, false, fmt.Errorf("%w: %w", ErrArtifact, err)
	}
	promoteMu.Lock()
	defer promoteMu.Unlock()
	sum := sha256.Sum256(nm.Artifact)
	hexSum := hex.EncodeToString(sum[:])
	existing, err := c.st.Models(ctx, nm.Target)
	if err != nil {
		return store.Model{}, false, fmt.Errorf("list models: %w", err)
	}
	for _, e := range existing {
		if e.SHA256 == hexSum {
			return e, false, nil
		}
	}
	if nm.RegisteredBy == "" {
		nm.RegisteredBy = a.Name
	}
	// The row names the next version; the store assigns it in the same
	// transaction, so the audit row is written first with the target only
	// when the version is not yet known.
	if err := c.record(ctx, a, audit.ModelRegister, fmt.Sprintf("model/%s/%d", nm.Target, nextVersion(existing))); err != nil {
		return store.Model{}, false, err
	}
	m, err = c.st.RegisterModel(ctx, nm)
	if err != nil {
		return store.Model{}, false, fmt.Errorf("register %s model: %w", nm.Target, err)
	}
	return m, true, nil
}

func nextVersion(ms []store.Model) int {
	v := 0
	for _, m := range ms {
		v = max(v, m.Version)
	}
	return v + 1
}

// Promote makes a registered version its target's champion, audited as
// model.promote: the artifact is loaded and checked first (ErrArtifact when
// it does not load), then the registry is updated, then Config.OnPromote
// swaps the champion in. Promoting the champion again is a no-op.
func (c *Core) Promote(ctx context.Context, a Actor, t store.Target, version int) (store.Model, error) {
	if err := c.require(a, auth.ModelsPromote); err != nil {
		return store.Model{}, err
	}
	promoteMu.Lock()
	defer promoteMu.Unlock()
	m, err := c.st.Model(ctx, t, version)
	if err != nil {
		return store.Model{}, fmt.Errorf("read %s model v%d: %w", t, version, err)
	}
	ch, err := champion.Load(c.load, m)
	if err != nil {
		return store.Model{}, fmt.Errorf("%w: %w", ErrArtifact, err)
	}
	if err := c.record(ctx, a, audit.ModelPromote, fmt.Sprintf("model/%s/%d", t, version)); err != nil {
		return store.Model{}, err
	}
	promoted, err := c.st.PromoteModel(ctx, t, version, a.Name)
	if err != nil {
		return store.Model{}, fmt.Errorf("promote %s model v%d: %w", t, version, err)
	}
	if c.cfg.OnPromote != nil {
		c.cfg.OnPromote(ch)
	}
	return promoted, nil
}

// VersionTarget returns the one target that has version v registered, for
// a promotion that names only a version.
func (c *Core) VersionTarget(ctx context.Context, a Actor, v int) (store.Target, error) {
	ms, err := c.Models(ctx, a, "")
	if err != nil {
		return "", err
	}
	var found []store.Target
	for _, m := range ms {
		if m.Version == v {
			found = append(found, m.Target)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("no model version %d: %w", v, store.ErrNotFound)
	}
	return "", &store.FieldError{Field: "target",
		Msg: fmt.Sprintf("version %d is registered for %d targets: name the target (complex_case or tenancy_fraud)", v, len(found))}
}
