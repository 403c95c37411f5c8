// Package servicegraph computes X-Ray's service graph (GetServiceGraph,
// GetTraceGraph) and per-period service statistics
// (GetTimeSeriesServiceStatistics) from assembled traces. Everything here
// is a pure function.
//
// # Nodes
//
// A node is (name, type): a segment's name and its origin
// (AWS::EC2::Instance, AWS::RUM::AppMonitor, ...). A segment without an
// origin (a plain SDK service without a plugin) has type "", which is what
// Sightline reports; X-Ray documents no default for it. Inferred segments,
// which query/trace adds for aws, remote and sql subsegments that no
// instrumented service answered, carry their type as origin: AWS::<service>,
// remote or Database::SQL. (Real X-Ray names an inferred DynamoDB node after
// its table with type AWS::DynamoDB::Table; the graph follows whatever
// query/trace infers, so GetServiceGraph and the trace summaries agree.)
//
// Node statistics come from the node's own segments. State is "active" for
// instrumented nodes and "unknown" for inferred and client nodes, as in
// X-Ray's documented output.
//
// # Edges
//
// A segment whose parent_id names a subsegment (at any depth) or a segment
// of another top-level segment of its trace is called by that segment's
// service; the edge's statistics come from the calling entity (its times
// and its fault/error/throttle flags or HTTP status), counted once per
// callee segment. A caller still in progress falls back to the callee's
// times. Inferred segments are linked the same way (their parent_id is the
// calling subsegment).
//
// A segment with no caller in its trace (no parent_id, or one naming
// nothing in the trace: an uninstrumented proxy) is an entry: its node is
// Root, and, as in X-Ray, a node of type "client" named after the service
// calls it, with the entry segment's own statistics on that edge. The
// client node has no statistics of its own. A browser segment (origin
// AWS::RUM::AppMonitor) is the client side itself: it is Root and gets no
// client node; the backend segment whose parent_id is one of its
// subsegments is called by it.
//
// Independent subsegments whose parent never arrived (left top-level by
// Assemble, type "subsegment") are neither nodes nor callers, and segments
// still in progress are not counted.
//
// # Statistics and histograms
//
// Each call counts once, fault (5xx or fault flag) before throttle (429 or
// throttle flag) before error (other 4xx or error flag) before ok.
// Throttles are part of ErrorStatistics.TotalCount. TotalResponseTime sums
// durations in seconds, rounded to the microsecond.
//
// Histogram entries are {Value, Count} with Value a duration in seconds
// rounded to the nearest millisecond (HistogramMillis): X-Ray's histograms
// use that resolution. Entries are ordered by Value. A node's
// DurationHistogram and ResponseTimeHistogram are both built from its
// segments' durations: a segment records one duration, which is its
// response time.
//
// # Aggregates
//
// Build reduces traces to NodeAgg and EdgeAgg rows (Aggregate) and builds
// the graph from them (BuildFromAggregates), the same rows a store can
// compute in SQL when each stored segment carries its caller (caller name
// and type, or the client marker, and the calling entity's start, end and
// health), resolved when the trace is assembled:
//
//	SELECT name, type, bool_or(is_entry), bool_and(is_inferred),
//	       min(start_time), max(end_time),
//	       count(*) FILTER (WHERE health = 'ok'), ... , sum(end_time - start_time)
//	FROM segments WHERE end_time >= $start AND end_time < $end GROUP BY name, type
//	-- histograms: GROUP BY name, type, round((end_time - start_time) * 1000)
//	-- edges: the same over (caller_name, caller_type, name, type) with the
//	--        calling entity's times and health
//
// Rows repeating a key (one per partition or shard) are merged.
//
// # Performance
//
// Walking assembled traces is bound by memory: every segment and
// subsegment is a separate ~400-byte struct, and merely touching each
// one's id (BenchmarkWalkFloor) costs about 190-250 ns per segment with its
// subsegments on a 2-core machine, so 1,000,000 segments cannot be graphed
// from assembled traces in 200 ms. Build costs 4 to 5 times that floor
// (0.7-1.2 µs of CPU per segment, measured on a busy shared machine); the
// profile is dominated by cache misses reading segment fields, not by the
// arithmetic. BuildFromAggregates over the rows of 10,000 traces takes
// about 0.2-0.5 ms: the scalable path is a store that keeps the caller
// columns above and answers GetServiceGraph with the two GROUP BY queries.
//
// A caller whose own segment ends outside the window while its calls end
// inside stays in the graph as the edges' source, without statistics.
package servicegraph
