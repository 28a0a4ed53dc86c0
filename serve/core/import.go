package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"caserisk/models/artifact"
	"caserisk/serve/api/champion"
	"caserisk/serve/store"
)

// Imported reports what Import did with one artifact file.
type Imported struct {
	Path     string
	Target   store.Target
	Version  int
	New      bool // registered now (false: the registry already held it)
	Promoted bool // made champion because its target had none
}

// ImportModels registers the model artifacts (*.json) in dir that the registry
// does not hold yet (compared by SHA-256 of the file), as candidates for
// the target each artifact names, with the given band thresholds (zero
// bands: thresholds relative to the model's training label rate, see
// store.DefaultBands). A target
// that has no champion at all gets the newest version imported from dir as
// its champion, so a fresh service can score; otherwise the registry
// decides, and promotion stays a deliberate act (caserisk models promote).
// A file that is not a valid caserisk model is an error naming it, and
// nothing after it is imported.
//
// Each registration and promotion goes through Register and Promote, so it
// is checked and audited as any other (model.register, model.promote).
func (c *Core) ImportModels(ctx context.Context, a Actor, dir string, bands store.Bands) ([]Imported, error) {
	if bands != (store.Bands{}) {
		if err := champion.ValidateBands(bands); err != nil {
			return nil, err
		}
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("import models from %s: %w", dir, err)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("import models: %w", err)
	}
	sort.Strings(paths)
	held := map[string]store.Model{}
	ms, err := c.Models(ctx, a, "")
	if err != nil {
		return nil, fmt.Errorf("import models: list registry: %w", err)
	}
	for _, m := range ms {
		held[m.SHA256] = m
	}
	var out []Imported
	newest := map[store.Target]int{}
	for _, p := range paths {
		if filepath.Ext(p) != ".json" || filepath.Base(p)[0] == '.' {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return out, fmt.Errorf("import models: %w", err)
		}
		sum := sha256.Sum256(b)
		if m, ok := held[hex.EncodeToString(sum[:])]; ok {
			out = append(out, Imported{Path: p, Target: m.Target, Version: m.Version})
			continue
		}
		am, err := artifact.Parse(b)
		if err != nil {
			return out, fmt.Errorf("import model %s: %w", p, err)
		}
		t, err := champion.TargetOf(am.Target)
		if err != nil {
			return out, fmt.Errorf("import model %s: %w", p, err)
		}
		nm, err := store.ModelFromFile(p, t, bands, a.Name)
		if err != nil {
			return out, fmt.Errorf("import models: %w", err)
		}
		m, _, err := c.Register(ctx, a, nm)
		if err != nil {
			return out, fmt.Errorf("import model %s: %w", p, err)
		}
		out = append(out, Imported{Path: p, Target: t, Version: m.Version, New: true})
		newest[t] = max(newest[t], m.Version)
	}
	for t, v := range newest {
		if _, err := c.st.Champion(ctx, t); !errors.Is(err, store.ErrNotFound) {
			if err != nil {
				return out, fmt.Errorf("import models: read %s champion: %w", t, err)
			}
			continue
		}
		if _, err := c.Promote(ctx, a, t, v); err != nil {
			return out, fmt.Errorf("import models: promote %s v%d: %w", t, v, err)
		}
		for i := range out {
			if out[i].Target == t && out[i].Version == v {
				out[i].Promoted = true
			}
		}
	}
	return out, nil
}
