// Package store defines what Sightline needs from a storage backend, as
// small interfaces every backend implements (duckdb, clickhouse). Query
// semantics are checked once for all backends by store/storetest.
package store

import (
	"context"
	"errors"

	"github.com/sightline/sightline/internal/model"
)

var (
	// ErrNotFound is returned when a named resource does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when creating a resource that exists.
	ErrConflict = errors.New("already exists")
)

// AppMonitors persists app monitor definitions.
type AppMonitors interface {
	CreateAppMonitor(ctx context.Context, m *model.AppMonitor) error
	GetAppMonitor(ctx context.Context, name string) (*model.AppMonitor, error)
	ListAppMonitors(ctx context.Context) ([]model.AppMonitor, error)
	UpdateAppMonitor(ctx context.Context, m *model.AppMonitor) error
	DeleteAppMonitor(ctx context.Context, name string) error
}

// Writer stores what the spool hands out. Write must be atomic with the
// recorded sequence number: after a crash, AppliedSeq tells the writer
// which spool records are already stored, so each lands exactly once.
type Writer interface {
	Write(ctx context.Context, lastSeq uint64, batches []*model.Batch) error
	AppliedSeq(ctx context.Context) (uint64, error)
}

// RumEventQuery selects raw RUM events, oldest first, with keyset paging.
type RumEventQuery struct {
	AppMonitorID string
	FromMicros   int64 // inclusive
	ToMicros     int64 // exclusive
	// Filters are column name → accepted values (OR within, AND across).
	// Names: event_type, session_id, user_id, page_id, browser, os,
	// device_type, country, trace_id.
	Filters map[string][]string
	Limit   int
	// AfterMicros/AfterEventID continue after the last event of a page.
	AfterMicros  int64
	AfterEventID string
}

// FilterColumns lists the filter names RumEventQuery accepts.
var FilterColumns = []string{"event_type", "session_id", "user_id", "page_id", "browser", "os", "device_type", "country", "trace_id"}

// RumReader reads stored RUM events.
type RumReader interface {
	RumEvents(ctx context.Context, q RumEventQuery) ([]model.RumEvent, error)
	// RecentBatchIDs returns app monitor id + "/" + BatchId of batches
	// received since sinceMicros, to rebuild the dedup window at start.
	RecentBatchIDs(ctx context.Context, sinceMicros int64) ([]string, error)
}

// SegmentReader reads stored X-Ray segment documents.
type SegmentReader interface {
	// SegmentsByTraceIDs returns every stored document of the traces; of
	// several documents with one id, only the complete (or newest) one.
	SegmentsByTraceIDs(ctx context.Context, traceIDs []string) ([]model.SegmentRecord, error)
}

// Store is a whole backend.
type Store interface {
	AppMonitors
	Writer
	RumReader
	SegmentReader
	TraceLister
	Groups
	Ping(ctx context.Context) error
	Close() error
}
