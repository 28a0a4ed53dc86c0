package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"caserisk/features/contract"
	"caserisk/features/link/review"
	"caserisk/serve/audit"
	"caserisk/serve/store"
)

// linkBorough generates a small borough with raw extracts once per test.
func linkBorough(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "borough")
	if code, out := runOut(t, "generate", "--residents", "1500", "--seed", "11", "--as-of", "2025-01-01", "--out", dir, "--raw"); code != 0 {
		t.Fatalf("generate --raw: exit %d: %s", code, out)
	}
	return dir
}

// linkedQueue links a small generated borough and returns its raw
// directory, the review queue's path and the queue.
func linkedQueue(t *testing.T) (raw, queuePath string, queue []review.Pair) {
	t.Helper()
	raw = filepath.Join(linkBorough(t), "raw")
	out := filepath.Join(t.TempDir(), "linked")
	if code, o := runOut(t, "link", "--raw", raw, "--out", out); code != 0 {
		t.Fatalf("link: exit %d: %s", code, o)
	}
	queuePath = filepath.Join(out, linkageDir, "review.csv")
	queue, err := review.ReadQueue(queuePath)
	if err != nil {
		t.Fatal(err)
	}
	return raw, queuePath, queue
}

func TestLinkCommand(t *testing.T) {
	b := linkBorough(t)
	raw, oracle := filepath.Join(b, "raw"), filepath.Join(b, "oracle", "links.csv")
	out := filepath.Join(t.TempDir(), "linked")

	code, stdout := runOut(t, "link", "--raw", raw, "--out", out, "--oracle", oracle, "--json")
	if code != 0 {
		t.Fatalf("link: exit %d: %s", code, stdout)
	}
	var s linkSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("link --json: %v: %s", err, stdout)
	}
	if s.Evaluation == nil || s.Stats == nil {
		t.Fatalf("link --json with --oracle: no evaluation or statistics: %s", stdout)
	}
	// Floors well below the bars measured at 240,000 residents: a small
	// borough has few hard cases, so these catch breakage, not tuning.
	if m := s.Evaluation; m.Precision < 0.98 || m.Recall < 0.95 {
		t.Errorf("pairwise precision %.4f, recall %.4f: want ≥ 0.98 and ≥ 0.95", m.Precision, m.Recall)
	}
	rep, err := contract.ValidateDir(context.Background(), out, contract.Default())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("the joined output breaks the contract: %+v", rep)
	}
	if r := s.Stats.Review; r.Size != 500 || r.Queued == 0 || r.Queued+r.ByModel+r.AlreadyReviewed != r.Decisions {
		t.Errorf("review queue summary %+v", r)
	}
	for _, name := range []string{"pairs.csv", "review.csv", "review.json", "model.json", "stats.json", "evaluation.json"} {
		if _, err := os.Stat(filepath.Join(out, linkageDir, name)); err != nil {
			t.Error(err)
		}
	}
	// Nothing personal in what link prints or in its pairs file.
	pairs, err := os.ReadFile(filepath.Join(out, linkageDir, "pairs.csv"))
	if err != nil {
		t.Fatal(err)
	}
	people, err := os.ReadFile(filepath.Join(raw, "council_tax_people.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(people)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:min(len(rows), 200)] {
		for _, v := range r[1:4] { // given, family, date of birth
			if len(v) > 3 && (strings.Contains(stdout, v) || bytes.Contains(pairs, []byte(","+v+","))) {
				t.Fatalf("link output holds a personal value from the people files")
			}
		}
	}

	// The true links join the same raw data into the same contract form.
	truthOut := filepath.Join(t.TempDir(), "truth")
	if code, o := runOut(t, "link", "--raw", raw, "--out", truthOut, "--links-from", oracle); code != 0 {
		t.Fatalf("link --links-from: exit %d: %s", code, o)
	}
	if rep, err := contract.ValidateDir(context.Background(), truthOut, contract.Default()); err != nil || !rep.OK() {
		t.Errorf("joined with the true links: %v %+v", err, rep)
	}
}

func TestLinkExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("threshold: 0.9\nno_such_key: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"missing raw", []string{"link", "--out", dir}, 2},
		{"missing out", []string{"link", "--raw", dir}, 2},
		{"unknown config key", []string{"link", "--raw", dir, "--out", dir, "--config", bad}, 2},
		{"links-from with config", []string{"link", "--raw", dir, "--out", dir, "--links-from", bad, "--config", bad}, 2},
		{"no raw files", []string{"link", "--raw", dir, "--out", filepath.Join(dir, "o")}, 1},
		{"config", []string{"link", "config"}, 0},
		{"review without queue", []string{"link", "review", "--raw", dir, "--decisions", bad}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, out := runOut(t, tt.args...); got != tt.want {
				t.Fatalf("caserisk %v: exit code %d, want %d: %s", tt.args, got, tt.want, out)
			}
		})
	}
}

func TestLinkReviewDecisionsAreKeptAndReused(t *testing.T) {
	raw, queuePath, queue := linkedQueue(t)
	if len(queue) < 2 {
		t.Skipf("the review queue holds %d pairs at this size; nothing to review", len(queue))
	}
	// One linked pair to reject and one unlinked pair to accept, sharing no record.
	rej, acc := -1, -1
	for i, p := range queue {
		if rej < 0 && p.Linked {
			rej = i
		}
	}
	for i, p := range queue {
		if acc < 0 && !p.Linked && i != rej && (rej < 0 || (p.A != queue[rej].A && p.A != queue[rej].B && p.B != queue[rej].A && p.B != queue[rej].B)) {
			acc = i
		}
	}
	if rej < 0 || acc < 0 {
		t.Skipf("the queue of %d pairs lacks a linked and an unlinked pair", len(queue))
	}
	// Answer the queue in order: an unknown answer is asked again; reject,
	// accept, skip the rest.
	var answers strings.Builder
	answers.WriteString("x\n")
	for i := range queue {
		switch i {
		case rej:
			answers.WriteString("r\n")
		case acc:
			answers.WriteString("accept\n")
		default:
			answers.WriteString("s\n")
		}
		if i >= max(rej, acc) {
			answers.WriteString("q\n")
			break
		}
	}
	decisions := filepath.Join(t.TempDir(), "decisions.csv")
	var shown bytes.Buffer
	if err := runReview(context.Background(), strings.NewReader(answers.String()), &shown, raw, queuePath, decisions, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(shown.String(), "2 decisions added") {
		t.Fatalf("review output: %s", shown.String())
	}
	data, err := os.ReadFile(decisions)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || !slices.Contains([]string{recs[1][4], recs[2][4]}, "reject") || !slices.Contains([]string{recs[1][4], recs[2][4]}, "accept") {
		t.Fatalf("decisions file: %q", recs)
	}
	// A second session does not ask about decided pairs again.
	shown.Reset()
	if err := runReview(context.Background(), strings.NewReader("q\n"), &shown, raw, queuePath, decisions, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(shown.String(), "(2 already decided)") {
		t.Fatalf("second review session: %s", shown.String())
	}

	// The next run honours them: the rejected pair is apart, the accepted one together.
	out2 := filepath.Join(t.TempDir(), "linked2")
	if code, o := runOut(t, "link", "--raw", raw, "--out", out2, "--decisions", decisions); code != 0 {
		t.Fatalf("link --decisions: exit %d: %s", code, o)
	}
	r, a := queue[rej], queue[acc]
	if together(t, out2, r.A.Source, r.A.RecordID, r.B.Source, r.B.RecordID) {
		t.Errorf("a rejected pair ended in one resident")
	}
	if !together(t, out2, a.A.Source, a.A.RecordID, a.B.Source, a.B.RecordID) {
		t.Errorf("an accepted pair ended in two residents")
	}
}

// together reports whether two raw records were joined into one resident,
// as OUT/linkage/links.csv records it.
func together(t *testing.T, out, sa, ra, sb, rb string) bool {
	t.Helper()
	f, err := os.Open(filepath.Join(out, linkageDir, "links.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var ida, idb string
	for _, r := range recs[1:] {
		switch {
		case r[0] == sa && r[1] == ra:
			ida = r[2]
		case r[0] == sb && r[1] == rb:
			idb = r[2]
		}
	}
	if ida == "" || idb == "" {
		t.Fatalf("links.csv lacks a record of the pair")
	}
	return ida == idb
}

// TestLinkReviewImportExport loads a queue into the store for the web app,
// records decisions there, and exports them in the form 'link --decisions'
// reads; nothing personal is printed, and both steps are audited.
func TestLinkReviewImportExport(t *testing.T) {
	raw, queuePath, queue := linkedQueue(t)
	if len(queue) == 0 {
		t.Skip("the review queue is empty at this size")
	}
	db := "sqlite://" + filepath.Join(t.TempDir(), "c.db")
	code, stdout := runOut(t, "link", "review", "import", "--db", db, "--raw", raw, "--queue", queuePath, "--by", "tester")
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf("imported %d pairs", len(queue))) {
		t.Fatalf("link review import: exit %d: %s", code, stdout)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	pairs, c, err := s.LinkQueue(ctx, store.LinkQueueQuery{})
	if err != nil || c.Pairs != len(queue) || c.Decided != 0 || c.Summary == nil || c.Summary.Decisions < c.Pairs {
		t.Fatalf("queue in the store: %+v, %v", c, err)
	}
	if !strings.Contains(stdout, "decisions are left as the model made them") {
		t.Errorf("link review import does not say what the queue leaves to the model: %s", stdout)
	}
	v, err := s.LinkPair(ctx, pairs[0].ID)
	if err != nil || v.A == nil || v.B == nil {
		t.Fatalf("the first pair's details were not imported: %+v, %v", v, err)
	}
	// Nothing personal printed.
	for _, p := range []*store.LinkPerson{v.A, v.B} {
		for _, val := range []string{p.GivenName, p.FamilyName, p.DateOfBirth, p.Address} {
			if len(val) > 3 && strings.Contains(stdout, val) {
				t.Fatal("link review import printed a personal value")
			}
		}
	}
	u, err := s.CreateUser(ctx, "steward", "data_steward")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DecideLinkPair(ctx, pairs[0].ID, store.LinkReject, u.ID, u.Name); err != nil {
		t.Fatal(err)
	}
	s.Close()

	dec := filepath.Join(t.TempDir(), "decisions.csv")
	code, stdout = runOut(t, "link", "review", "export", "--db", db, "--out", dec, "--by", "tester")
	if code != 0 || !strings.Contains(stdout, "wrote 1 decisions") {
		t.Fatalf("link review export: exit %d: %s", code, stdout)
	}
	ds, err := review.ReadDecisions(dec)
	if err != nil || len(ds) != 1 || ds[0].Accept || review.KeyOf(ds[0].A, ds[0].B) != queue[0].Key() {
		t.Fatalf("exported decisions %+v, %v (first pair %v)", ds, err, queue[0].Key())
	}
	// The interactive review reads the exported file: the pair is not asked again.
	var shown bytes.Buffer
	if err := runReview(ctx, strings.NewReader("q\n"), &shown, raw, queuePath, dec, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(shown.String(), "(1 already decided)") {
		t.Fatalf("review after export: %s", shown.String())
	}
	s, err = store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, action := range []string{audit.LinkageImport, audit.LinkageExport} {
		es, err := s.Audit(ctx, store.AuditFilter{Action: action, Resource: "linkage/"})
		if err != nil || len(es) != 1 || es[0].User != "tester" {
			t.Errorf("audit rows of the %s: %+v, %v", action, es, err)
		}
	}
	// Missing flags are usage errors.
	if code, _ := runOut(t, "link", "review", "import", "--db", db, "--raw", raw); code != 2 {
		t.Errorf("import without --queue: exit %d, want 2", code)
	}
	if code, _ := runOut(t, "link", "review", "export", "--db", db); code != 2 {
		t.Errorf("export without --out: exit %d, want 2", code)
	}
}
