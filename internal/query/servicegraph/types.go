package servicegraph

// The types below are the X-Ray API's output shapes (GetServiceGraph,
// GetTraceGraph, GetTimeSeriesServiceStatistics) with the AWS field names,
// so the API layer encodes them as they are. Times are epoch seconds as
// float numbers, which is what restJson1 puts on the wire.

// Graph is the answer of GetServiceGraph and GetTraceGraph.
type Graph struct {
	Services []Service `json:"Services"`
}

// Service is one node of the graph.
//
// Root is omitted for services that never start a trace, and the client
// nodes carry no statistics, exactly as X-Ray sends them: the Grafana X-Ray
// data source takes a node's statistics from its first edge when
// SummaryStatistics is absent, and it ranges over Edges, so Edges is
// always a (possibly empty) array.
type Service struct {
	ReferenceID           int              `json:"ReferenceId"`
	Name                  string           `json:"Name"`
	Names                 []string         `json:"Names"`
	Root                  bool             `json:"Root,omitempty"`
	AccountID             string           `json:"AccountId,omitempty"`
	Type                  string           `json:"Type"`
	State                 string           `json:"State"`
	StartTime             float64          `json:"StartTime"`
	EndTime               float64          `json:"EndTime"`
	Edges                 []Edge           `json:"Edges"`
	SummaryStatistics     *Statistics      `json:"SummaryStatistics,omitempty"`
	DurationHistogram     []HistogramEntry `json:"DurationHistogram,omitempty"`
	ResponseTimeHistogram []HistogramEntry `json:"ResponseTimeHistogram,omitempty"`
}

// Edge is a connection from the service that lists it to the service with
// ReferenceID.
type Edge struct {
	ReferenceID           int              `json:"ReferenceId"`
	StartTime             float64          `json:"StartTime"`
	EndTime               float64          `json:"EndTime"`
	SummaryStatistics     *Statistics      `json:"SummaryStatistics,omitempty"`
	ResponseTimeHistogram []HistogramEntry `json:"ResponseTimeHistogram"`
	Aliases               []Alias          `json:"Aliases"`
	// EdgeType is empty for synchronous calls (X-Ray's "link" marks
	// asynchronous ones, which Sightline does not detect).
	EdgeType string `json:"EdgeType,omitempty"`
}

// Alias is another name of an edge's target; Sightline records none, but
// X-Ray always sends the array.
type Alias struct {
	Name  string   `json:"Name"`
	Names []string `json:"Names,omitempty"`
	Type  string   `json:"Type,omitempty"`
}

// Statistics is X-Ray's ServiceStatistics and EdgeStatistics (the two have
// the same fields).
type Statistics struct {
	OkCount           int64           `json:"OkCount"`
	ErrorStatistics   ErrorStatistics `json:"ErrorStatistics"`
	FaultStatistics   FaultStatistics `json:"FaultStatistics"`
	TotalCount        int64           `json:"TotalCount"`
	TotalResponseTime float64         `json:"TotalResponseTime"`
}

// ErrorStatistics counts 4xx answers; throttles (429) are a part of them.
type ErrorStatistics struct {
	ThrottleCount int64 `json:"ThrottleCount"`
	OtherCount    int64 `json:"OtherCount"`
	TotalCount    int64 `json:"TotalCount"`
}

// FaultStatistics counts 5xx answers.
type FaultStatistics struct {
	OtherCount int64 `json:"OtherCount"`
	TotalCount int64 `json:"TotalCount"`
}

// HistogramEntry is one bucket: Count durations of Value seconds.
type HistogramEntry struct {
	Value float64 `json:"Value"`
	Count int64   `json:"Count"`
}

// TimeSeriesServiceStatistics is one period of
// GetTimeSeriesServiceStatistics.
type TimeSeriesServiceStatistics struct {
	// Timestamp is the start of the period.
	Timestamp float64 `json:"Timestamp"`
	// EdgeSummaryStatistics is what the callers of the selected services
	// observed (their subsegments, or the client edge for entry segments).
	EdgeSummaryStatistics *Statistics `json:"EdgeSummaryStatistics,omitempty"`
	// ServiceSummaryStatistics is what the selected services recorded in
	// their own segments.
	ServiceSummaryStatistics *Statistics      `json:"ServiceSummaryStatistics,omitempty"`
	ResponseTimeHistogram    []HistogramEntry `json:"ResponseTimeHistogram"`
}
