package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

var _ store.RumStats = (*Store)(nil)

// Defaults of the RUM statistics limits when a query leaves them zero.
const (
	defaultGroupLimit   = 50
	defaultPageLimit    = 100
	defaultSamples      = 3
	defaultSessionLimit = 50
)

// where collects the conditions and positional arguments of one SELECT.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) in(expr string, vals []string) {
	if len(vals) == 0 {
		return
	}
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = "?"
		w.args = append(w.args, v)
	}
	w.conds = append(w.conds, expr+" IN ("+strings.Join(ph, ",")+")")
}

func (w *where) String() string { return strings.Join(w.conds, " AND ") }

// baseWhere scopes to the app monitor and range only; ts_us first so
// DuckDB's zone maps skip row groups outside the range.
func baseWhere(r store.RumRange) *where {
	w := &where{}
	w.add("ts_us >= ?", r.FromMicros)
	w.add("ts_us < ?", r.ToMicros)
	w.add("app_monitor_id = ?", r.AppMonitorID)
	return w
}

func filteredWhere(r store.RumRange) (*where, error) {
	w := baseWhere(r)
	f := r.Filter
	w.in("page_id", f.Pages)
	w.in("browser", f.Browsers)
	w.in("os", f.OSes)
	w.in("device_type", f.DeviceTypes)
	w.in("country", f.Countries)
	w.in("app_version", f.AppVersions)
	keys := make([]string, 0, len(f.Metadata))
	for k := range f.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !store.ValidMetadataKey(k) {
			return nil, fmt.Errorf("metadata filter key %q: only letters, digits and _ : . - are allowed", k)
		}
		w.in(fmt.Sprintf(`json_extract_string(metadata, '$."%s"')`, k), f.Metadata[k])
	}
	return w, nil
}

// sessionScoped selects all events in range of the sessions that have an
// event passing the filter; without a filter that is every event.
func sessionScoped(r store.RumRange) (*where, error) {
	w := baseWhere(r)
	if r.Filter.Empty() {
		return w, nil
	}
	fw, err := filteredWhere(r)
	if err != nil {
		return nil, err
	}
	w.add("session_id IN (SELECT session_id FROM rum_events WHERE "+fw.String()+")", fw.args...)
	return w, nil
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// rewriteSQL wraps expr in the regexp_replace calls of the shared rules.
func rewriteSQL(expr string, rws []store.Rewrite) string {
	for _, r := range rws {
		expr = fmt.Sprintf("regexp_replace(%s, %s, %s, 'g')", expr, sqlString(r.Pattern), sqlString(r.SQLReplacement()))
	}
	return expr
}

func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// Distribution returns percentiles and threshold counts of one metric per
// time bucket or per page.
func (s *Store) Distribution(ctx context.Context, q store.DistributionQuery) ([]store.DistributionRow, error) {
	col := store.ValueColumn(q.EventType)
	if col == "" {
		return nil, fmt.Errorf("distribution: event type %q has no metric", q.EventType)
	}
	w, err := filteredWhere(q.RumRange)
	if err != nil {
		return nil, err
	}
	w.add("event_type = ?", q.EventType)
	w.add(col + " IS NOT NULL")
	var key, order string
	switch q.GroupBy {
	case store.GroupByTime:
		if q.BucketMicros <= 0 {
			return nil, fmt.Errorf("distribution: bucket must be positive, got %d µs", q.BucketMicros)
		}
		key = fmt.Sprintf("(ts_us // %d) * %d", q.BucketMicros, q.BucketMicros)
		order = "k"
	case store.GroupByPage:
		key = "coalesce(page_id, '')"
		order = fmt.Sprintf("n DESC, k LIMIT %d", orDefault(q.Limit, defaultPageLimit))
	default:
		return nil, fmt.Errorf("distribution: unknown grouping %d", q.GroupBy)
	}
	query := fmt.Sprintf(`SELECT k, count(*) AS n, quantile_cont(v, [0.5, 0.75, 0.9, 0.99]),
		count(*) FILTER (WHERE v <= ?), count(*) FILTER (WHERE v <= ?)
		FROM (SELECT %s AS k, %s AS v FROM rum_events WHERE %s)
		GROUP BY k ORDER BY %s`, key, col, w, order)
	args := append([]any{q.Good, q.Poor}, w.args...)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query distribution: %w", err)
	}
	defer rows.Close()
	var out []store.DistributionRow
	for rows.Next() {
		var r store.DistributionRow
		var k, qs any
		if err := rows.Scan(&k, &r.Count, &qs, &r.AtMostGood, &r.AtMostPoor); err != nil {
			return nil, fmt.Errorf("scan distribution: %w", err)
		}
		if q.GroupBy == store.GroupByTime {
			r.BucketMicros, _ = k.(int64)
		} else {
			r.Page, _ = k.(string)
		}
		r.Percentiles = percentiles(qs)
		out = append(out, r)
	}
	return out, rows.Err()
}

func floats(v any) []float64 {
	list, _ := v.([]any)
	out := make([]float64, len(list))
	for i, x := range list {
		out[i], _ = x.(float64)
	}
	return out
}

func percentiles(v any) store.Percentiles {
	f := floats(v)
	if len(f) != 4 {
		return store.Percentiles{}
	}
	return store.Percentiles{P50: f[0], P75: f[1], P90: f[2], P99: f[3]}
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// EventCounts counts events of the given types per bucket.
func (s *Store) EventCounts(ctx context.Context, q store.CountQuery) ([]store.CountRow, error) {
	if q.BucketMicros <= 0 {
		return nil, fmt.Errorf("event counts: bucket must be positive, got %d µs", q.BucketMicros)
	}
	w, err := filteredWhere(q.RumRange)
	if err != nil {
		return nil, err
	}
	w.in("event_type", q.EventTypes)
	query := fmt.Sprintf(`SELECT (ts_us // %d) * %d AS b, event_type, count(*) FROM rum_events WHERE %s
		GROUP BY ALL ORDER BY b, event_type`, q.BucketMicros, q.BucketMicros, w)
	rows, err := s.db.QueryContext(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("query event counts: %w", err)
	}
	defer rows.Close()
	var out []store.CountRow
	for rows.Next() {
		var r store.CountRow
		if err := rows.Scan(&r.BucketMicros, &r.EventType, &r.Count); err != nil {
			return nil, fmt.Errorf("scan event counts: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// NavigationPhases summarises each phase field of the navigation details.
func (s *Store) NavigationPhases(ctx context.Context, q store.RumRange) ([]store.PhaseStat, error) {
	w, err := filteredWhere(q)
	if err != nil {
		return nil, err
	}
	w.add("event_type = ?", model.EventNavigation)
	var cols, aggs []string
	for i, f := range store.NavigationPhaseFields {
		// json_type guards against strings and objects that happen to
		// carry a phase's name.
		cols = append(cols, fmt.Sprintf(`CASE WHEN json_type(details, '$.%[1]s') IN ('UBIGINT', 'BIGINT', 'DOUBLE')
			THEN CAST(json_extract(details, '$.%[1]s') AS DOUBLE) END AS f%[2]d`, f, i))
		aggs = append(aggs, fmt.Sprintf("count(f%[1]d), avg(f%[1]d), quantile_cont(f%[1]d, [0.5, 0.75])", i))
	}
	query := fmt.Sprintf("SELECT %s FROM (SELECT %s FROM rum_events WHERE %s)",
		strings.Join(aggs, ", "), strings.Join(cols, ", "), w)
	n := len(store.NavigationPhaseFields)
	counts := make([]int64, n)
	means := make([]sql.NullFloat64, n)
	qs := make([]any, n)
	dest := make([]any, 0, 3*n)
	for i := 0; i < n; i++ {
		dest = append(dest, &counts[i], &means[i], &qs[i])
	}
	if err := s.db.QueryRowContext(ctx, query, w.args...).Scan(dest...); err != nil {
		return nil, fmt.Errorf("query navigation phases: %w", err)
	}
	out := make([]store.PhaseStat, n)
	for i, f := range store.NavigationPhaseFields {
		out[i] = store.PhaseStat{Field: f, Count: counts[i], Mean: means[i].Float64}
		if p := floats(qs[i]); len(p) == 2 {
			out[i].P50, out[i].P75 = p[0], p[1]
		}
	}
	return out, nil
}

// ErrorGroups groups js errors by type, normalised message and top frame.
func (s *Store) ErrorGroups(ctx context.Context, q store.ErrorGroupQuery) ([]store.ErrorGroup, error) {
	w, err := filteredWhere(q.RumRange)
	if err != nil {
		return nil, err
	}
	w.add("event_type = ?", model.EventJSError)
	// Every js error row carries its grouping keys (extracted at ingest,
	// completed at write, backfilled at open for older databases).
	msg, frame := "coalesce(error_message_norm, '')", "coalesce(error_frame, '')"
	samples := orDefault(q.Samples, defaultSamples)
	query := fmt.Sprintf(`SELECT t, m, f, count(*) AS n, count(DISTINCT session_id), min(ts_us), max(ts_us),
		list_sort(list_distinct(list(browser))), list_sort(list_distinct(list(app_version))),
		list(event_id ORDER BY ts_us, event_id)[1:%[1]d], list(session_id ORDER BY ts_us, event_id)[1:%[1]d]
		FROM (SELECT coalesce(error_type, '') AS t, %[2]s AS m, %[3]s AS f, session_id, ts_us, event_id, browser, app_version
			FROM rum_events WHERE %[4]s)
		GROUP BY t, m, f ORDER BY n DESC, t, m, f LIMIT %[5]d`, samples, msg, frame, w, orDefault(q.Limit, defaultGroupLimit))
	rows, err := s.db.QueryContext(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("query error groups: %w", err)
	}
	defer rows.Close()
	var out []store.ErrorGroup
	for rows.Next() {
		var g store.ErrorGroup
		var browsers, versions, ids, sessions any
		if err := rows.Scan(&g.Type, &g.Message, &g.Frame, &g.Count, &g.Sessions, &g.FirstMicros, &g.LastMicros,
			&browsers, &versions, &ids, &sessions); err != nil {
			return nil, fmt.Errorf("scan error group: %w", err)
		}
		g.Browsers, g.AppVersions, g.SampleEventIDs, g.SampleSessions = strs(browsers), strs(versions), strs(ids), strs(sessions)
		out = append(out, g)
	}
	return out, rows.Err()
}

// HTTPGroups groups HTTP calls by method and URL pattern.
func (s *Store) HTTPGroups(ctx context.Context, q store.HTTPGroupQuery) ([]store.HTTPGroup, error) {
	w, err := filteredWhere(q.RumRange)
	if err != nil {
		return nil, err
	}
	w.add("event_type = ?", model.EventHTTP)
	xw := baseWhere(q.RumRange)
	xw.add("event_type = ?", model.EventXRayTrace)
	xw.add("trace_id IS NOT NULL")
	url := "coalesce(http_url_pattern, '')"
	query := fmt.Sprintf(`WITH x AS (SELECT trace_id, max(duration_ms) AS d FROM rum_events WHERE %[1]s GROUP BY trace_id),
		h AS (SELECT coalesce(http_method, '') AS m, %[2]s AS u, http_status, error_type, error_message, trace_id, duration_ms
			FROM rum_events WHERE %[3]s)
		SELECT m, u, count(*) AS n,
			count(*) FILTER (WHERE http_status BETWEEN 400 AND 499),
			count(*) FILTER (WHERE http_status BETWEEN 500 AND 599),
			count(*) FILTER (WHERE http_status IS NULL AND (error_type IS NOT NULL OR error_message IS NOT NULL)),
			count(coalesce(h.duration_ms, x.d)), quantile_cont(coalesce(h.duration_ms, x.d), [0.5, 0.75, 0.9, 0.99]),
			list_reverse_sort(list_distinct(list(h.trace_id)))[1:%[4]d]
		FROM h LEFT JOIN x ON h.trace_id = x.trace_id
		GROUP BY m, u ORDER BY n DESC, m, u LIMIT %[5]d`, xw, url, w, orDefault(q.TraceIDs, defaultSamples), orDefault(q.Limit, defaultGroupLimit))
	rows, err := s.db.QueryContext(ctx, query, append(xw.args, w.args...)...)
	if err != nil {
		return nil, fmt.Errorf("query http groups: %w", err)
	}
	defer rows.Close()
	var out []store.HTTPGroup
	for rows.Next() {
		var g store.HTTPGroup
		var qs, traces any
		if err := rows.Scan(&g.Method, &g.URLPattern, &g.Count, &g.Status4xx, &g.Status5xx, &g.NetworkErrors,
			&g.LatencyCount, &qs, &traces); err != nil {
			return nil, fmt.Errorf("scan http group: %w", err)
		}
		g.Latency, g.TraceIDs = percentiles(qs), strs(traces)
		out = append(out, g)
	}
	return out, rows.Err()
}

// Sessions lists sessions, most recently started first. The newest page
// is found on (session, first event) alone, then only its sessions are
// summarised, which keeps the wide aggregate off most of the range.
func (s *Store) Sessions(ctx context.Context, q store.SessionListQuery) ([]store.SessionSummary, error) {
	w, err := sessionScoped(q.RumRange)
	if err != nil {
		return nil, err
	}
	having := ""
	args := append([]any{}, w.args...)
	if q.BeforeSessionID != "" {
		having = "HAVING (min(ts_us), session_id) < (?, ?)"
		args = append(args, q.BeforeStartMicros, q.BeforeSessionID)
	}
	bw := baseWhere(q.RumRange)
	args = append(args, bw.args...)
	query := fmt.Sprintf(`WITH top AS (
			SELECT session_id, min(ts_us) AS start FROM rum_events WHERE %[1]s
			GROUP BY session_id %[2]s ORDER BY start DESC, session_id DESC LIMIT %[3]d)
		SELECT e.session_id, arg_min(user_id, ts_us), min(ts_us) AS start, max(ts_us), count(*),
			count(*) FILTER (WHERE event_type = '%[4]s'), count(*) FILTER (WHERE event_type = '%[5]s'),
			arg_min(browser, ts_us), arg_min(os, ts_us), arg_min(device_type, ts_us), arg_min(country, ts_us), arg_min(app_version, ts_us),
			arg_min(page_id, ts_us) FILTER (WHERE event_type = '%[4]s'), arg_max(page_id, ts_us) FILTER (WHERE event_type = '%[4]s')
		FROM rum_events e SEMI JOIN top ON e.session_id = top.session_id
		WHERE %[6]s
		GROUP BY e.session_id ORDER BY start DESC, e.session_id DESC`,
		w, having, orDefault(q.Limit, defaultSessionLimit), model.EventPageView, model.EventJSError, bw)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query sessions: %w", err)
	}
	defer rows.Close()
	var out []store.SessionSummary
	for rows.Next() {
		var r store.SessionSummary
		var user, browser, osName, device, country, version, entry, exit sql.NullString
		if err := rows.Scan(&r.SessionID, &user, &r.StartMicros, &r.EndMicros, &r.Events, &r.PageViews, &r.Errors,
			&browser, &osName, &device, &country, &version, &entry, &exit); err != nil {
			return nil, fmt.Errorf("scan session: %w", err)
		}
		r.UserID, r.Browser, r.OS, r.DeviceType = user.String, browser.String, osName.String, device.String
		r.Country, r.AppVersion, r.EntryPage, r.ExitPage = country.String, version.String, entry.String, exit.String
		out = append(out, r)
	}
	return out, rows.Err()
}

// Transitions counts consecutive page views within sessions.
func (s *Store) Transitions(ctx context.Context, q store.JourneyQuery) ([]store.Transition, error) {
	w, err := sessionScoped(q.RumRange)
	if err != nil {
		return nil, err
	}
	w.add("event_type = ?", model.EventPageView)
	w.add("page_id IS NOT NULL")
	query := fmt.Sprintf(`SELECT a, b, count(*) AS n FROM (
			SELECT page_id AS a, lead(page_id) OVER (PARTITION BY session_id ORDER BY ts_us, event_id) AS b
			FROM rum_events WHERE %s)
		WHERE b IS NOT NULL GROUP BY a, b ORDER BY n DESC, a, b LIMIT %d`, w, orDefault(q.Limit, defaultGroupLimit))
	rows, err := s.db.QueryContext(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("query transitions: %w", err)
	}
	defer rows.Close()
	var out []store.Transition
	for rows.Next() {
		var t store.Transition
		if err := rows.Scan(&t.From, &t.To, &t.Count); err != nil {
			return nil, fmt.Errorf("scan transition: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// PageExits tells per page how many sessions saw it and ended on it.
func (s *Store) PageExits(ctx context.Context, q store.JourneyQuery) ([]store.PageExit, error) {
	w, err := sessionScoped(q.RumRange)
	if err != nil {
		return nil, err
	}
	w.add("event_type = ?", model.EventPageView)
	w.add("page_id IS NOT NULL")
	query := fmt.Sprintf(`SELECT page_id, count(DISTINCT session_id), count(*) FILTER (WHERE rn = 1) AS exits FROM (
			SELECT session_id, page_id, row_number() OVER (PARTITION BY session_id ORDER BY ts_us DESC, event_id DESC) AS rn
			FROM rum_events WHERE %s)
		GROUP BY page_id ORDER BY exits DESC, page_id LIMIT %d`, w, orDefault(q.Limit, defaultGroupLimit))
	rows, err := s.db.QueryContext(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("query page exits: %w", err)
	}
	defer rows.Close()
	var out []store.PageExit
	for rows.Next() {
		var p store.PageExit
		if err := rows.Scan(&p.Page, &p.Sessions, &p.Exits); err != nil {
			return nil, fmt.Errorf("scan page exit: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Audience breaks sessions and page views down by one dimension.
func (s *Store) Audience(ctx context.Context, q store.RumRange, dimension string) ([]store.AudienceRow, error) {
	if err := store.CheckDimension(dimension); err != nil {
		return nil, err
	}
	w, err := filteredWhere(q)
	if err != nil {
		return nil, err
	}
	query := fmt.Sprintf(`SELECT coalesce(%s, '') AS v, count(DISTINCT session_id) AS n, count(*) FILTER (WHERE event_type = ?)
		FROM rum_events WHERE %s GROUP BY v ORDER BY n DESC, v`, dimension, w)
	rows, err := s.db.QueryContext(ctx, query, append([]any{model.EventPageView}, w.args...)...)
	if err != nil {
		return nil, fmt.Errorf("query audience: %w", err)
	}
	defer rows.Close()
	var out []store.AudienceRow
	for rows.Next() {
		var r store.AudienceRow
		if err := rows.Scan(&r.Value, &r.Sessions, &r.PageViews); err != nil {
			return nil, fmt.Errorf("scan audience: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// backfillGroupKeys computes the grouping keys of rows stored before they
// existed, with the same rules in SQL; a no-op once done.
func (s *Store) backfillGroupKeys(ctx context.Context) error {
	msg := rewriteSQL("coalesce(error_message, '')", store.MessageRewrites)
	frame := rewriteSQL(fmt.Sprintf("coalesce(regexp_extract(json_extract_string(details, '$.stack'), %s), '')", sqlString(store.FramePattern)), store.FrameRewrites)
	url := rewriteSQL("coalesce(http_url, '')", store.URLRewrites)
	stmts := []string{
		fmt.Sprintf("UPDATE rum_events SET error_message_norm = %s, error_frame = %s WHERE event_type = '%s' AND error_message_norm IS NULL", msg, frame, model.EventJSError),
		fmt.Sprintf("UPDATE rum_events SET http_url_pattern = %s WHERE event_type = '%s' AND http_url_pattern IS NULL", url, model.EventHTTP),
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("backfill grouping keys: %w", err)
		}
	}
	return nil
}
