package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// ListTraces lists traces most recent first. Event and Service ranges use
// segment start times; TraceId ranges compare the epoch in the id, whose
// fixed-width lower-case hex sorts like the number. With q.Filter set, it
// lists only traces that satisfy the filter's compiled necessary
// condition (filtersql.go); the caller still evaluates the filter.
func (s *Store) ListTraces(ctx context.Context, q store.TraceListQuery) ([]store.TraceRef, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var where string
	args := []any{}
	switch q.TimeRangeType {
	case "", store.TimeRangeEvent, store.TimeRangeService:
		where = "start_us >= ? AND start_us < ?"
		args = append(args, q.FromMicros, q.ToMicros)
	case store.TimeRangeTraceID:
		where = "substr(trace_id, 3, 8) >= ? AND substr(trace_id, 3, 8) < ?"
		args = append(args, fmt.Sprintf("%08x", q.FromMicros/1e6), fmt.Sprintf("%08x", (q.ToMicros+999_999)/1e6))
	default:
		return nil, fmt.Errorf("unknown TimeRangeType %q", q.TimeRangeType)
	}
	having := ""
	if q.BeforeTraceID != "" {
		having = "HAVING (min(start_us), trace_id) < (?, ?)"
		args = append(args, q.BeforeStartMicros, q.BeforeTraceID)
	}
	ctes := []string{`listed AS (SELECT trace_id, min(start_us) AS s FROM segments WHERE ` + where + `
		GROUP BY trace_id ` + having + `)`}
	cond := "TRUE"
	if q.Filter != nil {
		c := compileFilter(q.Filter)
		if !c.cond.isConst("TRUE") {
			if c.irregular {
				ctes = append(ctes, irregularCTE)
			}
			cond = c.cond.sql
			args = append(args, c.cond.args...)
			// Segments stored before the side tables existed have no
			// side rows: their traces pass unchecked.
			cond = "(" + cond + " OR trace_id IN (SELECT trace_id FROM segments WHERE spool_seq <= (SELECT from_seq FROM xray_index_meta WHERE id = 1)))"
		}
	}
	rows, err := s.db.QueryContext(ctx, "WITH "+strings.Join(ctes, ",\n")+`
		SELECT trace_id, s FROM listed WHERE `+cond+fmt.Sprintf(` ORDER BY s DESC, trace_id DESC LIMIT %d`, limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list traces: %w", err)
	}
	defer rows.Close()
	var out []store.TraceRef
	for rows.Next() {
		var r store.TraceRef
		if err := rows.Scan(&r.TraceID, &r.StartMicros); err != nil {
			return nil, fmt.Errorf("scan trace ref: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CreateGroup stores a new group.
func (s *Store) CreateGroup(ctx context.Context, g store.Group) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO xray_groups VALUES (?, ?, ?, ?, ?)", g.Name, g.ARN, g.FilterExpression, g.InsightsEnabled, g.NotifyEnabled)
	if err != nil {
		if isConstraint(err) {
			return fmt.Errorf("group %q: %w", g.Name, store.ErrConflict)
		}
		return fmt.Errorf("insert group: %w", err)
	}
	return nil
}

// GetGroup returns one group by name.
func (s *Store) GetGroup(ctx context.Context, name string) (*store.Group, error) {
	var g store.Group
	err := s.db.QueryRowContext(ctx, "SELECT name, arn, filter_expression, insights_enabled, notify_enabled FROM xray_groups WHERE name = ?", name).
		Scan(&g.Name, &g.ARN, &g.FilterExpression, &g.InsightsEnabled, &g.NotifyEnabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("group %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get group: %w", err)
	}
	return &g, nil
}

// ListGroups returns every group by name.
func (s *Store) ListGroups(ctx context.Context) ([]store.Group, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name, arn, filter_expression, insights_enabled, notify_enabled FROM xray_groups ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	defer rows.Close()
	var out []store.Group
	for rows.Next() {
		var g store.Group
		if err := rows.Scan(&g.Name, &g.ARN, &g.FilterExpression, &g.InsightsEnabled, &g.NotifyEnabled); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// UpdateGroup replaces a group's definition.
func (s *Store) UpdateGroup(ctx context.Context, g store.Group) error {
	res, err := s.db.ExecContext(ctx, "UPDATE xray_groups SET filter_expression = ?, insights_enabled = ?, notify_enabled = ? WHERE name = ?",
		g.FilterExpression, g.InsightsEnabled, g.NotifyEnabled, g.Name)
	if err != nil {
		return fmt.Errorf("update group: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("group %q: %w", g.Name, store.ErrNotFound)
	}
	return nil
}

// DeleteGroup removes a group.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, "DELETE FROM xray_groups WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("group %q: %w", name, store.ErrNotFound)
	}
	return nil
}

// SegmentsByTraceIDs returns the documents of the traces, one per id.
//
// trace_index names the Writes (spool sequence numbers) that stored each
// trace; spool_seq grows with every Write, so a filter on it lets DuckDB
// skip every row group that holds none of those Writes by its zone map,
// and only a few row groups are scanned instead of the whole table. An
// ART index on segments would do the same but halves ingest speed.
func (s *Store) SegmentsByTraceIDs(ctx context.Context, traceIDs []string) ([]model.SegmentRecord, error) {
	if len(traceIDs) == 0 {
		return nil, nil
	}
	idList, idArgs := placeholders(traceIDs)
	seqs, err := s.traceSeqs(ctx, idList, idArgs)
	if err != nil {
		return nil, err
	}
	if len(seqs.values) == 0 && seqs.legacyUpTo == 0 {
		return nil, nil
	}
	var seqConds []string
	var args []any
	args = append(args, idArgs...)
	if len(seqs.values) > 0 {
		ph, a := placeholders(seqs.values)
		seqConds = append(seqConds, "spool_seq IN ("+ph+")")
		args = append(args, a...)
	}
	if seqs.legacyUpTo > 0 {
		seqConds = append(seqConds, "spool_seq <= ?")
		args = append(args, seqs.legacyUpTo)
	}
	// Of several documents with one id (in-progress, then complete; or a
	// resend), keep the complete one, then the newest.
	rows, err := s.db.QueryContext(ctx, `
		SELECT raw, received_us, app_monitor_id, session_id, page_id FROM (
			SELECT *, row_number() OVER (PARTITION BY trace_id, id ORDER BY in_progress ASC, received_us DESC, spool_seq DESC) AS rn
			FROM segments WHERE trace_id IN (`+idList+`) AND (`+strings.Join(seqConds, " OR ")+`))
		WHERE rn = 1 ORDER BY trace_id, start_us`, args...)
	if err != nil {
		return nil, fmt.Errorf("query segments: %w", err)
	}
	defer rows.Close()
	var out []model.SegmentRecord
	for rows.Next() {
		var raw string
		var r model.SegmentRecord
		var app, sess, page sql.NullString
		if err := rows.Scan(&raw, &r.ReceivedAtMicros, &app, &sess, &page); err != nil {
			return nil, fmt.Errorf("scan segment: %w", err)
		}
		var seg model.Segment
		if err := json.Unmarshal([]byte(raw), &seg); err != nil {
			return nil, fmt.Errorf("decode stored segment: %w", err)
		}
		r.Segment, r.Raw = &seg, json.RawMessage(raw)
		r.AppMonitorID, r.SessionID, r.PageID = app.String, sess.String, page.String
		out = append(out, r)
	}
	return out, rows.Err()
}

type traceSeqs struct {
	values []uint64
	// legacyUpTo > 0: rows up to this sequence predate trace_index and
	// must be searched too.
	legacyUpTo uint64
}

func (s *Store) traceSeqs(ctx context.Context, idList string, idArgs []any) (traceSeqs, error) {
	var out traceSeqs
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT spool_seq, false FROM trace_index WHERE trace_id IN (`+idList+`)
		UNION ALL SELECT from_seq, true FROM xray_index_meta WHERE from_seq > 0`, idArgs...)
	if err != nil {
		return out, fmt.Errorf("query trace index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq uint64
		var legacy bool
		if err := rows.Scan(&seq, &legacy); err != nil {
			return out, fmt.Errorf("scan trace index: %w", err)
		}
		if legacy {
			out.legacyUpTo = seq
		} else {
			out.values = append(out.values, seq)
		}
	}
	slices.Sort(out.values)
	return out, rows.Err()
}

func placeholders[T any](vals []T) (string, []any) {
	ph := make([]string, len(vals))
	args := make([]any, len(vals))
	for i, v := range vals {
		ph[i], args[i] = "?", v
	}
	return strings.Join(ph, ","), args
}
