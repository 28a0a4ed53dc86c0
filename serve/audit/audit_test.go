package audit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// memSource is an in-memory Source.
type memSource []Entry

func (m memSource) AuditPage(_ context.Context, afterID int64, limit int) ([]Entry, error) {
	var out []Entry
	for _, e := range m {
		if e.ID > afterID && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func rec(i int) Record {
	return Record{At: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC).Add(time.Duration(i) * time.Second),
		UserID: 3, User: "fo.one", Role: "fraud_officer", Action: "read", Resource: fmt.Sprintf("tenancy/T%d", i),
		Purpose: "tenancy-fraud investigation", RequestID: fmt.Sprintf("r%d", i)}
}

func chain(n int) memSource {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = rec(i)
	}
	return memSource(Chain(0, GenesisHash, recs...))
}

func TestChainIsDeterministicAndLinked(t *testing.T) {
	a, b := chain(4), chain(4)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d differs between identical chains", i+1)
		}
	}
	if a[0].PrevHash != GenesisHash || a[1].PrevHash != a[0].Hash || a[3].ID != 4 {
		t.Errorf("chain not linked: %+v", a)
	}
	if a[0].At.Nanosecond() != 123456000 {
		t.Errorf("times must be kept to the microsecond, got %v", a[0].At)
	}
	// Continuing a chain gives the same rows as building it at once.
	first := Chain(0, GenesisHash, rec(0), rec(1))
	rest := Chain(first[1].ID, first[1].Hash, rec(2), rec(3))
	if rest[1] != a[3] {
		t.Error("appending in two steps differs from one step")
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(memSource) memSource
		wantID int64 // 0: intact
	}{
		{"intact", func(m memSource) memSource { return m }, 0},
		{"empty", func(m memSource) memSource { return nil }, 0},
		{"altered purpose", func(m memSource) memSource { m[2].Purpose = "curiosity"; return m }, 3},
		{"altered time", func(m memSource) memSource { m[4].At = m[4].At.Add(time.Microsecond); return m }, 5},
		{"altered user", func(m memSource) memSource { m[0].UserID = 9; return m }, 1},
		{"rehashed row", func(m memSource) memSource {
			m[1].Resource = "tenancy/other"
			m[1].Hash = HashOf(m[1].ID, m[1].Record, m[1].PrevHash)
			return m
		}, 3},
		{"deleted row", func(m memSource) memSource { return append(m[:2:2], m[3:]...) }, 4},
		{"renumbered", func(m memSource) memSource { m[5].ID = 60; return m }, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.tamper(chain(8))
			s, err := Verify(context.Background(), src)
			if tt.wantID == 0 {
				if err != nil || s.Rows != int64(len(src)) {
					t.Errorf("Verify = %+v, %v", s, err)
				}
				return
			}
			var be *BrokenError
			if !errors.As(err, &be) || be.ID != tt.wantID || !errors.Is(err, ErrBroken) {
				t.Errorf("Verify error %v, want broken at row %d", err, tt.wantID)
			}
		})
	}
}

func TestVerifyPagesThroughLongLogs(t *testing.T) {
	src := chain(pageSize*2 + 7)
	s, err := Verify(context.Background(), src)
	if err != nil || s.Rows != int64(len(src)) || s.LastHash != src[len(src)-1].Hash {
		t.Errorf("Verify = %+v, %v", s, err)
	}
}

func TestVerifyStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Verify(ctx, chain(pageSize+1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify on a cancelled context: %v", err)
	}
}

func FuzzVerifyDetectsAnyChange(f *testing.F) {
	f.Add(uint8(0), "x")
	f.Add(uint8(5), "")
	f.Fuzz(func(t *testing.T, row uint8, value string) {
		m := chain(8)
		i := int(row) % len(m)
		if m[i].Resource == value {
			return
		}
		m[i].Resource = value
		var be *BrokenError
		if _, err := Verify(context.Background(), m); !errors.As(err, &be) || be.ID != int64(i+1) {
			t.Fatalf("changing row %d's resource to %q: %v", i+1, value, err)
		}
	})
}

func TestVerifyExpectHead(t *testing.T) {
	full := chain(8)
	head := full[5].Hash
	tests := []struct {
		name string
		src  memSource
		want error
	}{
		{"head present", full, nil},
		{"grown since", append(full, Chain(8, full[7].Hash, rec(8))...), nil},
		{"cut after the head", full[:6], nil},
		{"cut before the head", full[:5], ErrTruncated},
		{"empty", nil, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(context.Background(), tt.src, ExpectHead(head))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}
