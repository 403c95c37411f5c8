package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/chromedp/chromedp"
)

const joinedPage = `<!doctype html><html><head><title>joined</title>
<script src="/rum.js"></script>
<script>
startRum('%s', 'us-east-1', {
  endpoint: 'http://%s', signing: false, sessionSampleRate: 1, allowCookies: true,
  enableXRay: true, dispatchInterval: 1000,
  telemetries: ['errors', 'performance', ['http', {addXRayTraceIdHeader: true, recordAllRequests: true}]]
});
</script></head><body><h1>joined</h1>
<script>
window.callAPI = async function () {
  const r = await fetch('http://%s/checkout?sku=a');
  return r.status;
};
</script></body></html>`

// TestBrowserTraceJoinsServerTrace: a page with aws-rum-web (enableXRay,
// addXRayTraceIdHeader) calls a Go service wrapped with xray.Handler on
// another origin; the result is ONE trace whose browser segment (origin
// AWS::RUM::AppMonitor) is the parent of the service's segment.
func TestBrowserTraceJoinsServerTrace(t *testing.T) {
	bundle := rumWebBundle(t)
	app := buildSDKApp(t)
	srv := startServer(t, t.TempDir())
	c := xrayClient(srv)
	sampleEverything(t, c)

	cmd := exec.Command(app, "-requests", "0")
	cmd.Env = append(os.Environ(), "AWS_XRAY_DAEMON_ADDRESS="+srv.xray)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// The SDK logs to stdout too; the app's own line starts with "front ".
	rd := bufio.NewReader(stdout)
	frontAddr := ""
	for frontAddr == "" {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "front ") {
			frontAddr = strings.TrimSpace(strings.TrimPrefix(line, "front "))
		}
	}
	go func() { _, _ = io.Copy(io.Discard, rd) }()

	id := srv.createAppMonitor("joined", "127.0.0.1", map[string]any{"SessionSampleRate": 1, "EnableXRay": true})
	st := startSite(t, map[string]string{"/index.html": fmt.Sprintf(joinedPage, id, srv.ingest, frontAddr)}, map[string][]byte{"/rum.js": bundle})
	bctx := newBrowser(t)
	tctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	var status int
	if err := chromedp.Run(tctx,
		chromedp.Navigate("http://"+st.addr+"/index.html"),
		chromedp.Sleep(1500*time.Millisecond),
		chromedp.Evaluate(`window.callAPI()`, &status, func(p *runtimeEvaluateParams) *runtimeEvaluateParams { return p.WithAwaitPromise(true) }),
		chromedp.Sleep(2500*time.Millisecond),
	); err != nil {
		t.Fatal(err)
	}
	if status != 200 {
		t.Fatalf("the page's API call answered %d (CORS?)", status)
	}
	_ = stdin.Close() // the app flushes its segments and exits

	// The http_event names the trace of the call.
	var traceID string
	waitFor(t, 30*time.Second, "the http_event of the API call", func() (bool, string) {
		evs, err := srv.allEvents("joined", map[string]any{"Name": "EventType", "Values": []string{"http_event"}})
		if err != nil {
			return false, err.Error()
		}
		for _, e := range evs {
			req, _ := e.Details["request"].(map[string]any)
			if u, _ := req["url"].(string); strings.Contains(u, "/checkout") {
				traceID, _ = e.Details["trace_id"].(string)
				return traceID != "", "no trace id"
			}
		}
		return false, fmt.Sprintf("%d http events", len(evs))
	})

	ctx := context.Background()
	var browserSeg, frontSeg docSegment
	var browserOrigin string
	waitFor(t, 30*time.Second, "browser and service segments in one trace", func() (bool, string) {
		out, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{traceID}})
		if err != nil {
			return false, err.Error()
		}
		if len(out.Traces) != 1 {
			return false, "trace not found"
		}
		names := []string{}
		for _, s := range out.Traces[0].Segments {
			var d docSegment
			var o struct {
				Origin string `json:"origin"`
			}
			_ = json.Unmarshal([]byte(*s.Document), &d)
			_ = json.Unmarshal([]byte(*s.Document), &o)
			names = append(names, d.Name)
			switch {
			case o.Origin == "AWS::RUM::AppMonitor":
				browserSeg, browserOrigin = d, o.Origin
			case d.Name == "front":
				frontSeg = d
			}
		}
		return browserSeg.ID != "" && frontSeg.ID != "", fmt.Sprintf("segments %v", names)
	})
	if browserOrigin != "AWS::RUM::AppMonitor" {
		t.Fatalf("browser segment origin %q", browserOrigin)
	}
	parentFound := false
	browserSeg.walk(func(x docSegment) {
		if x.ID == frontSeg.ParentID && x.ID != browserSeg.ID {
			parentFound = true
		}
	})
	if !parentFound {
		t.Fatalf("front's parent %s is not the browser's subsegment (browser %+v)", frontSeg.ParentID, browserSeg)
	}
	// And the summary names the browser as the entry point.
	start, end := time.Now().Add(-10*time.Minute), time.Now().Add(time.Minute)
	sums, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end, FilterExpression: ptr(`service("front")`)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range sums.TraceSummaries {
		if *s.Id == traceID {
			found = true
		}
	}
	if !found {
		t.Errorf("trace %s not found by service(\"front\")", traceID)
	}
}

func ptr[T any](v T) *T { return &v }
