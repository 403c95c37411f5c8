package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/appmonitor"
	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/receiver/rumdata"
	"github.com/sightline/sightline/internal/spool"
	"github.com/sightline/sightline/internal/store/duckdb"
	"github.com/sightline/sightline/internal/writer"
)

// BenchmarkIngestDurable measures the whole ingest path in one process:
// PutRumEvents decode and validation → fsynced spool (group commit) →
// writer → DuckDB, with 100-event batches from 32 concurrent clients. The
// clock stops when the last event is in the store.
func BenchmarkIngestDurable(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	st, err := duckdb.Open(ctx, duckdb.Options{Path: filepath.Join(dir, "db.duckdb"), MemoryLimit: "1GB", CheckpointThreshold: "256MB", Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sp, err := spool.Open(ctx, spool.Options{Dir: filepath.Join(dir, "spool")})
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	reg := appmonitor.NewRegistry(st, time.Minute)
	mon := &model.AppMonitor{Name: "bench", Domain: "127.0.0.1"}
	if err := reg.Create(ctx, mon); err != nil {
		b.Fatal(err)
	}
	h := rumdata.NewHandler(reg, writer.Sink{Spool: sp}, rumdata.Options{RatePerIP: 1e9, BurstPerIP: 1e9, RatePerApp: 1e9, BurstPerApp: 1e9})
	wr := writer.New(sp, st, writer.Options{MaxRows: 20000, FlushInterval: 200 * time.Millisecond})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = wr.Run(wctx, time.Minute); close(done) }()

	var n atomic.Int64
	var failed atomic.Int64
	b.SetParallelism(16) // 32 clients on 2 cores
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := rumBatch(mon.ID, fmt.Sprintf("bench-%d", i), 100)
			req := httptest.NewRequest("POST", "/appmonitors/"+mon.ID, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				failed.Add(1)
			}
		}
	})
	acked := time.Since(start)
	last := sp.Stats().LastSeq
	for {
		seq, err := st.AppliedSeq(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if seq >= last {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stored := time.Since(start)
	b.StopTimer()
	stop()
	<-done
	if failed.Load() > 0 {
		b.Fatalf("%d requests failed", failed.Load())
	}
	events := float64(n.Load() * 100)
	b.ReportMetric(events/acked.Seconds(), "acked_events/s")
	b.ReportMetric(events/stored.Seconds(), "stored_events/s")
}
