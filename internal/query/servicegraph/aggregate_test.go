package servicegraph

import (
	"slices"
	"strings"
	"testing"
)

// Rows as a store would return them: one per partition (repeated keys),
// histogram rows unordered and repeated, a client edge, and an edge whose
// caller has no node row in this window.
func TestBuildFromStoreRows(t *testing.T) {
	nodes := []NodeAgg{
		{Name: "api", Type: "AWS::EC2::Instance", Root: true, StartTime: 10, EndTime: 20,
			Counts: Counts{Ok: 3, Error: 1, TotalResponseTime: 0.4}, Histogram: []Bucket{{100, 2}, {50, 2}}},
		{Name: "api", Type: "AWS::EC2::Instance", AccountID: "222", StartTime: 5, EndTime: 15,
			Counts: Counts{Throttle: 1, Fault: 1, TotalResponseTime: 0.2}, Histogram: []Bucket{{100, 1}, {0, 1}, {7, 0}}},
		{Name: "api", Type: "AWS::EC2::Instance", AccountID: "111"},
		{Name: "DynamoDB", Type: "AWS::DynamoDB", Inferred: true, StartTime: 11, EndTime: 12,
			Counts: Counts{Ok: 1, TotalResponseTime: 0.005}, Histogram: []Bucket{{5, 1}}},
	}
	edges := []EdgeAgg{
		{CallerName: "api", CallerType: ClientType, CalleeName: "api", CalleeType: "AWS::EC2::Instance", StartTime: 10, EndTime: 20,
			Counts: Counts{Ok: 3, Error: 1, TotalResponseTime: 0.4}, Histogram: []Bucket{{100, 2}, {50, 2}}},
		{CallerName: "api", CallerType: ClientType, CalleeName: "api", CalleeType: "AWS::EC2::Instance", StartTime: 5, EndTime: 15,
			Counts: Counts{Throttle: 1, Fault: 1, TotalResponseTime: 0.2}, Histogram: []Bucket{{100, 1}, {0, 1}}},
		{CallerName: "api", CallerType: "AWS::EC2::Instance", CalleeName: "DynamoDB", CalleeType: "AWS::DynamoDB", StartTime: 11, EndTime: 12,
			Counts: Counts{Ok: 1, TotalResponseTime: 0.006}, Histogram: []Bucket{{6, 1}}},
		{CallerName: "batch", CallerType: "", CalleeName: "DynamoDB", CalleeType: "AWS::DynamoDB", StartTime: 30, EndTime: 31,
			Counts: Counts{Fault: 1, TotalResponseTime: 1}, Histogram: []Bucket{{1000, 1}}},
	}
	g := BuildFromAggregates(nodes, edges)
	want := []string{
		"node DynamoDB|AWS::DynamoDB - unknown 1/0/0/0 rt=0.005 [0.005x1]",
		"node api|AWS::EC2::Instance root active 3/1/1/1 rt=0.6 [0x1 0.05x2 0.1x3]",
		"node api|client - unknown nostats",
		"node batch| - unknown nostats",
		"edge api|AWS::EC2::Instance -> DynamoDB|AWS::DynamoDB 1/0/0/0 rt=0.006 [0.006x1]",
		"edge api|client -> api|AWS::EC2::Instance 3/1/1/1 rt=0.6 [0x1 0.05x2 0.1x3]",
		"edge batch| -> DynamoDB|AWS::DynamoDB 0/0/0/1 rt=1 [1x1]",
	}
	if got := describe(g); !slices.Equal(got, want) {
		t.Errorf("graph:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	api := g.Services[1]
	// The empty third row brings its account but not its zero times.
	if api.AccountID != "111" || api.StartTime != 5 || api.EndTime != 20 {
		t.Errorf("api: account %q span %g..%g", api.AccountID, api.StartTime, api.EndTime)
	}
	if c := g.Services[2]; c.StartTime != 5 || c.EndTime != 20 {
		t.Errorf("client span %g..%g, want its edges' 5..20", c.StartTime, c.EndTime)
	}
	if !slices.Equal(api.DurationHistogram, api.ResponseTimeHistogram) || &api.DurationHistogram[0] == &api.ResponseTimeHistogram[0] {
		t.Error("duration and response-time histograms must be equal but not share storage")
	}
}

func TestCountsStatistics(t *testing.T) {
	st := Counts{Ok: 5, Error: 2, Throttle: 3, Fault: 4, TotalResponseTime: 1.23456789}.Statistics()
	want := Statistics{OkCount: 5, ErrorStatistics: ErrorStatistics{ThrottleCount: 3, OtherCount: 2, TotalCount: 5},
		FaultStatistics: FaultStatistics{OtherCount: 4, TotalCount: 4}, TotalCount: 14, TotalResponseTime: 1.234568}
	if st != want {
		t.Errorf("got %+v, want %+v", st, want)
	}
}
