package clickhouse

import (
	"testing"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store/storetest"
)

// BenchmarkEncodeRum is the client side of ingest alone: extraction and
// RowBinary encoding of one spool Write's events, no server.
func BenchmarkEncodeRum(b *testing.B) {
	var events []model.RumEvent
	cfg := storetest.RumDataConfig{Seed: 3, AppMonitorID: "bench", StartMicros: storetest.RumTestStart, SpanMicros: 24 * 3600e6, Sessions: writeBatch / 20}
	if err := storetest.GenerateRum(cfg, func(evs []model.RumEvent) error { events = append(events, evs...); return nil }); err != nil {
		b.Fatal(err)
	}
	var w rowBinary
	for b.Loop() {
		w.b = w.b[:0]
		for i := range events {
			encodeRum(&w, &events[i], 1, "default", 1)
		}
	}
	b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(w.b))/float64(len(events)), "bytes/event")
}
