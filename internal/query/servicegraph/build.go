package servicegraph

import (
	"runtime"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/model"
)

// Options narrows the traces and segments a graph counts.
type Options struct {
	// Start and End bound the segments counted: only segments whose end
	// time falls in [Start, End) count. Zero values leave that side open.
	Start, End time.Time
	// Filter, when set, keeps only the traces it returns true for; the API
	// layer supplies it for a group's filter expression.
	Filter func(*model.Trace) bool
}

func (o Options) window() window {
	if o.Start.IsZero() && o.End.IsZero() {
		return window{}
	}
	w := window{lo: -1e300, hi: 1e300, bounded: true}
	if !o.Start.IsZero() {
		w.lo = float64(o.Start.UnixMicro()) / 1e6
	}
	if !o.End.IsZero() {
		w.hi = float64(o.End.UnixMicro()) / 1e6
	}
	return w
}

// parallelMin is the number of traces below which Build stays on one
// goroutine: splitting costs more than it saves for small inputs.
const parallelMin = 2048

// Build computes the GetServiceGraph answer over assembled traces (see
// the package documentation for the semantics). It goes through the same
// NodeAgg/EdgeAgg rows a store can precompute, so Build and
// BuildFromAggregates share their arithmetic.
func Build(traces []*model.Trace, opts Options) Graph {
	nodes, edges := Aggregate(traces, opts)
	return BuildFromAggregates(nodes, edges)
}

// TraceGraph is the GetTraceGraph answer: the graph of exactly these
// traces, every segment counted.
func TraceGraph(traces []*model.Trace) Graph {
	return Build(traces, Options{})
}

// Aggregate reduces traces to node and edge rows (rows may repeat a key;
// BuildFromAggregates merges them). Large inputs are split over the
// available CPUs; the goroutines end before Aggregate returns.
func Aggregate(traces []*model.Trace, opts Options) ([]NodeAgg, []EdgeAgg) {
	workers := min(runtime.GOMAXPROCS(0), len(traces)/parallelMin)
	if workers <= 1 {
		return aggregate(traces, opts)
	}
	type part struct {
		nodes []NodeAgg
		edges []EdgeAgg
	}
	parts := make([]part, workers)
	var wg sync.WaitGroup
	chunk := (len(traces) + workers - 1) / workers
	for i := range workers {
		lo, hi := i*chunk, min((i+1)*chunk, len(traces))
		wg.Go(func() {
			parts[i].nodes, parts[i].edges = aggregate(traces[lo:hi], opts)
		})
	}
	wg.Wait()
	var nodes []NodeAgg
	var edges []EdgeAgg
	for _, p := range parts {
		nodes = append(nodes, p.nodes...)
		edges = append(edges, p.edges...)
	}
	return nodes, edges
}

func aggregate(traces []*model.Trace, opts Options) ([]NodeAgg, []EdgeAgg) {
	acc := newAccumulator()
	w := &walker{win: opts.window()}
	visit := acc.add
	for _, t := range traces {
		if t == nil || (opts.Filter != nil && !opts.Filter(t)) {
			continue
		}
		w.trace(t, visit)
	}
	return acc.aggregates()
}
