package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/xray"
)

// TestDuckDBRetention stores a trace from three days ago and one from now,
// restarts the server with --retention-days 2, and checks that the old
// trace is gone and the new one kept.
func TestDuckDBRetention(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	ctx := context.Background()
	doc := func(at time.Time, i int) (string, string) {
		tid := fmt.Sprintf("1-%08x-%024x", at.Unix(), i)
		t0 := float64(at.UnixMicro()) / 1e6
		return tid, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"front","start_time":%f,"end_time":%f}`, tid, i, t0, t0+0.1)
	}
	oldID, oldDoc := doc(time.Now().Add(-72*time.Hour), 1)
	newID, newDoc := doc(time.Now().Add(-time.Minute), 2)
	c := xrayClient(srv)
	if _, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{oldDoc, newDoc}}); err != nil {
		t.Fatal(err)
	}
	stored := func(c *xray.Client) map[string]bool {
		out, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{oldID, newID}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, tr := range out.Traces {
			got[*tr.Id] = len(tr.Segments) > 0
		}
		return got
	}
	waitFor(t, 20*time.Second, "both traces stored", func() (bool, string) {
		got := stored(c)
		return got[oldID] && got[newID], fmt.Sprint(got)
	})
	srv.stop()

	srv = startServer(t, dir, "--retention-days", "2")
	c = xrayClient(srv)
	waitFor(t, 20*time.Second, "the old trace removed", func() (bool, string) {
		got := stored(c)
		return !got[oldID] && got[newID], fmt.Sprint(got)
	})
}
