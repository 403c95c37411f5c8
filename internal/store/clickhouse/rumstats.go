package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// The RUM statistics keep to SQL that 18.16 runs: no window functions
// (per-session order comes from sorting grouped arrays), no interpolating
// quantile (percentiles are computed from the sorted values, exactly as
// store.Percentiles defines them), no JSON functions (metadata, phases and
// grouping keys are columns filled at ingest).

// Defaults of the RUM statistics limits when a query leaves them zero.
const (
	defaultGroupLimit   = 50
	defaultPageLimit    = 100
	defaultSamples      = 3
	defaultSessionLimit = 50
)

func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

type conds []string

func (c conds) String() string { return strings.Join(c, " AND ") }

// baseConds scope to the app monitor and range only.
func baseConds(r store.RumRange) conds {
	return conds{"app_monitor_id = " + quoteString(r.AppMonitorID), "ts_us >= " + quoteInt(r.FromMicros), "ts_us < " + quoteInt(r.ToMicros)}
}

func filteredConds(r store.RumRange) (conds, error) {
	c := baseConds(r)
	f := r.Filter
	in := func(col string, vals []string) {
		if len(vals) > 0 {
			c = append(c, fmt.Sprintf("%s IN (%s) AND %s != ''", col, stringList(vals), col))
		}
	}
	in("page_id", f.Pages)
	in("browser", f.Browsers)
	in("os", f.OSes)
	in("device_type", f.DeviceTypes)
	in("country", f.Countries)
	in("app_version", f.AppVersions)
	keys := make([]string, 0, len(f.Metadata))
	for k := range f.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !store.ValidMetadataKey(k) {
			return nil, fmt.Errorf("metadata filter key %q: only letters, digits and _ : . - are allowed", k)
		}
		c = append(c, fmt.Sprintf("has(md_keys, %[1]s) AND md_values[indexOf(md_keys, %[1]s)] IN (%[2]s)", quoteString(k), stringList(f.Metadata[k])))
	}
	return c, nil
}

// sessionScoped selects all events in range of the sessions that have an
// event passing the filter; without a filter that is every event. In a
// cluster the subquery runs on each shard against its local table, which
// is right because a session's events are all on one shard.
func sessionScoped(r store.RumRange) (conds, error) {
	c := baseConds(r)
	if r.Filter.Empty() {
		return c, nil
	}
	f, err := filteredConds(r)
	if err != nil {
		return nil, err
	}
	return append(c, fmt.Sprintf("session_id IN (SELECT session_id FROM %s WHERE %s)", tRumEvents, f)), nil
}

// percentile is type-7 quantile q of the sorted array s, the formula of
// storetest.Quantile, step for step so the floats agree.
func percentile(s string, q float64) string {
	pos := fmt.Sprintf("(%v * (greatest(length(%s), 1) - 1))", q, s)
	i := fmt.Sprintf("toUInt64(floor(%s))", pos)
	return fmt.Sprintf("if(empty(%[1]s), 0, %[1]s[%[2]s + 1] + (%[3]s - floor(%[3]s)) * (%[1]s[least(%[2]s + 2, length(%[1]s))] - %[1]s[%[2]s + 1]))", s, i, pos)
}

func percentiles4(s string) string {
	return strings.Join([]string{percentile(s, 0.5), percentile(s, 0.75), percentile(s, 0.9), percentile(s, 0.99)}, ", ")
}

func scanPercentiles(sc *scanner) store.Percentiles {
	return store.Percentiles{P50: sc.f64(), P75: sc.f64(), P90: sc.f64(), P99: sc.f64()}
}

// Distribution returns percentiles and threshold counts of one metric per
// time bucket or per page.
func (s *Store) Distribution(ctx context.Context, q store.DistributionQuery) ([]store.DistributionRow, error) {
	col := store.ValueColumn(q.EventType)
	if col == "" {
		return nil, fmt.Errorf("distribution: event type %q has no metric", q.EventType)
	}
	c, err := filteredConds(q.RumRange)
	if err != nil {
		return nil, err
	}
	c = append(c, "event_type = "+quoteString(q.EventType), "isNotNull("+col+")")
	good, err := quoteFloat(q.Good)
	if err != nil {
		return nil, fmt.Errorf("distribution: good threshold: %w", err)
	}
	poor, err := quoteFloat(q.Poor)
	if err != nil {
		return nil, fmt.Errorf("distribution: poor threshold: %w", err)
	}
	var key, order string
	switch q.GroupBy {
	case store.GroupByTime:
		if q.BucketMicros <= 0 {
			return nil, fmt.Errorf("distribution: bucket must be positive, got %d µs", q.BucketMicros)
		}
		key = fmt.Sprintf("intDiv(ts_us, %d) * %d", q.BucketMicros, q.BucketMicros)
		order = "k"
	case store.GroupByPage:
		key = "page_id"
		order = fmt.Sprintf("n DESC, k LIMIT %d", orDefault(q.Limit, defaultPageLimit))
	default:
		return nil, fmt.Errorf("distribution: unknown grouping %d", q.GroupBy)
	}
	query := fmt.Sprintf(`SELECT k, n, %s, g, p FROM (
		SELECT k, count() AS n, arraySort(groupArray(v)) AS s, countIf(v <= %s) AS g, countIf(v <= %s) AS p
		FROM (SELECT %s AS k, assumeNotNull(%s) AS v FROM %s WHERE %s)
		GROUP BY k ORDER BY %s)
	ORDER BY %s`, percentiles4("s"), good, poor, key, col, tRumEvents, c, order, order)
	rows, err := s.conn.query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("query distribution: %w", err)
	}
	out := make([]store.DistributionRow, 0, len(rows))
	for _, row := range rows {
		sc := scanner{row: row}
		var r store.DistributionRow
		if q.GroupBy == store.GroupByTime {
			r.BucketMicros = sc.i64()
		} else {
			r.Page = sc.str()
		}
		r.Count = sc.i64()
		r.Percentiles = scanPercentiles(&sc)
		r.AtMostGood, r.AtMostPoor = sc.i64(), sc.i64()
		if sc.err != nil {
			return nil, fmt.Errorf("scan distribution: %w", sc.err)
		}
		out = append(out, r)
	}
	return out, nil
}

// EventCounts counts events of the given types per bucket.
func (s *Store) EventCounts(ctx context.Context, q store.CountQuery) ([]store.CountRow, error) {
	if q.BucketMicros <= 0 {
		return nil, fmt.Errorf("event counts: bucket must be positive, got %d µs", q.BucketMicros)
	}
	c, err := filteredConds(q.RumRange)
	if err != nil {
		return nil, err
	}
	if len(q.EventTypes) > 0 {
		c = append(c, "event_type IN ("+stringList(q.EventTypes)+")")
	}
	rows, err := s.conn.query(ctx, fmt.Sprintf(`SELECT intDiv(ts_us, %d) * %d AS b, event_type, count() FROM %s WHERE %s
		GROUP BY b, event_type ORDER BY b, event_type`, q.BucketMicros, q.BucketMicros, tRumEvents, c))
	if err != nil {
		return nil, fmt.Errorf("query event counts: %w", err)
	}
	out := make([]store.CountRow, 0, len(rows))
	for _, row := range rows {
		sc := scanner{row: row}
		r := store.CountRow{BucketMicros: sc.i64(), EventType: sc.str(), Count: sc.i64()}
		if sc.err != nil {
			return nil, fmt.Errorf("scan event counts: %w", sc.err)
		}
		out = append(out, r)
	}
	return out, nil
}

// NavigationPhases summarises each phase field of the navigation details,
// from the columns ingest filled with the fields' numeric values.
func (s *Store) NavigationPhases(ctx context.Context, q store.RumRange) ([]store.PhaseStat, error) {
	c, err := filteredConds(q)
	if err != nil {
		return nil, err
	}
	c = append(c, "event_type = "+quoteString(model.EventNavigation))
	var inner, outer []string
	for i, f := range store.NavigationPhaseFields {
		col := navColumn(f)
		inner = append(inner, fmt.Sprintf("count(%[1]s) AS n%[2]d, avg(%[1]s) AS m%[2]d, arraySort(groupArray(%[1]s)) AS s%[2]d", col, i))
		outer = append(outer, fmt.Sprintf("n%[1]d, m%[1]d, %[2]s, %[3]s", i, percentile(fmt.Sprintf("s%d", i), 0.5), percentile(fmt.Sprintf("s%d", i), 0.75)))
	}
	rows, err := s.conn.query(ctx, fmt.Sprintf("SELECT %s FROM (SELECT %s FROM %s WHERE %s)",
		strings.Join(outer, ", "), strings.Join(inner, ", "), tRumEvents, c))
	if err != nil {
		return nil, fmt.Errorf("query navigation phases: %w", err)
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("query navigation phases: %d rows", len(rows))
	}
	sc := scanner{row: rows[0]}
	out := make([]store.PhaseStat, len(store.NavigationPhaseFields))
	for i, f := range store.NavigationPhaseFields {
		out[i] = store.PhaseStat{Field: f, Count: sc.i64(), Mean: sc.f64(), P50: sc.f64(), P75: sc.f64()}
		if out[i].Count == 0 {
			out[i].Mean = 0 // avg of nothing is NaN
		}
	}
	if sc.err != nil {
		return nil, fmt.Errorf("scan navigation phases: %w", sc.err)
	}
	return out, nil
}

// tuples decodes an array of tuples.
func tuples(v json.RawMessage) ([][]json.RawMessage, error) {
	var out [][]json.RawMessage
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, fmt.Errorf("decode tuple array %s: %w", clip(v), err)
	}
	return out, nil
}

// ErrorGroups groups js errors by type, normalised message and top frame.
func (s *Store) ErrorGroups(ctx context.Context, q store.ErrorGroupQuery) ([]store.ErrorGroup, error) {
	c, err := filteredConds(q.RumRange)
	if err != nil {
		return nil, err
	}
	c = append(c, "event_type = "+quoteString(model.EventJSError))
	query := fmt.Sprintf(`SELECT error_type, error_message_norm, error_frame, count() AS n, uniqExact(session_id), min(ts_us), max(ts_us),
		arraySort(groupUniqArrayIf(browser, browser != '')), arraySort(groupUniqArrayIf(app_version, app_version != '')),
		arraySlice(arraySort(groupArray((ts_us, event_id, session_id))), 1, %d)
		FROM %s WHERE %s
		GROUP BY error_type, error_message_norm, error_frame
		ORDER BY n DESC, error_type, error_message_norm, error_frame LIMIT %d`,
		orDefault(q.Samples, defaultSamples), tRumEvents, c, orDefault(q.Limit, defaultGroupLimit))
	rows, err := s.conn.query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("query error groups: %w", err)
	}
	out := make([]store.ErrorGroup, 0, len(rows))
	for _, row := range rows {
		sc := scanner{row: row}
		g := store.ErrorGroup{Type: sc.str(), Message: sc.str(), Frame: sc.str(), Count: sc.i64(), Sessions: sc.i64(),
			FirstMicros: sc.i64(), LastMicros: sc.i64(), Browsers: sc.strs(), AppVersions: sc.strs()}
		samples := scanWith(&sc, tuples)
		if sc.err != nil {
			return nil, fmt.Errorf("scan error group: %w", sc.err)
		}
		for _, t := range samples {
			ts := scanner{row: t}
			ts.i64()
			g.SampleEventIDs = append(g.SampleEventIDs, ts.str())
			g.SampleSessions = append(g.SampleSessions, ts.str())
			if ts.err != nil {
				return nil, fmt.Errorf("scan error group sample: %w", ts.err)
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// HTTPGroups groups HTTP calls by method and URL pattern. A call without
// its own duration takes the duration of the xray_trace_event of its
// trace in the range.
func (s *Store) HTTPGroups(ctx context.Context, q store.HTTPGroupQuery) ([]store.HTTPGroup, error) {
	c, err := filteredConds(q.RumRange)
	if err != nil {
		return nil, err
	}
	c = append(c, "event_type = "+quoteString(model.EventHTTP))
	x := append(baseConds(q.RumRange), "event_type = "+quoteString(model.EventXRayTrace), "trace_id != ''", "isNotNull(duration_ms)")
	query := fmt.Sprintf(`SELECT m, u, n, s4, s5, ne, lc, %[1]s, t FROM (
		SELECT m, u, count() AS n,
			countIf(http_status >= 400 AND http_status <= 499) AS s4,
			countIf(http_status >= 500 AND http_status <= 599) AS s5,
			countIf(http_status = 0 AND (error_type != '' OR error_message != '')) AS ne,
			countIf(has_lat) AS lc, arraySort(groupArrayIf(lat, has_lat)) AS s,
			arraySlice(arrayReverseSort(groupUniqArrayIf(trace_id, trace_id != '')), 1, %[2]d) AS t
		FROM (
			SELECT http_method AS m, http_url_pattern AS u, http_status, error_type, error_message, trace_id,
				isNotNull(duration_ms) OR hx = 1 AS has_lat, if(isNotNull(duration_ms), assumeNotNull(duration_ms), xd) AS lat
			FROM (SELECT http_method, http_url_pattern, http_status, error_type, error_message, trace_id, duration_ms FROM %[3]s WHERE %[4]s)
			ANY LEFT JOIN (SELECT trace_id, max(assumeNotNull(duration_ms)) AS xd, toUInt8(1) AS hx FROM %[3]s WHERE %[5]s GROUP BY trace_id)
			USING trace_id)
		GROUP BY m, u ORDER BY n DESC, m, u LIMIT %[6]d)
	ORDER BY n DESC, m, u`,
		percentiles4("s"), orDefault(q.TraceIDs, defaultSamples), tRumEvents, c, x, orDefault(q.Limit, defaultGroupLimit))
	rows, err := s.conn.query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("query http groups: %w", err)
	}
	out := make([]store.HTTPGroup, 0, len(rows))
	for _, row := range rows {
		sc := scanner{row: row}
		g := store.HTTPGroup{Method: sc.str(), URLPattern: sc.str(), Count: sc.i64(), Status4xx: sc.i64(), Status5xx: sc.i64(),
			NetworkErrors: sc.i64(), LatencyCount: sc.i64(), Latency: scanPercentiles(&sc), TraceIDs: sc.strs()}
		if sc.err != nil {
			return nil, fmt.Errorf("scan http group: %w", sc.err)
		}
		out = append(out, g)
	}
	return out, nil
}

// Sessions lists sessions, most recently started first. The page is
// chosen on (session, first event) alone, then only its sessions are
// summarised. In a cluster each shard picks its own newest sessions and
// the outer LIMIT keeps the newest overall.
func (s *Store) Sessions(ctx context.Context, q store.SessionListQuery) ([]store.SessionSummary, error) {
	c, err := sessionScoped(q.RumRange)
	if err != nil {
		return nil, err
	}
	having := ""
	if q.BeforeSessionID != "" {
		having = fmt.Sprintf("HAVING start < %d OR (start = %d AND session_id < %s)", q.BeforeStartMicros, q.BeforeStartMicros, quoteString(q.BeforeSessionID))
	}
	limit := orDefault(q.Limit, defaultSessionLimit)
	pv, js := quoteString(model.EventPageView), quoteString(model.EventJSError)
	first := func(col string) string { return fmt.Sprintf("argMinIf(%[1]s, ts_us, %[1]s != '')", col) }
	query := fmt.Sprintf(`SELECT session_id, %[1]s, min(ts_us) AS start, max(ts_us), count(), countIf(event_type = %[2]s), countIf(event_type = %[3]s),
			%[4]s, %[5]s, %[6]s, %[7]s, %[8]s,
			argMinIf(page_id, ts_us, event_type = %[2]s AND page_id != ''), argMaxIf(page_id, ts_us, event_type = %[2]s AND page_id != '')
		FROM %[9]s
		WHERE %[10]s AND session_id IN (SELECT session_id FROM (
			SELECT session_id, min(ts_us) AS start FROM %[9]s WHERE %[11]s
			GROUP BY session_id %[12]s ORDER BY start DESC, session_id DESC LIMIT %[13]d))
		GROUP BY session_id ORDER BY start DESC, session_id DESC LIMIT %[13]d`,
		first("user_id"), pv, js, first("browser"), first("os"), first("device_type"), first("country"), first("app_version"),
		tRumEvents, baseConds(q.RumRange), c, having, limit)
	rows, err := s.conn.query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("query sessions: %w", err)
	}
	out := make([]store.SessionSummary, 0, len(rows))
	for _, row := range rows {
		sc := scanner{row: row}
		r := store.SessionSummary{SessionID: sc.str(), UserID: sc.str(), StartMicros: sc.i64(), EndMicros: sc.i64(), Events: sc.i64(),
			PageViews: sc.i64(), Errors: sc.i64(), Browser: sc.str(), OS: sc.str(), DeviceType: sc.str(), Country: sc.str(),
			AppVersion: sc.str(), EntryPage: sc.str(), ExitPage: sc.str()}
		if sc.err != nil {
			return nil, fmt.Errorf("scan session: %w", sc.err)
		}
		out = append(out, r)
	}
	return out, nil
}

// pageSequences is a subquery giving each scoped session's page views in
// order as the array p, and the session id as sid.
func pageSequences(r store.RumRange) (string, error) {
	c, err := sessionScoped(r)
	if err != nil {
		return "", err
	}
	c = append(c, "event_type = "+quoteString(model.EventPageView), "page_id != ''")
	return fmt.Sprintf(`SELECT session_id AS sid, arrayMap(x -> tupleElement(x, 3), arraySort(groupArray((ts_us, event_id, page_id)))) AS p
		FROM %s WHERE %s GROUP BY session_id`, tRumEvents, c), nil
}

// Transitions counts consecutive page views within sessions.
func (s *Store) Transitions(ctx context.Context, q store.JourneyQuery) ([]store.Transition, error) {
	seqs, err := pageSequences(q.RumRange)
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.query(ctx, fmt.Sprintf(`SELECT a, b, count() AS n FROM (%s)
		ARRAY JOIN arraySlice(p, 1, length(p) - 1) AS a, arraySlice(p, 2) AS b
		GROUP BY a, b ORDER BY n DESC, a, b LIMIT %d`, seqs, orDefault(q.Limit, defaultGroupLimit)))
	if err != nil {
		return nil, fmt.Errorf("query transitions: %w", err)
	}
	out := make([]store.Transition, 0, len(rows))
	for _, row := range rows {
		sc := scanner{row: row}
		t := store.Transition{From: sc.str(), To: sc.str(), Count: sc.i64()}
		if sc.err != nil {
			return nil, fmt.Errorf("scan transition: %w", sc.err)
		}
		out = append(out, t)
	}
	return out, nil
}

// PageExits tells per page how many sessions saw it and ended on it.
func (s *Store) PageExits(ctx context.Context, q store.JourneyQuery) ([]store.PageExit, error) {
	seqs, err := pageSequences(q.RumRange)
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.query(ctx, fmt.Sprintf(`SELECT page, uniqExact(sid), countIf(i = length(p)) AS exits FROM (%s)
		ARRAY JOIN p AS page, arrayEnumerate(p) AS i
		GROUP BY page ORDER BY exits DESC, page LIMIT %d`, seqs, orDefault(q.Limit, defaultGroupLimit)))
	if err != nil {
		return nil, fmt.Errorf("query page exits: %w", err)
	}
	out := make([]store.PageExit, 0, len(rows))
	for _, row := range rows {
		sc := scanner{row: row}
		p := store.PageExit{Page: sc.str(), Sessions: sc.i64(), Exits: sc.i64()}
		if sc.err != nil {
			return nil, fmt.Errorf("scan page exit: %w", sc.err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Audience breaks sessions and page views down by one dimension.
func (s *Store) Audience(ctx context.Context, q store.RumRange, dimension string) ([]store.AudienceRow, error) {
	if err := store.CheckDimension(dimension); err != nil {
		return nil, err
	}
	c, err := filteredConds(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.query(ctx, fmt.Sprintf(`SELECT %s AS v, uniqExact(session_id) AS n, countIf(event_type = %s)
		FROM %s WHERE %s GROUP BY v ORDER BY n DESC, v`, dimension, quoteString(model.EventPageView), tRumEvents, c))
	if err != nil {
		return nil, fmt.Errorf("query audience: %w", err)
	}
	out := make([]store.AudienceRow, 0, len(rows))
	for _, row := range rows {
		sc := scanner{row: row}
		r := store.AudienceRow{Value: sc.str(), Sessions: sc.i64(), PageViews: sc.i64()}
		if sc.err != nil {
			return nil, fmt.Errorf("scan audience: %w", sc.err)
		}
		out = append(out, r)
	}
	return out, nil
}
