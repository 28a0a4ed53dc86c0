package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// validate checks a model registration and returns it normalised.
func (m NewModel) validate() (NewModel, error) {
	if _, err := ParseTarget(string(m.Target)); err != nil {
		return m, err
	}
	if len(m.Artifact) == 0 {
		return m, invalidf("artifact", "empty model artifact")
	}
	if !json.Valid(m.Artifact) {
		return m, invalidf("artifact", "model artifact is not valid JSON")
	}
	if len(m.Metrics) == 0 || string(m.Metrics) == "null" {
		m.Metrics = json.RawMessage("{}")
	}
	var obj map[string]json.RawMessage
	if !validText(string(m.Metrics)) {
		return m, invalidf("metrics", "not valid UTF-8 JSON")
	}
	if err := json.Unmarshal(m.Metrics, &obj); err != nil {
		return m, invalidf("metrics", "metrics must be a JSON object: %v", err)
	}
	b := m.Bands
	if math.IsNaN(b.High) || math.IsNaN(b.Medium) || !(b.Medium > 0 && b.Medium <= b.High && b.High <= 1) {
		return m, invalidf("bands", "band thresholds must satisfy 0 < medium (%g) ≤ high (%g) ≤ 1", b.Medium, b.High)
	}
	if strings.TrimSpace(m.RegisteredBy) == "" || !validText(m.RegisteredBy) {
		return m, invalidf("registered_by", "who registers the model is required, as valid text")
	}
	if !validText(m.Path) {
		return m, invalidf("path", "not valid text")
	}
	if !validText(string(m.Artifact)) {
		return m, invalidf("artifact", "not valid UTF-8 JSON")
	}
	return m, nil
}

func (d *db) RegisterModel(ctx context.Context, nm NewModel) (Model, error) {
	nm, err := nm.validate()
	if err != nil {
		return Model{}, fmt.Errorf("register model: %w", err)
	}
	sum := sha256.Sum256(nm.Artifact)
	m := Model{
		Target: nm.Target, Path: nm.Path, SHA256: hex.EncodeToString(sum[:]), Artifact: nm.Artifact,
		Stage: Candidate, Metrics: nm.Metrics, Bands: nm.Bands, RegisteredBy: nm.RegisteredBy,
		RegisteredAt: fromMicros(micros(d.now())),
	}
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lock(ctx, tx, "models:"+string(m.Target)); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, d.q(`SELECT COALESCE(MAX(version), 0) + 1 FROM models WHERE target = ?`),
			m.Target).Scan(&m.Version); err != nil {
			return fmt.Errorf("next version: %w", err)
		}
		_, err := tx.ExecContext(ctx, d.q(`INSERT INTO models (target, version, path, sha256, artifact, stage, metrics,
			band_high, band_medium, registered_by, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			m.Target, m.Version, m.Path, m.SHA256, string(m.Artifact), m.Stage, string(m.Metrics),
			m.Bands.High, m.Bands.Medium, m.RegisteredBy, micros(m.RegisteredAt))
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		return nil
	})
	if err != nil {
		return Model{}, fmt.Errorf("register %s model: %w", nm.Target, err)
	}
	return m, nil
}

func (d *db) PromoteModel(ctx context.Context, target Target, version int, by string) (Model, error) {
	if _, err := ParseTarget(string(target)); err != nil {
		return Model{}, fmt.Errorf("promote model: %w", err)
	}
	if strings.TrimSpace(by) == "" || !validText(by) {
		return Model{}, fmt.Errorf("promote model: %w", invalidf("by", "who promotes the model is required, as valid text"))
	}
	var m Model
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lock(ctx, tx, "models:"+string(target)); err != nil {
			return err
		}
		cur, err := d.model(ctx, tx, target, version, true)
		if err != nil {
			return err
		}
		if cur.Stage == Champion {
			m = cur
			return nil
		}
		now := micros(d.now())
		if _, err := tx.ExecContext(ctx, d.q(`UPDATE models SET stage = 'retired' WHERE target = ? AND stage = 'champion'`), target); err != nil {
			return fmt.Errorf("retire the champion: %w", err)
		}
		if _, err := tx.ExecContext(ctx, d.q(`UPDATE models SET stage = 'champion', promoted_by = ?, promoted_at = ?
			WHERE target = ? AND version = ?`), by, now, target, version); err != nil {
			return fmt.Errorf("promote: %w", err)
		}
		cur.Stage, cur.PromotedBy, cur.PromotedAt = Champion, by, fromMicros(now)
		m = cur
		return d.notify(ctx, tx, Change{Kind: ChangeChampion, Target: target, Version: version})
	})
	if err != nil {
		return Model{}, fmt.Errorf("promote %s model v%d: %w", target, version, err)
	}
	return m, nil
}

const modelCols = `target, version, path, sha256, stage, metrics, band_high, band_medium,
	registered_by, registered_at, promoted_by, promoted_at`

// scanModel reads the modelCols columns, then the artifact when withArtifact.
func scanModel(sc interface{ Scan(...any) error }, withArtifact bool) (Model, error) {
	var m Model
	var metrics string
	var regAt int64
	var promAt sql.NullInt64
	dest := []any{&m.Target, &m.Version, &m.Path, &m.SHA256, &m.Stage, &metrics, &m.Bands.High, &m.Bands.Medium,
		&m.RegisteredBy, &regAt, &m.PromotedBy, &promAt}
	var art string
	if withArtifact {
		dest = append(dest, &art)
	}
	if err := sc.Scan(dest...); err != nil {
		return Model{}, err
	}
	m.Metrics = json.RawMessage(metrics)
	m.RegisteredAt = fromMicros(regAt)
	m.PromotedAt = fromNullMicros(promAt)
	if withArtifact {
		m.Artifact = []byte(art)
	}
	return m, nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (d *db) model(ctx context.Context, qr querier, target Target, version int, withArtifact bool) (Model, error) {
	cols := modelCols
	if withArtifact {
		cols += ", artifact"
	}
	m, err := scanModel(qr.QueryRowContext(ctx, d.q(`SELECT `+cols+` FROM models WHERE target = ? AND version = ?`),
		target, version), withArtifact)
	if errors.Is(err, sql.ErrNoRows) {
		return Model{}, fmt.Errorf("model %s v%d: %w", target, version, ErrNotFound)
	}
	if err != nil {
		return Model{}, fmt.Errorf("read model %s v%d: %w", target, version, err)
	}
	return m, nil
}

func (d *db) Model(ctx context.Context, target Target, version int) (Model, error) {
	return d.model(ctx, d.read(), target, version, true)
}

func (d *db) Champion(ctx context.Context, target Target) (Model, error) {
	m, err := scanModel(d.read().QueryRowContext(ctx, d.q(`SELECT `+modelCols+`, artifact FROM models
		WHERE target = ? AND stage = 'champion'`), target), true)
	if errors.Is(err, sql.ErrNoRows) {
		return Model{}, fmt.Errorf("%s champion: %w", target, ErrNotFound)
	}
	if err != nil {
		return Model{}, fmt.Errorf("read %s champion: %w", target, err)
	}
	return m, nil
}

func (d *db) Models(ctx context.Context, target Target) ([]Model, error) {
	query, args := `SELECT `+modelCols+` FROM models ORDER BY target, version`, []any(nil)
	if target != "" {
		if _, err := ParseTarget(string(target)); err != nil {
			return nil, fmt.Errorf("list models: %w", err)
		}
		query, args = `SELECT `+modelCols+` FROM models WHERE target = ? ORDER BY version`, []any{target}
	}
	rows, err := d.read().QueryContext(ctx, d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	defer rows.Close()
	var out []Model
	for rows.Next() {
		m, err := scanModel(rows, false)
		if err != nil {
			return nil, fmt.Errorf("list models: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	return out, nil
}

func (d *db) ChampionVersions(ctx context.Context) (map[Target]int, error) {
	rows, err := d.read().QueryContext(ctx, `SELECT target, version FROM models WHERE stage = 'champion'`)
	if err != nil {
		return nil, fmt.Errorf("champion versions: %w", err)
	}
	defer rows.Close()
	out := make(map[Target]int, 2)
	for rows.Next() {
		var t Target
		var v int
		if err := rows.Scan(&t, &v); err != nil {
			return nil, fmt.Errorf("champion versions: %w", err)
		}
		out[t] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("champion versions: %w", err)
	}
	return out, nil
}
