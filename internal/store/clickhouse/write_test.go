package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

func rumEvent(id string, ts int64) model.RumEvent {
	return model.RumEvent{AppMonitorID: "a", TimestampMicros: ts, EventID: id, Type: model.EventPageView, SessionID: "s",
		BatchID: "b", Metadata: json.RawMessage(`{}`), Details: json.RawMessage(`{}`)}
}

func segRecord(trace, id string) model.SegmentRecord {
	s := &model.Segment{TraceID: trace, ID: id, Name: "svc", StartTime: 100, EndTime: 101}
	raw, _ := json.Marshal(s)
	return model.SegmentRecord{Segment: s, Raw: raw}
}

func countEvents(t *testing.T, s *Store) int {
	t.Helper()
	got, err := s.RumEvents(context.Background(), store.RumEventQuery{AppMonitorID: "a", ToMicros: 1 << 62, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(got)
}

func countSegments(t *testing.T, s *Store, trace string) int {
	t.Helper()
	got, err := s.SegmentsByTraceIDs(context.Background(), []string{trace})
	if err != nil {
		t.Fatal(err)
	}
	return len(got)
}

func TestReopenKeepsProgressAndData(t *testing.T) {
	ctx := context.Background()
	db := freshDatabase()
	s := openTestStore(t, Options{Database: db})
	if err := s.Write(ctx, 9, []*model.Batch{{Rum: []model.RumEvent{rumEvent("e", 5)}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTestStore(t, Options{Database: db})
	defer s.Close()
	if seq, err := s.AppliedSeq(ctx); err != nil || seq != 9 {
		t.Fatalf("seq after reopen %d, %v", seq, err)
	}
	if n := countEvents(t, s); n != 1 {
		t.Fatalf("%d events after reopen, want 1", n)
	}
	var migrations int
	rows, err := s.conn.query(ctx, "SELECT count() FROM "+tMigrations)
	if err == nil {
		_, _ = fmt.Sscan(string(rows[0][0]), &migrations)
	}
	if err != nil || migrations != len(Migrations(s.schemaConfig())) {
		t.Fatalf("schema_migrations has %d rows (%v) after two opens, want %d", migrations, err, len(Migrations(s.schemaConfig())))
	}
}

// A crash between inserting rows and recording progress leaves rows with
// a write id above the recorded one; Open removes them so the replay
// stores them once.
func TestOpenRemovesRowsOfAnUnrecordedWrite(t *testing.T) {
	ctx := context.Background()
	db := freshDatabase()
	s := openTestStore(t, Options{Database: db})
	if err := s.Write(ctx, 1, []*model.Batch{{Rum: []model.RumEvent{rumEvent("e1", 1)}}}); err != nil {
		t.Fatal(err)
	}
	// The crashed write: rows inserted, progress never recorded.
	var rum, seg rowBinary
	e2 := rumEvent("e2", 2)
	encodeRum(&rum, &e2, 2, "default", s.lastWriteID+1)
	const trace = "1-5f000000-000000000000000000000001"
	sr := segRecord(trace, "aaaaaaaaaaaaaaaa")
	if err := encodeSegment(&seg, &sr, 2, "default", s.lastWriteID+1); err != nil {
		t.Fatal(err)
	}
	if err := s.conn.insert(ctx, tRumEvents, columnNames(rumColumns), "RowBinary", rum.b, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.conn.insert(ctx, tSegments, columnNames(segmentColumns), "RowBinary", seg.b, nil); err != nil {
		t.Fatal(err)
	}
	// Another writer's rows above our progress are not ours to remove.
	other := openTestStore(t, Options{Database: db, WriterID: "collector-2"})
	if err := other.Write(ctx, 1, []*model.Batch{{Rum: []model.RumEvent{rumEvent("o1", 3)}}}); err != nil {
		t.Fatal(err)
	}
	if n := countEvents(t, s); n != 3 {
		t.Fatalf("%d events before reopen, want 3", n)
	}
	s = openTestStore(t, Options{Database: db})
	if n := countEvents(t, s); n != 2 {
		t.Fatalf("%d events after reopen, want 2 (the unrecorded one removed, the other writer's kept)", n)
	}
	if n := countSegments(t, s, trace); n != 0 {
		t.Fatalf("%d segments of the unrecorded write are still served", n)
	}
	if seq, _ := s.AppliedSeq(ctx); seq != 1 {
		t.Fatalf("seq %d, want 1", seq)
	}
	// The replay stores the batch once.
	if err := s.Write(ctx, 2, []*model.Batch{{Rum: []model.RumEvent{e2}, Segments: []model.SegmentRecord{sr}}}); err != nil {
		t.Fatal(err)
	}
	if n := countEvents(t, s); n != 3 {
		t.Fatalf("%d events after replay, want 3", n)
	}
	if n := countSegments(t, s, trace); n != 1 {
		t.Fatalf("%d segments after replay, want 1", n)
	}
}

// faultyTransport fails requests whose INSERT targets a table: before
// sending them (the server never sees them) or after (the server stored
// the rows, the client saw an error).
type faultyTransport struct {
	mu     sync.Mutex
	table  string
	after  bool
	faults int
}

func (f *faultyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	hit := f.faults > 0 && strings.HasPrefix(req.URL.Query().Get("query"), "INSERT INTO "+f.table+" ")
	if hit {
		f.faults--
	}
	f.mu.Unlock()
	if hit && !f.after {
		return nil, errors.New("injected fault before sending")
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if hit && err == nil {
		resp.Body.Close()
		return nil, errors.New("injected fault after the server answered")
	}
	return resp, err
}

func TestFailedWriteIsRepairedBeforeTheNext(t *testing.T) {
	ctx := context.Background()
	const trace = "1-5f000000-000000000000000000000002"
	for _, tc := range []struct {
		name  string
		table string
		after bool
	}{
		{"segments insert never sent", tSegments, false},
		{"segments stored, client saw an error", tSegments, true},
		{"progress insert never sent", tProgress, false},
		{"progress stored, client saw an error", tProgress, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := &faultyTransport{table: tc.table, after: tc.after}
			s := openTestStore(t, Options{HTTPClient: &http.Client{Transport: ft}})
			if err := s.Write(ctx, 1, []*model.Batch{{Rum: []model.RumEvent{rumEvent("e1", 1)}}}); err != nil {
				t.Fatal(err)
			}
			batch := []*model.Batch{{Rum: []model.RumEvent{rumEvent("e2", 2)}, Segments: []model.SegmentRecord{segRecord(trace, "bbbbbbbbbbbbbbbb")}}}
			ft.faults = 1
			if err := s.Write(ctx, 2, batch); err == nil {
				t.Fatal("write with an injected fault succeeded")
			}
			// The spool writer retries the same records.
			if err := s.Write(ctx, 2, batch); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if n := countEvents(t, s); n != 2 {
				t.Fatalf("%d events after the retry, want 2", n)
			}
			if n := countSegments(t, s, trace); n != 1 {
				t.Fatalf("%d segments after the retry, want 1", n)
			}
			if seq, _ := s.AppliedSeq(ctx); seq != 2 {
				t.Fatalf("seq %d, want 2", seq)
			}
			rows, err := s.conn.query(ctx, "SELECT count() FROM "+tSegments)
			if err != nil || string(rows[0][0]) != "1" {
				t.Fatalf("segments table holds %v rows (%v), want 1", rows, err)
			}
		})
	}
}
