package servicegraph

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/model"
)

func describeSeries(ts []TimeSeriesServiceStatistics) []string {
	var out []string
	line := func(s *Statistics) string {
		if s == nil {
			return "-"
		}
		return fmt.Sprintf("%d/%d/%d/%d rt=%g", s.OkCount, s.ErrorStatistics.OtherCount, s.ErrorStatistics.ThrottleCount, s.FaultStatistics.TotalCount, s.TotalResponseTime)
	}
	for _, p := range ts {
		var hs []string
		for _, e := range p.ResponseTimeHistogram {
			hs = append(hs, fmt.Sprintf("%gx%d", e.Value, e.Count))
		}
		out = append(out, fmt.Sprintf("%.0f service=%s edge=%s [%s]", p.Timestamp, line(p.ServiceSummaryStatistics), line(p.EdgeSummaryStatistics), strings.Join(hs, " ")))
	}
	return out
}

func TestTimeSeries(t *testing.T) {
	traces := loadAll(t)
	at := func(sec float64) time.Time { return time.UnixMicro(int64(sec * 1e6)) }
	tests := []struct {
		name       string
		selector   func(NodeKey) bool
		period     time.Duration
		start, end time.Time
		want       []string
	}{{
		// front-svc is the entry of five Go SDK traces (three ok, a 404, a
		// 500), all ending within one minute: one period, and the client
		// edges carry the same statistics.
		name:     "front-svc by name, one minute",
		selector: SelectorFromNameType("front-svc", ""),
		period:   time.Minute,
		start:    at(1795559880), end: at(1795560000),
		want: []string{"1795559880 service=3/1/0/1 rt=0.014184 edge=3/1/0/1 rt=0.014184 [0x2 0.001x1 0.006x1 0.007x1]"},
	}, {
		// downstream-svc's edge statistics are front-svc's subsegments,
		// which last longer than the segments they wrap.
		name:     "downstream-svc, 10 s periods",
		selector: SelectorFromNameType("downstream-svc", ""),
		period:   10 * time.Second,
		start:    at(1795559880), end: at(1795560000),
		want: []string{"1795559900 service=2/0/1/1 rt=0.006986 edge=2/0/1/1 rt=0.009372 [0x2 0.003x1 0.004x1]"},
	}, {
		// Inferred nodes by type: DynamoDB's fault; nothing in front of the
		// browser (no edge statistics) when selecting it.
		name:     "DynamoDB by type",
		selector: SelectorFromNameType("", "AWS::DynamoDB"),
		period:   time.Minute,
		want:     []string{"1795599960 service=0/0/0/1 rt=0.7 edge=0/0/0/1 rt=0.7 [0.7x1]"},
	}, {
		name:     "browser: no edge into it",
		selector: SelectorFromNameType("rum.aws.amazon.com", "AWS::RUM::AppMonitor"),
		period:   time.Minute,
		want:     []string{"1795559940 service=1/0/0/0 rt=0.011 edge=- [0.011x1]"},
	}, {
		name:     "window excludes everything",
		selector: SelectorFromNameType("front-svc", ""),
		start:    at(1), end: at(2),
		want: nil,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := describeSeries(TimeSeries(traces, tc.selector, tc.period, tc.start, tc.end))
			if !slices.Equal(got, tc.want) {
				t.Errorf("series:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// Over random traces, the periods of a node add up to its graph
// statistics.
func TestTimeSeriesMatchesGraph(t *testing.T) {
	traces := newTraceGen(3).traces(300, 10)
	g := TraceGraph(traces)
	for _, s := range g.Services {
		if s.SummaryStatistics == nil {
			continue
		}
		var total Counts
		var edges int64
		for _, p := range TimeSeries(traces, SelectorFromNameType(s.Name, s.Type), 5*time.Minute, time.Time{}, time.Time{}) {
			st := p.ServiceSummaryStatistics
			total.Ok += st.OkCount
			total.Fault += st.FaultStatistics.TotalCount
			total.Error += st.ErrorStatistics.OtherCount
			total.Throttle += st.ErrorStatistics.ThrottleCount
			if p.EdgeSummaryStatistics != nil {
				edges += p.EdgeSummaryStatistics.TotalCount
			}
		}
		want := s.SummaryStatistics
		if total.Total() != want.TotalCount || total.Ok != want.OkCount || total.Fault != want.FaultStatistics.TotalCount || total.Throttle != want.ErrorStatistics.ThrottleCount {
			t.Errorf("%s|%s: series add up to %+v, graph has %+v", s.Name, s.Type, total, *want)
		}
		var in int64
		for _, c := range g.Services {
			for _, e := range c.Edges {
				if e.ReferenceID == s.ReferenceID {
					in += e.SummaryStatistics.TotalCount
				}
			}
		}
		if edges != in {
			t.Errorf("%s|%s: series edge counts %d, graph edges in %d", s.Name, s.Type, edges, in)
		}
	}
}

func TestParseEntitySelector(t *testing.T) {
	nodes := []NodeKey{{"api", "AWS::EC2::Instance"}, {"api", ""}, {"db", "Database::SQL"}}
	tests := []struct {
		expr      string
		matches   []NodeKey
		hasFilter bool
		err       error // nil: no error; errAny: any
	}{
		{expr: `service("api")`, matches: nodes[:2]},
		{expr: `service(id(name: "api", type: "AWS::EC2::Instance"))`, matches: nodes[:1]},
		{expr: `id(name: "db", type: "Database::SQL")`, matches: nodes[2:]},
		{expr: `id(type: "Database::SQL")`, matches: nodes[2:]},
		{expr: `service() { fault }`, matches: nodes, hasFilter: true},
		{expr: `service("api") { responsetime > 2 }`, matches: nodes[:2], hasFilter: true},
		{expr: `edge("api", "db")`, err: ErrUnsupportedSelector},
		{expr: `id(name: "api", account.id: "123456789012")`, err: ErrUnsupportedSelector},
		{expr: `fault`, err: ErrUnsupportedSelector},
		{expr: `service("api") AND service("db")`, err: ErrUnsupportedSelector},
		{expr: `service("api"`, err: errAny},
		{expr: ``, err: errAny},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			sel, f, err := ParseEntitySelector(tc.expr)
			switch {
			case tc.err == errAny:
				if err == nil {
					t.Fatal("accepted, want an error")
				}
				return
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			case err != nil:
				t.Fatalf("unexpected error: %v", err)
			}
			var got []NodeKey
			for _, n := range nodes {
				if sel(n) {
					got = append(got, n)
				}
			}
			if !slices.Equal(got, tc.matches) {
				t.Errorf("matches %v, want %v", got, tc.matches)
			}
			if (f != nil) != tc.hasFilter {
				t.Errorf("filter %v, want present=%v", f, tc.hasFilter)
			}
		})
	}
}

var errAny = errors.New("any error")

// FuzzParseEntitySelector: the expression comes from API clients; parsing
// must never panic, and an accepted selector must be usable.
func FuzzParseEntitySelector(f *testing.F) {
	for _, s := range []string{`service("api")`, `id(name: "a", type: "b")`, `service() { fault }`, `edge("a", "b")`, `service(id(name: "x"))`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		sel, _, err := ParseEntitySelector(expr)
		if err != nil {
			return
		}
		_ = sel(NodeKey{"api", "AWS::EC2::Instance"})
		_ = TimeSeries([]*model.Trace{}, sel, 0, time.Time{}, time.Time{})
	})
}
