package core_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
	"caserisk/serve/store/storetest"
)

const issuer = "https://login.example.test/tenant/v2.0"

// forEachStore runs f on an empty SQLite store and, with
// CASERISK_TEST_POSTGRES, on an empty PostgreSQL one.
func forEachStore(t *testing.T, f func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "core.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		u := storetest.PostgresURL(t)
		st, err := store.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
}

// auditTail returns the audit rows after row n as "user action resource
// role" lines.
func auditTail(t *testing.T, st store.Store, after int64) []string {
	t.Helper()
	es, err := st.AuditPage(context.Background(), after, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, strings.Join([]string{e.User, e.Action, e.Resource, e.Role}, " "))
	}
	return out
}

func lastID(t *testing.T, st store.Store) int64 {
	t.Helper()
	es, err := st.AuditPage(context.Background(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 {
		return 0
	}
	return es[len(es)-1].ID
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: audit rows\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSignInExternalFollowsTheProvider(t *testing.T) {
	roles, err := auth.NewGroupRoles(
		auth.GroupRole{Group: "g-admins", Role: auth.Admin},
		auth.GroupRole{Group: "g-casework", Role: auth.Caseworker},
		auth.GroupRole{Group: "g-fraud", Role: auth.FraudOfficer})
	if err != nil {
		t.Fatal(err)
	}
	forEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		var changed []int64
		c, err := core.New(core.Config{Store: st, OnUserChange: func(id int64) { changed = append(changed, id) }})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		kim := core.ExternalClaims{Issuer: issuer, Subject: "00u-kim", Username: "kim.lee@council.example",
			DisplayName: "Kim Lee", Groups: []string{"staff", "g-casework"}}

		// First sign-in: the user is made with the mapped role.
		mark := lastID(t, st)
		p, err := c.SignInExternal(ctx, kim, roles, "req-1")
		if err != nil {
			t.Fatal(err)
		}
		if p.Role != auth.Caseworker || p.Name != "kim.lee@council.example" || p.UserID == 0 {
			t.Fatalf("first sign-in: %+v", p)
		}
		sameLines(t, "first sign-in", auditTail(t, st, mark), []string{
			"kim.lee@council.example user.provision user/1 caseworker",
			"kim.lee@council.example sign_in session/oidc caseworker",
		})
		u, err := st.UserByID(ctx, p.UserID)
		if err != nil || u.Issuer != issuer || u.Subject != "00u-kim" || u.DisplayName != "Kim Lee" {
			t.Fatalf("stored user: %+v, %v", u, err)
		}

		// Again, unchanged: one sign_in row, the same user.
		mark = lastID(t, st)
		if p2, err := c.SignInExternal(ctx, kim, roles, "req-2"); err != nil || p2 != p {
			t.Fatalf("second sign-in: %+v, %v; want %+v", p2, err, p)
		}
		sameLines(t, "second sign-in", auditTail(t, st, mark), []string{"kim.lee@council.example sign_in session/oidc caseworker"})
		if len(changed) != 0 {
			t.Errorf("OnUserChange called for an unchanged user: %v", changed)
		}

		// Moved to the fraud team, renamed at the provider: the role and
		// display name follow; the account name stays.
		kim.Groups, kim.DisplayName, kim.Username = []string{"g-fraud"}, "Kim Lee-Jones", "kim.lee-jones@council.example"
		mark = lastID(t, st)
		p3, err := c.SignInExternal(ctx, kim, roles, "req-3")
		if err != nil || p3.Role != auth.FraudOfficer || p3.UserID != p.UserID || p3.Name != p.Name {
			t.Fatalf("after moving team: %+v, %v", p3, err)
		}
		sameLines(t, "role change", auditTail(t, st, mark), []string{
			"kim.lee@council.example user.role user/1/role/caseworker->fraud_officer fraud_officer",
			"kim.lee@council.example sign_in session/oidc fraud_officer",
		})
		if len(changed) != 1 || changed[0] != p.UserID {
			t.Errorf("OnUserChange calls %v, want [%d]", changed, p.UserID)
		}
		if u, _ := st.UserByID(ctx, p.UserID); u.DisplayName != "Kim Lee-Jones" {
			t.Errorf("display name %q after the change", u.DisplayName)
		}

		// Left every mapped group: the role goes and the sign-in is refused.
		kim.Groups = []string{"staff"}
		mark = lastID(t, st)
		_, err = c.SignInExternal(ctx, kim, roles, "req-4")
		var re *core.RefusedError
		if !errors.As(err, &re) || re.Reason != core.RefusedNoRole || !errors.Is(err, core.ErrRefused) {
			t.Fatalf("no mapped group: %v, want a no_role refusal", err)
		}
		sameLines(t, "role lost", auditTail(t, st, mark), []string{
			"kim.lee@council.example user.role user/1/role/fraud_officer->none none",
			"kim.lee@council.example sign_in.refused session/no_role none",
		})
		if u, _ := st.UserByID(ctx, p.UserID); u.Role != "" {
			t.Errorf("role %q after leaving the groups, want none", u.Role)
		}
		if _, err := c.SessionUser(ctx, p.UserID); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("SessionUser of a user without a role: %v, want ErrUnauthenticated", err)
		}

		// Back in a group, then disabled by an administrator: refused
		// whatever the provider says, and the role is left alone.
		kim.Groups = []string{"g-admins", "g-casework"}
		if p5, err := c.SignInExternal(ctx, kim, roles, "req-5"); err != nil || p5.Role != auth.Admin {
			t.Fatalf("back as admin (the first mapped group wins): %+v, %v", p5, err)
		}
		if s, err := c.SessionUser(ctx, p.UserID); err != nil || s.Role != auth.Admin {
			t.Errorf("SessionUser: %+v, %v", s, err)
		}
		if err := c.SetDisabled(ctx, core.Operator("ops"), p.UserID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := c.SessionUser(ctx, p.UserID); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("SessionUser of a disabled user: %v", err)
		}
		kim.Groups = []string{"g-casework"}
		mark = lastID(t, st)
		if _, err = c.SignInExternal(ctx, kim, roles, "req-6"); !errors.As(err, &re) || re.Reason != core.RefusedDisabled {
			t.Fatalf("disabled user: %v, want a disabled refusal", err)
		}
		sameLines(t, "disabled", auditTail(t, st, mark), []string{"kim.lee@council.example sign_in.refused session/disabled admin"})
		if u, _ := st.UserByID(ctx, p.UserID); u.Role != auth.Admin {
			t.Errorf("a refused disabled user's role changed to %q", u.Role)
		}

		// Someone in no mapped group who never signed in: refused, audited,
		// and no account made for them.
		mark = lastID(t, st)
		stranger := core.ExternalClaims{Issuer: issuer, Subject: "00u-lou", Username: "lou@council.example", Groups: []string{"staff"}}
		if _, err := c.SignInExternal(ctx, stranger, roles, "req-7"); !errors.As(err, &re) || re.Reason != core.RefusedNoRole {
			t.Fatalf("stranger: %v", err)
		}
		sameLines(t, "stranger", auditTail(t, st, mark), []string{"lou@council.example sign_in.refused session/no_role none"})
		if _, err := st.UserByExternalID(ctx, issuer, "00u-lou"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a refused stranger got an account: %v", err)
		}

		// Too many groups to send: refused, and an existing role is kept
		// (the groups are unknown, not changed).
		ann := core.ExternalClaims{Issuer: issuer, Subject: "00u-ann", Username: "ann@council.example", Groups: []string{"g-casework"}}
		pa, err := c.SignInExternal(ctx, ann, roles, "req-8")
		if err != nil {
			t.Fatal(err)
		}
		ann.Groups, ann.GroupsOverage = nil, true
		if _, err := c.SignInExternal(ctx, ann, roles, "req-9"); !errors.As(err, &re) || re.Reason != core.RefusedGroupsOverage {
			t.Fatalf("overage: %v", err)
		}
		if u, _ := st.UserByID(ctx, pa.UserID); u.Role != auth.Caseworker {
			t.Errorf("overage changed the role to %q", u.Role)
		}

		// The same subject at another issuer is someone else.
		other := core.ExternalClaims{Issuer: "https://accounts.other.example", Subject: "00u-kim", Username: "kim.lee@council.example", Groups: []string{"g-casework"}}
		po, err := c.SignInExternal(ctx, other, roles, "req-10")
		if err != nil || po.UserID == p.UserID || po.Name == p.Name {
			t.Fatalf("same subject, other issuer: %+v, %v (first user %+v)", po, err, p)
		}

		var fe *store.FieldError
		if _, err := c.SignInExternal(ctx, core.ExternalClaims{Issuer: issuer}, roles, "req-11"); !errors.As(err, &fe) {
			t.Errorf("no subject: %v, want a FieldError", err)
		}
	})
}
