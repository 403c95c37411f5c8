package spool

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// appenders is the concurrency the throughput targets are stated for.
const appenders = 32

func randomPayload(size int) []byte {
	r := rand.New(rand.NewPCG(uint64(size), 1))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func reportGroupCommit(b *testing.B, s *Spool, elapsed time.Duration) {
	st := s.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
	if st.Flushes > 0 {
		b.ReportMetric(float64(st.Appended)/float64(st.Flushes), "appends/fsync")
	}
}

// BenchmarkAppendSerial is one appender at a time: every Append pays a full
// write+fsync, so this is the device's fsync latency.
func BenchmarkAppendSerial(b *testing.B) {
	s := openT(b, Options{Dir: b.TempDir(), MaxBytes: 64 << 30})
	payload := randomPayload(10 << 10)
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := s.Append(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
	reportGroupCommit(b, s, time.Since(start))
}

func BenchmarkAppendParallel(b *testing.B) {
	for _, size := range []int{1 << 10, 10 << 10, 100 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			s := openT(b, Options{Dir: b.TempDir(), MaxBytes: 64 << 30})
			payload := randomPayload(size)
			b.SetBytes(int64(size))
			b.SetParallelism(max(1, appenders/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Append(context.Background(), payload); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportGroupCommit(b, s, time.Since(start))
		})
	}
}

// BenchmarkAppendNextCommit measures the whole path: 32 appenders, one
// reader that reads batches and commits them, as the store writer does. The
// clock stops when the last record is committed.
func BenchmarkAppendNextCommit(b *testing.B) {
	for _, size := range []int{1 << 10, 10 << 10, 100 << 10} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			s := openT(b, Options{Dir: b.TempDir()})
			payload := randomPayload(size)
			b.SetBytes(int64(size))
			var full atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()

			b.ResetTimer()
			start := time.Now()
			readerDone := make(chan error, 1)
			go func() {
				for read := 0; read < b.N; {
					recs, err := s.Next(ctx, 1000, 4<<20)
					if err != nil {
						readerDone <- err
						return
					}
					read += len(recs)
					if err := s.Commit(recs[len(recs)-1].Seq); err != nil {
						readerDone <- err
						return
					}
				}
				readerDone <- nil
			}()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range appenders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						for {
							_, err := s.Append(ctx, payload)
							if errors.Is(err, ErrFull) {
								full.Add(1)
								time.Sleep(time.Millisecond)
								continue
							}
							if err != nil {
								b.Error(err)
								return
							}
							break
						}
					}
				}()
			}
			wg.Wait()
			if err := <-readerDone; err != nil {
				b.Fatal(err)
			}
			reportGroupCommit(b, s, time.Since(start))
			b.ReportMetric(float64(full.Load()), "ErrFull")
		})
	}
}
