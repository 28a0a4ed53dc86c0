package web

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"caserisk/models/metrics"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

func modelWith(raw string) store.Model {
	return store.Model{Version: 1, Stage: store.Candidate, Metrics: json.RawMessage(raw)}
}

func TestSessionsExpire(t *testing.T) {
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
			ss := newSessions(30*time.Minute, 2*time.Hour, func() time.Time { return now })
			s := ss.create("crk_x", auth.Principal{UserID: 1, Name: "u", Role: auth.Caseworker})
			for i, d := range tc.steps {
				now = start.Add(d)
				if _, ok := ss.get(s.id); ok != tc.alive[i] {
					t.Fatalf("at +%s alive %v, want %v", d, ok, tc.alive[i])
				}
			}
		})
	}
}

func TestSessionsEndAndIDs(t *testing.T) {
	ss := newSessions(time.Hour, time.Hour, time.Now)
	a := ss.create("crk_a", auth.Principal{UserID: 1})
	b := ss.create("crk_b", auth.Principal{UserID: 2})
	if a.id == b.id || a.csrf == b.csrf || a.id == a.csrf || len(a.id) < 40 {
		t.Fatalf("session ids and CSRF tokens must be distinct random values: %q %q %q", a.id, b.id, a.csrf)
	}
	ss.end(a.id)
	if _, ok := ss.get(a.id); ok {
		t.Fatal("an ended session is still live")
	}
	if got, ok := ss.get(b.id); !ok || got.user.UserID != 2 {
		t.Fatal("ending one session ended another")
	}
}

// TestSessionsBounded: a user holds at most maxPerUser sessions (a new
// one ends their oldest); a full store ends the session unused longest
// and never refuses one.
func TestSessionsBounded(t *testing.T) {
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	ss := newSessions(time.Hour, 10*time.Hour, func() time.Time { return now })
	var first []*session
	for i := range maxPerUser + 3 {
		now = now.Add(time.Second)
		first = append(first, ss.create("crk_a", auth.Principal{UserID: 1}))
		if all, mine := ss.count(1); mine != min(i+1, maxPerUser) || all != mine {
			t.Fatalf("after %d sign-ins: %d sessions, %d of the user's", i+1, all, mine)
		}
	}
	for i, s := range first {
		if _, ok := ss.get(s.id); ok != (i >= 3) {
			t.Errorf("session %d alive %v, want %v (the oldest end)", i, ok, i >= 3)
		}
	}
	// Fill the store with other users' sessions, then use the first
	// user's; the next sign-in ends the least recently used one, the
	// first of the others.
	var lru *session
	for u := int64(2); ; u++ {
		if all, _ := ss.count(0); all >= maxSessions {
			break
		}
		now = now.Add(time.Millisecond)
		s := ss.create("crk_u", auth.Principal{UserID: u})
		if lru == nil {
			lru = s
		}
	}
	now = now.Add(time.Second)
	for _, s := range first[3:] {
		ss.get(s.id)
	}
	now = now.Add(time.Second)
	last := ss.create("crk_z", auth.Principal{UserID: 1 << 40})
	if all, _ := ss.count(0); all != maxSessions {
		t.Errorf("%d sessions, want the bound %d", all, maxSessions)
	}
	if _, ok := ss.get(last.id); !ok {
		t.Error("a sign-in into a full store was refused")
	}
	if _, ok := ss.get(lru.id); ok {
		t.Error("the least recently used session survived a full store")
	}
	if _, ok := ss.get(first[3].id); !ok {
		t.Error("a recently used session was ended")
	}
}

// TestSignInLimits: a user's attempts beyond the burst wait; a client's
// failed attempts beyond its burst wait; neither slows anyone else.
func TestSignInLimits(t *testing.T) {
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	l := newSignInLimits(func() time.Time { return now })
	for i := range userBurst {
		if _, ok := l.userAttempt("crk_aaaa"); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	wait, ok := l.userAttempt("crk_aaaa")
	if ok || wait <= 0 || wait > userEvery {
		t.Fatalf("attempt past the burst: ok %v wait %s", ok, wait)
	}
	if _, ok := l.userAttempt("crk_bbbb"); !ok {
		t.Error("another user was refused")
	}
	now = now.Add(userEvery)
	if _, ok := l.userAttempt("crk_aaaa"); !ok {
		t.Error("the user was refused after waiting")
	}
	for range clientBurst {
		if _, ok := l.clientBlocked("10.0.0.1"); !ok {
			t.Fatal("client blocked within its burst")
		}
		l.clientFailed("10.0.0.1")
	}
	if _, ok := l.clientBlocked("10.0.0.1"); ok {
		t.Error("client not blocked after its failed attempts")
	}
	if _, ok := l.clientBlocked("10.0.0.2"); !ok {
		t.Error("another client blocked")
	}
	for i := range maxLimited + 10 {
		l.userAttempt(fmt.Sprintf("crk_%08d", i))
	}
	if n := len(l.users); n > maxLimited {
		t.Errorf("%d user limiters held, want at most %d", n, maxLimited)
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
