package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/storetest"
)

// writeBatch is the spool writer's largest Write.
const writeBatch = 20_000

// BenchmarkWriteRumEvents measures ingest through Write: encoding
// (including the metadata and phase extraction) and the RowBinary insert.
func BenchmarkWriteRumEvents(b *testing.B) {
	ctx := context.Background()
	s := openTestStore(b, Options{})
	defer s.Close()
	var events []model.RumEvent
	cfg := storetest.RumDataConfig{Seed: 3, AppMonitorID: "bench", StartMicros: storetest.RumTestStart, SpanMicros: 24 * 3600e6, Sessions: writeBatch / 20}
	if err := storetest.GenerateRum(cfg, func(evs []model.RumEvent) error { events = append(events, evs...); return nil }); err != nil {
		b.Fatal(err)
	}
	events = events[:min(len(events), writeBatch)]
	seq := uint64(0)
	start := time.Now()
	for b.Loop() {
		seq++
		if err := s.Write(ctx, seq, []*model.Batch{{Rum: events}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(events))*float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkWriteSegments measures segment ingest through Write; the
// materialized view copies each row into the trace-ordered table.
func BenchmarkWriteSegments(b *testing.B) {
	ctx := context.Background()
	s := openTestStore(b, Options{})
	defer s.Close()
	recs := make([]model.SegmentRecord, writeBatch)
	for i := range recs {
		epoch := 0x69a00000 + i/10
		seg := &model.Segment{TraceID: fmt.Sprintf("1-%08x-%024x", epoch, i/3), ID: fmt.Sprintf("%016x", i), Name: "checkout-api",
			StartTime: float64(epoch) + 0.25, EndTime: float64(epoch) + 0.5, Origin: "AWS::EC2::Instance",
			HTTP:        &model.HTTP{Request: &model.HTTPRequest{Method: "GET", URL: "https://shop.example.com/api/cart"}, Response: &model.HTTPResponse{Status: 200}},
			Annotations: map[string]any{"tenant": "t1"}}
		if i%3 != 0 {
			seg.ParentID = fmt.Sprintf("%016x", i-i%3)
		}
		raw, _ := json.Marshal(seg)
		recs[i] = model.SegmentRecord{Segment: seg, Raw: raw, ReceivedAtMicros: int64(epoch) * 1e6}
	}
	seq := uint64(0)
	start := time.Now()
	for b.Loop() {
		seq++
		if err := s.Write(ctx, seq, []*model.Batch{{Segments: recs}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/time.Since(start).Seconds(), "segments/s")
}

// BenchmarkRumStats measures the console's main RUM queries over 1M
// events in 7 days (10M with SIGHTLINE_BIG_BENCH=1), the same cases as the
// DuckDB store's benchmark. Each sub-benchmark reports its median latency
// as p50-ms.
func BenchmarkRumStats(b *testing.B) {
	ctx := context.Background()
	events := 1_000_000
	if os.Getenv("SIGHTLINE_BIG_BENCH") == "1" {
		events = 10_000_000
	}
	s := openTestStore(b, Options{})
	defer s.Close()
	const day = 24 * time.Hour / time.Microsecond
	start := storetest.RumTestStart
	cfg := storetest.RumDataConfig{Seed: 1, AppMonitorID: "bench", StartMicros: start, SpanMicros: int64(7 * day), Sessions: events / 20}
	t0 := time.Now()
	n, err := storetest.WriteRumDataset(ctx, s, cfg, writeBatch, nil)
	if err != nil {
		b.Fatal(err)
	}
	took := time.Since(t0)
	b.Logf("built %d events in %s (%.0f rows/s)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())

	oneDay := store.RumRange{AppMonitorID: "bench", FromMicros: start + int64(3*day), ToMicros: start + int64(4*day)}
	page, err := s.Sessions(ctx, store.SessionListQuery{RumRange: oneDay, Limit: 50})
	if err != nil || len(page) == 0 {
		b.Fatalf("sessions: %v (%d)", err, len(page))
	}
	sess := page[len(page)/2]
	var traceID string
	if evs, err := s.RumEvents(ctx, store.RumEventQuery{AppMonitorID: "bench", FromMicros: oneDay.FromMicros, ToMicros: oneDay.ToMicros,
		Filters: map[string][]string{"event_type": {model.EventHTTP}}, Limit: 200}); err == nil {
		for _, e := range evs {
			if e.TraceID != "" {
				traceID = e.TraceID
			}
		}
	}

	run := func(name string, fn func() error) {
		b.Run(name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				t := time.Now()
				if err := fn(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		})
	}
	run("P75LCPByPage/1day", func() error {
		_, err := s.Distribution(ctx, store.DistributionQuery{RumRange: oneDay, EventType: model.EventLCP, GroupBy: store.GroupByPage, Good: 2500, Poor: 4000})
		return err
	})
	run("LCPOverTime/1day", func() error {
		_, err := s.Distribution(ctx, store.DistributionQuery{RumRange: oneDay, EventType: model.EventLCP, GroupBy: store.GroupByTime,
			BucketMicros: int64(5 * time.Minute / time.Microsecond), Good: 2500, Poor: 4000})
		return err
	})
	run("ErrorGroups/1day", func() error {
		_, err := s.ErrorGroups(ctx, store.ErrorGroupQuery{RumRange: oneDay})
		return err
	})
	run("HTTPGroups/1day", func() error {
		_, err := s.HTTPGroups(ctx, store.HTTPGroupQuery{RumRange: oneDay})
		return err
	})
	run("SessionTimeline", func() error {
		r := oneDay
		_, err := s.RumEvents(ctx, store.RumEventQuery{AppMonitorID: r.AppMonitorID, FromMicros: r.FromMicros, ToMicros: r.ToMicros,
			Filters: map[string][]string{"session_id": {sess.SessionID}}, Limit: 1000})
		return err
	})
	run("SessionsList/1day", func() error {
		_, err := s.Sessions(ctx, store.SessionListQuery{RumRange: oneDay, Limit: 50})
		return err
	})
	run("SessionsList/7days", func() error {
		r := oneDay
		r.FromMicros, r.ToMicros = start, start+int64(7*day)
		_, err := s.Sessions(ctx, store.SessionListQuery{RumRange: r, Limit: 50})
		return err
	})
	run("Audience/browser/1day", func() error {
		_, err := s.Audience(ctx, oneDay, "browser")
		return err
	})
	run("Transitions/1day", func() error {
		_, err := s.Transitions(ctx, store.JourneyQuery{RumRange: oneDay})
		return err
	})
	if traceID != "" {
		run("RumEventsByTraceID/7days", func() error {
			_, err := s.RumEvents(ctx, store.RumEventQuery{AppMonitorID: "bench", FromMicros: start, ToMicros: start + int64(7*day),
				Filters: map[string][]string{"trace_id": {traceID}}, Limit: 100})
			return err
		})
	}
}
