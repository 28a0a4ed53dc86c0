package core_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/models/artifact/artifacttest"
	"caserisk/serve/api/champion"
	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// stump returns a valid one-split model file for target.
func stump(t *testing.T, target string, leaf float64) []byte {
	t.Helper()
	b, err := artifacttest.StumpJSON(target, leaf)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newCore(t *testing.T) (*core.Core, store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "core.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, err := core.New(core.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, st
}

func actions(t *testing.T, st store.Store, action string) []audit.Entry {
	t.Helper()
	es, err := st.Audit(context.Background(), store.AuditFilter{Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestRegisterValidatesAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	c, st := newCore(t)
	op := core.Operator("tester")
	nm := store.NewModel{Target: store.ComplexCase, Path: "m.json", Artifact: stump(t, "complex_case", 1), Bands: store.Bands{High: 0.5, Medium: 0.2}}
	m, created, err := c.Register(ctx, op, nm)
	if err != nil || !created || m.Version != 1 {
		t.Fatalf("first registration: %+v %v %v", m, created, err)
	}
	again, created, err := c.Register(ctx, op, nm)
	if err != nil || created || again.Version != 1 {
		t.Fatalf("the same bytes again: %+v created %v, %v; want v1 unchanged", again, created, err)
	}
	if n := len(actions(t, st, audit.ModelRegister)); n != 1 {
		t.Fatalf("%d model.register rows, want 1", n)
	}
	// A model that predicts the other target, or does not load, is refused.
	wrong := nm
	wrong.Artifact = stump(t, "tenancy_fraud", 1)
	if _, _, err := c.Register(ctx, op, wrong); !errors.Is(err, core.ErrArtifact) {
		t.Fatalf("a fraud model registered as complex_case: %v, want ErrArtifact", err)
	}
	broken := nm
	broken.Artifact = []byte(`{"format":"caserisk-model"}`)
	if _, _, err := c.Register(ctx, op, broken); !errors.Is(err, core.ErrArtifact) {
		t.Fatalf("a broken model: %v, want ErrArtifact", err)
	}
	// Roles without the permission are refused whatever the front end.
	cw := core.Actor{UserID: 9, Name: "cw", Role: auth.Caseworker}
	if _, _, err := c.Register(ctx, cw, nm); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("a caseworker registered a model: %v", err)
	}
}

func TestPromoteLoadsFirstAndAudits(t *testing.T) {
	ctx := context.Background()
	c, st := newCore(t)
	op := core.Operator("tester")
	// A stored artifact that does not load (written past the core) cannot
	// become champion.
	bad, err := st.RegisterModel(ctx, store.NewModel{Target: store.TenancyFraud, Path: "bad.json", Artifact: []byte(`{}`),
		Bands: store.Bands{High: 0.5, Medium: 0.2}, RegisteredBy: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Promote(ctx, op, store.TenancyFraud, bad.Version); !errors.Is(err, core.ErrArtifact) {
		t.Fatalf("promoting a broken artifact: %v", err)
	}
	if len(actions(t, st, audit.ModelPromote)) != 0 {
		t.Fatal("a refused promotion was audited as done")
	}
	var swapped []int
	c, err = core.New(core.Config{Store: st, OnPromote: func(ch *champion.Champion) { swapped = append(swapped, ch.Version) }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m, _, err := c.Register(ctx, op, store.NewModel{Target: store.TenancyFraud, Path: "ok.json", Artifact: stump(t, "tenancy_fraud", 1),
		Bands: store.Bands{High: 0.5, Medium: 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Promote(ctx, op, store.TenancyFraud, m.Version); err != nil {
		t.Fatal(err)
	}
	es := actions(t, st, audit.ModelPromote)
	if len(es) != 1 || es[0].Role != string(auth.Operator) || es[0].Resource != "model/tenancy_fraud/2" {
		t.Fatalf("promotion audit rows %+v", es)
	}
	if len(swapped) != 1 || swapped[0] != m.Version {
		t.Fatalf("champions swapped in: %v, want [%d]", swapped, m.Version)
	}
}

func TestImportModels(t *testing.T) {
	ctx := context.Background()
	c, st := newCore(t)
	op := core.Operator("test")
	dir := t.TempDir()
	for name, b := range map[string][]byte{
		"cc1.json": stump(t, "label_complex_case", 1),
		"cc2.json": stump(t, "complex_case", 2),
		"tf.json":  stump(t, "tenancy_fraud", 1),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bands := store.Bands{High: 0.5, Medium: 0.2}
	got, err := c.ImportModels(ctx, op, dir, bands)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("imported %+v", got)
	}
	ch, err := st.Champion(ctx, store.ComplexCase)
	if err != nil || ch.Version != 2 {
		t.Fatalf("complex_case champion %+v %v: want the newest import, v2", ch, err)
	}
	// A second import registers nothing and changes no champion.
	again, err := c.ImportModels(ctx, op, dir, bands)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range again {
		if im.New || im.Promoted {
			t.Fatalf("re-import changed the registry: %+v", im)
		}
	}
	if ms, _ := st.Models(ctx, ""); len(ms) != 3 {
		t.Fatalf("%d models after re-import, want 3", len(ms))
	}
	if n := len(actions(t, st, audit.ModelRegister)); n != 3 {
		t.Fatalf("%d model.register rows, want 3", n)
	}
	// A broken file is an error naming it.
	if err := os.WriteFile(filepath.Join(dir, "zz-broken.json"), []byte(`{"format":"caserisk-model"`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImportModels(ctx, op, dir, bands); err == nil || !strings.Contains(err.Error(), "zz-broken.json") {
		t.Fatalf("err = %v, want one naming the broken file", err)
	}
}

func TestForbiddenWithoutPurpose(t *testing.T) {
	ctx := context.Background()
	c, st := newCore(t)
	ds := core.Actor{UserID: 3, Name: "ds", Role: auth.DataScientist}
	if _, err := c.Resident(ctx, ds, "R1", core.TimelineQuery{}); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("a data scientist read a resident: %v", err)
	}
	if _, err := c.ResidentRisk(ctx, ds, "R1", false); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("a data scientist read a resident's risk: %v", err)
	}
	cw := core.Actor{UserID: 4, Name: "cw", Role: auth.Caseworker}
	if _, _, err := c.Queue(ctx, cw, core.QueueQuery{Kind: store.TenancyFraud}); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("a caseworker read the fraud queue: %v", err)
	}
	if _, err := c.Audit(ctx, cw, store.AuditFilter{}); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("a caseworker read the audit log: %v", err)
	}
	if es := actions(t, st, audit.Read); len(es) != 0 {
		t.Fatalf("refused reads were audited as reads: %+v", es)
	}
	// Reading the log is itself audited.
	ad := core.Actor{UserID: 5, Name: "ad", Role: auth.Admin}
	if _, err := c.Audit(ctx, ad, store.AuditFilter{}); err != nil {
		t.Fatal(err)
	}
	if es := actions(t, st, audit.Read); len(es) != 1 || es[0].Resource != "audit" || es[0].Purpose != "service administration" {
		t.Fatalf("audit read rows %+v", es)
	}
}
