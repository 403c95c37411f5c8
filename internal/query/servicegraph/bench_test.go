package servicegraph

import (
	"runtime"
	"syscall"
	"testing"

	"github.com/sightline/sightline/internal/model"
)

func segmentCount(traces []*model.Trace) int {
	n := 0
	for _, t := range traces {
		n += len(t.Segments)
	}
	return n
}

func benchBuild(b *testing.B, count int, parallel bool) {
	traces := newTraceGen(1).traces(count, 15)
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if parallel {
			_ = Build(traces, Options{})
		} else {
			_ = BuildFromAggregates(aggregate(traces, Options{}))
		}
	}
	// CPU time (all threads) per op: on a shared machine wall time
	// includes waiting for a core.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(segmentCount(traces))/float64(count), "segments/trace")
}

// BenchmarkBuild10k is the graph over 10,000 assembled traces of about
// ten segments each (plus inferred ones), on all CPUs.
func BenchmarkBuild10k(b *testing.B) { benchBuild(b, 10_000, true) }

// BenchmarkBuild10kSerial is the same on one goroutine.
func BenchmarkBuild10kSerial(b *testing.B) { benchBuild(b, 10_000, false) }

// BenchmarkBuild100k is the target size: 100,000 traces, about a million
// segments. Its traces take about 1.5 GB.
func BenchmarkBuild100k(b *testing.B) {
	if testing.Short() {
		b.Skip("1.5 GB of traces")
	}
	benchBuild(b, 100_000, true)
}

func BenchmarkBuildFromAggregates(b *testing.B) {
	nodes, edges := aggregate(newTraceGen(1).traces(10_000, 10), Options{})
	b.ReportAllocs()
	for b.Loop() {
		_ = BuildFromAggregates(nodes, edges)
	}
}

func BenchmarkTimeSeries10k(b *testing.B) {
	traces := newTraceGen(1).traces(10_000, 10)
	sel := SelectorFromNameType("orders", "AWS::EC2::Instance")
	b.ReportAllocs()
	for b.Loop() {
		_ = TimeSeries(traces, sel, DefaultPeriod, timeZero, timeZero)
	}
}

// cpuTime is the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
