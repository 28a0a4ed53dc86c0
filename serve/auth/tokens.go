package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// TokenPrefix starts every caserisk bearer token, so that a leaked token is
// recognisable (for example by secret scanners).
const TokenPrefix = "crk_"

// tokenBytes is the number of random bytes in a token.
const tokenBytes = 32

// prefixLen is the length of the identifying prefix stored in clear: the
// "crk_" marker and the first 8 characters of the random part (48 bits),
// enough to find the one candidate row and useless for guessing the rest.
const prefixLen = len(TokenPrefix) + 8

// tokenLen is the length of a well-formed token: the marker and 32 bytes
// in unpadded base64url (43 characters).
const tokenLen = len(TokenPrefix) + (tokenBytes*8+5)/6

// ErrUnauthenticated is returned when a bearer token is missing, malformed,
// unknown, or belongs to a disabled user. The reason is deliberately not
// told apart to the caller.
var ErrUnauthenticated = errors.New("unauthenticated")

// Token is a newly issued bearer token. Secret is shown to the user once and
// never stored; Prefix and Hash are what the store keeps.
type Token struct {
	Secret string   // the whole token, e.g. crk_AbC…
	Prefix string   // the identifying prefix, stored in clear
	Hash   [32]byte // SHA-256 of Secret
}

// NewToken makes a token from 32 bytes read from r (crypto/rand.Reader when
// r is nil).
func NewToken(r io.Reader) (Token, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [tokenBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return Token{}, fmt.Errorf("new token: read random bytes: %w", err)
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return Token{Secret: secret, Prefix: secret[:prefixLen], Hash: HashToken(secret)}, nil
}

// HashToken returns the SHA-256 of a token, the only form in which tokens
// are stored.
func HashToken(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// ParseBearer extracts the token from an Authorization header value
// ("Bearer crk_…") and checks its shape. It returns ErrUnauthenticated,
// wrapped with the reason, when the header is missing or malformed.
func ParseBearer(header string) (string, error) {
	if header == "" {
		return "", fmt.Errorf("no Authorization header: %w", ErrUnauthenticated)
	}
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("authorization scheme is not Bearer: %w", ErrUnauthenticated)
	}
	tok = strings.TrimSpace(tok)
	if len(tok) != tokenLen || !strings.HasPrefix(tok, TokenPrefix) {
		return "", fmt.Errorf("malformed bearer token: %w", ErrUnauthenticated)
	}
	if _, err := base64.RawURLEncoding.DecodeString(tok[len(TokenPrefix):]); err != nil {
		return "", fmt.Errorf("malformed bearer token: %w", ErrUnauthenticated)
	}
	return tok, nil
}

// PrefixOf returns the identifying prefix of a token ParseBearer
// accepted: the same for every use of the token, and stored in clear, so
// it may key a rate limit without revealing the secret.
func PrefixOf(token string) string {
	if len(token) < prefixLen {
		return token
	}
	return token[:prefixLen]
}

// Principal is an authenticated user.
type Principal struct {
	UserID int64
	Name   string
	Role   Role
}

// Candidate is a stored token that shares a presented token's prefix,
// with its user.
type Candidate struct {
	UserID   int64
	Name     string
	Role     Role
	Disabled bool
	Hash     []byte // SHA-256 of the token
}

// TokenLookup finds the stored tokens with a given prefix. The store
// implements it.
type TokenLookup interface {
	TokenCandidates(ctx context.Context, prefix string) ([]Candidate, error)
}

// Authenticate resolves a token (as returned by ParseBearer) to its user.
// Hashes are compared in constant time. It returns ErrUnauthenticated for
// an unknown token or a disabled user, and a wrapped lookup error when the
// store fails.
func Authenticate(ctx context.Context, lookup TokenLookup, token string) (Principal, error) {
	if len(token) != tokenLen || !strings.HasPrefix(token, TokenPrefix) {
		return Principal{}, fmt.Errorf("malformed bearer token: %w", ErrUnauthenticated)
	}
	return AuthenticateHash(ctx, lookup, token[:prefixLen], HashToken(token))
}

// AuthenticateHash resolves a token known by its prefix and SHA-256 (what
// a web session keeps of the token it signed in with) to its user, as
// Authenticate does: ErrUnauthenticated when the token is gone or its user
// disabled.
func AuthenticateHash(ctx context.Context, lookup TokenLookup, prefix string, h [32]byte) (Principal, error) {
	if len(prefix) != prefixLen || !strings.HasPrefix(prefix, TokenPrefix) {
		return Principal{}, fmt.Errorf("malformed token prefix: %w", ErrUnauthenticated)
	}
	cands, err := lookup.TokenCandidates(ctx, prefix)
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: look up token: %w", err)
	}
	var found *Candidate
	for i := range cands {
		// Compare every candidate, so the time taken does not depend on
		// which one matched.
		if subtle.ConstantTimeCompare(h[:], cands[i].Hash) == 1 {
			found = &cands[i]
		}
	}
	if found == nil {
		return Principal{}, fmt.Errorf("unknown bearer token: %w", ErrUnauthenticated)
	}
	if found.Disabled {
		return Principal{}, fmt.Errorf("user is disabled: %w", ErrUnauthenticated)
	}
	return Principal{UserID: found.UserID, Name: found.Name, Role: found.Role}, nil
}
