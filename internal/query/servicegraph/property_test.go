package servicegraph

import (
	"bytes"
	"encoding/json"
	"testing"
)

func checkStats(t *testing.T, where string, s *Statistics, h []HistogramEntry) {
	t.Helper()
	if s == nil {
		return
	}
	if got := s.OkCount + s.ErrorStatistics.TotalCount + s.FaultStatistics.TotalCount; got != s.TotalCount {
		t.Errorf("%s: ok+error+fault = %d, total %d", where, got, s.TotalCount)
	}
	if s.ErrorStatistics.ThrottleCount+s.ErrorStatistics.OtherCount != s.ErrorStatistics.TotalCount {
		t.Errorf("%s: throttle+other errors != error total: %+v", where, s.ErrorStatistics)
	}
	if s.FaultStatistics.OtherCount != s.FaultStatistics.TotalCount {
		t.Errorf("%s: fault counts disagree: %+v", where, s.FaultStatistics)
	}
	var n int64
	for i, e := range h {
		n += e.Count
		if i > 0 && h[i-1].Value >= e.Value {
			t.Errorf("%s: histogram not strictly ordered at %d: %v", where, i, h)
		}
	}
	if n != s.TotalCount {
		t.Errorf("%s: histogram counts %d, total %d", where, n, s.TotalCount)
	}
	if s.TotalResponseTime < 0 {
		t.Errorf("%s: negative response time %g", where, s.TotalResponseTime)
	}
}

// For random traces: every node counts exactly the segments the generator
// made for it; the edges into a node (client edges included) add up to its
// count, except for browser nodes, which no client feeds; every statistic
// adds up; and the parallel path gives the same graph as one goroutine.
func TestRandomTraceProperties(t *testing.T) {
	for seed := range uint64(8) {
		g := newTraceGen(seed)
		count := 50
		if seed == 0 {
			count = 2 * parallelMin // exercise the split over goroutines
		}
		traces := g.traces(count, 10)
		graph := TraceGraph(traces)

		in := make([]int64, len(graph.Services))
		for _, s := range graph.Services {
			checkStats(t, s.Name+"|"+s.Type, s.SummaryStatistics, s.ResponseTimeHistogram)
			for _, e := range s.Edges {
				checkStats(t, s.Name+"->"+graph.Services[e.ReferenceID].Name, e.SummaryStatistics, e.ResponseTimeHistogram)
				in[e.ReferenceID] += e.SummaryStatistics.TotalCount
			}
		}
		seen := 0
		for i, s := range graph.Services {
			k := NodeKey{s.Name, s.Type}
			if s.Type == ClientType {
				if s.SummaryStatistics != nil || in[i] != 0 {
					t.Errorf("seed %d: client node %v has statistics or callers", seed, k)
				}
				continue
			}
			if s.SummaryStatistics == nil {
				t.Errorf("seed %d: node %v without statistics", seed, k)
				continue
			}
			seen++
			if want := g.want[k]; s.SummaryStatistics.TotalCount != want {
				t.Errorf("seed %d: node %v counts %d, generated %d", seed, k, s.SummaryStatistics.TotalCount, want)
			}
			want := s.SummaryStatistics.TotalCount
			if s.Type == rumOrigin {
				want = 0
			}
			if in[i] != want {
				t.Errorf("seed %d: edges into %v total %d, want %d", seed, k, in[i], want)
			}
		}
		if nonzero := countNonZero(g.want); seen != nonzero {
			t.Errorf("seed %d: %d nodes with statistics, generator made %d", seed, seen, nonzero)
		}

		single := BuildFromAggregates(aggregate(traces, Options{}))
		a, _ := json.Marshal(graph)
		b, _ := json.Marshal(single)
		if !bytes.Equal(a, b) {
			t.Errorf("seed %d: parallel and single-goroutine graphs differ", seed)
		}
	}
}

func countNonZero(m map[NodeKey]int64) int {
	n := 0
	for _, v := range m {
		if v > 0 {
			n++
		}
	}
	return n
}

// Splitting the rows (as a store does per partition) must not change the
// graph: BuildFromAggregates merges repeated keys.
func TestAggregatesMergeAcrossPartitions(t *testing.T) {
	g := newTraceGen(42)
	traces := g.traces(200, 10)
	whole, _ := json.Marshal(TraceGraph(traces))
	var nodes []NodeAgg
	var edges []EdgeAgg
	for i := 0; i < len(traces); i += 37 {
		n, e := aggregate(traces[i:min(i+37, len(traces))], Options{})
		nodes, edges = append(nodes, n...), append(edges, e...)
	}
	parts, _ := json.Marshal(BuildFromAggregates(nodes, edges))
	if !bytes.Equal(whole, parts) {
		t.Errorf("graph from partitioned aggregates differs:\n%s\nwant\n%s", parts, whole)
	}
}
