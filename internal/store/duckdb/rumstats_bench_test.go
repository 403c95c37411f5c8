package duckdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/storetest"
)

// BenchmarkRumStats measures the console's main RUM queries over 1M
// events in 7 days, or 10M with SIGHTLINE_BIG_BENCH=1. Each sub-benchmark
// reports its median latency as p50-ms.
func BenchmarkRumStats(b *testing.B) {
	ctx := context.Background()
	events := 1_000_000
	if os.Getenv("SIGHTLINE_BIG_BENCH") == "1" {
		events = 10_000_000
	}
	s, err := Open(ctx, Options{Path: filepath.Join(b.TempDir(), "bench.duckdb"), MemoryLimit: "4GB", CheckpointThreshold: "256MB"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const day = 24 * time.Hour / time.Microsecond
	start := storetest.RumTestStart
	// The generator averages about 20 events per session.
	cfg := storetest.RumDataConfig{Seed: 1, AppMonitorID: "bench", StartMicros: start, SpanMicros: int64(7 * day), Sessions: events / 20}
	t0 := time.Now()
	n, err := storetest.WriteRumDataset(ctx, s, cfg, 50_000, nil)
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
	for _, days := range []int{1, 7} {
		r := oneDay
		r.ToMicros = r.FromMicros + int64(days)*int64(day)
		if days == 7 {
			r.FromMicros, r.ToMicros = start, start+int64(7*day)
		}
		q := store.OverviewQuery{RumRange: r, BucketMicros: int64(time.Hour / time.Microsecond), TopErrors: 5,
			LoadTime: store.MetricThresholds{EventType: model.EventNavigation, Good: 2000, Poor: 8000}}
		for _, t := range []string{model.EventLCP, model.EventINP, model.EventCLS, model.EventFCP, model.EventTTFB, model.EventFID} {
			q.Vitals = append(q.Vitals, store.MetricThresholds{EventType: t, Good: 1, Poor: 2})
		}
		run(fmt.Sprintf("Overview/%ddays", days), func() error {
			_, err := s.Overview(ctx, q)
			return err
		})
	}
	run("Transitions/1day", func() error {
		_, err := s.Transitions(ctx, store.JourneyQuery{RumRange: oneDay})
		return err
	})
}
