package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// storedMonitor is the JSON kept in app_monitors.definition; fields that
// model.AppMonitor hides from the AWS shape are kept explicitly.
type storedMonitor struct {
	model.AppMonitor
	CustomEventsEnabled bool `json:"CustomEventsEnabled"`
}

func encodeMonitor(m *model.AppMonitor) (string, error) {
	b, err := json.Marshal(storedMonitor{AppMonitor: *m, CustomEventsEnabled: m.CustomEventsEnabled})
	if err != nil {
		return "", fmt.Errorf("encode app monitor: %w", err)
	}
	return string(b), nil
}

func decodeMonitor(def string, created, modified int64) (*model.AppMonitor, error) {
	var sm storedMonitor
	if err := json.Unmarshal([]byte(def), &sm); err != nil {
		return nil, fmt.Errorf("decode app monitor: %w", err)
	}
	m := sm.AppMonitor
	m.CustomEventsEnabled = sm.CustomEventsEnabled
	m.CreatedMicros, m.ModifiedMicros = created, modified
	return &m, nil
}

// CreateAppMonitor stores a new app monitor; name and id must be unused.
func (s *Store) CreateAppMonitor(ctx context.Context, m *model.AppMonitor) error {
	def, err := encodeMonitor(m)
	if err != nil {
		return err
	}
	if m.CreatedMicros == 0 {
		m.CreatedMicros = nowMicros()
	}
	m.ModifiedMicros = m.CreatedMicros
	_, err = s.db.ExecContext(ctx, "INSERT INTO app_monitors VALUES (?, ?, ?, ?, ?)", m.Name, m.ID, def, m.CreatedMicros, m.ModifiedMicros)
	if err != nil {
		if isConstraint(err) {
			return fmt.Errorf("app monitor %q: %w", m.Name, store.ErrConflict)
		}
		return fmt.Errorf("insert app monitor: %w", err)
	}
	return nil
}

func isConstraint(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "constraint") || strings.Contains(msg, "duplicate key")
}

// GetAppMonitor returns the app monitor called name.
func (s *Store) GetAppMonitor(ctx context.Context, name string) (*model.AppMonitor, error) {
	var def string
	var created, modified int64
	err := s.db.QueryRowContext(ctx, "SELECT definition, created_us, modified_us FROM app_monitors WHERE name = ?", name).Scan(&def, &created, &modified)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("app monitor %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get app monitor: %w", err)
	}
	return decodeMonitor(def, created, modified)
}

// ListAppMonitors returns every app monitor ordered by name.
func (s *Store) ListAppMonitors(ctx context.Context) ([]model.AppMonitor, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT definition, created_us, modified_us FROM app_monitors ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list app monitors: %w", err)
	}
	defer rows.Close()
	var out []model.AppMonitor
	for rows.Next() {
		var def string
		var created, modified int64
		if err := rows.Scan(&def, &created, &modified); err != nil {
			return nil, fmt.Errorf("scan app monitor: %w", err)
		}
		m, err := decodeMonitor(def, created, modified)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// UpdateAppMonitor replaces the definition of an existing app monitor.
func (s *Store) UpdateAppMonitor(ctx context.Context, m *model.AppMonitor) error {
	def, err := encodeMonitor(m)
	if err != nil {
		return err
	}
	m.ModifiedMicros = nowMicros()
	res, err := s.db.ExecContext(ctx, "UPDATE app_monitors SET definition = ?, modified_us = ? WHERE name = ?", def, m.ModifiedMicros, m.Name)
	if err != nil {
		return fmt.Errorf("update app monitor: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("app monitor %q: %w", m.Name, store.ErrNotFound)
	}
	return nil
}

// DeleteAppMonitor removes the definition; stored events stay until
// retention removes them.
func (s *Store) DeleteAppMonitor(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, "DELETE FROM app_monitors WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("delete app monitor: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("app monitor %q: %w", name, store.ErrNotFound)
	}
	return nil
}
