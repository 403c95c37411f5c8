package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// overviewDist returns the inner aggregates (count, sorted values,
// threshold counts) of one thresholded metric named by prefix p, and the
// outer columns that turn them into a DistributionRow.
func overviewDist(m store.MetricThresholds, p string) (inner, outer string, err error) {
	col := store.ValueColumn(m.EventType)
	if col == "" {
		return "", "", fmt.Errorf("event type %q has no metric", m.EventType)
	}
	good, err := quoteFloat(m.Good)
	if err != nil {
		return "", "", fmt.Errorf("good threshold: %w", err)
	}
	poor, err := quoteFloat(m.Poor)
	if err != nil {
		return "", "", fmt.Errorf("poor threshold: %w", err)
	}
	cond := fmt.Sprintf("event_type = %s AND isNotNull(%s)", quoteString(m.EventType), col)
	v := "assumeNotNull(" + col + ")"
	inner = fmt.Sprintf("countIf(%[1]s) AS %[3]sn, arraySort(groupArrayIf(%[2]s, %[1]s)) AS %[3]ss, countIf(%[1]s AND %[2]s <= %[4]s) AS %[3]sg, countIf(%[1]s AND %[2]s <= %[5]s) AS %[3]sp",
		cond, v, p, good, poor)
	outer = fmt.Sprintf("%[1]sn, %[2]s, %[1]sg, %[1]sp", p, percentiles4(p+"s"))
	return inner, outer, nil
}

func scanDist(sc *scanner) store.DistributionRow {
	return store.DistributionRow{Count: sc.i64(), Percentiles: scanPercentiles(sc), AtMostGood: sc.i64(), AtMostPoor: sc.i64()}
}

// Overview answers the overview with two scans of the range: one grouped
// by bucket (counts and load time), one over the whole range (everything
// else). 18.16 has neither GROUPING SETS nor interpolating quantiles, and
// WITH TOTALS would not give the totals row's sorted arrays their own
// percentiles; top error groups are a third, narrow query when asked for.
func (s *Store) Overview(ctx context.Context, q store.OverviewQuery) (*store.Overview, error) {
	if q.BucketMicros <= 0 {
		return nil, fmt.Errorf("overview: bucket must be positive, got %d µs", q.BucketMicros)
	}
	c, err := filteredConds(q.RumRange)
	if err != nil {
		return nil, err
	}
	loadIn, loadOut, err := overviewDist(q.LoadTime, "l")
	if err != nil {
		return nil, fmt.Errorf("overview: %w", err)
	}
	pv, nav := quoteString(model.EventPageView), quoteString(model.EventNavigation)
	rows, err := s.conn.query(ctx, fmt.Sprintf(`SELECT b, pv, nav, %[1]s FROM (
		SELECT intDiv(ts_us, %[2]d) * %[2]d AS b, countIf(event_type = %[3]s) AS pv, countIf(event_type = %[4]s) AS nav, %[5]s
		FROM %[6]s WHERE %[7]s GROUP BY b) ORDER BY b`, loadOut, q.BucketMicros, pv, nav, loadIn, tRumEvents, c))
	if err != nil {
		return nil, fmt.Errorf("query overview buckets: %w", err)
	}
	out := &store.Overview{Vitals: make([]store.DistributionRow, len(q.Vitals))}
	for _, row := range rows {
		sc := scanner{row: row}
		b := store.OverviewBucket{BucketMicros: sc.i64(), PageViews: sc.i64(), Loads: sc.i64(), LoadTime: scanDist(&sc)}
		if sc.err != nil {
			return nil, fmt.Errorf("scan overview bucket: %w", sc.err)
		}
		b.LoadTime.BucketMicros = b.BucketMicros
		out.Buckets = append(out.Buckets, b)
	}

	inner, outer := []string{loadIn}, []string{loadOut}
	for i, v := range q.Vitals {
		in, o, err := overviewDist(v, fmt.Sprintf("v%d", i))
		if err != nil {
			return nil, fmt.Errorf("overview: %w", err)
		}
		inner, outer = append(inner, in), append(outer, o)
	}
	js, http := quoteString(model.EventJSError), quoteString(model.EventHTTP)
	rows, err = s.conn.query(ctx, fmt.Sprintf(`SELECT pv, nav, ses, errs, groups, calls, herrs, %[1]s FROM (
		SELECT countIf(event_type = %[2]s) AS pv, countIf(event_type = %[3]s) AS nav, uniqExactIf(session_id, session_id != '') AS ses,
			countIf(event_type = %[4]s) AS errs, uniqExactIf(error_type, error_message_norm, error_frame, event_type = %[4]s) AS groups,
			countIf(event_type = %[5]s) AS calls,
			countIf(event_type = %[5]s AND ((http_status >= 400 AND http_status <= 599) OR (http_status = 0 AND (error_type != '' OR error_message != '')))) AS herrs,
			%[6]s
		FROM %[7]s WHERE %[8]s)`, strings.Join(outer, ", "), pv, nav, js, http, strings.Join(inner, ", "), tRumEvents, c))
	if err != nil {
		return nil, fmt.Errorf("query overview: %w", err)
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("query overview: %d rows", len(rows))
	}
	sc := scanner{row: rows[0]}
	out.PageViews, out.Loads, out.Sessions, out.Errors, out.ErrorGroups, out.HTTPCalls, out.HTTPErrors =
		sc.i64(), sc.i64(), sc.i64(), sc.i64(), sc.i64(), sc.i64(), sc.i64()
	out.LoadTime = scanDist(&sc)
	for i := range q.Vitals {
		out.Vitals[i] = scanDist(&sc)
	}
	if sc.err != nil {
		return nil, fmt.Errorf("scan overview: %w", sc.err)
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
