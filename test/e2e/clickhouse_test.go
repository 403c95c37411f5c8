package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/xray"

	"github.com/sightline/sightline/internal/store/clickhouse/chtest"
)

const chCluster = "sightline_e2e"

// startShards starts two ClickHouse servers whose remote_servers name both
// as shards of chCluster.
func startShards(t *testing.T) [2]*chtest.Server {
	t.Helper()
	chtest.SkipIfMissing(t)
	var ports [4]int
	for i := range ports {
		p, err := chtest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	remote := chtest.ShardsXML(chCluster, ports[1], ports[3])
	var out [2]*chtest.Server
	for i := range out {
		dir, err := os.MkdirTemp("", "sightline-e2e-clickhouse-")
		if err != nil {
			t.Fatal(err)
		}
		s, err := chtest.Start(context.Background(), dir, chtest.Options{RemoteServers: remote, HTTPPort: ports[2*i], TCPPort: ports[2*i+1]})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = s
		t.Cleanup(func() { s.Stop(); _ = os.RemoveAll(dir) })
	}
	return out
}

func sendSegments(t *testing.T, addr string, traceTag string, n int) []string {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	now := float64(time.Now().UnixMilli()) / 1000
	var ids []string
	for i := 0; i < n; i++ {
		tid := fmt.Sprintf("1-%08x-%s%016x", time.Now().Unix(), traceTag, i)
		ids = append(ids, tid)
		doc := fmt.Sprintf(`{"trace_id":"%s","id":"%016x","name":"svc-%s","start_time":%.3f,"end_time":%.3f,"http":{"response":{"status":200}}}`,
			tid, i+1, traceTag, now, now+0.01)
		if _, err := conn.Write([]byte("{\"format\": \"json\", \"version\": 1}\n" + doc)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	return ids
}

// TestClickHouseScaleOut: two ClickHouse shards with Distributed tables,
// two `sightline collector` processes receiving RUM events and segments,
// one `sightline query` process answering the X-Ray API and RUM queries
// with the union of both shards' data.
func TestClickHouseScaleOut(t *testing.T) {
	sh := startShards(t)
	shardURLs := sh[0].HTTPURL() + "," + sh[1].HTTPURL()
	common := func(url string) []string {
		return []string{"--store", "clickhouse", "--clickhouse-url", url, "--clickhouse-cluster", chCluster,
			"--clickhouse-shard-urls", shardURLs, "--rate-per-ip", "100000", "--burst-per-ip", "100000"}
	}
	query := startRole(t, "query", t.TempDir(), common(sh[0].HTTPURL())...)
	appID := query.createAppMonitor("scaled", "127.0.0.1", nil)
	col := []*server{
		startRole(t, "collector", t.TempDir(), common(sh[0].HTTPURL())...),
		startRole(t, "collector", t.TempDir(), common(sh[1].HTTPURL())...),
	}
	// The query role has no ingest; PutRumEvents there is not served.
	if code, _ := postBatch(&http.Client{}, query.http, appID, rumBatch(appID, "nope", 1)); code == 200 {
		t.Error("query role accepted PutRumEvents")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	const perCollector = 20
	for ci, c := range col {
		for i := 0; i < perCollector; i++ {
			id := fmt.Sprintf("c%d-%02d", ci, i)
			waitFor(t, 15*time.Second, "collector to know the app monitor", func() (bool, string) {
				code, err := postBatch(client, c.ingest, appID, rumBatch(appID, id, 10))
				return err == nil && code == 200, fmt.Sprint(code, err)
			})
		}
	}
	ids0 := sendSegments(t, col[0].xray, "aaaaaaaa", 30)
	ids1 := sendSegments(t, col[1].xray, "bbbbbbbb", 30)

	waitFor(t, 60*time.Second, "every event through the query role", func() (bool, string) {
		evs, err := query.allEvents("scaled")
		if err != nil {
			return false, err.Error()
		}
		return len(evs) == 2*perCollector*10, fmt.Sprintf("%d of %d events", len(evs), 2*perCollector*10)
	})
	c := xrayClient(query)
	start, end := time.Now().Add(-10*time.Minute), time.Now().Add(time.Minute)
	waitFor(t, 60*time.Second, "both collectors' traces", func() (bool, string) {
		seen := map[string]bool{}
		p := xray.NewGetTraceSummariesPaginator(c, &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				return false, err.Error()
			}
			for _, s := range page.TraceSummaries {
				seen[*s.Id] = true
			}
		}
		for _, id := range append(ids0, ids1...) {
			if !seen[id] {
				return false, fmt.Sprintf("%d traces listed; %s missing", len(seen), id)
			}
		}
		return true, ""
	})
	out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{ids0[0], ids1[0]}})
	if err != nil || len(out.Traces) != 2 {
		t.Fatalf("BatchGetTraces across shards: %v %v", out, err)
	}
	for _, srv := range append(col, query) {
		srv.stop()
	}
}

// TestClickHouseOutageLosesNothing stops ClickHouse during ingest: the
// collector keeps acknowledging into its spool, /readyz says why, and after
// ClickHouse is back every acknowledged event is queryable exactly once.
func TestClickHouseOutageLosesNothing(t *testing.T) {
	chtest.SkipIfMissing(t)
	dir, err := os.MkdirTemp("", "sightline-e2e-clickhouse-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ch, err := chtest.Start(context.Background(), dir, chtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ch.Stop() }()
	srv := startServer(t, t.TempDir(), "--store", "clickhouse", "--clickhouse-url", ch.HTTPURL(), "--rate-per-ip", "100000", "--burst-per-ip", "100000")
	appID := srv.createAppMonitor("outage", "127.0.0.1", nil)
	client := &http.Client{Timeout: 10 * time.Second}
	acked := 0
	send := func(prefix string, n int) {
		for i := 0; i < n; i++ {
			code, err := postBatch(client, srv.ingest, appID, rumBatch(appID, fmt.Sprintf("%s%03d", prefix, i), 10))
			if err != nil || code != 200 {
				t.Fatalf("batch %s%d: %d %v", prefix, i, code, err)
			}
			acked += 10
		}
	}
	send("before", 10)
	ch.Stop()
	send("during", 20) // acknowledged into the spool while ClickHouse is down
	waitFor(t, 30*time.Second, "readyz to report the outage", func() (bool, string) {
		resp, err := http.Get("http://" + srv.http + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		b := make([]byte, 2048)
		n, _ := resp.Body.Read(b)
		return resp.StatusCode == 503 && strings.Contains(string(b[:n]), "clickhouse"), fmt.Sprintf("%d %s", resp.StatusCode, b[:n])
	})
	ch, err = chtest.Start(context.Background(), dir, chtest.Options{HTTPPort: ch.HTTPPort, TCPPort: ch.TCPPort})
	if err != nil {
		t.Fatal(err)
	}
	send("after", 5)
	waitFor(t, 90*time.Second, "every acknowledged event exactly once", func() (bool, string) {
		evs, err := srv.allEvents("outage")
		if err != nil {
			return false, err.Error()
		}
		seen := map[string]int{}
		for _, e := range evs {
			seen[e.ID]++
			if seen[e.ID] > 1 {
				t.Fatalf("event %s stored twice", e.ID)
			}
		}
		return len(evs) == acked, fmt.Sprintf("%d of %d", len(evs), acked)
	})
	srv.stop()
}
