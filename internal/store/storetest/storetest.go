// Package storetest is the one conformance suite every store backend runs,
// so backends cannot drift apart in what queries mean.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// Factory returns an empty store; the suite closes it.
type Factory func(t *testing.T) store.Store

// Run runs every conformance test against stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"AppMonitorsCRUD", testAppMonitors},
		{"WriteAndReadRumEvents", testRumEvents},
		{"RumEventFiltersAndPaging", testRumPaging},
		{"WriteIsAtomicWithSeq", testAppliedSeq},
		{"SegmentsByTraceIDs", testSegments},
		{"ListTraces", testListTraces},
		{"Groups", testGroups},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
}

func boolp(b bool) *bool { return &b }

func testAppMonitors(t *testing.T, s store.Store) {
	ctx := context.Background()
	rate := 0.5
	m := &model.AppMonitor{ID: "11111111-1111-4111-8111-111111111111", Name: "shop", Domain: "shop.example.com",
		AppMonitorConfiguration: model.AppMonitorConfiguration{SessionSampleRate: &rate, AllowCookies: boolp(true), Telemetries: []string{"errors"}},
		CustomEventsEnabled:     true}
	if err := s.CreateAppMonitor(ctx, m); err != nil {
		t.Fatalf("create: %v", err)
	}
	dup := *m
	dup.ID = "22222222-2222-4222-8222-222222222222"
	if err := s.CreateAppMonitor(ctx, &dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate name: %v, want ErrConflict", err)
	}
	got, err := s.GetAppMonitor(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != m.ID || *got.AppMonitorConfiguration.SessionSampleRate != 0.5 || !got.CustomEventsEnabled || got.CreatedMicros == 0 {
		t.Fatalf("round trip lost fields: %+v", got)
	}
	if _, err := s.GetAppMonitor(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	got.Domain = "www.example.com"
	if err := s.UpdateAppMonitor(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateAppMonitor(ctx, &model.AppMonitor{Name: "nope"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	second := &model.AppMonitor{ID: "33333333-3333-4333-8333-333333333333", Name: "admin", Domain: "admin.example.com"}
	if err := s.CreateAppMonitor(ctx, second); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListAppMonitors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "admin" || list[1].Domain != "www.example.com" {
		t.Fatalf("list: %+v", list)
	}
	if err := s.DeleteAppMonitor(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAppMonitor(ctx, "admin"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func event(app string, ts int64, id, typ, session string) model.RumEvent {
	return model.RumEvent{AppMonitorID: app, TimestampMicros: ts, EventID: id, Type: typ, SessionID: session,
		UserID: model.AllZeroUserID, BatchID: "batch-" + id, Metadata: json.RawMessage(`{"pageId":"/"}`),
		Details: json.RawMessage(`{}`), ReceivedAtMicros: ts}
}

func testRumEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := 1234.5
	e := event("app", 1_000_000, "e1", model.EventLCP, "s1")
	e.Value, e.PageID, e.Browser, e.OS, e.DeviceType = &v, "/cart", "Chrome", "Linux", "desktop"
	e.Details = json.RawMessage(`{"value":1234.5}`)
	h := event("app", 2_000_000, "e2", model.EventHTTP, "s1")
	h.HTTPMethod, h.HTTPURL, h.HTTPStatus, h.TraceID, h.SegmentID = "GET", "/api", 500, "1-5f000000-000000000000000000000001", "0123456789abcdef"
	other := event("other-app", 1_500_000, "e3", model.EventPageView, "s9")
	if err := s.Write(ctx, 1, []*model.Batch{{Rum: []model.RumEvent{e, h}}, {Rum: []model.RumEvent{other}}}); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := s.RumEvents(ctx, store.RumEventQuery{AppMonitorID: "app", FromMicros: 0, ToMicros: 10_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d events, want 2", len(got))
	}
	if got[0].EventID != "e1" || got[0].Value == nil || *got[0].Value != v || got[0].PageID != "/cart" || got[0].Browser != "Chrome" {
		t.Errorf("first event: %+v", got[0])
	}
	if got[1].HTTPStatus != 500 || got[1].TraceID != h.TraceID || got[1].Value != nil {
		t.Errorf("second event: %+v", got[1])
	}
	if string(got[0].Details) != `{"value":1234.5}` {
		t.Errorf("details: %s", got[0].Details)
	}
	ids, err := s.RecentBatchIDs(ctx, 0)
	if err != nil || len(ids) != 3 {
		t.Fatalf("recent batch ids: %v %v", ids, err)
	}
}

func testRumPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	var evs []model.RumEvent
	for i := 0; i < 25; i++ {
		typ := model.EventPageView
		if i%5 == 0 {
			typ = model.EventJSError
		}
		// Two events share each timestamp so paging must use the event id.
		evs = append(evs, event("app", int64(1_000_000+(i/2)*1000), fmt.Sprintf("e%02d", i), typ, fmt.Sprintf("s%d", i%3)))
	}
	if err := s.Write(ctx, 7, []*model.Batch{{Rum: evs}}); err != nil {
		t.Fatal(err)
	}
	var all []model.RumEvent
	q := store.RumEventQuery{AppMonitorID: "app", FromMicros: 0, ToMicros: 1 << 50, Limit: 10}
	for page := 0; page < 5; page++ {
		got, err := s.RumEvents(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got...)
		if len(got) < q.Limit {
			break
		}
		q.AfterMicros, q.AfterEventID = got[len(got)-1].TimestampMicros, got[len(got)-1].EventID
	}
	if len(all) != 25 {
		t.Fatalf("paged through %d events, want 25", len(all))
	}
	for i, e := range all {
		if e.EventID != fmt.Sprintf("e%02d", i) {
			t.Fatalf("event %d is %s: order or paging broken", i, e.EventID)
		}
	}
	got, err := s.RumEvents(ctx, store.RumEventQuery{AppMonitorID: "app", FromMicros: 0, ToMicros: 1 << 50, Limit: 100,
		Filters: map[string][]string{"event_type": {model.EventJSError}, "session_id": {"s0", "s1"}}})
	if err != nil {
		t.Fatal(err)
	}
	// errors are i = 0,5,10,15,20 with sessions 0,2,1,0,2 → s0/s1: 0,10,15
	if len(got) != 3 {
		t.Fatalf("filtered %d events, want 3", len(got))
	}
	if _, err := s.RumEvents(ctx, store.RumEventQuery{AppMonitorID: "app", ToMicros: 1, Filters: map[string][]string{"nope": {"x"}}}); err == nil {
		t.Error("unknown filter accepted")
	}
	got, err = s.RumEvents(ctx, store.RumEventQuery{AppMonitorID: "app", FromMicros: 1_002_000, ToMicros: 1_004_000, Limit: 100})
	if err != nil || len(got) != 4 {
		t.Fatalf("time window: %d events, %v; want 4", len(got), err)
	}
}

func testAppliedSeq(t *testing.T, s store.Store) {
	ctx := context.Background()
	seq, err := s.AppliedSeq(ctx)
	if err != nil || seq != 0 {
		t.Fatalf("fresh store seq %d, %v", seq, err)
	}
	if err := s.Write(ctx, 42, []*model.Batch{{Rum: []model.RumEvent{event("a", 1, "x", "t", "s")}}}); err != nil {
		t.Fatal(err)
	}
	if seq, _ := s.AppliedSeq(ctx); seq != 42 {
		t.Fatalf("seq %d after write, want 42", seq)
	}
	bad := &model.Batch{Segments: []model.SegmentRecord{{Raw: json.RawMessage(`{}`)}}} // no parsed segment: refused
	if err := s.Write(ctx, 43, []*model.Batch{{Rum: []model.RumEvent{event("a", 2, "y", "t", "s")}}, bad}); err == nil {
		t.Fatal("invalid batch accepted")
	}
	if seq, _ := s.AppliedSeq(ctx); seq != 42 {
		t.Fatalf("seq %d after a failed write, want 42", seq)
	}
	got, err := s.RumEvents(ctx, store.RumEventQuery{AppMonitorID: "a", FromMicros: 0, ToMicros: 100})
	if err != nil || len(got) != 1 {
		t.Fatalf("a failed write left %d events (%v), want 1", len(got), err)
	}
}

func seg(trace, id, parent string, start, end float64, inProgress bool) model.SegmentRecord {
	s := &model.Segment{TraceID: trace, ID: id, ParentID: parent, Name: "svc", StartTime: start, EndTime: end, InProgress: inProgress,
		HTTP:        &model.HTTP{Request: &model.HTTPRequest{Method: "GET", URL: "http://x/"}, Response: &model.HTTPResponse{Status: 200}},
		Annotations: map[string]any{"k": "v"}}
	raw, _ := json.Marshal(s)
	return model.SegmentRecord{Segment: s, Raw: raw, ReceivedAtMicros: int64(start * 1e6)}
}

func testSegments(t *testing.T, s store.Store) {
	ctx := context.Background()
	const t1, t2 = "1-5f000000-000000000000000000000001", "1-5f000000-000000000000000000000002"
	inprog := seg(t1, "aaaaaaaaaaaaaaaa", "", 100, 0, true)
	complete := seg(t1, "aaaaaaaaaaaaaaaa", "", 100, 101.5, false)
	complete.ReceivedAtMicros = 200e6
	child := seg(t1, "bbbbbbbbbbbbbbbb", "cccccccccccccccc", 100.2, 101, false)
	child.AppMonitorID, child.SessionID, child.PageID = "app", "sess", "/p"
	other := seg(t2, "dddddddddddddddd", "", 50, 51, false)
	if err := s.Write(ctx, 1, []*model.Batch{{Segments: []model.SegmentRecord{inprog, other}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, 2, []*model.Batch{{Segments: []model.SegmentRecord{complete, child}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SegmentsByTraceIDs(ctx, []string{t1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d documents, want 2 (complete replaces in-progress)", len(got))
	}
	if got[0].Segment.ID != "aaaaaaaaaaaaaaaa" || got[0].Segment.InProgress || got[0].Segment.EndTime != 101.5 {
		t.Errorf("root: %+v", got[0].Segment)
	}
	if got[1].SessionID != "sess" || got[1].AppMonitorID != "app" || got[1].PageID != "/p" || got[1].Segment.Annotations["k"] != "v" {
		t.Errorf("child lost its RUM link or annotations: %+v", got[1])
	}
	got, err = s.SegmentsByTraceIDs(ctx, []string{t1, t2, "1-5f000000-000000000000000000000009"})
	if err != nil || len(got) != 3 {
		t.Fatalf("two traces: %d docs, %v", len(got), err)
	}
}
