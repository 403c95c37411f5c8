package servicegraph

import (
	"cmp"
	"math"
	"slices"
)

// NodeKey identifies a service node: X-Ray tells services apart by name
// and type.
type NodeKey struct {
	Name string
	Type string
}

// ClientType is the type of the client nodes that feed entry services.
const ClientType = "client"

// Counts is the health tally of a set of calls. Each call is counted in
// exactly one of Ok, Error, Throttle and Fault: fault (5xx) wins over
// throttle (429), which wins over error (other 4xx).
type Counts struct {
	Ok       int64 `json:"ok"`
	Error    int64 `json:"error"` // 4xx other than throttles
	Throttle int64 `json:"throttle"`
	Fault    int64 `json:"fault"`
	// TotalResponseTime is the sum of the calls' durations in seconds.
	TotalResponseTime float64 `json:"total_response_time"`
}

// Total is the number of calls counted.
func (c Counts) Total() int64 { return c.Ok + c.Error + c.Throttle + c.Fault }

func (c *Counts) add(o Counts) {
	c.Ok += o.Ok
	c.Error += o.Error
	c.Throttle += o.Throttle
	c.Fault += o.Fault
	c.TotalResponseTime += o.TotalResponseTime
}

func (c *Counts) count(h health, seconds float64) {
	switch h {
	case healthFault:
		c.Fault++
	case healthThrottle:
		c.Throttle++
	case healthError:
		c.Error++
	default:
		c.Ok++
	}
	c.TotalResponseTime += seconds
}

// Statistics renders the tally in X-Ray's shape. TotalResponseTime is
// rounded to the microsecond so sums of float durations print cleanly.
func (c Counts) Statistics() Statistics {
	return Statistics{
		OkCount: c.Ok,
		ErrorStatistics: ErrorStatistics{
			ThrottleCount: c.Throttle,
			OtherCount:    c.Error,
			TotalCount:    c.Error + c.Throttle,
		},
		FaultStatistics:   FaultStatistics{OtherCount: c.Fault, TotalCount: c.Fault},
		TotalCount:        c.Total(),
		TotalResponseTime: math.Round(c.TotalResponseTime*1e6) / 1e6,
	}
}

// Bucket is one histogram row: Count durations that round to Millis
// milliseconds (see HistogramMillis).
type Bucket struct {
	Millis int64 `json:"ms"`
	Count  int64 `json:"count"`
}

// HistogramMillis is the histogram bucket of a duration in seconds: the
// duration rounded to the nearest millisecond (half away from zero), as
// X-Ray's own histograms report values with millisecond resolution. Bad
// clocks (end before start) count as 0. A store computes the same key as
// round((end_time - start_time) * 1000).
func HistogramMillis(seconds float64) int64 {
	if !(seconds > 0) {
		return 0
	}
	return int64(math.Round(seconds * 1000))
}

// NodeAgg is the aggregate of one service node's own segments over a set
// of traces: one row a store can produce with GROUP BY name, type.
type NodeAgg struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// AccountID is the smallest non-empty aws.account_id seen.
	AccountID string `json:"account_id,omitempty"`
	// Root is set when some segment of the node entered its trace: no
	// instrumented caller in the trace (bool_or).
	Root bool `json:"root"`
	// Inferred is set when every segment of the node was inferred from a
	// caller's subsegment (bool_and); X-Ray shows such nodes as "unknown".
	Inferred bool `json:"inferred"`
	// StartTime and EndTime are the earliest start and latest end, epoch
	// seconds.
	StartTime float64 `json:"start_time"`
	EndTime   float64 `json:"end_time"`
	Counts    Counts  `json:"counts"`
	// Histogram holds the segments' durations, in any order; rows with the
	// same Millis add up.
	Histogram []Bucket `json:"histogram"`
}

// EdgeAgg is the aggregate of the calls from one node to another: one row
// a store can produce with GROUP BY caller, callee. The statistics come
// from the calling side (the caller's subsegment). An entry segment is
// called by the client node named after it: CallerType is ClientType and
// CallerName the callee's name, and the statistics are the entry
// segment's own.
type EdgeAgg struct {
	CallerName string   `json:"caller_name"`
	CallerType string   `json:"caller_type"`
	CalleeName string   `json:"callee_name"`
	CalleeType string   `json:"callee_type"`
	StartTime  float64  `json:"start_time"`
	EndTime    float64  `json:"end_time"`
	Counts     Counts   `json:"counts"`
	Histogram  []Bucket `json:"histogram"`
}

func (e EdgeAgg) caller() NodeKey { return NodeKey{e.CallerName, e.CallerType} }
func (e EdgeAgg) callee() NodeKey { return NodeKey{e.CalleeName, e.CalleeType} }

// BuildFromAggregates builds the graph from node and edge rows. Rows with
// the same key are merged, so partial aggregates (per partition, per
// shard) can be passed together. Nodes that appear only as an edge's end
// (the client nodes) are added without statistics.
//
// ReferenceIds follow the order of (Name, Type), so the same data always
// gives the same ids whatever the order of the rows.
func BuildFromAggregates(nodes []NodeAgg, edges []EdgeAgg) Graph {
	merged := make(map[NodeKey]*NodeAgg, len(nodes))
	for i := range nodes {
		n := &nodes[i]
		k := NodeKey{n.Name, n.Type}
		m, ok := merged[k]
		if !ok {
			c := *n
			c.Histogram = slices.Clone(n.Histogram)
			merged[k] = &c
			continue
		}
		m.AccountID = minAccount(m.AccountID, n.AccountID)
		m.Root = m.Root || n.Root
		m.Inferred = m.Inferred && n.Inferred
		switch {
		case n.Counts.Total() == 0: // no segments: its times mean nothing
		case m.Counts.Total() == 0:
			m.StartTime, m.EndTime = n.StartTime, n.EndTime
		default:
			m.StartTime = min(m.StartTime, n.StartTime)
			m.EndTime = max(m.EndTime, n.EndTime)
		}
		m.Counts.add(n.Counts)
		m.Histogram = append(m.Histogram, n.Histogram...)
	}
	type edgeKey struct{ from, to NodeKey }
	mergedEdges := make(map[edgeKey]*EdgeAgg, len(edges))
	keys := make([]NodeKey, 0, len(merged)+len(edges))
	for k := range merged {
		keys = append(keys, k)
	}
	for i := range edges {
		e := &edges[i]
		k := edgeKey{e.caller(), e.callee()}
		m, ok := mergedEdges[k]
		if !ok {
			c := *e
			c.Histogram = slices.Clone(e.Histogram)
			mergedEdges[k] = &c
			for _, end := range []NodeKey{k.from, k.to} {
				if _, known := merged[end]; !known {
					merged[end] = nil // an endpoint without a node row
					keys = append(keys, end)
				}
			}
			continue
		}
		m.StartTime = min(m.StartTime, e.StartTime)
		m.EndTime = max(m.EndTime, e.EndTime)
		m.Counts.add(e.Counts)
		m.Histogram = append(m.Histogram, e.Histogram...)
	}

	slices.SortFunc(keys, func(a, b NodeKey) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Type, b.Type))
	})
	ref := make(map[NodeKey]int, len(keys))
	services := make([]Service, len(keys))
	for i, k := range keys {
		ref[k] = i
		s := Service{ReferenceID: i, Name: k.Name, Names: []string{k.Name}, Type: k.Type, State: "unknown", Edges: []Edge{}}
		if n := merged[k]; n != nil {
			st := n.Counts.Statistics()
			s.AccountID = n.AccountID
			s.Root = n.Root
			if !n.Inferred {
				s.State = "active"
			}
			s.StartTime, s.EndTime = n.StartTime, n.EndTime
			s.SummaryStatistics = &st
			s.ResponseTimeHistogram = histogram(n.Histogram)
			s.DurationHistogram = slices.Clone(s.ResponseTimeHistogram)
		}
		services[i] = s
	}
	// Endpoints without a node row take their time span from their edges.
	spanned := make([]bool, len(keys))
	widen := func(i int, start, end float64) {
		s := &services[i]
		if merged[keys[i]] != nil {
			return
		}
		if !spanned[i] {
			s.StartTime, s.EndTime, spanned[i] = start, end, true
			return
		}
		s.StartTime, s.EndTime = min(s.StartTime, start), max(s.EndTime, end)
	}
	for k, e := range mergedEdges {
		from, to := ref[k.from], ref[k.to]
		st := e.Counts.Statistics()
		services[from].Edges = append(services[from].Edges, Edge{
			ReferenceID:           to,
			StartTime:             e.StartTime,
			EndTime:               e.EndTime,
			SummaryStatistics:     &st,
			ResponseTimeHistogram: histogram(e.Histogram),
			Aliases:               []Alias{},
		})
		widen(from, e.StartTime, e.EndTime)
		widen(to, e.StartTime, e.EndTime)
	}
	for i := range services {
		slices.SortFunc(services[i].Edges, func(a, b Edge) int { return cmp.Compare(a.ReferenceID, b.ReferenceID) })
	}
	return Graph{Services: services}
}

func minAccount(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return min(a, b)
}

// histogram folds bucket rows into X-Ray entries ordered by value.
func histogram(rows []Bucket) []HistogramEntry {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b Bucket) int { return cmp.Compare(a.Millis, b.Millis) })
	out := make([]HistogramEntry, 0, len(rows))
	for _, r := range rows {
		if r.Count == 0 {
			continue
		}
		v := float64(r.Millis) / 1000
		if n := len(out); n > 0 && out[n-1].Value == v {
			out[n-1].Count += r.Count
			continue
		}
		out = append(out, HistogramEntry{Value: v, Count: r.Count})
	}
	return out
}
