package store

import (
	"context"

	"github.com/sightline/sightline/internal/filter"
)

// Time range kinds of GetTraceSummaries.
const (
	TimeRangeEvent   = "Event"   // any segment of the trace started in the range
	TimeRangeTraceID = "TraceId" // the epoch in the trace id is in the range
	TimeRangeService = "Service" // like Event; X-Ray's per-service variant
)

// TraceListQuery lists traces most recent first, with keyset paging on
// (StartMicros, TraceID) so a page stays stable while data arrives.
type TraceListQuery struct {
	FromMicros    int64
	ToMicros      int64
	TimeRangeType string
	// BeforeStartMicros/BeforeTraceID continue after the last trace of the
	// previous page; zero values start at the newest.
	BeforeStartMicros int64
	BeforeTraceID     string
	Limit             int
	// Filter, when set, lets a backend skip traces that cannot match: it
	// MAY list only traces satisfying a necessary condition derived from
	// the expression (never dropping a trace the expression matches), or
	// ignore it. Callers always evaluate the filter on what is listed.
	// Group references are left to the caller's evaluator.
	Filter filter.Expr
}

// TraceRef is one listed trace.
type TraceRef struct {
	TraceID     string
	StartMicros int64
}

// TraceLister lists traces in a time range.
type TraceLister interface {
	ListTraces(ctx context.Context, q TraceListQuery) ([]TraceRef, error)
}

// Group is an X-Ray group: a named filter expression.
type Group struct {
	Name             string
	ARN              string
	FilterExpression string
	InsightsEnabled  bool
	NotifyEnabled    bool
}

// Groups persists X-Ray groups.
type Groups interface {
	CreateGroup(ctx context.Context, g Group) error
	GetGroup(ctx context.Context, name string) (*Group, error)
	ListGroups(ctx context.Context) ([]Group, error)
	UpdateGroup(ctx context.Context, g Group) error
	DeleteGroup(ctx context.Context, name string) error
}

// TraceStore is what the X-Ray query API needs.
type TraceStore interface {
	SegmentReader
	TraceLister
	Groups
}
