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
