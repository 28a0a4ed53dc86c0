package web

import (
	"reflect"
	"strings"
	"testing"

	"caserisk/serve/auth"
)

func TestClaimStrings(t *testing.T) {
	all := map[string]any{
		"groups":       []any{"a", "b"},
		"one":          "solo",
		"realm_access": map[string]any{"roles": []any{"caseworker-role"}},
		"mixed":        []any{"a", 3.0},
		"number":       7.0,
		"none":         nil,
	}
	for _, tc := range []struct {
		path  string
		want  []string
		found bool
		err   string
	}{
		{"groups", []string{"a", "b"}, true, ""},
		{"one", []string{"solo"}, true, ""},
		{"realm_access.roles", []string{"caseworker-role"}, true, ""},
		{"realm_access.other", nil, false, ""},
		{"groups.deeper", nil, false, ""},
		{"absent", nil, false, ""},
		{"none", nil, false, ""},
		{"mixed", nil, true, "claim mixed: element 1 is float64, want a string"},
		{"number", nil, true, "claim number is float64, want a list of strings"},
	} {
		got, found, err := claimStrings(all, tc.path)
		if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("%s: error %v, want %q", tc.path, err, tc.err)
		}
		if !reflect.DeepEqual(got, tc.want) || found != tc.found {
			t.Errorf("%s: %q, %v; want %q, %v", tc.path, got, found, tc.want, tc.found)
		}
	}
}

func TestOIDCCheck(t *testing.T) {
	roles, err := auth.NewGroupRoles(auth.GroupRole{Group: "g", Role: auth.Caseworker})
	if err != nil {
		t.Fatal(err)
	}
	good := OIDC{Issuer: "https://login.example/tenant/v2.0", ClientID: "c", ClientSecret: "s",
		RedirectURL: "https://caserisk.example/sign-in/callback", Roles: roles}
	if err := good.Check(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*OIDC)
		want string
	}{
		{"relative issuer", func(o *OIDC) { o.Issuer = "login.example" }, "issuer"},
		{"http issuer", func(o *OIDC) { o.Issuer = "http://login.example" }, "http:// is allowed only on a loopback address"},
		{"loopback http issuer", func(o *OIDC) { o.Issuer = "http://127.0.0.1:9000" }, ""},
		{"no client id", func(o *OIDC) { o.ClientID = "" }, "client id"},
		{"no secret", func(o *OIDC) { o.ClientSecret = "" }, "client secret"},
		{"redirect elsewhere", func(o *OIDC) { o.RedirectURL = "https://caserisk.example/cases/x" }, "under /sign-in/"},
		{"redirect on the start", func(o *OIDC) { o.RedirectURL = "https://caserisk.example/sign-in/oidc" }, "under /sign-in/"},
		{"redirect with a parameter", func(o *OIDC) { o.RedirectURL = "https://caserisk.example/sign-in/:x" }, "under /sign-in/"},
		{"redirect with a query", func(o *OIDC) { o.RedirectURL = "https://caserisk.example/sign-in/cb?x=1" }, "no query"},
		{"no roles", func(o *OIDC) { o.Roles = auth.GroupRoles{} }, "no groups mapped"},
		{"bad claim path", func(o *OIDC) { o.GroupsClaim = "realm_access..roles" }, "empty name"},
	} {
		o := good
		tc.edit(&o)
		err := o.Check()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
