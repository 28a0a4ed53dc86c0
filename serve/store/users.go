package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"caserisk/serve/auth"
)

// checkUserName reports whether a user name is acceptable: 1–64 printable
// characters without surrounding space.
func checkUserName(name string) error {
	if name == "" || len(name) > 64 || strings.TrimSpace(name) != name || !validText(name) {
		return invalidf("name", "must be 1 to 64 characters without leading or trailing space")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return invalidf("name", "contains a non-printable character %U", r)
		}
	}
	return nil
}

func (d *db) CreateUser(ctx context.Context, name string, role auth.Role) (User, error) {
	return d.createUser(ctx, name, role, nil)
}

func (d *db) CreateUserWithToken(ctx context.Context, name string, role auth.Role, tok auth.Token) (User, error) {
	if err := checkToken(tok); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return d.createUser(ctx, name, role, &tok)
}

// createUser adds a user and, when tok is not nil, their token, atomically.
func (d *db) createUser(ctx context.Context, name string, role auth.Role, tok *auth.Token) (User, error) {
	if err := checkUserName(name); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	if _, err := auth.ParseRole(string(role)); err != nil {
		return User{}, fmt.Errorf("create user: %w", invalidf("role", "%v", err))
	}
	u := User{Name: name, Role: role, Created: fromMicros(micros(d.now()))}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lock(ctx, tx, "users"); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM users WHERE name = ?`), name).Scan(&n); err != nil {
			return fmt.Errorf("check name: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("name: a user named %q exists: %w", name, ErrConflict)
		}
		if err := tx.QueryRowContext(ctx, d.q(`INSERT INTO users (name, role, created, disabled) VALUES (?, ?, ?, 0) RETURNING id`),
			name, string(role), micros(u.Created)).Scan(&u.ID); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		if tok != nil {
			return d.insertToken(ctx, tx, u.ID, *tok)
		}
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

const userCols = `id, name, role, created, disabled, issuer, subject, display_name`

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	var created int64
	var disabled int
	var issuer, subject sql.NullString
	if err := sc.Scan(&u.ID, &u.Name, &u.Role, &created, &disabled, &issuer, &subject, &u.DisplayName); err != nil {
		return User{}, err
	}
	u.Created, u.Disabled = fromMicros(created), disabled != 0
	u.Issuer, u.Subject = issuer.String, subject.String
	return u, nil
}

func (d *db) Users(ctx context.Context) ([]User, error) {
	rows, err := d.read().QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

func (d *db) UserByName(ctx context.Context, name string) (User, error) {
	if !validText(name) {
		return User{}, fmt.Errorf("user: %w", ErrNotFound)
	}
	return d.userWhere(ctx, fmt.Sprintf("user %q", name), `name = ?`, name)
}

// userWhere reads the one user that matches the condition where (with its
// args); who names that user in the errors: "<who>: not found" when no row
// matches, "read <who>: …" when the query fails.
func (d *db) userWhere(ctx context.Context, who, where string, args ...any) (User, error) {
	u, err := scanUser(d.read().QueryRowContext(ctx, d.q(`SELECT `+userCols+` FROM users WHERE `+where), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("%s: %w", who, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("read %s: %w", who, err)
	}
	return u, nil
}

func (d *db) SetUserDisabled(ctx context.Context, userID int64, disabled bool) error {
	v := 0
	if disabled {
		v = 1
	}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, d.q(`UPDATE users SET disabled = ? WHERE id = ?`), v, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return ErrNotFound
		}
		// Every serving process drops its cached tokens of the user.
		return d.notify(ctx, tx, Change{Kind: ChangeUser, UserID: userID})
	})
	if err != nil {
		return fmt.Errorf("disable user %d: %w", userID, err)
	}
	return nil
}

// checkToken checks the stored parts of a token.
func checkToken(tok auth.Token) error {
	if !strings.HasPrefix(tok.Prefix, auth.TokenPrefix) {
		return invalidf("prefix", "token prefix must start with %q", auth.TokenPrefix)
	}
	var zero [32]byte
	if tok.Hash == zero {
		return invalidf("hash", "empty token hash")
	}
	return nil
}

func (d *db) AddToken(ctx context.Context, userID int64, tok auth.Token) error {
	if err := checkToken(tok); err != nil {
		return fmt.Errorf("add token: %w", err)
	}
	return d.inTx(ctx, func(tx *sql.Tx) error { return d.insertToken(ctx, tx, userID, tok) })
}

// insertToken stores a token's prefix and hash, never the token.
func (d *db) insertToken(ctx context.Context, tx *sql.Tx, userID int64, tok auth.Token) error {
	res, err := tx.ExecContext(ctx, d.q(`INSERT INTO tokens (user_id, prefix, hash, created)
		SELECT id, ?, ?, ? FROM users WHERE id = ?`), tok.Prefix, hex.EncodeToString(tok.Hash[:]), micros(d.now()), userID)
	if err != nil {
		return fmt.Errorf("add token for user %d: %w", userID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("add token for user %d: %w", userID, ErrNotFound)
	}
	return nil
}

func (d *db) TokenCandidates(ctx context.Context, prefix string) ([]auth.Candidate, error) {
	if !validText(prefix) {
		return nil, nil // nothing stored can match
	}
	rows, err := d.read().QueryContext(ctx, d.q(`SELECT u.id, u.name, u.role, u.disabled, t.hash
		FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.prefix = ?`), prefix)
	if err != nil {
		return nil, fmt.Errorf("token lookup: %w", err)
	}
	defer rows.Close()
	var out []auth.Candidate
	for rows.Next() {
		var c auth.Candidate
		var disabled int
		var h string
		if err := rows.Scan(&c.UserID, &c.Name, &c.Role, &disabled, &h); err != nil {
			return nil, fmt.Errorf("token lookup: %w", err)
		}
		// A provider's user whose groups map to no role holds no token
		// that works.
		c.Disabled = disabled != 0 || c.Role == ""
		if c.Hash, err = hex.DecodeString(h); err != nil {
			return nil, fmt.Errorf("token lookup: stored hash of user %d: %w", c.UserID, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("token lookup: %w", err)
	}
	return out, nil
}
