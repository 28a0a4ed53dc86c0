package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"caserisk/serve/auth"
	"caserisk/serve/web"
)

// secretEnv holds the OpenID Connect client secret when no file is given.
const secretEnv = "CASERISK_OIDC_CLIENT_SECRET"

// oidcFlags are serve's flags for sign-in through an OpenID Connect
// provider.
type oidcFlags struct {
	issuer, clientID, secretFile, redirectURL, groupsClaim, roleMap, name, contact string
}

func addOIDCFlags(cmd *cobra.Command) *oidcFlags {
	o := &oidcFlags{}
	f := cmd.Flags()
	f.StringVar(&o.issuer, "oidc-issuer", "", "sign in to the pages through this OpenID Connect provider (its issuer URL, e.g. https://login.microsoftonline.com/TENANT-ID/v2.0)")
	f.StringVar(&o.clientID, "oidc-client-id", "", "caserisk's client (application) id at the provider")
	f.StringVar(&o.secretFile, "oidc-client-secret-file", "", "file holding the client secret (default: the "+secretEnv+" environment variable)")
	f.StringVar(&o.redirectURL, "oidc-redirect-url", "", "this service's callback as registered at the provider, e.g. https://caserisk.council.example/sign-in/callback")
	f.StringVar(&o.groupsClaim, "oidc-groups-claim", "groups", "the ID token claim with the person's groups or app roles (roles for Entra ID app roles; a dotted path such as realm_access.roles reaches into an object)")
	f.StringVar(&o.roleMap, "oidc-role-map", "", "YAML file mapping the provider's groups to caserisk roles, one GROUP: ROLE per line; the first listed group a person is in gives their role")
	f.StringVar(&o.name, "oidc-name", "your council account", `what the sign-in button calls the provider ("Sign in with …")`)
	f.StringVar(&o.contact, "oidc-access-contact", "your caserisk administrator", "whom a person in no mapped group is told to ask for access")
	_ = cmd.MarkFlagFilename("oidc-role-map", "yaml", "yml")
	_ = cmd.MarkFlagFilename("oidc-client-secret-file")
	return o
}

// config returns the pages' OpenID Connect configuration, or nil when
// --oidc-issuer is not given; getenv reads the environment.
func (o *oidcFlags) config(cmd *cobra.Command, getenv func(string) string) (*web.OIDC, error) {
	if o.issuer == "" {
		for _, name := range []string{"oidc-client-id", "oidc-client-secret-file", "oidc-redirect-url", "oidc-groups-claim", "oidc-role-map", "oidc-name", "oidc-access-contact"} {
			if cmd.Flags().Changed(name) {
				return nil, fmt.Errorf("--%s needs --oidc-issuer", name)
			}
		}
		return nil, nil
	}
	var missing []string
	for _, m := range []struct{ flag, v string }{{"--oidc-client-id", o.clientID}, {"--oidc-redirect-url", o.redirectURL}, {"--oidc-role-map", o.roleMap}} {
		if m.v == "" {
			missing = append(missing, m.flag)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("--oidc-issuer needs %s", strings.Join(missing, ", "))
	}
	secret := getenv(secretEnv)
	if o.secretFile != "" {
		b, err := os.ReadFile(o.secretFile)
		if err != nil {
			return nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
		}
		secret = strings.TrimRight(string(b), "\r\n")
		if secret == "" {
			return nil, fmt.Errorf("--oidc-client-secret-file %s: the file is empty", o.secretFile)
		}
	}
	if secret == "" {
		return nil, errors.New("the OpenID Connect client secret is missing: give --oidc-client-secret-file FILE or set " + secretEnv)
	}
	f, err := os.Open(o.roleMap)
	if err != nil {
		return nil, fmt.Errorf("--oidc-role-map: %w", err)
	}
	defer f.Close()
	roles, err := auth.ParseGroupRoles(f, o.roleMap)
	if err != nil {
		return nil, fmt.Errorf("--oidc-role-map: %w", err)
	}
	cfg := &web.OIDC{Issuer: o.issuer, ClientID: o.clientID, ClientSecret: secret, RedirectURL: o.redirectURL,
		GroupsClaim: o.groupsClaim, Roles: roles, ProviderName: o.name, AccessContact: o.contact}
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("OpenID Connect: %w", err)
	}
	return cfg, nil
}
