package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/xray"
)

// TestAgainstRealCollector runs the demo (on the fake database, so this
// package never links DuckDB) next to a real `sightline serve` and reads
// the result back through the X-Ray and RUM APIs. It needs a built binary:
// SIGHTLINE_BIN=/path/to/sightline go test -run RealCollector ./internal/demo/
// (test/e2e covers `sightline demo` itself, DuckDB included).
func TestAgainstRealCollector(t *testing.T) {
	bin := os.Getenv("SIGHTLINE_BIN")
	if bin == "" {
		t.Skip("SIGHTLINE_BIN not set: no sightline binary to run")
	}
	httpAddr, ingestAddr, xrayAddr := startServe(t, bin)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := Start(ctx, Options{
		APIURL: "http://" + httpAddr, IngestURL: "http://" + ingestAddr, XRayAddr: xrayAddr,
		UsersPerSecond: 6, PageDwell: 150 * time.Millisecond, DBDriver: fakeDriver, DBSource: freshDSN(t),
		Faults: &Faults{PaymentFailure: 0.3, DBError: 0.1}, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(8 * time.Second)
	cancel()
	if err := d.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Log(d.Stats())
	if s := d.Stats(); s.BatchesFailed > 0 || s.Batches == 0 {
		t.Fatalf("the collector did not take the batches: %s", s)
	}

	c := xray.New(xray.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + httpAddr),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	start, end := time.Now().Add(-10*time.Minute), time.Now().Add(time.Minute)
	dbNode := dbTypeName(fakeDriver) + "@inventory"
	var graph string
	ok := poll(30*time.Second, func() bool {
		out, err := c.GetServiceGraph(context.Background(), &xray.GetServiceGraphInput{StartTime: &start, EndTime: &end})
		if err != nil {
			graph = err.Error()
			return false
		}
		nodes := map[string]string{} // name → type
		refs := map[int32]string{}
		for _, s := range out.Services {
			nodes[aws.ToString(s.Name)] = aws.ToString(s.Type)
			refs[aws.ToInt32(s.ReferenceId)] = aws.ToString(s.Name)
		}
		edges := map[string]bool{}
		for _, s := range out.Services {
			for _, e := range s.Edges {
				edges[aws.ToString(s.Name)+"→"+refs[aws.ToInt32(e.ReferenceId)]] = true
			}
		}
		graph = fmt.Sprintf("nodes %v edges %v", nodes, edges)
		return nodes[BrowserSegmentName] == "AWS::RUM::AppMonitor" && nodes[dbNode] == "Database::SQL" &&
			edges[BrowserSegmentName+"→api"] && edges["api→inventory"] && edges["inventory→"+dbNode]
	})
	if !ok {
		t.Fatalf("service graph is not browser → api → inventory → database: %s", graph)
	}
	t.Log(graph)

	sums, err := c.GetTraceSummaries(context.Background(), &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end})
	if err != nil {
		t.Fatal(err)
	}
	fromBrowser := 0
	for _, s := range sums.TraceSummaries {
		if s.EntryPoint != nil && aws.ToString(s.EntryPoint.Name) == BrowserSegmentName {
			fromBrowser++
		}
	}
	if fromBrowser == 0 {
		t.Errorf("none of %d trace summaries has the browser as entry point", len(sums.TraceSummaries))
	}

	body, _ := json.Marshal(map[string]any{"TimeRange": map[string]any{"After": 0}, "MaxResults": 100,
		"Filters": []map[string]any{{"Name": "EventType", "Values": []string{"page_view_event", "largest_contentful_paint_event", "js_error_event"}}}})
	resp, err := http.Post("http://"+httpAddr+"/appmonitor/"+DefaultAppMonitorName+"/data", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var data struct{ Events []string }
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, e := range data.Events {
		var ev struct {
			Type string `json:"event_type"`
		}
		_ = json.Unmarshal([]byte(e), &ev)
		types[strings.TrimPrefix(ev.Type, eventPrefix)]++
	}
	if types["page_view_event"] == 0 || types["largest_contentful_paint_event"] == 0 || types["js_error_event"] == 0 {
		t.Errorf("GetAppMonitorData event types %v", types)
	}
}

// startServe runs `sightline serve` on free ports until the test ends.
func startServe(t *testing.T, bin string) (httpAddr, ingestAddr, xrayAddr string) {
	addr := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	httpAddr, ingestAddr, xrayAddr = addr(), addr(), addr()
	// A file, not a buffer: the process writes while the test reads.
	logs, err := os.Create(filepath.Join(t.TempDir(), "sightline.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logs.Close() })
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logs.Name())
			t.Logf("sightline log:\n%s", b)
		}
	})
	cmd := exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--http-addr", httpAddr, "--ingest-addr", ingestAddr,
		"--xray-addr", xrayAddr, "--rate-per-ip", "1000", "--burst-per-ip", "2000", "--log-format", "json")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGKILL); <-exited })
	waitReady(t, "http://"+httpAddr+"/readyz", exited)
	return httpAddr, ingestAddr, xrayAddr
}

// TestChromiumShopper: the headless browser walks through the shop with
// the real agent, and its events reach the collector.
func TestChromiumShopper(t *testing.T) {
	bin := os.Getenv("SIGHTLINE_BIN")
	if bin == "" {
		t.Skip("SIGHTLINE_BIN not set: no sightline binary to run")
	}
	chromium := "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no Chromium at " + chromium)
	}
	httpAddr, ingestAddr, xrayAddr := startServe(t, bin)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := Start(ctx, Options{
		APIURL: "http://" + httpAddr, IngestURL: "http://" + ingestAddr, XRayAddr: xrayAddr,
		Chromium: chromium, DBDriver: fakeDriver, DBSource: freshDSN(t), Faults: &Faults{},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("agent: %s", d.AgentSource)
	if d.AgentSource == AgentMissing {
		t.Skip("no agent: neither the collector nor this build has one")
	}
	ok := poll(90*time.Second, func() bool { return d.Stats().BrowserSessions >= 1 })
	cancel()
	_ = d.Wait()
	if !ok {
		t.Fatalf("no Chromium walk finished: %s", d.Stats())
	}
	var types map[string]int
	poll(20*time.Second, func() bool {
		types = eventTypes(t, httpAddr)
		return types["page_view_event"] >= 3 && types["xray_trace_event"] > 0
	})
	t.Logf("events from Chromium: %v", types)
	if types["page_view_event"] < 3 || types["http_event"] == 0 || types["xray_trace_event"] == 0 {
		t.Errorf("the browser's walk did not arrive: %v", types)
	}
}

func eventTypes(t *testing.T, httpAddr string) map[string]int {
	types := map[string]int{}
	token := ""
	for page := 0; page < 50; page++ {
		req := map[string]any{"TimeRange": map[string]any{"After": 0}, "MaxResults": 100}
		if token != "" {
			req["NextToken"] = token
		}
		body, _ := json.Marshal(req)
		resp, err := http.Post("http://"+httpAddr+"/appmonitor/"+DefaultAppMonitorName+"/data", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var data struct {
			Events    []string
			NextToken string
		}
		err = json.NewDecoder(resp.Body).Decode(&data)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range data.Events {
			var ev struct {
				Type string `json:"event_type"`
			}
			_ = json.Unmarshal([]byte(e), &ev)
			types[strings.TrimPrefix(ev.Type, eventPrefix)]++
		}
		if data.NextToken == "" {
			break
		}
		token = data.NextToken
	}
	return types
}

func waitReady(t *testing.T, url string, exited chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-exited:
			t.Fatal("sightline exited")
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("sightline not ready after 60 s")
}

func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(300 * time.Millisecond)
	}
	return cond()
}
