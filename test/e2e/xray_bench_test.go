package e2e

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/receiver/xraydaemon"
	"github.com/sightline/sightline/internal/spool"
	"github.com/sightline/sightline/internal/store/duckdb"
	"github.com/sightline/sightline/internal/writer"
)

// BenchmarkUDPSegmentsStored sends X-Ray daemon datagrams over 127.0.0.1
// to the receiver and measures segments stored in DuckDB through the
// spool and writer, as `sightline serve` wires them. The sender paces
// itself to a target rate; the benchmark reports the stored rate and how
// many datagrams were lost (sent but never stored).
func BenchmarkUDPSegmentsStored(b *testing.B) {
	for _, rate := range []int{20000, 50000} {
		b.Run(fmt.Sprintf("offered=%d/s", rate), func(b *testing.B) { benchUDPStored(b, rate) })
	}
}

func benchUDPStored(b *testing.B, rate int) {
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
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	wr := writer.New(sp, st, writer.Options{MaxRows: 20000, FlushInterval: 200 * time.Millisecond})
	wdone := make(chan struct{})
	go func() { _ = wr.Run(rctx, time.Minute); close(wdone) }()
	recv, err := xraydaemon.New(xraydaemon.Options{Sink: writer.Sink{Spool: sp}, Decoders: 2})
	if err != nil {
		b.Fatal(err)
	}
	conn, _, err := xraydaemon.ListenUDP("127.0.0.1:0", 8<<20)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	go func() { _ = recv.ServeUDP(rctx, conn) }()
	out, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()

	base := time.Now().Unix()
	b.ResetTimer()
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := 0; i < b.N; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		t0 := float64(base) + float64(i%1000)/1000
		doc := fmt.Sprintf(`{"trace_id":"1-%08x-%024x","id":"%016x","name":"bench-svc","start_time":%.6f,"end_time":%.6f,"http":{"request":{"method":"GET","url":"http://bench/x"},"response":{"status":200}},"annotations":{"k":"v"}}`,
			base, i, i+1, t0, t0+0.0005)
		if _, err := out.Write([]byte("{\"format\": \"json\", \"version\": 1}\n" + doc)); err != nil {
			b.Fatal(err)
		}
	}
	sent := time.Since(start)
	// Wait until the store holds what the receiver accepted.
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		accepted := recv.Stats().Accepted
		seq, _ := st.AppliedSeq(ctx)
		if accepted >= uint64(b.N) || (time.Since(start) > sent+2*time.Second) {
			if seq >= sp.Stats().LastSeq {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	stored := time.Since(start)
	b.StopTimer()
	accepted := recv.Stats().Accepted
	b.ReportMetric(float64(accepted)/stored.Seconds(), "stored_segments/s")
	b.ReportMetric(float64(b.N)/sent.Seconds(), "sent/s")
	b.ReportMetric(float64(uint64(b.N)-accepted), "lost")
	if st := recv.Stats(); st.TotalDropped() > 0 || uint64(b.N) != st.Datagrams {
		b.Logf("datagrams read %d of %d sent; dropped by reason %v", st.Datagrams, b.N, st.Dropped)
	}
	stop()
	<-wdone
}
