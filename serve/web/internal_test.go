package web

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"caserisk/models/artifact"
	"caserisk/models/metrics"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

func modelWith(raw string) store.Model {
	return store.Model{Version: 1, Stage: store.Candidate, Metrics: json.RawMessage(raw)}
}

// sessionStore opens an empty store with n users (ids 1..n) for the
// session and limit tests.
func sessionStore(t *testing.T, n int) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for i := range n {
		u, err := st.CreateUser(ctx, fmt.Sprintf("user%d", i+1), auth.Caseworker)
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != int64(i+1) {
			t.Fatalf("user %d has id %d", i+1, u.ID)
		}
	}
	return st
}

// newToken returns a fresh access token.
func newToken(t *testing.T) string {
	t.Helper()
	tok, err := auth.NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Secret
}

func TestSessionsExpire(t *testing.T) {
	st := sessionStore(t, 1)
	ctx := context.Background()
	start := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		steps []time.Duration // uses after sign-in, each checked
		alive []bool
	}{
		{"used within idle", []time.Duration{10 * time.Minute, 35 * time.Minute, 60 * time.Minute}, []bool{true, true, true}},
		{"idle too long", []time.Duration{31 * time.Minute}, []bool{false}},
		{"past the maximum though busy", []time.Duration{20 * time.Minute, 40 * time.Minute, 60 * time.Minute, 80 * time.Minute, 100 * time.Minute, 121 * time.Minute}, []bool{true, true, true, true, true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := start
			ss := newSessions(st, 30*time.Minute, 2*time.Hour, func() time.Time { return now })
			s, err := ss.create(ctx, newToken(t), auth.Principal{UserID: 1, Name: "u", Role: auth.Caseworker}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range tc.steps {
				now = start.Add(d)
				if _, ok, err := ss.get(ctx, s.id); ok != tc.alive[i] || err != nil {
					t.Fatalf("at +%s alive %v (%v), want %v", d, ok, err, tc.alive[i])
				}
			}
		})
	}
}

func TestSessionsEndAndIDs(t *testing.T) {
	st := sessionStore(t, 2)
	ctx := context.Background()
	ss := newSessions(st, time.Hour, time.Hour, time.Now)
	tokA := newToken(t)
	a, err := ss.create(ctx, tokA, auth.Principal{UserID: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ss.create(ctx, "", auth.Principal{UserID: 2}, &externalSession{idToken: "id.token"})
	if err != nil {
		t.Fatal(err)
	}
	if a.id == b.id || a.csrf == b.csrf || a.id == a.csrf || len(a.id) < 40 {
		t.Fatalf("session ids and CSRF tokens must be distinct random values: %q %q %q", a.id, b.id, a.csrf)
	}
	if got, ok, err := ss.get(ctx, a.id); !ok || err != nil || got.tokenHash != auth.HashToken(tokA) || got.csrf != a.csrf || got.ext != nil {
		t.Fatalf("token session read back as %+v (%v, %v)", got, ok, err)
	}
	if err := ss.end(ctx, a.id); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ss.get(ctx, a.id); ok {
		t.Fatal("an ended session is still live")
	}
	if got, ok, _ := ss.get(ctx, b.id); !ok || got.user.UserID != 2 || got.ext == nil || got.ext.idToken != "id.token" {
		t.Fatal("ending one session ended another, or a provider's session lost its ID token")
	}
}

// TestSessionsBounded: a user holds at most maxPerUser sessions (a new
// one ends their oldest); a full store ends the session unused longest
// and never refuses one. The store's bound is lowered to 40 here; the
// store's own tests check the same on PostgreSQL.
func TestSessionsBounded(t *testing.T) {
	const total = 40
	st := sessionStore(t, total+2)
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	ss := newSessions(st, time.Hour, 10*time.Hour, func() time.Time { return now })
	ss.bounds.Total = total
	var first []*session
	for i := range maxPerUser + 3 {
		now = now.Add(time.Second)
		s, err := ss.create(ctx, newToken(t), auth.Principal{UserID: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, s)
		if all, mine, err := ss.count(ctx, 1); mine != min(i+1, maxPerUser) || all != mine || err != nil {
			t.Fatalf("after %d sign-ins: %d sessions, %d of the user's (%v)", i+1, all, mine, err)
		}
	}
	for i, s := range first {
		if _, ok, _ := ss.get(ctx, s.id); ok != (i >= 3) {
			t.Errorf("session %d alive %v, want %v (the oldest end)", i, ok, i >= 3)
		}
	}
	// Fill the store with other users' sessions, then use the first
	// user's; the next sign-in ends the least recently used one, the
	// first of the others.
	var lru *session
	for u := int64(2); ; u++ {
		if all, _, _ := ss.count(ctx, 0); all >= total {
			break
		}
		now = now.Add(time.Millisecond)
		s, err := ss.create(ctx, newToken(t), auth.Principal{UserID: u}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if lru == nil {
			lru = s
		}
	}
	now = now.Add(2 * time.Minute)
	for _, s := range first[3:] {
		ss.get(ctx, s.id)
	}
	now = now.Add(time.Second)
	last, err := ss.create(ctx, newToken(t), auth.Principal{UserID: total + 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if all, _, _ := ss.count(ctx, 0); all != total {
		t.Errorf("%d sessions, want the bound %d", all, total)
	}
	if _, ok, _ := ss.get(ctx, last.id); !ok {
		t.Error("a sign-in into a full store was refused")
	}
	if _, ok, _ := ss.get(ctx, lru.id); ok {
		t.Error("the least recently used session survived a full store")
	}
	if _, ok, _ := ss.get(ctx, first[3].id); !ok {
		t.Error("a recently used session was ended")
	}
}

// TestSignInLimits: a user's attempts beyond the burst wait; a client's
// failed attempts beyond its burst wait; neither slows anyone else; two
// replicas count together. (The bound on the limiters held is the store's
// TestRateLimits.)
func TestSignInLimits(t *testing.T) {
	st := sessionStore(t, 0)
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	l := newSignInLimits(st, clock)
	other := newSignInLimits(st, clock) // another replica's
	for i := range userBurst {
		lim := l
		if i%2 == 1 {
			lim = other
		}
		if _, ok, err := lim.userAttempt(ctx, "crk_aaaa"); !ok || err != nil {
			t.Fatalf("attempt %d refused within the burst (%v)", i+1, err)
		}
	}
	wait, ok, _ := l.userAttempt(ctx, "crk_aaaa")
	if ok || wait <= 0 || wait > userEvery {
		t.Fatalf("attempt past the burst: ok %v wait %s", ok, wait)
	}
	if _, ok, _ := other.userAttempt(ctx, "crk_aaaa"); ok {
		t.Fatal("another replica let the attempt past the burst through")
	}
	if _, ok, _ := l.userAttempt(ctx, "crk_bbbb"); !ok {
		t.Error("another user was refused")
	}
	now = now.Add(userEvery)
	if _, ok, _ := l.userAttempt(ctx, "crk_aaaa"); !ok {
		t.Error("the user was refused after waiting")
	}
	for range clientBurst {
		if _, ok, err := l.clientBlocked(ctx, "10.0.0.1"); !ok || err != nil {
			t.Fatalf("client blocked within its burst (%v)", err)
		}
		if err := other.clientFailed(ctx, "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := l.clientBlocked(ctx, "10.0.0.1"); ok {
		t.Error("client not blocked after its failed attempts")
	}
	if _, ok, _ := l.clientBlocked(ctx, "10.0.0.2"); !ok {
		t.Error("another client blocked")
	}
}

func TestSameToken(t *testing.T) {
	tests := []struct {
		got, want string
		ok        bool
	}{
		{"abc", "abc", true}, {"abc", "abd", false}, {"", "", false}, {"abc", "", false}, {"ab", "abc", false},
	}
	for _, tc := range tests {
		if ok := sameToken(tc.got, tc.want); ok != tc.ok {
			t.Errorf("sameToken(%q, %q) = %v", tc.got, tc.want, ok)
		}
	}
}

func TestTopRaising(t *testing.T) {
	rs := []reason{{Text: "a", Contribution: 0.1}, {Text: "b", Contribution: -2}, {Text: "c", Contribution: 0.9}, {Text: "d", Contribution: 0.5}, {Text: "e", Contribution: 0.2}}
	got := topRaising(rs, 3)
	want := []string{"c", "d", "e"}
	if len(got) != len(want) {
		t.Fatalf("got %d reasons, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Text != want[i] {
			t.Fatalf("reason %d is %q, want %q", i, got[i].Text, want[i])
		}
	}
}

func TestParseMetrics(t *testing.T) {
	rep := metrics.Report{N: 10, Positives: 3, ROCAUC: metrics.Metric{Value: 0.8, Lo: 0.7, Hi: 0.9},
		ROC: []metrics.ROCPoint{{Threshold: 1, FPR: 0, TPR: 0}, {Threshold: 0, FPR: 1, TPR: 1}}}
	nested, err := json.Marshal(map[string]any{"validation": map[string]any{"rows": 10, "report": rep}, "algorithm": "gbdt"})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		raw     string
		wantErr bool
		algo    string
	}{
		{"nested as registered", string(nested), false, "gbdt"},
		{"bare report", string(bare), false, ""},
		{"empty", "{}", true, ""},
		{"null", "null", true, ""},
		{"no report", `{"algorithm":"gbdt"}`, true, ""},
		{"not JSON", `{"validation":`, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, algo, err := parseMetrics(json.RawMessage(tc.raw))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (r.ROCAUC.Value != 0.8 || r.N != 10 || algo != tc.algo) {
				t.Fatalf("read %+v algo %q", r.ROCAUC, algo)
			}
		})
	}
}

func TestFmtMetric(t *testing.T) {
	v, iv := fmtMetric(metrics.Metric{Value: 0.81234, Lo: 0.7, Hi: 0.9}, 3)
	if v != "0.812" || iv != "0.700 to 0.900" {
		t.Fatalf("got %q %q", v, iv)
	}
	v, iv = fmtMetric(metrics.Metric{Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}, 3)
	if v != "–" || iv != "not computed" {
		t.Fatalf("NaN metric shown as %q %q", v, iv)
	}
}

// FuzzParseMetrics: stored metrics come from the registry, written by other
// tools; reading and drawing them must never panic.
func FuzzParseMetrics(f *testing.F) {
	f.Add(`{"validation":{"rows":3,"report":{"n":3,"roc":[{"fpr":0,"tpr":0},{"fpr":1,"tpr":1}],"reliability":[{"count":1,"mean_score":{"value":0.2},"frac_positive":{"value":null}}]}}}`)
	f.Add(`{"roc_auc":{"value":0.5,"lo":null,"hi":null},"pr":[{"recall":0.5,"precision":1}]}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, raw string) {
		r, _, err := parseMetrics(json.RawMessage(raw))
		if err != nil {
			if r != nil {
				t.Fatal("a report with an error")
			}
			return
		}
		if len(r.ROC) > 200 || len(r.PR) > 200 || len(r.Reliability) > 200 {
			return // drawing is not what this fuzzes; keep each run quick
		}
		_ = describe(modelWith(raw))
	})
}

// FuzzParseReasons: stored reasons are an array or null; anything else is
// an error, never a panic.
func FuzzParseReasons(f *testing.F) {
	f.Add(`[{"feature":"x","value":null,"contribution":0.3,"text":"x raised the risk"}]`)
	f.Add(`null`)
	f.Add(`{"a":1}`)
	f.Fuzz(func(t *testing.T, raw string) {
		rs, err := parseReasons(json.RawMessage(raw))
		if err == nil {
			_ = topRaising(rs, 3)
		}
	})
}

func TestCookieFlags(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tls    bool
		secure bool
	}{{"plain HTTP", false, false}, {"TLS", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.tls {
				c.Request.TLS = &tls.ConnectionState{}
			}
			setCookie(c, sessionCookie, "v", 0)
			cs := w.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("%d cookies", len(cs))
			}
			ck := cs[0]
			if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure != tc.secure || ck.Path != "/" {
				t.Fatalf("cookie HttpOnly %v SameSite %v Secure %v Path %q", ck.HttpOnly, ck.SameSite, ck.Secure, ck.Path)
			}
		})
	}
}

// TestDescribeSaysWhenMetricsCannotBeTrusted: a model registered from an
// artifact validated on 22 rows is shown with a warning naming the counts
// and minimums; a positive–unlabelled model's record is said; and where
// both models rank every held-out row, that ranking is compared and
// decides the verdict.
func TestDescribeSaysWhenMetricsCannotBeTrusted(t *testing.T) {
	ctx := context.Background()
	scores, labels := make([]float64, 22), make([]float64, 22)
	for i := range scores {
		scores[i] = float64(i) / 22
		labels[i] = float64(i % 2)
	}
	rep, err := metrics.Evaluate(ctx, scores, labels, metrics.Options{Bootstrap: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	stock, err := metrics.Evaluate(ctx, append(scores, 0.01, 0.02), append(labels, 0, 0), metrics.Options{Ks: []int{10}, Bootstrap: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	lc := artifact.LabelChecks{Training: metrics.CheckLabels(47, 15)}
	v := rep.Labels
	lc.Validation, lc.TooFewLabels = &v, true
	pu := &artifact.PUFit{Positives: 15, Unlabelled: 900}
	pu.C.C = metrics.Metric{Value: 0.25, Lo: 0.2, Hi: 0.3}
	raw, err := json.Marshal(map[string]any{"algorithm": "gbdt", "too_few_labels": true, "labels": lc, "positive_unlabelled": pu,
		"validation": map[string]any{"rows": 22, "report": rep, "stock": stock}})
	if err != nil {
		t.Fatal(err)
	}
	cand := modelWith(string(raw))
	cand.Version = 2
	mv := describe(cand)
	if mv.Err != "" || !mv.TooFewLabels || mv.stock == nil {
		t.Fatalf("view %+v", mv)
	}
	for _, want := range []string{"trained on 47 labelled rows (15 positive): too few, 47 labelled rows (at least 200 needed)",
		"validated on 22 labelled rows (11 positive): too few"} {
		if !strings.Contains(mv.LabelsNote, want) {
			t.Errorf("labels note %q lacks %q", mv.LabelsNote, want)
		}
	}
	if !strings.Contains(mv.PU, "c = P(confirmed | positive) is estimated at 0.250") {
		t.Errorf("PU note %q", mv.PU)
	}
	// A champion registered before the flag: judged from its report.
	old, _ := json.Marshal(map[string]any{"algorithm": "logistic", "validation": map[string]any{"rows": 22, "report": rep, "stock": stock}})
	champ := describe(modelWith(string(old)))
	champ.Stage = store.Champion
	if !champ.TooFewLabels || !strings.Contains(champ.LabelsNote, "validated on 22 labelled rows") {
		t.Errorf("old registration: %+v", champ)
	}
	tm := &targetModels{Champion: champ, Candidate: mv}
	compare(tm)
	if len(tm.Warnings) != 2 || len(tm.Notes) != 1 || !strings.Contains(tm.Verdict, "over every held-out row") {
		t.Errorf("warnings %q, notes %q, verdict %q", tm.Warnings, tm.Notes, tm.Verdict)
	}
	var stockRows, atK100 int
	for _, r := range tm.Rows {
		if strings.HasPrefix(r.Name, "Every held-out row") {
			stockRows++
		}
		if strings.Contains(r.Name, "top 100") || strings.Contains(r.Name, "top 200") {
			atK100++
		}
	}
	if stockRows != 3 || atK100 != 0 {
		t.Errorf("rows %+v: want 3 over every held-out row and none at a k above the 22 rows", tm.Rows)
	}
}
