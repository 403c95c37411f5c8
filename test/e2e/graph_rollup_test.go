package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// graphCounts reduces a service graph to what must not change between
// the live join and the per-minute rollups: counts per node and edge.
func graphCounts(g *xray.GetServiceGraphOutput) map[string]string {
	names := map[int32]string{}
	for _, s := range g.Services {
		names[aws.ToInt32(s.ReferenceId)] = aws.ToString(s.Name) + "/" + aws.ToString(s.Type)
	}
	stats := func(s *types.ServiceStatistics) string {
		if s == nil {
			return "-"
		}
		return fmt.Sprintf("n=%d ok=%d err=%d fault=%d", aws.ToInt64(s.TotalCount), aws.ToInt64(s.OkCount),
			aws.ToInt64(s.ErrorStatistics.TotalCount), aws.ToInt64(s.FaultStatistics.TotalCount))
	}
	out := map[string]string{}
	for _, s := range g.Services {
		node := names[aws.ToInt32(s.ReferenceId)]
		hist := 0
		for _, h := range s.ResponseTimeHistogram {
			hist += int(h.Count)
		}
		out[node] = fmt.Sprintf("%s root=%v hist=%d", stats(s.SummaryStatistics), aws.ToBool(s.Root), hist)
		for _, e := range s.Edges {
			es := e.SummaryStatistics
			out[node+" -> "+names[aws.ToInt32(e.ReferenceId)]] = fmt.Sprintf("n=%d err=%d fault=%d", aws.ToInt64(es.TotalCount),
				aws.ToInt64(es.ErrorStatistics.TotalCount), aws.ToInt64(es.FaultStatistics.TotalCount))
		}
	}
	return out
}

// TestServiceGraphRollups runs the real server with a fast rollup refresh
// and checks that GetServiceGraph gives the same graph before the
// segments are rolled up (joined live) and after, and that a late trace in
// an already rolled-up minute is counted at once.
func TestServiceGraphRollups(t *testing.T) {
	srv := startServer(t, t.TempDir(), "--graph-rollup-interval", "300ms", "--log-level", "debug")
	c := xrayClient(srv)
	ctx := context.Background()
	base := time.Now().Add(-20 * time.Minute).Truncate(time.Minute)
	seg := func(traceID, id, parent, name string, start float64, status int, subs string) string {
		doc := map[string]any{"trace_id": traceID, "id": id, "name": name, "start_time": start, "end_time": start + 0.2,
			"http": map[string]any{"response": map[string]any{"status": status}}, "fault": status >= 500, "error": status >= 400 && status < 500}
		if parent != "" {
			doc["parent_id"] = parent
		}
		if subs != "" {
			doc["subsegments"] = json.RawMessage(subs)
		}
		b, _ := json.Marshal(doc)
		return string(b)
	}
	trace := func(i int, start time.Time) []string {
		tid := fmt.Sprintf("1-%08x-%024x", start.Unix(), i)
		t0 := float64(start.UnixMicro()) / 1e6
		status := 200
		if i%4 == 0 {
			status = 500
		}
		call := fmt.Sprintf(`[{"id":"%016x","name":"inventory","namespace":"remote","start_time":%f,"end_time":%f,"http":{"response":{"status":%d}},"fault":%v},
			{"id":"%016x","name":"DynamoDB","namespace":"aws","start_time":%f,"end_time":%f}]`,
			i*10+2, t0+0.01, t0+0.15, status, status >= 500, i*10+4, t0+0.16, t0+0.18)
		return []string{
			seg(tid, fmt.Sprintf("%016x", i*10+1), "", "front", t0, status, call),
			seg(tid, fmt.Sprintf("%016x", i*10+3), fmt.Sprintf("%016x", i*10+2), "inventory", t0+0.02, status, ""),
		}
	}
	var docs []string
	for i := 0; i < 40; i++ {
		// Over three minutes, some traces across a minute boundary.
		docs = append(docs, trace(i, base.Add(time.Duration(i)*4500*time.Millisecond))...)
	}
	rollups := func() int { return strings.Count(srv.log.String(), "service graph rolled up") }
	before := rollups()
	if _, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs}); err != nil {
		t.Fatal(err)
	}
	start, end := base.Add(-30*time.Second), base.Add(5*time.Minute)
	stored := func(n int) func() (bool, string) {
		return func() (bool, string) {
			out, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end})
			if err != nil {
				return false, err.Error()
			}
			return len(out.TraceSummaries) == n, fmt.Sprintf("%d traces", len(out.TraceSummaries))
		}
	}
	waitFor(t, 20*time.Second, "40 traces stored", stored(40))
	graph := func() map[string]string {
		t.Helper()
		g, err := c.GetServiceGraph(ctx, &xray.GetServiceGraphInput{StartTime: &start, EndTime: &end})
		if err != nil {
			t.Fatalf("GetServiceGraph: %v", err)
		}
		return graphCounts(g)
	}
	// Whichever path answers this first query, the next ones must agree.
	first := graph()
	waitFor(t, 20*time.Second, "a rollup of the stored minutes", func() (bool, string) { return rollups() > before, srv.log.String() })
	rolled := graph()
	if fmt.Sprint(rolled) != fmt.Sprint(first) {
		t.Fatalf("graph changed when rolled up:\nbefore %v\nafter  %v", first, rolled)
	}
	// Keys are name/type; front has no origin, its client node the type "client".
	if front := rolled["front/"]; !strings.HasPrefix(front, "n=40 ok=30 err=0 fault=10 root=true") {
		t.Fatalf("front node %q, want 40 requests, 10 faults; graph %v", rolled["front/"], rolled)
	}

	// A late trace in a rolled-up minute: counted whether the minute is
	// still stale (joined live) or already recomputed.
	before = rollups()
	if _, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: trace(99, base.Add(30*time.Second))}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "41 traces stored", stored(41))
	late := graph()
	if v := late["front/"]; !strings.HasPrefix(v, "n=41 ok=31") {
		t.Fatalf("front node after a late trace %q, want 41 requests; graph %v", v, late)
	}
	waitFor(t, 20*time.Second, "a rollup of the changed minute", func() (bool, string) { return rollups() > before, "" })
	if again := graph(); fmt.Sprint(again) != fmt.Sprint(late) {
		t.Fatalf("graph changed when the late trace was rolled up:\nbefore %v\nafter  %v", late, again)
	}
}
