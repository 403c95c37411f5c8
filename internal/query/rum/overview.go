package rum

import (
	"context"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// VitalSummary is one vital over the whole range with its ratings.
type VitalSummary struct {
	Vital         string  `json:"Vital"`
	Unit          string  `json:"Unit"`
	GoodThreshold float64 `json:"GoodThreshold"`
	PoorThreshold float64 `json:"PoorThreshold"`
	Point
}

// Overview is everything the console's overview page shows, from one
// store call.
type Overview struct {
	BucketSeconds int64              `json:"BucketSeconds"`
	PageLoads     []LoadCount        `json:"PageLoads"` // every bucket of the range, empty ones 0
	LoadTime      []Point            `json:"LoadTime"`  // buckets with timed loads, with Apdex
	LoadTimeAll   Point              `json:"LoadTimeAll"`
	Vitals        []VitalSummary     `json:"Vitals"` // in Vitals order
	PageViews     int64              `json:"PageViews"`
	Loads         int64              `json:"Loads"`
	Sessions      int64              `json:"Sessions"`
	Errors        int64              `json:"Errors"`
	ErrorGroups   int64              `json:"ErrorGroups"`
	TopErrors     []store.ErrorGroup `json:"TopErrors"`
	HTTPCalls     int64              `json:"HTTPCalls"`
	HTTPErrors    int64              `json:"HTTPErrors"`
	HTTPErrorRate float64            `json:"HTTPErrorRate"`
}

// DefaultTopErrors is how many error groups the overview lists unless asked.
const DefaultTopErrors = 5

// Overview computes the overview of a range; bucket is in µs.
func (s *Service) Overview(ctx context.Context, r store.RumRange, bucket int64, topErrors int) (*Overview, error) {
	if topErrors <= 0 {
		topErrors = DefaultTopErrors
	}
	q := store.OverviewQuery{RumRange: r, BucketMicros: bucket, TopErrors: topErrors,
		LoadTime: store.MetricThresholds{EventType: model.EventNavigation, Good: ApdexSatisfiedMillis, Poor: ApdexTolerableMillis}}
	for _, v := range Vitals {
		q.Vitals = append(q.Vitals, store.MetricThresholds{EventType: v.EventType, Good: v.Good, Poor: v.Poor})
	}
	ov, err := s.Stats.Overview(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &Overview{BucketSeconds: bucket / 1e6, PageLoads: emptyBuckets(r, bucket), LoadTime: []Point{},
		PageViews: ov.PageViews, Loads: ov.Loads, Sessions: ov.Sessions, Errors: ov.Errors, ErrorGroups: ov.ErrorGroups,
		TopErrors: ov.TopErrors, HTTPCalls: ov.HTTPCalls, HTTPErrors: ov.HTTPErrors}
	if out.TopErrors == nil {
		out.TopErrors = []store.ErrorGroup{}
	}
	if ov.HTTPCalls > 0 {
		out.HTTPErrorRate = float64(ov.HTTPErrors) / float64(ov.HTTPCalls)
	}
	first := r.FromMicros / bucket * bucket
	for _, b := range ov.Buckets {
		if i := (b.BucketMicros - first) / bucket; i >= 0 && int(i) < len(out.PageLoads) {
			out.PageLoads[i].PageViews, out.PageLoads[i].Loads = b.PageViews, b.Loads
		}
		if b.LoadTime.Count > 0 {
			out.LoadTime = append(out.LoadTime, loadPoint(b.LoadTime))
		}
	}
	out.LoadTimeAll = loadPoint(ov.LoadTime)
	for i, v := range Vitals {
		var row store.DistributionRow
		if i < len(ov.Vitals) {
			row = ov.Vitals[i]
		}
		p := point(row)
		rt := ratings(row)
		p.Ratings = &rt
		out.Vitals = append(out.Vitals, VitalSummary{Vital: v.Name, Unit: v.Unit, GoodThreshold: v.Good, PoorThreshold: v.Poor, Point: p})
	}
	return out, nil
}

func loadPoint(r store.DistributionRow) Point {
	p := point(r)
	a := apdex(r)
	p.Apdex = &a
	return p
}

// emptyBuckets lists every bucket start of the range with zero counts.
func emptyBuckets(r store.RumRange, bucket int64) []LoadCount {
	out := []LoadCount{}
	for b := r.FromMicros / bucket * bucket; b < r.ToMicros; b += bucket {
		out = append(out, LoadCount{Time: b / 1000})
	}
	return out
}
