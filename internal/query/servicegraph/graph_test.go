package servicegraph

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/query/trace"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixtures are segment documents captured from the real Go SDK (front-svc
// calling downstream-svc through xray.Client), a browser trace from
// aws-rum-web joined to a backend, and a synthetic trace with DynamoDB,
// SQL, remote and S3 calls that no service answered.
var fixtures = []string{
	"go_remote_call", "go_fault_and_throttle", "go_not_found", "go_independent_subsegments",
	"go_root_without_parent", "rum_browser_join", "synthetic_inferred",
}

// loadTrace assembles one fixture (one raw document per line, the line
// number standing in for the arrival time).
func loadTrace(t testing.TB, name string) *model.Trace {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []model.SegmentRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for i := 0; sc.Scan(); i++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var s model.Segment
		if err := json.Unmarshal(line, &s); err != nil {
			t.Fatalf("%s line %d: %v", name, i+1, err)
		}
		recs = append(recs, model.SegmentRecord{Segment: &s, Raw: slices.Clone(line), ReceivedAtMicros: int64(i)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return trace.Assemble(recs[0].Segment.TraceID, recs)
}

func loadAll(t testing.TB) []*model.Trace {
	var out []*model.Trace
	for _, name := range fixtures {
		out = append(out, loadTrace(t, name))
	}
	return out
}

// describe prints a graph compactly, one line per node and per edge:
//
//	node  Name|Type root state ok/err/thr/fault rt=TotalResponseTime hist
//	edge  From|Type -> To|Type ok/err/thr/fault rt=... hist
func describe(g Graph) []string {
	var out []string
	stats := func(s *Statistics, h []HistogramEntry) string {
		if s == nil {
			return "nostats"
		}
		var hs []string
		for _, e := range h {
			hs = append(hs, fmt.Sprintf("%gx%d", e.Value, e.Count))
		}
		return fmt.Sprintf("%d/%d/%d/%d rt=%g [%s]", s.OkCount, s.ErrorStatistics.OtherCount,
			s.ErrorStatistics.ThrottleCount, s.FaultStatistics.TotalCount, s.TotalResponseTime, strings.Join(hs, " "))
	}
	for _, s := range g.Services {
		root := "-"
		if s.Root {
			root = "root"
		}
		out = append(out, fmt.Sprintf("node %s|%s %s %s %s", s.Name, s.Type, root, s.State, stats(s.SummaryStatistics, s.ResponseTimeHistogram)))
	}
	for _, s := range g.Services {
		for _, e := range s.Edges {
			to := g.Services[e.ReferenceID]
			out = append(out, fmt.Sprintf("edge %s|%s -> %s|%s %s", s.Name, s.Type, to.Name, to.Type, stats(e.SummaryStatistics, e.ResponseTimeHistogram)))
		}
	}
	return out
}

func TestTraceGraphFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		want    []string
	}{{
		// front-svc (entry with a parent outside the trace) calls
		// downstream-svc through xray.Client; connect/dial/request/response
		// are children of the call, not services.
		fixture: "go_remote_call",
		want: []string{
			"node downstream-svc| - active 1/0/0/0 rt=0.003257 [0.003x1]",
			"node front-svc| root active 1/0/0/0 rt=0.006498 [0.006x1]",
			"node front-svc|client - unknown nostats",
			"edge front-svc| -> downstream-svc| 1/0/0/0 rt=0.004226 [0.004x1]",
			"edge front-svc|client -> front-svc| 1/0/0/0 rt=0.006498 [0.006x1]",
		},
	}, {
		// Two calls to the same service: a 503 (fault) and a 429 (throttle,
		// counted within the errors).
		fixture: "go_fault_and_throttle",
		want: []string{
			"node downstream-svc| - active 0/0/1/1 rt=9.7e-05 [0x2]",
			"node front-svc| root active 0/0/0/1 rt=0.000938 [0.001x1]",
			"node front-svc|client - unknown nostats",
			"edge front-svc| -> downstream-svc| 0/0/1/1 rt=0.000851 [0x1 0.001x1]",
			"edge front-svc|client -> front-svc| 0/0/0/1 rt=0.000938 [0.001x1]",
		},
	}, {
		fixture: "go_not_found",
		want: []string{
			"node front-svc| root active 0/1/0/0 rt=0.000118 [0x1]",
			"node front-svc|client - unknown nostats",
			"edge front-svc|client -> front-svc| 0/1/0/0 rt=0.000118 [0x1]",
		},
	}, {
		// 25 steps, five of them independent subsegments: still one service.
		fixture: "go_independent_subsegments",
		want: []string{
			"node front-svc| root active 1/0/0/0 rt=8.6e-05 [0x1]",
			"node front-svc|client - unknown nostats",
			"edge front-svc|client -> front-svc| 1/0/0/0 rt=8.6e-05 [0x1]",
		},
	}, {
		// The browser is the client: no client node in front of it; the
		// backend's parent_id is the browser's request subsegment.
		fixture: "rum_browser_join",
		want: []string{
			"node api-svc|AWS::EC2::Instance - active 1/0/0/0 rt=0.008 [0.008x1]",
			"node rum.aws.amazon.com|AWS::RUM::AppMonitor root active 1/0/0/0 rt=0.011 [0.011x1]",
			"edge rum.aws.amazon.com|AWS::RUM::AppMonitor -> api-svc|AWS::EC2::Instance 1/0/0/0 rt=0.011 [0.011x1]",
		},
	}, {
		// Inferred nodes for DynamoDB (500), SQL, a remote HTTP API and S3
		// (429, arriving as an independent subsegment under "handler").
		fixture: "synthetic_inferred",
		want: []string{
			"node DynamoDB|AWS::DynamoDB - unknown 0/0/0/1 rt=0.7 [0.7x1]",
			"node S3|AWS::S3 - unknown 0/0/1/0 rt=0.05 [0.05x1]",
			"node orders|AWS::ECS::Container root active 0/0/0/1 rt=1 [1x1]",
			"node orders|client - unknown nostats",
			"node orders@db.internal|Database::SQL - unknown 1/0/0/0 rt=0.04 [0.04x1]",
			"node payments.example.com|remote - unknown 1/0/0/0 rt=0.09 [0.09x1]",
			"edge orders|AWS::ECS::Container -> DynamoDB|AWS::DynamoDB 0/0/0/1 rt=0.7 [0.7x1]",
			"edge orders|AWS::ECS::Container -> S3|AWS::S3 0/0/1/0 rt=0.05 [0.05x1]",
			"edge orders|AWS::ECS::Container -> orders@db.internal|Database::SQL 1/0/0/0 rt=0.04 [0.04x1]",
			"edge orders|AWS::ECS::Container -> payments.example.com|remote 1/0/0/0 rt=0.09 [0.09x1]",
			"edge orders|client -> orders|AWS::ECS::Container 0/0/0/1 rt=1 [1x1]",
		},
	}}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			got := describe(TraceGraph([]*model.Trace{loadTrace(t, tc.fixture)}))
			if !slices.Equal(got, tc.want) {
				t.Errorf("graph:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestGolden pins the exact JSON of each fixture's trace graph and of the
// graph over all of them.
func TestGolden(t *testing.T) {
	cases := map[string][]*model.Trace{"all": loadAll(t)}
	for _, name := range fixtures {
		cases[name] = []*model.Trace{loadTrace(t, name)}
	}
	for name, traces := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(TraceGraph(traces), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", name+".graph.golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run with -update and review the diff)", name, golden)
			}
		})
	}
}

// The same traces in any order give the same graph, ReferenceIds included.
func TestStableReferenceIDs(t *testing.T) {
	traces := loadAll(t)
	want, _ := json.Marshal(TraceGraph(traces))
	for i := range 5 {
		shuffled := slices.Clone(traces)
		for j := range shuffled {
			k := (j*7 + i*3) % len(shuffled)
			shuffled[j], shuffled[k] = shuffled[k], shuffled[j]
		}
		got, _ := json.Marshal(TraceGraph(shuffled))
		if !bytes.Equal(got, want) {
			t.Fatalf("order %d changed the graph:\n%s\nwant\n%s", i, got, want)
		}
	}
	g := TraceGraph(traces)
	for i, s := range g.Services {
		if s.ReferenceID != i {
			t.Errorf("service %d has ReferenceId %d", i, s.ReferenceID)
		}
		if i > 0 {
			p := g.Services[i-1]
			if p.Name > s.Name || (p.Name == s.Name && p.Type >= s.Type) {
				t.Errorf("services not ordered by (Name, Type): %s|%s before %s|%s", p.Name, p.Type, s.Name, s.Type)
			}
		}
	}
}

// The wire shape Grafana's X-Ray data source relies on: Edges always an
// array, client nodes without statistics but with an edge, every node with
// statistics also with a response-time histogram.
func TestWireShape(t *testing.T) {
	b, err := json.Marshal(TraceGraph(loadAll(t)))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Services []map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, s := range raw.Services {
		name := string(s["Name"]) + "|" + string(s["Type"])
		if string(s["Edges"]) == "null" || s["Edges"] == nil {
			t.Errorf("%s: Edges must be an array, got %s", name, s["Edges"])
		}
		for _, k := range []string{"ReferenceId", "Name", "Names", "Type", "State", "StartTime", "EndTime"} {
			if _, ok := s[k]; !ok {
				t.Errorf("%s: missing %s", name, k)
			}
		}
		_, hasStats := s["SummaryStatistics"]
		_, hasHist := s["ResponseTimeHistogram"]
		if hasStats != hasHist {
			t.Errorf("%s: SummaryStatistics present %v but ResponseTimeHistogram present %v", name, hasStats, hasHist)
		}
		if string(s["Type"]) == `"client"` {
			if hasStats || string(s["Edges"]) == "[]" || string(s["State"]) != `"unknown"` {
				t.Errorf("client node %s: want no statistics, an edge and state unknown: %v", name, s)
			}
			if _, ok := s["Root"]; ok {
				t.Errorf("client node %s carries Root", name)
			}
		}
	}
	if !bytes.Contains(b, []byte(`"Aliases":[]`)) {
		t.Error("edges must carry an empty Aliases array")
	}
}

func TestWindowAndFilter(t *testing.T) {
	traces := loadAll(t)
	// go_fault_and_throttle's segments end around 1795559902.5; the
	// synthetic trace at 1795600001.
	at := func(sec float64) time.Time { return time.UnixMicro(int64(sec * 1e6)) }
	tests := []struct {
		name      string
		opts      Options
		want      []string // node names|types present
		statsless []string // nodes without statistics
	}{{
		name:      "only the synthetic trace's window",
		opts:      Options{Start: at(1795600000), End: at(1795600002)},
		want:      []string{"DynamoDB|AWS::DynamoDB", "S3|AWS::S3", "orders|AWS::ECS::Container", "orders|client", "orders@db.internal|Database::SQL", "payments.example.com|remote"},
		statsless: []string{"orders|client"},
	}, {
		// orders ends exactly at End: it no longer counts, but its calls
		// did end in the window, so it stays as their (statless) caller.
		name:      "end is exclusive",
		opts:      Options{Start: at(1795600000), End: at(1795600001)},
		want:      []string{"DynamoDB|AWS::DynamoDB", "S3|AWS::S3", "orders|AWS::ECS::Container", "orders@db.internal|Database::SQL", "payments.example.com|remote"},
		statsless: []string{"orders|AWS::ECS::Container"},
	}, {
		// The browser segment ends after End, its call to api-svc before.
		name:      "open start",
		opts:      Options{End: at(1795559974.1505)},
		want:      []string{"api-svc|AWS::EC2::Instance", "downstream-svc|", "front-svc|", "front-svc|client", "rum.aws.amazon.com|AWS::RUM::AppMonitor"},
		statsless: []string{"front-svc|client", "rum.aws.amazon.com|AWS::RUM::AppMonitor"},
	}, {
		name: "group filter",
		opts: Options{Filter: func(t *model.Trace) bool { return t.Root().Origin == rumOrigin }},
		want: []string{"api-svc|AWS::EC2::Instance", "rum.aws.amazon.com|AWS::RUM::AppMonitor"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got, statsless []string
			for _, s := range Build(traces, tc.opts).Services {
				got = append(got, s.Name+"|"+s.Type)
				if s.SummaryStatistics == nil {
					statsless = append(statsless, s.Name+"|"+s.Type)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("nodes %q, want %q", got, tc.want)
			}
			if !slices.Equal(statsless, tc.statsless) {
				t.Errorf("nodes without statistics %q, want %q", statsless, tc.statsless)
			}
		})
	}
}

func TestHistogramMillis(t *testing.T) {
	tests := []struct {
		in   float64
		want int64
	}{{0, 0}, {-1, 0}, {0.0004999, 0}, {0.0005, 1}, {0.0015, 2}, {0.1234, 123}, {2.5, 2500}, {120, 120000}}
	for _, tc := range tests {
		if got := HistogramMillis(tc.in); got != tc.want {
			t.Errorf("HistogramMillis(%g) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
