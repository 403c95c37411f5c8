package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// App monitors and groups are a handful of rows kept as versions in a
// ReplacingMergeTree: every change inserts the whole row with a higher
// version (a delete inserts a tombstone), and reads take each name's
// newest version with argMax, which is right before and after merges.
// Without transactions, two processes creating the same name at the same
// instant can both succeed (the newer version wins); the API serialises
// creation through one query process in practice.

// storedMonitor is the JSON kept in app_monitors.definition; fields that
// model.AppMonitor hides from the AWS shape are kept explicitly.
type storedMonitor struct {
	model.AppMonitor
	CustomEventsEnabled bool `json:"CustomEventsEnabled"`
}

type monitorRow struct {
	name, id, def     string
	created, modified int64
}

func (s *Store) monitors(ctx context.Context, where string) ([]monitorRow, error) {
	q := fmt.Sprintf(`SELECT name, argMax(id, version), argMax(definition, version), argMax(created_us, version),
		argMax(modified_us, version), argMax(deleted, version) AS del
		FROM %s %s GROUP BY name HAVING del = 0 ORDER BY name`, tAppMonitors, where)
	rows, err := s.conn.query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read app monitors: %w", err)
	}
	out := make([]monitorRow, 0, len(rows))
	for _, r := range rows {
		sc := scanner{row: r}
		m := monitorRow{name: sc.str(), id: sc.str(), def: sc.str(), created: sc.i64(), modified: sc.i64()}
		if sc.err != nil {
			return nil, fmt.Errorf("scan app monitor: %w", sc.err)
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *Store) putMonitor(ctx context.Context, m monitorRow, deleted bool) error {
	del := 0
	if deleted {
		del = 1
	}
	stmt := fmt.Sprintf("INSERT INTO %s (name, id, definition, created_us, modified_us, deleted, version) VALUES (%s, %s, %s, %d, %d, %d, %d)",
		tAppMonitors, quoteString(m.name), quoteString(m.id), quoteString(m.def), m.created, m.modified, del, s.nextVersion())
	if err := s.conn.exec(ctx, stmt); err != nil {
		return fmt.Errorf("write app monitor: %w", err)
	}
	return nil
}

func encodeMonitor(m *model.AppMonitor) (string, error) {
	b, err := json.Marshal(storedMonitor{AppMonitor: *m, CustomEventsEnabled: m.CustomEventsEnabled})
	if err != nil {
		return "", fmt.Errorf("encode app monitor: %w", err)
	}
	return string(b), nil
}

func decodeMonitor(r monitorRow) (*model.AppMonitor, error) {
	var sm storedMonitor
	if err := json.Unmarshal([]byte(r.def), &sm); err != nil {
		return nil, fmt.Errorf("decode app monitor %q: %w", r.name, err)
	}
	m := sm.AppMonitor
	m.CustomEventsEnabled = sm.CustomEventsEnabled
	m.CreatedMicros, m.ModifiedMicros = r.created, r.modified
	return &m, nil
}

// CreateAppMonitor stores a new app monitor; name and id must be unused.
func (s *Store) CreateAppMonitor(ctx context.Context, m *model.AppMonitor) error {
	def, err := encodeMonitor(m)
	if err != nil {
		return err
	}
	existing, err := s.monitors(ctx, "")
	if err != nil {
		return err
	}
	for _, e := range existing {
		if e.name == m.Name || e.id == m.ID {
			return fmt.Errorf("app monitor %q: %w", m.Name, store.ErrConflict)
		}
	}
	if m.CreatedMicros == 0 {
		m.CreatedMicros = time.Now().UnixMicro()
	}
	m.ModifiedMicros = m.CreatedMicros
	return s.putMonitor(ctx, monitorRow{name: m.Name, id: m.ID, def: def, created: m.CreatedMicros, modified: m.ModifiedMicros}, false)
}

func (s *Store) monitor(ctx context.Context, name string) (*monitorRow, error) {
	list, err := s.monitors(ctx, "WHERE name = "+quoteString(name))
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("app monitor %q: %w", name, store.ErrNotFound)
	}
	return &list[0], nil
}

// GetAppMonitor returns the app monitor called name.
func (s *Store) GetAppMonitor(ctx context.Context, name string) (*model.AppMonitor, error) {
	r, err := s.monitor(ctx, name)
	if err != nil {
		return nil, err
	}
	return decodeMonitor(*r)
}

// ListAppMonitors returns every app monitor ordered by name.
func (s *Store) ListAppMonitors(ctx context.Context) ([]model.AppMonitor, error) {
	list, err := s.monitors(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]model.AppMonitor, 0, len(list))
	for _, r := range list {
		m, err := decodeMonitor(r)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, nil
}

// UpdateAppMonitor replaces the definition of an existing app monitor.
func (s *Store) UpdateAppMonitor(ctx context.Context, m *model.AppMonitor) error {
	def, err := encodeMonitor(m)
	if err != nil {
		return err
	}
	old, err := s.monitor(ctx, m.Name)
	if err != nil {
		return err
	}
	m.ModifiedMicros = time.Now().UnixMicro()
	return s.putMonitor(ctx, monitorRow{name: m.Name, id: old.id, def: def, created: old.created, modified: m.ModifiedMicros}, false)
}

// DeleteAppMonitor removes the definition; stored events stay until
// retention removes them.
func (s *Store) DeleteAppMonitor(ctx context.Context, name string) error {
	old, err := s.monitor(ctx, name)
	if err != nil {
		return err
	}
	return s.putMonitor(ctx, *old, true)
}

func (s *Store) groups(ctx context.Context, where string) ([]store.Group, error) {
	q := fmt.Sprintf(`SELECT name, argMax(arn, version), argMax(filter_expression, version), argMax(insights_enabled, version),
		argMax(notify_enabled, version), argMax(deleted, version) AS del
		FROM %s %s GROUP BY name HAVING del = 0 ORDER BY name`, tGroups, where)
	rows, err := s.conn.query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read groups: %w", err)
	}
	out := make([]store.Group, 0, len(rows))
	for _, r := range rows {
		sc := scanner{row: r}
		g := store.Group{Name: sc.str(), ARN: sc.str(), FilterExpression: sc.str(), InsightsEnabled: sc.bool(), NotifyEnabled: sc.bool()}
		if sc.err != nil {
			return nil, fmt.Errorf("scan group: %w", sc.err)
		}
		out = append(out, g)
	}
	return out, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Store) putGroup(ctx context.Context, g store.Group, deleted bool) error {
	stmt := fmt.Sprintf("INSERT INTO %s (name, arn, filter_expression, insights_enabled, notify_enabled, deleted, version) VALUES (%s, %s, %s, %d, %d, %d, %d)",
		tGroups, quoteString(g.Name), quoteString(g.ARN), quoteString(g.FilterExpression), b2i(g.InsightsEnabled), b2i(g.NotifyEnabled), b2i(deleted), s.nextVersion())
	if err := s.conn.exec(ctx, stmt); err != nil {
		return fmt.Errorf("write group: %w", err)
	}
	return nil
}

// CreateGroup stores a new group.
func (s *Store) CreateGroup(ctx context.Context, g store.Group) error {
	if _, err := s.GetGroup(ctx, g.Name); err == nil {
		return fmt.Errorf("group %q: %w", g.Name, store.ErrConflict)
	} else if !isNotFound(err) {
		return err
	}
	return s.putGroup(ctx, g, false)
}

// GetGroup returns one group by name.
func (s *Store) GetGroup(ctx context.Context, name string) (*store.Group, error) {
	list, err := s.groups(ctx, "WHERE name = "+quoteString(name))
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("group %q: %w", name, store.ErrNotFound)
	}
	return &list[0], nil
}

// ListGroups returns every group by name.
func (s *Store) ListGroups(ctx context.Context) ([]store.Group, error) { return s.groups(ctx, "") }

// UpdateGroup replaces a group's definition; its ARN stays.
func (s *Store) UpdateGroup(ctx context.Context, g store.Group) error {
	old, err := s.GetGroup(ctx, g.Name)
	if err != nil {
		return err
	}
	g.ARN = old.ARN
	return s.putGroup(ctx, g, false)
}

// DeleteGroup removes a group.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	old, err := s.GetGroup(ctx, name)
	if err != nil {
		return err
	}
	return s.putGroup(ctx, *old, true)
}
