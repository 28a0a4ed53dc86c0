// Package audit provides the scoring service's tamper-evident audit log
// format: the record of who read or changed what, when and for what
// purpose; the canonical encoding and SHA-256 hash chain that links each row
// to the one before; and Verify, which walks a stored chain and reports the
// first row that does not fit.
//
// The package holds no storage: a store appends entries (computing each
// hash with Chain under its own lock, so the chain never forks) and serves
// pages of them to Verify through the Source interface.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// GenesisHash is the prev_hash of the first row of the log.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Record is one audited action, before it is chained. It names the user by
// id and account name and the resource by identifier (for example
// "resident/R0012345"); it never holds a resident's personal data.
type Record struct {
	At        time.Time // when; stored at microsecond precision in UTC
	UserID    int64     // 0 for the system (batch jobs, commands)
	User      string    // the account name
	Role      string    // the user's role at the time
	Action    string    // what was done, e.g. "read", "score", "promote"
	Resource  string    // what it was done to, e.g. "resident/R0012345/risk"
	Purpose   string    // why: the purpose the role's access serves
	RequestID string    // the request id, joining the row to the service log
}

// Entry is a record in the log: its position and the hash chain.
type Entry struct {
	ID int64 // 1, 2, 3, … with no gaps
	Record
	PrevHash string // Hash of the row before (GenesisHash for row 1)
	Hash     string // SHA-256 (hex) of the canonical row and PrevHash
}

// Normalize returns r with At in UTC truncated to microseconds, the
// precision both SQLite and PostgreSQL keep.
func (r Record) Normalize() Record {
	r.At = r.At.UTC().Truncate(time.Microsecond)
	return r
}

// canonical is the fixed-order form a row is hashed in.
type canonical struct {
	ID        int64  `json:"id"`
	At        string `json:"at"`
	UserID    int64  `json:"user_id"`
	User      string `json:"user"`
	Role      string `json:"role"`
	Action    string `json:"action"`
	Resource  string `json:"resource"`
	Purpose   string `json:"purpose"`
	RequestID string `json:"request_id"`
	PrevHash  string `json:"prev_hash"`
}

// Canonical returns the bytes an entry's hash is computed over: a JSON
// object of the row's fields (id, time as RFC 3339 with microseconds in UTC,
// user, role, action, resource, purpose, request id) and the previous hash,
// in a fixed order.
func Canonical(id int64, r Record, prevHash string) []byte {
	r = r.Normalize()
	b, err := json.Marshal(canonical{
		ID: id, At: r.At.Format("2006-01-02T15:04:05.000000Z07:00"), UserID: r.UserID,
		User: r.User, Role: r.Role, Action: r.Action, Resource: r.Resource,
		Purpose: r.Purpose, RequestID: r.RequestID, PrevHash: prevHash,
	})
	if err != nil {
		// Marshalling a struct of strings and integers cannot fail.
		panic(fmt.Sprintf("audit: canonical row: %v", err))
	}
	return b
}

// HashOf returns the hex SHA-256 of the canonical row.
func HashOf(id int64, r Record, prevHash string) string {
	sum := sha256.Sum256(Canonical(id, r, prevHash))
	return hex.EncodeToString(sum[:])
}

// Chain links records after the row (lastID, lastHash) and returns the new
// entries. Use lastID 0 and GenesisHash for an empty log. The caller must
// hold the log's lock from reading the last row until the entries are
// written.
func Chain(lastID int64, lastHash string, recs ...Record) []Entry {
	out := make([]Entry, len(recs))
	prev := lastHash
	for i, r := range recs {
		r = r.Normalize()
		id := lastID + int64(i) + 1
		h := HashOf(id, r, prev)
		out[i] = Entry{ID: id, Record: r, PrevHash: prev, Hash: h}
		prev = h
	}
	return out
}

// Source serves the stored log in id order, a page at a time: the entries
// with id > afterID, at most limit of them.
type Source interface {
	AuditPage(ctx context.Context, afterID int64, limit int) ([]Entry, error)
}

// BrokenError reports the first row at which the chain does not hold.
type BrokenError struct {
	ID     int64  // the row's id
	Reason string // what does not fit
}

// Error names the row and the reason.
func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit log broken at row %d: %s", e.ID, e.Reason)
}

// ErrBroken matches every *BrokenError with errors.Is.
var ErrBroken = errors.New("audit log broken")

// Is makes errors.Is(err, ErrBroken) true for a BrokenError.
func (e *BrokenError) Is(target error) bool { return target == ErrBroken }

// Summary is the result of a successful Verify.
type Summary struct {
	Rows     int64  // rows checked
	LastID   int64  // id of the last row
	LastHash string // hash of the last row: the head of the chain
}

// pageSize is the number of rows Verify reads at a time.
const pageSize = 5000

// ErrTruncated reports that a head hash recorded earlier is no longer in
// the log: rows were cut off its end.
var ErrTruncated = errors.New("audit log truncated: a head hash recorded earlier is not in the log")

// VerifyOption changes what Verify checks.
type VerifyOption func(*verifyConfig)

type verifyConfig struct {
	heads []string
}

// ExpectHead makes Verify also check that a row with this hash (a head
// printed by an earlier verification and kept elsewhere) is still in the
// log. Without it, a chain cannot show that rows were cut off its end.
func ExpectHead(hash string) VerifyOption {
	return func(c *verifyConfig) { c.heads = append(c.heads, hash) }
}

// Verify walks the whole log and checks that ids run 1, 2, 3, … without a
// gap, that each row's prev_hash is the hash of the row before, and that
// each row's hash is the hash of its own content. It returns a *BrokenError
// naming the first bad row, an error wrapping ErrTruncated when an
// ExpectHead hash is missing, or the store's error wrapped.
func Verify(ctx context.Context, src Source, opts ...VerifyOption) (Summary, error) {
	var cfg verifyConfig
	for _, o := range opts {
		o(&cfg)
	}
	found := make([]bool, len(cfg.heads))
	s := Summary{LastHash: GenesisHash}
	for {
		page, err := src.AuditPage(ctx, s.LastID, pageSize)
		if err != nil {
			return s, fmt.Errorf("verify audit log: read rows after %d: %w", s.LastID, err)
		}
		if len(page) == 0 {
			for i, h := range cfg.heads {
				if !found[i] {
					return s, fmt.Errorf("head %.16s…: %w", h, ErrTruncated)
				}
			}
			return s, nil
		}
		for _, e := range page {
			if e.ID != s.LastID+1 {
				return s, &BrokenError{ID: e.ID, Reason: fmt.Sprintf("expected row %d next: rows are missing", s.LastID+1)}
			}
			if e.PrevHash != s.LastHash {
				return s, &BrokenError{ID: e.ID, Reason: "prev_hash is not the hash of the row before"}
			}
			if h := HashOf(e.ID, e.Record, e.PrevHash); h != e.Hash {
				return s, &BrokenError{ID: e.ID, Reason: "hash does not match the row's content (the row was altered)"}
			}
			for i, h := range cfg.heads {
				found[i] = found[i] || h == e.Hash
			}
			s.Rows++
			s.LastID = e.ID
			s.LastHash = e.Hash
		}
		if err := ctx.Err(); err != nil {
			return s, fmt.Errorf("verify audit log: %w", err)
		}
	}
}
