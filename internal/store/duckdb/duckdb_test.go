package duckdb

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "db.duckdb"), MemoryLimit: "256MB", Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsProgressAndData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.duckdb")
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	ev := model.RumEvent{AppMonitorID: "a", TimestampMicros: 5, EventID: "e", Type: "t", SessionID: "s", BatchID: "b", Metadata: []byte("{}"), Details: []byte("{}")}
	if err := s.Write(ctx, 9, []*model.Batch{{Rum: []model.RumEvent{ev}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if seq, _ := s.AppliedSeq(ctx); seq != 9 {
		t.Fatalf("seq after reopen %d", seq)
	}
	got, err := s.RumEvents(ctx, store.RumEventQuery{AppMonitorID: "a", ToMicros: 10})
	if err != nil || len(got) != 1 {
		t.Fatalf("events after reopen: %d %v", len(got), err)
	}
}

func TestTraceFilterConformance(t *testing.T) {
	storetest.RunTraceFilter(t, func(t *testing.T) store.Store { return openTestStore(t) })
}

// TestGroupKeysBackfilledAtOpen: rows stored before the grouping keys
// existed get them at the next open, computed by the same rules.
func TestGroupKeysBackfilledAtOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.duckdb")
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO rum_events (app_monitor_id, ts_us, event_id, event_type, batch_id, session_id, user_id,
		error_message, details, http_url, metadata, received_us, spool_seq) VALUES
		('a', 1, 'e1', 'com.amazon.rum.js_error_event', 'b', 's', 'u', 'Cannot read id 42', '{"stack":"TypeError: x\n    at f (https://x/app.js?v=3:1:2)"}', NULL, '{}', 1, 0),
		('a', 2, 'e2', 'com.amazon.rum.http_event', 'b', 's', 'u', NULL, '{}', 'https://api/x/123/items?q=1', '{}', 2, 0)`)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s, err = Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var msg, frame, pattern string
	if err := s.db.QueryRowContext(ctx, `SELECT error_message_norm, error_frame FROM rum_events WHERE event_id = 'e1'`).Scan(&msg, &frame); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT http_url_pattern FROM rum_events WHERE event_id = 'e2'`).Scan(&pattern); err != nil {
		t.Fatal(err)
	}
	if msg != store.NormalizeErrorMessage("Cannot read id 42") || frame != store.TopStackFrame("TypeError: x\n    at f (https://x/app.js?v=3:1:2)") || pattern != store.URLPattern("https://api/x/123/items?q=1") {
		t.Fatalf("backfill: %q %q %q", msg, frame, pattern)
	}
}
