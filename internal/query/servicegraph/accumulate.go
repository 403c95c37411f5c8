package servicegraph

import (
	"bytes"

	"github.com/sightline/sightline/internal/model"
)

// denseMillis bounds the durations (in ms) a histogram counts in a slice;
// longer ones go to a map. Most calls take well under four seconds.
const denseMillis = 1 << 12

// histo counts durations by HistogramMillis.
type histo struct {
	dense  []int64
	sparse map[int64]int64
}

func (h *histo) add(ms int64) {
	if ms < denseMillis {
		if int(ms) >= len(h.dense) {
			n := max(64, 2*len(h.dense))
			for n <= int(ms) {
				n *= 2
			}
			grown := make([]int64, min(n, denseMillis))
			copy(grown, h.dense)
			h.dense = grown
		}
		h.dense[ms]++
		return
	}
	if h.sparse == nil {
		h.sparse = map[int64]int64{}
	}
	h.sparse[ms]++
}

func (h *histo) rows() []Bucket {
	var out []Bucket
	for ms, n := range h.dense {
		if n > 0 {
			out = append(out, Bucket{Millis: int64(ms), Count: n})
		}
	}
	for ms, n := range h.sparse {
		out = append(out, Bucket{Millis: ms, Count: n})
	}
	return out
}

type span struct {
	start, end float64
	set        bool
}

func (s *span) widen(start, end float64) {
	if !s.set {
		s.start, s.end, s.set = start, end, true
		return
	}
	s.start, s.end = min(s.start, start), max(s.end, end)
}

type nodeAcc struct {
	key                NodeKey
	account            string
	root, instrumented bool
	span               span
	counts             Counts
	hist               histo
}

type edgeAcc struct {
	from, to int32
	span     span
	counts   Counts
	hist     histo
}

// accumulator folds the calls of many traces into node and edge
// aggregates. One accumulator serves one goroutine.
type accumulator struct {
	nodeIdx map[NodeKey]int32
	nodes   []nodeAcc
	edgeIdx map[uint64]int32
	edges   []edgeAcc
	// last caches the previous lookup: consecutive calls often hit the
	// same service.
	lastKey NodeKey
	lastIdx int32
}

func newAccumulator() *accumulator {
	return &accumulator{nodeIdx: map[NodeKey]int32{}, edgeIdx: map[uint64]int32{}, lastIdx: -1}
}

func (a *accumulator) node(k NodeKey) int32 {
	if a.lastIdx >= 0 && a.lastKey == k {
		return a.lastIdx
	}
	i, ok := a.nodeIdx[k]
	if !ok {
		i = int32(len(a.nodes))
		a.nodes = append(a.nodes, nodeAcc{key: k})
		a.nodeIdx[k] = i
	}
	a.lastKey, a.lastIdx = k, i
	return i
}

func (a *accumulator) edge(from, to int32) *edgeAcc {
	k := uint64(uint32(from))<<32 | uint64(uint32(to))
	i, ok := a.edgeIdx[k]
	if !ok {
		i = int32(len(a.edges))
		a.edges = append(a.edges, edgeAcc{from: from, to: to})
		a.edgeIdx[k] = i
	}
	return &a.edges[i]
}

// duration is a finished entity's duration in seconds, 0 for bad clocks.
func duration(s *model.Segment) float64 {
	return max(0, s.EndTime-s.StartTime)
}

// callDuration is what the caller observed; a caller still in progress
// falls back to the callee's own duration.
func callDuration(c call) (start, end, seconds float64) {
	v := c.via
	if !complete(v) {
		v = c.seg
	}
	return v.StartTime, v.EndTime, duration(v)
}

func nodeKey(s *model.Segment) NodeKey { return NodeKey{Name: s.Name, Type: s.Origin} }

var accountField = []byte(`"account_id"`)

func accountOf(s *model.Segment) string {
	if len(s.AWS) == 0 || !bytes.Contains(s.AWS, accountField) {
		return "" // decoding every aws block would dominate the walk
	}
	return s.DecodeAWS().AccountID
}

func (a *accumulator) add(c call) {
	s := c.seg
	ni := a.node(nodeKey(s))
	n := &a.nodes[ni]
	d := duration(s)
	n.counts.count(healthOf(s), d)
	n.hist.add(HistogramMillis(d))
	n.span.widen(s.StartTime, s.EndTime)
	n.instrumented = n.instrumented || !c.inferred
	if acct := accountOf(s); acct != "" {
		n.account = minAccount(n.account, acct)
	}

	var from int32
	switch {
	case c.caller != nil:
		from = a.node(nodeKey(c.caller))
	case s.Origin == rumOrigin:
		n.root = true
		return // the browser is the client: nothing in front of it
	default:
		n.root = true
		from = a.node(NodeKey{Name: s.Name, Type: ClientType})
	}
	start, end, secs := callDuration(c)
	e := a.edge(from, ni)
	e.counts.count(healthOf(c.via), secs)
	e.hist.add(HistogramMillis(secs))
	e.span.widen(start, end)
}

// aggregates returns the rows of everything added so far. Client nodes
// have no node row: they exist only as edge callers.
func (a *accumulator) aggregates() ([]NodeAgg, []EdgeAgg) {
	nodes := make([]NodeAgg, 0, len(a.nodes))
	for _, n := range a.nodes {
		if !n.span.set {
			continue // only ever seen as a caller or a client
		}
		nodes = append(nodes, NodeAgg{
			Name: n.key.Name, Type: n.key.Type, AccountID: n.account,
			Root: n.root, Inferred: !n.instrumented,
			StartTime: n.span.start, EndTime: n.span.end,
			Counts: n.counts, Histogram: n.hist.rows(),
		})
	}
	edges := make([]EdgeAgg, 0, len(a.edges))
	for _, e := range a.edges {
		from, to := a.nodes[e.from].key, a.nodes[e.to].key
		edges = append(edges, EdgeAgg{
			CallerName: from.Name, CallerType: from.Type,
			CalleeName: to.Name, CalleeType: to.Type,
			StartTime: e.span.start, EndTime: e.span.end,
			Counts: e.counts, Histogram: e.hist.rows(),
		})
	}
	return nodes, edges
}
