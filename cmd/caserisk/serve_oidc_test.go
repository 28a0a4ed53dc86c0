package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"caserisk/serve/auth"
)

func TestServeOIDCFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	roles := write("roles.yaml", "sg-caserisk-admins: admin\nsg-caserisk-caseworkers: caseworker\n")
	badRoles := write("bad.yaml", "sg-a: caseworker\nsg-b: chief\n")
	secret := write("secret", "s3cret\n")
	empty := write("empty", "\n")
	good := []string{"--oidc-issuer", "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0",
		"--oidc-client-id", "caserisk", "--oidc-redirect-url", "https://caserisk.council.example/sign-in/callback", "--oidc-role-map", roles}
	with := func(extra ...string) []string { return append(append([]string(nil), good...), extra...) }
	noEnv := func(string) string { return "" }

	for _, tc := range []struct {
		name   string
		args   []string
		getenv func(string) string
		want   string // "" for success
	}{
		{"secret from file", with("--oidc-client-secret-file", secret), noEnv, ""},
		{"secret from the environment", good, func(k string) string {
			if k == secretEnv {
				return "from-env"
			}
			return ""
		}, ""},
		{"no secret", good, noEnv, "client secret is missing: give --oidc-client-secret-file FILE or set CASERISK_OIDC_CLIENT_SECRET"},
		{"empty secret file", with("--oidc-client-secret-file", empty), noEnv, "the file is empty"},
		{"missing secret file", with("--oidc-client-secret-file", filepath.Join(dir, "none")), noEnv, "--oidc-client-secret-file: open"},
		{"without issuer", []string{"--oidc-client-id", "x"}, noEnv, "--oidc-client-id needs --oidc-issuer"},
		{"issuer alone", []string{"--oidc-issuer", "https://idp.example"}, noEnv, "--oidc-issuer needs --oidc-client-id, --oidc-redirect-url, --oidc-role-map"},
		{"bad role", []string{"--oidc-issuer", "https://idp.example", "--oidc-client-id", "c", "--oidc-redirect-url", "https://c.example/sign-in/callback",
			"--oidc-role-map", badRoles, "--oidc-client-secret-file", secret}, noEnv, `bad.yaml: line 2, column 7: group "sg-b": unknown role "chief"`},
		{"plain http issuer", []string{"--oidc-issuer", "http://idp.example", "--oidc-client-id", "c", "--oidc-redirect-url", "https://c.example/sign-in/callback",
			"--oidc-role-map", roles, "--oidc-client-secret-file", secret}, noEnv, "http:// is allowed only on a loopback address"},
		{"redirect path", []string{"--oidc-issuer", "https://idp.example", "--oidc-client-id", "c", "--oidc-redirect-url", "https://c.example/callback",
			"--oidc-role-map", roles, "--oidc-client-secret-file", secret}, noEnv, "the path must be under /sign-in/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &cobra.Command{Use: "serve"}
			of := addOIDCFlags(c)
			if err := c.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := of.config(c, tc.getenv)
			if tc.want == "" {
				if err != nil || cfg == nil {
					t.Fatalf("config: %v", err)
				}
				if cfg.Roles.Len() != 2 || cfg.GroupsClaim != "groups" || cfg.ClientSecret == "" || cfg.ProviderName != "your council account" {
					t.Errorf("config %+v", cfg)
				}
				if r, _, _ := cfg.Roles.Role([]string{"sg-caserisk-caseworkers"}); r != auth.Caseworker {
					t.Errorf("role map gives %q", r)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}

	db := "sqlite://" + filepath.Join(t.TempDir(), "serve.db")
	if code, out := runOut(t, append([]string{"serve", "--db", db}, good...)...); code != 2 {
		t.Errorf("serve without a client secret: exit %d, want 2 (%s)", code, out)
	}
	if code, out := runOut(t, append([]string{"serve", "--db", db, "--pages=false", "--oidc-client-secret-file", secret}, good...)...); code != 2 {
		t.Errorf("serve --pages=false with OpenID Connect: exit %d, want 2 (%s)", code, out)
	}
}
