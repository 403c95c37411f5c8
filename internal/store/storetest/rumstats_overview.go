package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// overviewMetric is the value of e for the metric of m, nil when e is of
// another type or has no value.
func overviewMetric(m store.MetricThresholds, e *model.RumEvent) *float64 {
	if e.Type != m.EventType {
		return nil
	}
	if m.EventType == model.EventNavigation {
		return e.DurationMillis
	}
	return e.Value
}

func thresholded(m store.MetricThresholds, vals []float64) store.DistributionRow {
	r := store.DistributionRow{Count: int64(len(vals)), Percentiles: percentilesOf(vals)}
	for _, v := range vals {
		if v <= m.Good {
			r.AtMostGood++
		}
		if v <= m.Poor {
			r.AtMostPoor++
		}
	}
	return r
}

// overview is the reference answer of RumStats.Overview.
func (d *refData) overview(q store.OverviewQuery) *store.Overview {
	out := &store.Overview{Vitals: make([]store.DistributionRow, len(q.Vitals))}
	var order []int64
	buckets := map[int64]*store.OverviewBucket{}
	bucketLoad := map[int64][]float64{}
	var load []float64
	vitals := make([][]float64, len(q.Vitals))
	sessions, groups := map[string]bool{}, map[[3]string]bool{}
	d.each(q.RumRange, func(_ int, e *model.RumEvent) {
		k := e.TimestampMicros / q.BucketMicros * q.BucketMicros
		b := buckets[k]
		if b == nil {
			b = &store.OverviewBucket{BucketMicros: k}
			buckets[k] = b
			order = append(order, k) // events are visited in time order
		}
		if e.SessionID != "" {
			sessions[e.SessionID] = true
		}
		switch e.Type {
		case model.EventPageView:
			b.PageViews++
			out.PageViews++
		case model.EventNavigation:
			b.Loads++
			out.Loads++
		case model.EventJSError:
			out.Errors++
			groups[errorKey(e)] = true
		case model.EventHTTP:
			out.HTTPCalls++
			if e.HTTPStatus >= 400 && e.HTTPStatus <= 599 || e.HTTPStatus == 0 && (e.ErrorType != "" || e.ErrorMessage != "") {
				out.HTTPErrors++
			}
		}
		if v := overviewMetric(q.LoadTime, e); v != nil {
			load = append(load, *v)
			bucketLoad[k] = append(bucketLoad[k], *v)
		}
		for i, m := range q.Vitals {
			if v := overviewMetric(m, e); v != nil {
				vitals[i] = append(vitals[i], *v)
			}
		}
	})
	for _, k := range order {
		b := buckets[k]
		b.LoadTime = thresholded(q.LoadTime, bucketLoad[k])
		b.LoadTime.BucketMicros = k
		out.Buckets = append(out.Buckets, *b)
	}
	out.Sessions, out.ErrorGroups = int64(len(sessions)), int64(len(groups))
	out.LoadTime = thresholded(q.LoadTime, load)
	for i, m := range q.Vitals {
		out.Vitals[i] = thresholded(m, vitals[i])
	}
	if q.TopErrors > 0 && out.Errors > 0 {
		out.TopErrors = d.errorGroups(store.ErrorGroupQuery{RumRange: q.RumRange, Limit: q.TopErrors})
	}
	return out
}

// checkOverview compares the store's overview of r with the reference,
// with and without top error groups and with a bucket that does not
// divide the range.
func checkOverview(ctx context.Context, t *testing.T, s store.RumStats, ref *refData, r store.RumRange) {
	t.Helper()
	vitals := []store.MetricThresholds{
		{EventType: model.EventLCP, Good: 2500, Poor: 4000},
		{EventType: model.EventCLS, Good: 0.1, Poor: 0.25},
		{EventType: model.EventINP, Good: 200, Poor: 500},
		{EventType: model.EventFID, Good: 100, Poor: 300},
		{EventType: model.EventTTFB, Good: 800, Poor: 1800},
	}
	for _, q := range []store.OverviewQuery{
		{RumRange: r, BucketMicros: 3 * hourMicros, LoadTime: store.MetricThresholds{EventType: model.EventNavigation, Good: 2000, Poor: 8000}, Vitals: vitals, TopErrors: 4},
		{RumRange: r, BucketMicros: 7*hourMicros + 123, LoadTime: store.MetricThresholds{EventType: model.EventNavigation, Good: 1000, Poor: 3000}},
	} {
		got, err := s.Overview(ctx, q)
		if err != nil || got == nil {
			t.Errorf("Overview: %v, %v", got, err)
			continue
		}
		check(t, "Overview", *got, nil, *ref.overview(q))
	}
}

// errorKey is the ErrorGroups key of a js error event.
func errorKey(e *model.RumEvent) [3]string {
	var det struct {
		Stack string `json:"stack"`
	}
	_ = json.Unmarshal(e.Details, &det)
	return [3]string{e.ErrorType, store.NormalizeErrorMessage(e.ErrorMessage), store.TopStackFrame(det.Stack)}
}
