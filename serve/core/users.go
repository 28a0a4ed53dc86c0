package core

import (
	"context"
	"fmt"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

// Users lists the service's users.
func (c *Core) Users(ctx context.Context, a Actor) ([]store.User, error) {
	if err := c.require(a, auth.UsersManage); err != nil {
		return nil, err
	}
	us, err := c.st.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// AddUser adds a user with a first token, audited as user.add; the token
// is returned once and only its hash is stored.
func (c *Core) AddUser(ctx context.Context, a Actor, name string, role auth.Role) (store.User, string, error) {
	if err := c.require(a, auth.UsersManage); err != nil {
		return store.User{}, "", err
	}
	if _, err := auth.ParseRole(string(role)); err != nil {
		return store.User{}, "", &store.FieldError{Field: "role", Msg: err.Error()}
	}
	tok, err := auth.NewToken(nil)
	if err != nil {
		return store.User{}, "", fmt.Errorf("make a token: %w", err)
	}
	u, err := c.st.CreateUserWithToken(ctx, name, role, tok)
	if err != nil {
		return store.User{}, "", fmt.Errorf("add user %s: %w", name, err)
	}
	if err := c.record(ctx, a, audit.UserAdd, fmt.Sprintf("user/%d", u.ID)); err != nil {
		return store.User{}, "", err
	}
	return u, tok.Secret, nil
}

// NewToken gives an existing user another token, audited as user.token.
func (c *Core) NewToken(ctx context.Context, a Actor, name string) (store.User, string, error) {
	if err := c.require(a, auth.UsersManage); err != nil {
		return store.User{}, "", err
	}
	u, err := c.st.UserByName(ctx, name)
	if err != nil {
		return store.User{}, "", fmt.Errorf("user %s: %w", name, err)
	}
	tok, err := auth.NewToken(nil)
	if err != nil {
		return store.User{}, "", fmt.Errorf("make a token: %w", err)
	}
	if err := c.record(ctx, a, audit.UserToken, fmt.Sprintf("user/%d", u.ID)); err != nil {
		return store.User{}, "", err
	}
	if err := c.st.AddToken(ctx, u.ID, tok); err != nil {
		return store.User{}, "", fmt.Errorf("add a token for %s: %w", name, err)
	}
	if c.cfg.OnUserChange != nil {
		c.cfg.OnUserChange(u.ID)
	}
	return u, tok.Secret, nil
}

// SetDisabled disables (or re-enables) a user, audited as user.disable or
// user.enable; the user's tokens stop working at once in this process
// (Config.OnUserChange). Actors cannot disable themselves.
func (c *Core) SetDisabled(ctx context.Context, a Actor, userID int64, disabled bool) error {
	if err := c.require(a, auth.UsersManage); err != nil {
		return err
	}
	if disabled && a.UserID != 0 && userID == a.UserID {
		return &store.FieldError{Field: "user", Msg: "you cannot disable your own account"}
	}
	action := audit.UserEnable
	if disabled {
		action = audit.UserDisable
	}
	if err := c.record(ctx, a, action, fmt.Sprintf("user/%d", userID)); err != nil {
		return err
	}
	if err := c.st.SetUserDisabled(ctx, userID, disabled); err != nil {
		return fmt.Errorf("%s user %d: %w", action, userID, err)
	}
	if c.cfg.OnUserChange != nil {
		c.cfg.OnUserChange(userID)
	}
	return nil
}

// UserByName returns a user, for the commands that name users.
func (c *Core) UserByName(ctx context.Context, a Actor, name string) (store.User, error) {
	if err := c.require(a, auth.UsersManage); err != nil {
		return store.User{}, err
	}
	u, err := c.st.UserByName(ctx, name)
	if err != nil {
		return store.User{}, fmt.Errorf("user %s: %w", name, err)
	}
	return u, nil
}

// Audit returns audit rows matching f, newest first. Reading the log is
// itself audited (a read of "audit").
func (c *Core) Audit(ctx context.Context, a Actor, f store.AuditFilter) ([]audit.Entry, error) {
	if err := c.require(a, auth.AuditRead); err != nil {
		return nil, err
	}
	if err := c.record(ctx, a, audit.Read, "audit"); err != nil {
		return nil, err
	}
	es, err := c.st.Audit(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	return es, nil
}

// VerifyAudit walks the log's hash chain, audited as audit.verify (the row
// is written first, so the chain checked includes it). A broken chain is
// an *audit.BrokenError naming the first bad row, or audit.ErrTruncated.
func (c *Core) VerifyAudit(ctx context.Context, a Actor, opts ...audit.VerifyOption) (audit.Summary, error) {
	if err := c.require(a, auth.AuditRead); err != nil {
		return audit.Summary{}, err
	}
	if err := c.record(ctx, a, audit.AuditVerify, "audit"); err != nil {
		return audit.Summary{}, err
	}
	return audit.Verify(ctx, c.st, opts...)
}
