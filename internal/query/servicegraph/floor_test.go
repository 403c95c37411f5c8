package servicegraph

import (
	"testing"

	"github.com/sightline/sightline/internal/model"
)

// BenchmarkWalkFloor only visits every segment and subsegment of the
// Build10k traces and reads one byte of each id: the memory-bound floor
// that any graph computed from assembled traces pays.
func BenchmarkWalkFloor(b *testing.B) {
	traces := newTraceGen(1).traces(10_000, 15)
	var x byte
	var walk func(s *model.Segment)
	walk = func(s *model.Segment) {
		if len(s.ID) > 0 {
			x += s.ID[len(s.ID)-1]
		}
		for _, c := range s.Subsegments {
			walk(c)
		}
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, t := range traces {
			for _, s := range t.Segments {
				walk(s)
			}
		}
	}
	_ = x
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
