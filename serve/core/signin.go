package core

import (
	"context"
	"errors"
	"fmt"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// ExternalClaims is what an OpenID Connect provider said about the person
// signing in, read from an ID token the caller has verified (signature
// against the provider's keys, issuer, audience, expiry and nonce).
type ExternalClaims struct {
	// Issuer and Subject identify the person for good: the provider never
	// gives the subject id to anyone else.
	Issuer, Subject string
	// Username is the account name given to a new user (the provider's
	// preferred_username, upn or email); it is not used to find the user.
	Username string
	// DisplayName is the person's name as the provider has it.
	DisplayName string
	// Groups are the groups (or app roles) the provider says the person is
	// in: what the role map is applied to.
	Groups []string
	// GroupsOverage is set when the provider left the groups out of the
	// token because there are too many (Entra ID does above 200 and points
	// to Microsoft Graph instead).
	GroupsOverage bool
}

// RefusalReason says why a person the provider vouched for was refused.
type RefusalReason string

// The reasons for refusing a sign-in.
const (
	// RefusedNoRole: none of the person's groups maps to a role.
	RefusedNoRole RefusalReason = "no_role"
	// RefusedDisabled: an administrator disabled the user in caserisk.
	RefusedDisabled RefusalReason = "disabled"
	// RefusedGroupsOverage: the token holds no groups because the person
	// is in too many; the provider must send fewer (see the README).
	RefusedGroupsOverage RefusalReason = "groups_overage"
)

// ErrRefused: the provider vouched for the person, but caserisk does not
// let them in (see *RefusedError).
var ErrRefused = errors.New("sign-in refused")

// RefusedError says why a sign-in was refused and who was refused.
type RefusedError struct {
	Reason RefusalReason
	Name   string // the account name, or the provider's user name when there is no account
}

// Error says why without the name, so that it can be logged.
func (e *RefusedError) Error() string {
	switch e.Reason {
	case RefusedDisabled:
		return "sign-in refused: the account is disabled"
	case RefusedGroupsOverage:
		return "sign-in refused: the identity provider sent no groups (too many groups)"
	}
	return "sign-in refused: no group maps to a role"
}

// Unwrap makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// noRole is the audit log's word for the empty role of a provider's user
// whose groups map to none (an audit row always names a role).
const noRole auth.Role = "none"

// roleWord is the audit log's word for a role.
func roleWord(r auth.Role) auth.Role {
	if r == "" {
		return noRole
	}
	return r
}

// userActor is the actor of a provider's user with role.
func userActor(u store.User, role auth.Role, requestID string) Actor {
	return Actor{UserID: u.ID, Name: u.Name, Role: roleWord(role), RequestID: requestID}
}

// SignInExternal signs in a person an OpenID Connect provider vouched for.
// The user is found by issuer and subject id, never by name, and created at
// the first sign-in (audited as user.provision). Their role is the role of
// their first group in roles; when it differs from the stored one it
// changes (audited as user.role), so a person whose groups no longer map
// loses the role here. A disabled user, a person with no mapped group, and
// a token without groups are refused with a *RefusedError, audited as
// sign_in.refused with the reason as resource (session/REASON). A sign-in
// let through is audited as sign_in on session/oidc. When an audit row
// cannot be written the sign-in fails with ErrAudit.
func (c *Core) SignInExternal(ctx context.Context, claims ExternalClaims, roles auth.GroupRoles, requestID string) (auth.Principal, error) {
	if claims.Issuer == "" || claims.Subject == "" {
		return auth.Principal{}, &store.FieldError{Field: "sub", Msg: "the identity provider sent no issuer or subject id"}
	}
	u, err := c.st.UserByExternalID(ctx, claims.Issuer, claims.Subject)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return auth.Principal{}, fmt.Errorf("sign in: %w", err)
	}
	// Whom a refusal names: the user, or the provider's user name.
	who := userActor(u, u.Role, requestID)
	if !known {
		who.Name = claims.Username
		if who.Name == "" {
			who.Name = "subject " + claims.Subject
		}
	}
	refuse := func(reason RefusalReason) (auth.Principal, error) {
		if err := c.record(ctx, who, audit.SignInRefused, "session/"+string(reason)); err != nil {
			return auth.Principal{}, err
		}
		return auth.Principal{}, &RefusedError{Reason: reason, Name: who.Name}
	}
	if known && u.Disabled {
		return refuse(RefusedDisabled)
	}
	role, _, mapped := roles.Role(claims.Groups)
	if !mapped && claims.GroupsOverage {
		// The groups are unknown, not changed: the stored role stays.
		return refuse(RefusedGroupsOverage)
	}
	display := claims.DisplayName
	if !known {
		if !mapped {
			return refuse(RefusedNoRole)
		}
		u, err = c.st.CreateExternalUser(ctx, store.NewExternalUser{Issuer: claims.Issuer, Subject: claims.Subject,
			Name: claims.Username, DisplayName: display, Role: role})
		switch {
		case errors.Is(err, store.ErrConflict):
			// The same person signed in twice at once; the other made
			// the user. Carry on with theirs.
			if u, err = c.st.UserByExternalID(ctx, claims.Issuer, claims.Subject); err != nil {
				return auth.Principal{}, fmt.Errorf("sign in: %w", err)
			}
			who = userActor(u, u.Role, requestID)
			if u.Disabled {
				return refuse(RefusedDisabled)
			}
		case err != nil:
			return auth.Principal{}, fmt.Errorf("sign in: add the user: %w", err)
		default:
			who = userActor(u, u.Role, requestID)
			if err := c.record(ctx, who, audit.UserProvision, fmt.Sprintf("user/%d", u.ID)); err != nil {
				return auth.Principal{}, err
			}
		}
	}
	if u.Role != role || u.DisplayName != display {
		if u.Role != role {
			if err := c.record(ctx, userActor(u, role, requestID), audit.UserRole,
				fmt.Sprintf("user/%d/role/%s->%s", u.ID, roleWord(u.Role), roleWord(role))); err != nil {
				return auth.Principal{}, err
			}
		}
		prev := u.Role
		if u, err = c.st.UpdateExternalUser(ctx, u.ID, display, role); err != nil {
			return auth.Principal{}, fmt.Errorf("sign in: update user %d: %w", u.ID, err)
		}
		if prev != role && c.cfg.OnUserChange != nil {
			c.cfg.OnUserChange(u.ID)
		}
		who = userActor(u, u.Role, requestID)
	}
	if !mapped {
		return refuse(RefusedNoRole)
	}
	if err := c.record(ctx, who, audit.SignIn, "session/oidc"); err != nil {
		return auth.Principal{}, err
	}
	return auth.Principal{UserID: u.ID, Name: u.Name, Role: u.Role}, nil
}

// SessionUser returns a signed-in provider user as the store has them now,
// for the pages to check each request: a user who was disabled, removed
// or lost their role meanwhile is auth.ErrUnauthenticated.
func (c *Core) SessionUser(ctx context.Context, userID int64) (auth.Principal, error) {
	u, err := c.st.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return auth.Principal{}, fmt.Errorf("user %d is gone: %w", userID, auth.ErrUnauthenticated)
	}
	if err != nil {
		return auth.Principal{}, fmt.Errorf("check user %d: %w", userID, err)
	}
	if u.Disabled || u.Role == "" {
		return auth.Principal{}, fmt.Errorf("user %d is disabled or has no role: %w", userID, auth.ErrUnauthenticated)
	}
	return auth.Principal{UserID: u.ID, Name: u.Name, Role: u.Role}, nil
}
