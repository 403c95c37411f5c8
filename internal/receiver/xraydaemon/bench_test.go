package xraydaemon

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/model"
)

type countingSink struct{ n atomic.Int64 }

func (s *countingSink) AcceptSegments(_ context.Context, recs []model.SegmentRecord) error {
	s.n.Add(int64(len(recs)))
	return nil
}

// BenchmarkUDPEndToEnd sends the captured SDK datagrams over 127.0.0.1 to a
// running receiver whose sink only counts. The sender keeps at most
// `window` datagrams in flight (sent but not yet decoded by the receiver),
// fewer than the kernel buffer and the queue hold, so nothing overflows:
// the rate reported is one the receiver sustains with no loss, and "lost"
// must stay 0.
func BenchmarkUDPEndToEnd(b *testing.B) {
	fixtures := loadFixtureDatagrams(b)
	datagrams := make([][]byte, len(fixtures))
	for i, d := range fixtures {
		datagrams[i] = d.bytes()
	}
	for _, decoders := range []int{1, 2} {
		b.Run(fmt.Sprintf("decoders=%d", decoders), func(b *testing.B) {
			benchUDP(b, datagrams, decoders)
		})
	}
}

func benchUDP(b *testing.B, datagrams [][]byte, decoders int) {
	const window = 2048
	sink := &countingSink{}
	r, err := New(Options{Sink: sink, Decoders: decoders, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	conn, got, err := ListenUDP("127.0.0.1:0", DefaultReadBufferBytes)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.ServeUDP(ctx, conn) }()
	out, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	bytes := 0
	for _, d := range datagrams {
		bytes += len(d)
	}
	b.SetBytes(int64(bytes / len(datagrams)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for uint64(i)-r.decoded.Load() >= window {
			time.Sleep(20 * time.Microsecond)
		}
		if _, err := out.Write(datagrams[i%len(datagrams)]); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := r.Stats()
		if s.Accepted+s.TotalDropped() >= uint64(b.N) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	s := r.Stats()
	b.ReportMetric(float64(s.Accepted)/elapsed.Seconds(), "segments/s")
	b.ReportMetric(float64(uint64(b.N)-s.Accepted), "lost")
	b.ReportMetric(float64(got), "rcvbuf_bytes")
	cancel()
	<-done
	if s.Accepted != uint64(b.N) {
		b.Errorf("lost %d of %d datagrams (dropped %v)", uint64(b.N)-s.Accepted, b.N, s.Dropped)
	}
}

// BenchmarkDecodeDatagram is the per-datagram CPU cost without the socket.
func BenchmarkDecodeDatagram(b *testing.B) {
	fixtures := loadFixtureDatagrams(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, _, err := DecodeDatagram(fixtures[i%len(fixtures)].bytes()); err != nil {
			b.Fatal(err)
		}
	}
}
