package rum

import (
	"context"
	"testing"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// overviewStats answers Overview only; other methods are not called.
type overviewStats struct {
	store.RumStats
	q   store.OverviewQuery
	ans store.Overview
}

func (o *overviewStats) Overview(_ context.Context, q store.OverviewQuery) (*store.Overview, error) {
	o.q = q
	return &o.ans, nil
}

func TestOverviewShapesTheStoreAnswer(t *testing.T) {
	const b = int64(60_000_000)
	r := store.RumRange{AppMonitorID: "a", FromMicros: 30_000_000, ToMicros: 4*b + 1}
	lcp := store.DistributionRow{Count: 10, AtMostGood: 6, AtMostPoor: 9, Percentiles: store.Percentiles{P75: 2100}}
	fake := &overviewStats{ans: store.Overview{
		Buckets: []store.OverviewBucket{
			{BucketMicros: b, PageViews: 3, Loads: 2, LoadTime: store.DistributionRow{BucketMicros: b, Count: 2, AtMostGood: 1, AtMostPoor: 2}},
			{BucketMicros: 3 * b, PageViews: 1}, // events, but no timed load
		},
		PageViews: 4, Loads: 2, Sessions: 2, LoadTime: store.DistributionRow{Count: 2, AtMostGood: 1, AtMostPoor: 2},
		Vitals: []store.DistributionRow{lcp}, Errors: 3, ErrorGroups: 2, HTTPCalls: 8, HTTPErrors: 2,
	}}
	ov, err := (&Service{Stats: fake}).Overview(context.Background(), r, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	q := fake.q
	if q.BucketMicros != b || q.TopErrors != DefaultTopErrors || q.LoadTime.EventType != model.EventNavigation ||
		q.LoadTime.Good != ApdexSatisfiedMillis || len(q.Vitals) != len(Vitals) || q.Vitals[2].Good != 0.1 {
		t.Errorf("store query %+v", q)
	}
	// Buckets 0..4 cover [30 s, 4 min + 1 µs).
	if len(ov.PageLoads) != 5 || ov.PageLoads[1] != (LoadCount{Time: b / 1000, PageViews: 3, Loads: 2}) ||
		ov.PageLoads[3].PageViews != 1 || ov.PageLoads[0] != (LoadCount{}) || ov.PageLoads[4].Time != 4*b/1000 {
		t.Errorf("page loads %+v", ov.PageLoads)
	}
	if len(ov.LoadTime) != 1 || ov.LoadTime[0].Time != b/1000 || ov.LoadTime[0].Apdex.Score != 0.75 {
		t.Errorf("load time %+v", ov.LoadTime)
	}
	if ov.LoadTimeAll.Apdex == nil || ov.LoadTimeAll.Apdex.Score != 0.75 {
		t.Errorf("load time overall %+v", ov.LoadTimeAll)
	}
	if len(ov.Vitals) != len(Vitals) || ov.Vitals[0].Vital != "LCP" || ov.Vitals[0].P75 != 2100 || ov.Vitals[0].Ratings.Good != 0.6 ||
		ov.Vitals[1].Count != 0 || ov.Vitals[1].Ratings == nil {
		t.Errorf("vitals %+v", ov.Vitals)
	}
	if ov.HTTPErrorRate != 0.25 || ov.TopErrors == nil || ov.ErrorGroups != 2 || ov.Sessions != 2 {
		t.Errorf("overview %+v", ov)
	}
}
