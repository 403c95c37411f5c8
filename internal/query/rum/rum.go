// Package rum turns the store's RUM aggregates into the answers a front-end
// team reads: percentiles with web.dev ratings, Apdex, error rates,
// session timelines. The store computes; this package names, rates and
// shapes, so every backend gets the same thresholds and rules.
package rum

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// Vital is a Web Vital with web.dev's rating thresholds: good ≤ Good,
// poor > Poor, needs improvement between.
type Vital struct {
	Name      string
	EventType string
	Good      float64
	Poor      float64
	Unit      string
}

// Vitals are the Web Vitals aws-rum-web records.
var Vitals = []Vital{
	{"LCP", model.EventLCP, 2500, 4000, "ms"},
	{"INP", model.EventINP, 200, 500, "ms"},
	{"CLS", model.EventCLS, 0.1, 0.25, ""},
	{"FCP", model.EventFCP, 1800, 3000, "ms"},
	{"TTFB", model.EventTTFB, 800, 1800, "ms"},
	{"FID", model.EventFID, 100, 300, "ms"},
}

// VitalByName finds a vital by its short name, case-insensitively.
func VitalByName(name string) (Vital, bool) {
	for _, v := range Vitals {
		if strings.EqualFold(v.Name, name) {
			return v, true
		}
	}
	return Vital{}, false
}

// Apdex thresholds on the navigation duration, CloudWatch RUM's defaults.
const (
	ApdexSatisfiedMillis = 2000
	ApdexTolerableMillis = 8000
)

// ErrInvalid marks a request the caller must fix; Field names the part.
type ErrInvalid struct{ Field, Msg string }

func (e *ErrInvalid) Error() string { return e.Field + ": " + e.Msg }

// IsInvalid reports whether err is a caller mistake.
func IsInvalid(err error) bool {
	var e *ErrInvalid
	return errors.As(err, &e)
}

// niceBuckets are the bucket sizes chosen when the caller gives none.
var niceBuckets = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

// MaxBuckets bounds a time series so a typo cannot ask for millions of points.
const MaxBuckets = 2000

// Bucket returns the bucket size in µs for a range: the requested one, or
// the smallest nice size giving at most 300 points.
func Bucket(r store.RumRange, requested time.Duration) (int64, error) {
	span := r.ToMicros - r.FromMicros
	if requested < 0 {
		return 0, &ErrInvalid{"BucketSeconds", "must be positive"}
	}
	if requested > 0 {
		b := requested.Microseconds()
		if b <= 0 {
			return 0, &ErrInvalid{"BucketSeconds", "must be at least one second"}
		}
		if span/b > MaxBuckets {
			return 0, &ErrInvalid{"BucketSeconds", fmt.Sprintf("%s gives more than %d buckets over the range", requested, MaxBuckets)}
		}
		return b, nil
	}
	for _, d := range niceBuckets {
		if span/d.Microseconds() <= 300 {
			return d.Microseconds(), nil
		}
	}
	return niceBuckets[len(niceBuckets)-1].Microseconds(), nil
}

// Service answers RUM questions from a store.
type Service struct {
	Stats  store.RumStats
	Events store.RumReader
}

// Ratings are the shares of values in each web.dev rating (0..1).
type Ratings struct {
	Good             float64 `json:"Good"`
	NeedsImprovement float64 `json:"NeedsImprovement"`
	Poor             float64 `json:"Poor"`
}

func ratings(r store.DistributionRow) Ratings {
	if r.Count == 0 {
		return Ratings{}
	}
	n := float64(r.Count)
	return Ratings{Good: float64(r.AtMostGood) / n, NeedsImprovement: float64(r.AtMostPoor-r.AtMostGood) / n, Poor: float64(r.Count-r.AtMostPoor) / n}
}

// Apdex is (satisfied + tolerating/2) / total.
type Apdex struct {
	Score      float64 `json:"Score"`
	Satisfied  int64   `json:"Satisfied"`
	Tolerating int64   `json:"Tolerating"`
	Frustrated int64   `json:"Frustrated"`
}

func apdex(r store.DistributionRow) Apdex {
	a := Apdex{Satisfied: r.AtMostGood, Tolerating: r.AtMostPoor - r.AtMostGood, Frustrated: r.Count - r.AtMostPoor}
	if r.Count > 0 {
		a.Score = (float64(a.Satisfied) + float64(a.Tolerating)/2) / float64(r.Count)
	}
	return a
}

// Point is one row of a distribution: a bucket (Time, epoch ms) or a page.
type Point struct {
	Time    int64    `json:"Time,omitempty"`
	Page    string   `json:"Page,omitempty"`
	Count   int64    `json:"Count"`
	P50     float64  `json:"P50"`
	P75     float64  `json:"P75"`
	P90     float64  `json:"P90"`
	P99     float64  `json:"P99"`
	Ratings *Ratings `json:"Ratings,omitempty"`
	Apdex   *Apdex   `json:"Apdex,omitempty"`
}

func point(r store.DistributionRow) Point {
	return Point{Time: r.BucketMicros / 1000, Page: r.Page, Count: r.Count, P50: r.P50, P75: r.P75, P90: r.P90, P99: r.P99}
}

// LoadTime is the navigation duration (ms) per bucket or page, with Apdex.
func (s *Service) LoadTime(ctx context.Context, r store.RumRange, group store.RumGroup, bucket int64, limit int) ([]Point, error) {
	rows, err := s.Stats.Distribution(ctx, store.DistributionQuery{RumRange: r, EventType: model.EventNavigation, GroupBy: group,
		BucketMicros: bucket, Limit: limit, Good: ApdexSatisfiedMillis, Poor: ApdexTolerableMillis})
	if err != nil {
		return nil, err
	}
	out := make([]Point, len(rows))
	for i, row := range rows {
		out[i] = point(row)
		a := apdex(row)
		out[i].Apdex = &a
	}
	return out, nil
}

// VitalSeries is one vital per bucket or page with its ratings.
func (s *Service) VitalSeries(ctx context.Context, r store.RumRange, v Vital, group store.RumGroup, bucket int64, limit int) ([]Point, error) {
	rows, err := s.Stats.Distribution(ctx, store.DistributionQuery{RumRange: r, EventType: v.EventType, GroupBy: group,
		BucketMicros: bucket, Limit: limit, Good: v.Good, Poor: v.Poor})
	if err != nil {
		return nil, err
	}
	out := make([]Point, len(rows))
	for i, row := range rows {
		out[i] = point(row)
		rt := ratings(row)
		out[i].Ratings = &rt
	}
	return out, nil
}

// LoadCount is the page views and full page loads of one bucket.
type LoadCount struct {
	Time      int64 `json:"Time"`
	PageViews int64 `json:"PageViews"`
	Loads     int64 `json:"Loads"` // performance_navigation_event
}

// PageLoads counts page views and loads per bucket; empty buckets are 0.
func (s *Service) PageLoads(ctx context.Context, r store.RumRange, bucket int64) ([]LoadCount, error) {
	rows, err := s.Stats.EventCounts(ctx, store.CountQuery{RumRange: r, BucketMicros: bucket, EventTypes: []string{model.EventPageView, model.EventNavigation}})
	if err != nil {
		return nil, err
	}
	first := r.FromMicros / bucket * bucket
	out := emptyBuckets(r, bucket)
	for _, row := range rows {
		i := (row.BucketMicros - first) / bucket
		if i < 0 || int(i) >= len(out) {
			continue
		}
		if row.EventType == model.EventPageView {
			out[i].PageViews = row.Count
		} else {
			out[i].Loads = row.Count
		}
	}
	return out, nil
}

// Phase is one part of a page load, in ms.
type Phase struct {
	Name  string  `json:"Name"`
	Field string  `json:"Field"`
	Count int64   `json:"Count"`
	Mean  float64 `json:"Mean"`
	P50   float64 `json:"P50"`
	P75   float64 `json:"P75"`
}

var phaseNames = map[string]string{"redirectTime": "Redirect", "dns": "DNS", "connect": "Connect", "tlsTime": "TLS",
	"timeToFirstByte": "TTFB", "responseTime": "Download", "domProcessingTime": "DOM processing", "loadEventTime": "Load event"}

// NavigationBreakdown splits the page load into its phases.
func (s *Service) NavigationBreakdown(ctx context.Context, r store.RumRange) ([]Phase, error) {
	rows, err := s.Stats.NavigationPhases(ctx, r)
	if err != nil {
		return nil, err
	}
	out := make([]Phase, len(rows))
	for i, p := range rows {
		out[i] = Phase{Name: phaseNames[p.Field], Field: p.Field, Count: p.Count, Mean: p.Mean, P50: p.P50, P75: p.P75}
	}
	return out, nil
}

// HTTPGroup adds the error rate to the store's group.
type HTTPGroup struct {
	store.HTTPGroup
	Errors    int64   `json:"Errors"`
	ErrorRate float64 `json:"ErrorRate"`
}

// HTTPGroups groups HTTP calls and rates their errors: 4xx, 5xx and
// network failures all count.
func (s *Service) HTTPGroups(ctx context.Context, q store.HTTPGroupQuery) ([]HTTPGroup, error) {
	rows, err := s.Stats.HTTPGroups(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]HTTPGroup, len(rows))
	for i, g := range rows {
		out[i] = HTTPGroup{HTTPGroup: g, Errors: g.Status4xx + g.Status5xx + g.NetworkErrors}
		if g.Count > 0 {
			out[i].ErrorRate = float64(out[i].Errors) / float64(g.Count)
		}
	}
	return out, nil
}

// TimelineEntry is one event of a session, in order.
type TimelineEntry struct {
	Time       int64    `json:"Time"` // epoch ms
	TimeMicros int64    `json:"TimeMicros"`
	Kind       string   `json:"Kind"` // event type without the com.amazon.rum. prefix
	EventID    string   `json:"EventId"`
	Page       string   `json:"Page,omitempty"`
	Value      *float64 `json:"Value,omitempty"`
	Duration   *float64 `json:"DurationMs,omitempty"`
	Method     string   `json:"Method,omitempty"`
	URL        string   `json:"Url,omitempty"`
	Status     int      `json:"Status,omitempty"`
	ErrorType  string   `json:"ErrorType,omitempty"`
	Message    string   `json:"ErrorMessage,omitempty"`
	TraceID    string   `json:"TraceId,omitempty"`
}

// Timeline is one session's events with the traces of its requests.
type Timeline struct {
	SessionID string          `json:"SessionId"`
	Events    []TimelineEntry `json:"Events"`
	TraceIDs  []string        `json:"TraceIds"`
	Truncated bool            `json:"Truncated"`
}

// MaxTimelineEvents bounds one timeline; a runaway session is cut there.
const MaxTimelineEvents = 5000

// SessionTimeline returns every event of a session within the range.
// rrweb replay payloads are left out: they are large and not a timeline.
func (s *Service) SessionTimeline(ctx context.Context, r store.RumRange, sessionID string) (*Timeline, error) {
	tl := &Timeline{SessionID: sessionID, Events: []TimelineEntry{}, TraceIDs: []string{}}
	q := store.RumEventQuery{AppMonitorID: r.AppMonitorID, FromMicros: r.FromMicros, ToMicros: r.ToMicros,
		Filters: map[string][]string{"session_id": {sessionID}}, Limit: 1000}
	seen := map[string]bool{}
	for {
		evs, err := s.Events.RumEvents(ctx, q)
		if err != nil {
			return nil, err
		}
		for i := range evs {
			e := &evs[i]
			if e.Type == model.EventRRWeb {
				continue
			}
			if len(tl.Events) == MaxTimelineEvents {
				tl.Truncated = true
				return tl, nil
			}
			tl.Events = append(tl.Events, TimelineEntry{Time: e.TimestampMicros / 1000, TimeMicros: e.TimestampMicros,
				Kind: strings.TrimPrefix(e.Type, model.EventTypePrefix), EventID: e.EventID, Page: e.PageID, Value: e.Value,
				Duration: e.DurationMillis, Method: e.HTTPMethod, URL: e.HTTPURL, Status: e.HTTPStatus,
				ErrorType: e.ErrorType, Message: e.ErrorMessage, TraceID: e.TraceID})
			if e.TraceID != "" && !seen[e.TraceID] {
				seen[e.TraceID] = true
				tl.TraceIDs = append(tl.TraceIDs, e.TraceID)
			}
		}
		if len(evs) < q.Limit {
			break
		}
		last := evs[len(evs)-1]
		q.AfterMicros, q.AfterEventID = last.TimestampMicros, last.EventID
	}
	if len(tl.Events) == 0 {
		return nil, fmt.Errorf("session %q in this range: %w", sessionID, store.ErrNotFound)
	}
	return tl, nil
}

// Journeys are the top page transitions and the pages sessions end on.
type Journeys struct {
	Transitions []store.Transition `json:"Transitions"`
	Exits       []PageExit         `json:"Exits"`
}

// PageExit adds the exit rate: the share of the page's sessions ending there.
type PageExit struct {
	store.PageExit
	ExitRate float64 `json:"ExitRate"`
}

// Journeys returns transitions and drop-off for the range.
func (s *Service) Journeys(ctx context.Context, q store.JourneyQuery) (*Journeys, error) {
	tr, err := s.Stats.Transitions(ctx, q)
	if err != nil {
		return nil, err
	}
	ex, err := s.Stats.PageExits(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &Journeys{Transitions: tr, Exits: make([]PageExit, len(ex))}
	if out.Transitions == nil {
		out.Transitions = []store.Transition{}
	}
	for i, e := range ex {
		out.Exits[i] = PageExit{PageExit: e}
		if e.Sessions > 0 {
			out.Exits[i].ExitRate = float64(e.Exits) / float64(e.Sessions)
		}
	}
	return out, nil
}

// Audience breaks the range down by a dimension, most sessions first.
func (s *Service) Audience(ctx context.Context, r store.RumRange, dimension string) ([]store.AudienceRow, error) {
	if err := store.CheckDimension(dimension); err != nil {
		return nil, &ErrInvalid{"Dimension", err.Error()}
	}
	rows, err := s.Stats.Audience(ctx, r, dimension)
	if rows == nil {
		rows = []store.AudienceRow{}
	}
	return rows, err
}

// Dimensions lists the audience dimensions, sorted.
func Dimensions() []string { return slices.Sorted(slices.Values(store.AudienceDimensions)) }
