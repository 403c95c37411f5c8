package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// distAggs returns the aggregates of one thresholded metric, restricted by
// FILTER to its event type, and their threshold arguments.
func distAggs(m store.MetricThresholds) (string, []any, error) {
	col := store.ValueColumn(m.EventType)
	if col == "" {
		return "", nil, fmt.Errorf("event type %q has no metric", m.EventType)
	}
	f := fmt.Sprintf("event_type = %s AND %s IS NOT NULL", sqlString(m.EventType), col)
	return fmt.Sprintf(`count(*) FILTER (WHERE %[1]s), quantile_cont(%[2]s, [0.5, 0.75, 0.9, 0.99]) FILTER (WHERE %[1]s),
		count(*) FILTER (WHERE %[1]s AND %[2]s <= CAST(? AS DOUBLE)), count(*) FILTER (WHERE %[1]s AND %[2]s <= CAST(? AS DOUBLE))`, f, col),
		[]any{m.Good, m.Poor}, nil
}

// distDest points Scan at one distAggs group; finish fills the row.
type distDest struct {
	qs  any
	row store.DistributionRow
}

func (d *distDest) dest() []any {
	return []any{&d.row.Count, &d.qs, &d.row.AtMostGood, &d.row.AtMostPoor}
}
func (d *distDest) finish() store.DistributionRow {
	d.row.Percentiles = percentiles(d.qs)
	return d.row
}

// Overview answers the whole overview in one pass over the range: every
// figure is a conditional aggregate, and GROUPING SETS give the per-bucket
// rows and the overall row from the same scan. The top error groups are a
// second, narrow query (only when asked for).
func (s *Store) Overview(ctx context.Context, q store.OverviewQuery) (*store.Overview, error) {
	if q.BucketMicros <= 0 {
		return nil, fmt.Errorf("overview: bucket must be positive, got %d µs", q.BucketMicros)
	}
	w, err := filteredWhere(q.RumRange)
	if err != nil {
		return nil, err
	}
	metrics := append([]store.MetricThresholds{q.LoadTime}, q.Vitals...)
	var aggs []string
	var args []any
	for _, m := range metrics {
		a, margs, err := distAggs(m)
		if err != nil {
			return nil, fmt.Errorf("overview: %w", err)
		}
		aggs = append(aggs, a)
		args = append(args, margs...)
	}
	// The fallback regexps run only on error rows without stored keys.
	msg := "coalesce(error_message_norm, " + rewriteSQL("coalesce(error_message, '')", store.MessageRewrites) + ")"
	frame := "coalesce(error_frame, " + rewriteSQL(fmt.Sprintf("coalesce(regexp_extract(json_extract_string(details, '$.stack'), %s), '')", sqlString(store.FramePattern)), store.FrameRewrites) + ")"
	errKey := fmt.Sprintf("CASE WHEN event_type = %s THEN row(coalesce(error_type, ''), %s, %s) END", sqlString(model.EventJSError), msg, frame)
	httpErr := `http_status BETWEEN 400 AND 599 OR (http_status IS NULL AND (error_type IS NOT NULL OR error_message IS NOT NULL))`
	query := fmt.Sprintf(`SELECT grouping(b), b,
		count(*) FILTER (WHERE event_type = %[1]s), count(*) FILTER (WHERE event_type = %[2]s),
		%[3]s,
		count(DISTINCT nullif(session_id, '')), count(*) FILTER (WHERE event_type = %[4]s), count(DISTINCT %[5]s),
		count(*) FILTER (WHERE event_type = %[6]s), count(*) FILTER (WHERE event_type = %[6]s AND (%[7]s))
		FROM (SELECT (ts_us // %[8]d) * %[8]d AS b, * FROM rum_events WHERE %[9]s)
		GROUP BY GROUPING SETS ((b), ()) ORDER BY grouping(b), b`,
		sqlString(model.EventPageView), sqlString(model.EventNavigation), strings.Join(aggs, ",\n\t\t"),
		sqlString(model.EventJSError), errKey, sqlString(model.EventHTTP), httpErr, q.BucketMicros, w)
	rows, err := s.db.QueryContext(ctx, query, append(args, w.args...)...)
	if err != nil {
		return nil, fmt.Errorf("query overview: %w", err)
	}
	defer rows.Close()
	out := &store.Overview{Vitals: make([]store.DistributionRow, len(q.Vitals))}
	for rows.Next() {
		var total int
		var bucket sql.NullInt64
		var pv, loads, sessions, errs, groups, calls, httpErrs int64
		dists := make([]distDest, len(metrics))
		dest := []any{&total, &bucket, &pv, &loads}
		for i := range dists {
			dest = append(dest, dists[i].dest()...)
		}
		dest = append(dest, &sessions, &errs, &groups, &calls, &httpErrs)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("scan overview: %w", err)
		}
		if total == 0 {
			lt := dists[0].finish()
			lt.BucketMicros = bucket.Int64
			out.Buckets = append(out.Buckets, store.OverviewBucket{BucketMicros: bucket.Int64, PageViews: pv, Loads: loads, LoadTime: lt})
			continue
		}
		out.PageViews, out.Loads, out.Sessions = pv, loads, sessions
		out.Errors, out.ErrorGroups, out.HTTPCalls, out.HTTPErrors = errs, groups, calls, httpErrs
		out.LoadTime = dists[0].finish()
		for i := range q.Vitals {
			out.Vitals[i] = dists[i+1].finish()
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read overview: %w", err)
	}
	if q.TopErrors > 0 && out.Errors > 0 {
		top, err := s.ErrorGroups(ctx, store.ErrorGroupQuery{RumRange: q.RumRange, Limit: q.TopErrors})
		if err != nil {
			return nil, fmt.Errorf("overview: %w", err)
		}
		out.TopErrors = top
	}
	return out, nil
}
