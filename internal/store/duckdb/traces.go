package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
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
			if c.answered {
				ctes = append(ctes, answeredCTE)
			}
			cond = c.cond.sql
			args = append(args, c.cond.args...)
			// Segments stored before the side tables existed have no
			// side rows: their traces pass unchecked.
			var legacy uint64
			if err := s.db.QueryRowContext(ctx, "SELECT from_seq FROM xray_index_meta WHERE id = 1").Scan(&legacy); err != nil {
				return nil, fmt.Errorf("read index meta: %w", err)
			}
			if legacy > 0 {
				cond = fmt.Sprintf("(%s OR trace_id IN (SELECT trace_id FROM segments WHERE spool_seq <= %d))", cond, legacy)
			}
		}
	}
	query, err := inline("WITH "+strings.Join(ctes, ",\n")+`
		SELECT trace_id, s FROM listed WHERE `+cond+fmt.Sprintf(` ORDER BY s DESC, trace_id DESC LIMIT %d`, limit), args)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, query)
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
// It never scans the segments table, in three steps inside one
// transaction (so rowids stay put between them):
//
//   - trace_index (small, with an ART index on trace_id) names the Writes
//     (spool sequence numbers) that stored each trace;
//   - spool_seq grows with every Write, so a filter on it lets DuckDB
//     skip, by zone map, every row group and vector that holds none of
//     those Writes; only the narrow key columns of those rows are read to
//     find the rowids of the documents. (With an IN list or an OR of
//     equalities, DuckDB reads every column of the surviving row groups,
//     raw included, before filtering: ten times slower.)
//   - the raw documents are fetched by rowid ranges, which DuckDB turns
//     into direct reads.
//
// An ART index on segments would do the first two steps but halves
// ingest speed.
func (s *Store) SegmentsByTraceIDs(ctx context.Context, traceIDs []string) ([]model.SegmentRecord, error) {
	if len(traceIDs) == 0 {
		return nil, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin trace lookup: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	writes, err := lookupTraceWrites(ctx, tx, traceIDs)
	if err != nil {
		return nil, err
	}
	if len(writes) == 0 {
		return nil, nil
	}
	rowids, err := locateDocuments(ctx, tx, writes)
	if err != nil {
		return nil, err
	}
	return fetchDocuments(ctx, tx, rowids)
}

// locateDocuments returns the rowids of the documents to serve, in the
// order they are returned: by trace, then start time. Of several documents
// with one id (in-progress, then complete; or a resend), it keeps the
// complete one, then the newest.
//
// Each branch compares both columns with one constant: such filters are
// pushed into the scan, where an IN list becomes a hash join. The choice
// and the order are made here: on a few dozen rows DuckDB's window and
// sort operators cost several milliseconds of setup.
func locateDocuments(ctx context.Context, tx *sql.Tx, writes []traceWrite) ([]int64, error) {
	var parts []string
	for _, w := range writes {
		cond := fmt.Sprintf("spool_seq = %d", w.seq)
		if w.upTo > 0 {
			cond = fmt.Sprintf("spool_seq <= %d", w.upTo)
		}
		parts = append(parts, `SELECT rowid, trace_id, id, in_progress, received_us, spool_seq, start_us FROM segments
			WHERE `+cond+` AND trace_id = `+literal(w.traceID))
	}
	rows, err := tx.QueryContext(ctx, strings.Join(parts, "\nUNION ALL\n"))
	if err != nil {
		return nil, fmt.Errorf("locate segments: %w", err)
	}
	defer rows.Close()
	type located struct {
		rowid               int64
		traceID, id         string
		inProgress          bool
		receivedUs, startUs int64
		seq                 uint64
	}
	best := map[[2]string]located{}
	for rows.Next() {
		var l located
		var inProgress sql.NullBool
		var received, start sql.NullInt64
		if err := rows.Scan(&l.rowid, &l.traceID, &l.id, &inProgress, &received, &l.seq, &start); err != nil {
			return nil, fmt.Errorf("scan segment location: %w", err)
		}
		l.inProgress, l.receivedUs, l.startUs = inProgress.Bool, received.Int64, start.Int64
		k := [2]string{l.traceID, l.id}
		cur, seen := best[k]
		if !seen || cmp.Or(
			cmpBool(cur.inProgress, l.inProgress),
			cmp.Compare(l.receivedUs, cur.receivedUs),
			cmp.Compare(l.seq, cur.seq),
			cmp.Compare(l.rowid, cur.rowid)) > 0 {
			best[k] = l
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	picked := make([]located, 0, len(best))
	for _, l := range best {
		picked = append(picked, l)
	}
	slices.SortFunc(picked, func(a, b located) int {
		return cmp.Or(strings.Compare(a.traceID, b.traceID), cmp.Compare(a.startUs, b.startUs), cmp.Compare(a.rowid, b.rowid))
	})
	out := make([]int64, len(picked))
	for i, l := range picked {
		out[i] = l.rowid
	}
	return out, nil
}

// cmpBool orders true before false.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// rowidGap is the largest gap between located rows fetched as one range:
// reading a few unwanted rows costs less than another UNION branch.
const rowidGap = 8

// fetchDocuments reads and decodes the documents at rowids, keeping their
// order.
func fetchDocuments(ctx context.Context, tx *sql.Tx, rowids []int64) ([]model.SegmentRecord, error) {
	if len(rowids) == 0 {
		return nil, nil
	}
	pos := make(map[int64]int, len(rowids))
	for i, r := range rowids {
		pos[r] = i
	}
	sorted := slices.Clone(rowids)
	slices.Sort(sorted)
	var parts []string
	for i := 0; i < len(sorted); {
		j := i
		for j+1 < len(sorted) && sorted[j+1]-sorted[j] <= rowidGap {
			j++
		}
		parts = append(parts, fmt.Sprintf("SELECT rowid, raw, received_us, app_monitor_id, session_id, page_id FROM segments WHERE rowid BETWEEN %d AND %d", sorted[i], sorted[j]))
		i = j + 1
	}
	rows, err := tx.QueryContext(ctx, strings.Join(parts, "\nUNION ALL\n"))
	if err != nil {
		return nil, fmt.Errorf("fetch segments: %w", err)
	}
	defer rows.Close()
	out := make([]model.SegmentRecord, len(rowids))
	found := 0
	for rows.Next() {
		var rid int64
		var raw string
		var r model.SegmentRecord
		var app, sess, page sql.NullString
		if err := rows.Scan(&rid, &raw, &r.ReceivedAtMicros, &app, &sess, &page); err != nil {
			return nil, fmt.Errorf("scan segment: %w", err)
		}
		i, ok := pos[rid]
		if !ok {
			continue // a row between two located ones
		}
		var seg model.Segment
		if err := json.Unmarshal([]byte(raw), &seg); err != nil {
			return nil, fmt.Errorf("decode stored segment: %w", err)
		}
		r.Segment, r.Raw = &seg, json.RawMessage(raw)
		r.AppMonitorID, r.SessionID, r.PageID = app.String, sess.String, page.String
		out[i] = r
		found++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if found != len(rowids) {
		return nil, fmt.Errorf("fetch segments: %d of %d located rows read", found, len(rowids))
	}
	return out, nil
}

// traceWrite is one Write that stored rows of a trace; upTo > 0 stands
// for every Write up to that sequence (rows older than trace_index).
type traceWrite struct {
	traceID string
	seq     uint64
	upTo    uint64
}

// lookupTraceWrites lists the Writes that stored the traces.
func lookupTraceWrites(ctx context.Context, tx *sql.Tx, traceIDs []string) ([]traceWrite, error) {
	rows, err := tx.QueryContext(ctx, `SELECT trace_id, spool_seq, 0::UBIGINT FROM trace_index WHERE trace_id IN (`+literals(traceIDs)+`)
		UNION ALL SELECT NULL, 0, from_seq FROM xray_index_meta WHERE from_seq > 0`)
	if err != nil {
		return nil, fmt.Errorf("query trace index: %w", err)
	}
	defer rows.Close()
	var out []traceWrite
	seen := map[traceWrite]bool{}
	for rows.Next() {
		var w traceWrite
		var id sql.NullString
		if err := rows.Scan(&id, &w.seq, &w.upTo); err != nil {
			return nil, fmt.Errorf("scan trace index: %w", err)
		}
		if w.upTo > 0 {
			for _, id := range traceIDs {
				out = append(out, traceWrite{traceID: id, upTo: w.upTo})
			}
			continue
		}
		w.traceID = id.String
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out, rows.Err()
}

// literal quotes s as a SQL string. The lookups inline their constants:
// DuckDB plans a prepared statement before its parameters are bound, so a
// "column = ?" filter is not pushed into the scan and cannot use zone maps
// or rowid ranges, while "column = 'x'" is.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func literals(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = literal(v)
	}
	return strings.Join(q, ",")
}

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
