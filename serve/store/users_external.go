package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"caserisk/serve/auth"
)

// Limits of an identity provider's identifiers: OpenID Connect's subject
// is at most 255 ASCII characters; an issuer is a URL.
const (
	maxSubject     = 255
	maxIssuer      = 2048
	maxDisplayName = 200
)

// checkExternalID checks an identity provider's issuer and subject id.
func checkExternalID(issuer, subject string) error {
	if issuer == "" || len(issuer) > maxIssuer || !validText(issuer) {
		return invalidf("issuer", "must be 1 to %d characters of text", maxIssuer)
	}
	if subject == "" || len(subject) > maxSubject || !validText(subject) {
		return invalidf("subject", "must be 1 to %d characters of text", maxSubject)
	}
	return nil
}

// checkDisplayName checks a provider's display name.
func checkDisplayName(s string) error {
	if len(s) > maxDisplayName || !validText(s) {
		return invalidf("display_name", "must be at most %d characters of text", maxDisplayName)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return invalidf("display_name", "contains a non-printable character %U", r)
		}
	}
	return nil
}

// checkExternalRole accepts a user's role or the empty role.
func checkExternalRole(role auth.Role) error {
	if role == "" {
		return nil
	}
	if _, err := auth.ParseRole(string(role)); err != nil {
		return invalidf("role", "%v", err)
	}
	return nil
}

// externalNames returns the account names to try for a provider's user:
// the name wanted (cut to the 64 characters a name may have), then the same
// with a suffix from the issuer and subject, which another user is very
// unlikely to have.
func externalNames(want, issuer, subject string) []string {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, want)
	clean = strings.TrimSpace(clean)
	h := sha256.Sum256([]byte(issuer + "\x00" + subject))
	suffix := "~" + hex.EncodeToString(h[:3])
	if clean == "" {
		return []string{"user" + suffix}
	}
	return []string{cut(clean, 64), strings.TrimSpace(cut(clean, 64-len(suffix))) + suffix}
}

// cut returns s cut to at most n bytes on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (d *db) UserByID(ctx context.Context, id int64) (User, error) {
	return d.userWhere(ctx, fmt.Sprintf("user %d", id), `id = ?`, id)
}

func (d *db) UserByExternalID(ctx context.Context, issuer, subject string) (User, error) {
	if !validText(issuer) || !validText(subject) {
		return User{}, fmt.Errorf("user: %w", ErrNotFound)
	}
	return d.userWhere(ctx, "a user of the identity provider", `issuer = ? AND subject = ?`, issuer, subject)
}

func (d *db) CreateExternalUser(ctx context.Context, nu NewExternalUser) (User, error) {
	if err := checkExternalID(nu.Issuer, nu.Subject); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	if err := checkDisplayName(nu.DisplayName); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	if err := checkExternalRole(nu.Role); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	u := User{Role: nu.Role, Created: fromMicros(micros(d.now())), Issuer: nu.Issuer, Subject: nu.Subject, DisplayName: nu.DisplayName}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lock(ctx, tx, "users"); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM users WHERE issuer = ? AND subject = ?`), nu.Issuer, nu.Subject).Scan(&n); err != nil {
			return fmt.Errorf("check subject: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("subject: the identity provider's user exists: %w", ErrConflict)
		}
		for _, name := range externalNames(nu.Name, nu.Issuer, nu.Subject) {
			if checkUserName(name) != nil {
				continue
			}
			if err := tx.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM users WHERE name = ?`), name).Scan(&n); err != nil {
				return fmt.Errorf("check name: %w", err)
			}
			if n == 0 {
				u.Name = name
				break
			}
		}
		if u.Name == "" {
			// The name is not repeated: errors are logged, names are not.
			return fmt.Errorf("name: the name and its suffixed form are both taken: %w", ErrConflict)
		}
		if err := tx.QueryRowContext(ctx, d.q(`INSERT INTO users (name, role, created, disabled, issuer, subject, display_name)
			VALUES (?, ?, ?, 0, ?, ?, ?) RETURNING id`),
			u.Name, string(u.Role), micros(u.Created), u.Issuer, u.Subject, u.DisplayName).Scan(&u.ID); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

func (d *db) UpdateExternalUser(ctx context.Context, id int64, displayName string, role auth.Role) (User, error) {
	if err := checkDisplayName(displayName); err != nil {
		return User{}, fmt.Errorf("update user %d: %w", id, err)
	}
	if err := checkExternalRole(role); err != nil {
		return User{}, fmt.Errorf("update user %d: %w", id, err)
	}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var prev string
		err := tx.QueryRowContext(ctx, d.q(`SELECT role FROM users WHERE id = ? AND issuer IS NOT NULL`), id).Scan(&prev)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no user of an identity provider: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.q(`UPDATE users SET display_name = ?, role = ? WHERE id = ?`),
			displayName, string(role), id); err != nil {
			return err
		}
		if prev == string(role) {
			return nil
		}
		// Every serving process drops its cached tokens of the user.
		return d.notify(ctx, tx, Change{Kind: ChangeUser, UserID: id})
	})
	if err != nil {
		return User{}, fmt.Errorf("update user %d: %w", id, err)
	}
	return d.UserByID(ctx, id)
}
