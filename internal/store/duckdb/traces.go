package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

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
	// One snapshot for the bounds and the listing: a Write committed
	// between them could add rows outside the bounds.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin list traces: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
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
			if c.answered {
				ctes = append(ctes, answeredCTE)
			}
			cond = c.cond.sql
			args = append(args, c.cond.args...)
			// Segments stored before the side tables existed have no
			// side rows: their traces pass unchecked.
			legacy := s.legacySeq
			if legacy > 0 {
				cond = fmt.Sprintf("(%s OR trace_id IN (SELECT trace_id FROM segments WHERE spool_seq <= %d))", cond, legacy)
			}
			bounds, err := listedSeqBounds(ctx, tx, where, args[:2], legacy)
			if err != nil {
				return nil, err
			}
			cond = strings.ReplaceAll(cond, listedOnly, bounds)
			for i := 1; i < len(ctes); i++ {
				ctes[i] = strings.ReplaceAll(ctes[i], listedOnly, bounds)
			}
		}
	}
	query, err := inline("WITH "+strings.Join(ctes, ",\n")+`
		SELECT trace_id, s FROM listed WHERE `+cond+fmt.Sprintf(` ORDER BY s DESC, trace_id DESC LIMIT %d`, limit), args)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, query)
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

// listedSeqBounds returns "spool_seq BETWEEN lo AND hi" for the Writes
// that stored the traces with a segment matching where (writeBounds). It
// replaces the filter's "trace_id IN listed" restriction (listedOnly): the
// subqueries then read only those Writes' row groups of the side tables,
// and their results are few, where a semi-join with the listed traces
// built a hash table of every trace in the range.
func listedSeqBounds(ctx context.Context, tx *sql.Tx, where string, args []any, legacy uint64) (string, error) {
	traceIDs, err := inline(`SELECT trace_id FROM segments WHERE `+where, args)
	if err != nil {
		return "", err
	}
	lo, hi, err := writeBounds(ctx, tx, traceIDs, legacy)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("spool_seq BETWEEN %d AND %d", lo, hi), nil
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

// literal quotes s as a SQL string. Queries inline their constants:
// DuckDB plans a prepared statement before its parameters are bound, so a
// "column = ?" filter is not pushed into the scan and cannot use zone
// maps, while "column = 'x'" is.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// inline replaces each ? in query with its argument as a SQL literal (see
// literal). The query text must hold no other question mark.
func inline(query string, args []any) (string, error) {
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		if n >= len(args) {
			return "", fmt.Errorf("inline: more placeholders than %d arguments", len(args))
		}
		switch v := args[n].(type) {
		case string:
			b.WriteString(literal(v))
		case bool:
			b.WriteString(strings.ToUpper(strconv.FormatBool(v)))
		case int:
			b.WriteString(strconv.Itoa(v))
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case uint64:
			b.WriteString(strconv.FormatUint(v, 10))
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				b.WriteString("'" + strconv.FormatFloat(v, 'g', -1, 64) + "'::DOUBLE")
			} else {
				b.WriteString("(" + strconv.FormatFloat(v, 'g', -1, 64) + "::DOUBLE)")
			}
		default:
			return "", fmt.Errorf("inline: argument of type %T", v)
		}
		n++
	}
	if n != len(args) {
		return "", fmt.Errorf("inline: %d placeholders for %d arguments", n, len(args))
	}
	return b.String(), nil
}
