package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// consoleShopPage is a page with aws-rum-web that calls the traced SDK app on another origin,
// fails a request, throws, and links to a second page: every RUM view has something to show.
const consoleShopPage = `<!doctype html><html><head><title>console shop</title>` + idleCallbackShim + `
<script src="/rum.js"></script>
<script>
startRum('%s', 'us-east-1', {
  endpoint: 'http://%s', signing: false, sessionSampleRate: 1, allowCookies: true,
  enableXRay: true, dispatchInterval: 1000,
  telemetries: ['errors', 'performance', ['http', {addXRayTraceIdHeader: true, recordAllRequests: true}]]
});
</script></head><body><h1>console shop</h1><p>Some text so the page has contentful paint.</p>
<button id="btn" onclick="window.clicked=true">Buy</button>
<script>
window.exercise = async function () {
  const r = await fetch('http://%s/checkout?sku=a');
  await fetch('/api/fail', {method: 'POST'});
  setTimeout(function () { throw new TypeError('console e2e boom'); }, 0);
  return r.status;
};
</script></body></html>`

// consoleBrowserLog collects what the page reports as errors: uncaught exceptions,
// console.error and browser log entries (failed loads).
type consoleBrowserLog struct {
	mu     sync.Mutex
	errors []string
}

func (l *consoleBrowserLog) listen(ctx context.Context) {
	chromedp.ListenTarget(ctx, func(ev any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		switch e := ev.(type) {
		case *cdpruntime.EventExceptionThrown:
			l.errors = append(l.errors, "exception: "+e.ExceptionDetails.Text+" "+exceptionText(e.ExceptionDetails))
		case *cdpruntime.EventConsoleAPICalled:
			if e.Type == cdpruntime.APITypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				l.errors = append(l.errors, "console.error: "+strings.Join(parts, " "))
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError {
				l.errors = append(l.errors, fmt.Sprintf("log %s: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		}
	})
}

func exceptionText(d *cdpruntime.ExceptionDetails) string {
	if d.Exception != nil {
		return d.Exception.Description
	}
	return ""
}

func (l *consoleBrowserLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.errors
	l.errors = nil
	return out
}

func consoleOutputDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "output", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// requireConsole skips when the binary under test does not serve the console yet.
func requireConsole(t *testing.T, srv *server) {
	t.Helper()
	resp, err := http.Get("http://" + srv.http + "/monitors")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `id="app"`) {
		t.Skipf("this sightline binary does not serve the web console at / yet (GET /monitors: %d); wire internal/ui into serve and build it with `make console`", resp.StatusCode)
	}
}

// startFront runs the aws-xray-sdk-go app as a server (front → back) and returns its address.
func startFront(t *testing.T, srv *server) string {
	t.Helper()
	app := buildSDKApp(t)
	cmd := exec.Command(app, "-requests", "0")
	cmd.Env = append(os.Environ(), "AWS_XRAY_DAEMON_ADDRESS="+srv.xray)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rd := bufio.NewReader(stdout)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "front ") {
			go func() { _, _ = io.Copy(io.Discard, rd) }()
			return strings.TrimSpace(strings.TrimPrefix(line, "front "))
		}
	}
}

// consoleFixture is a server filled by the real clients: aws-rum-web in Chromium calling the
// X-Ray SDK app, plus a few SDK-only traces.
type consoleFixture struct {
	srv       *server
	monitor   string
	traceID   string // the trace of the browser's call to front
	sessionID string
}

func newConsoleFixture(t *testing.T) *consoleFixture {
	t.Helper()
	bundle := rumWebBundle(t)
	srv := startServer(t, t.TempDir())
	requireConsole(t, srv)
	sampleEverything(t, xrayClient(srv))
	runSDKApp(t, buildSDKApp(t), srv, 6)
	front := startFront(t, srv)
	f := &consoleFixture{srv: srv, monitor: "console-shop"}
	id := srv.createAppMonitor(f.monitor, "127.0.0.1", map[string]any{"SessionSampleRate": 1, "EnableXRay": true, "AllowCookies": true})
	st := startSite(t, map[string]string{
		"/index.html": fmt.Sprintf(consoleShopPage, id, srv.ingest, front),
		"/next.html":  "<!doctype html><title>next</title><p>next page</p>",
	}, map[string][]byte{"/rum.js": bundle})

	bctx := newBrowser(t)
	tctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	var status int
	err := chromedp.Run(tctx,
		chromedp.Navigate("http://"+st.addr+"/index.html"),
		chromedp.WaitVisible("#btn", chromedp.ByID),
		chromedp.Sleep(1500*time.Millisecond),
		chromedp.Evaluate(`window.exercise()`, &status, func(p *runtimeEvaluateParams) *runtimeEvaluateParams { return p.WithAwaitPromise(true) }),
		chromedp.Click("#btn", chromedp.ByID),
		chromedp.Sleep(2500*time.Millisecond),
		chromedp.Navigate("http://"+st.addr+"/next.html"),
		chromedp.Sleep(2000*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("shop browser: %v\n%s", err, srv.log)
	}
	if status != 200 {
		t.Fatalf("the shop's call to front answered %d", status)
	}
	waitFor(t, 30*time.Second, "the http_event of the call to front", func() (bool, string) {
		evs, err := srv.allEvents(f.monitor, map[string]any{"Name": "EventType", "Values": []string{"http_event"}})
		if err != nil {
			return false, err.Error()
		}
		for _, e := range evs {
			req, _ := e.Details["request"].(map[string]any)
			if u, _ := req["url"].(string); strings.Contains(u, "/checkout") {
				f.traceID, _ = e.Details["trace_id"].(string)
				f.sessionID = e.UserDetails["sessionId"]
			}
		}
		return f.traceID != "", fmt.Sprintf("%d http events", len(evs))
	})
	waitFor(t, 30*time.Second, "the page's FCP", func() (bool, string) {
		evs, err := srv.allEvents(f.monitor, map[string]any{"Name": "EventType", "Values": []string{"first_contentful_paint_event"}})
		if err != nil {
			return false, err.Error()
		}
		return len(evs) > 0, "no FCP event yet"
	})
	waitFor(t, 30*time.Second, "the browser's trace with the front segment", func() (bool, string) {
		var out struct {
			Traces []struct{ Segments []struct{ Document string } }
		}
		if _, err := srv.api("POST", "/Traces", map[string]any{"TraceIds": []string{f.traceID}}, &out); err != nil {
			return false, err.Error()
		}
		if len(out.Traces) == 0 {
			return false, "no trace"
		}
		for _, s := range out.Traces[0].Segments {
			if strings.Contains(s.Document, `"name":"front"`) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d segments", len(out.Traces[0].Segments))
	})
	return f
}

// consoleView is one page of the console: where, what shows it has rendered, and a check.
type consoleView struct {
	name, path string
	ready      string // CSS selector visible once the page shows its data
	allowNet   bool   // the page provokes a 4xx on purpose
}

func TestConsolePages(t *testing.T) {
	f := newConsoleFixture(t)
	srv := f.srv
	base := "http://" + srv.http
	out := consoleOutputDir(t)
	ctx := newBrowser(t)
	logs := &consoleBrowserLog{}
	logs.listen(ctx)
	if err := chromedp.Run(ctx, cdplog.Enable(), cdpruntime.Enable()); err != nil {
		t.Fatal(err)
	}
	m := url.PathEscape(f.monitor)
	views := []consoleView{
		{"monitors", "/monitors", ".monitor-grid .card", false},
		{"monitor-settings", "/monitors/" + m, ".copy-block", false},
		{"rum-overview", "/apps/" + m + "/overview", `.vital[data-vital="FCP"] .rating-bar`, false},
		{"rum-performance", "/apps/" + m + "/performance", `table[aria-label="Load time by page"] tbody tr`, false},
		{"rum-vitals", "/apps/" + m + "/vitals?vital=FCP", `table[aria-label="FCP by page"] tbody tr`, false},
		{"rum-errors", "/apps/" + m + "/errors", `table[aria-label="Error groups"] tbody tr`, false},
		{"rum-http", "/apps/" + m + "/http", `table[aria-label="HTTP endpoints"] tbody tr`, false},
		{"rum-sessions", "/apps/" + m + "/sessions", `table[aria-label="Sessions"] tbody tr`, false},
		{"rum-session", "/apps/" + m + "/sessions/" + url.PathEscape(f.sessionID), `ol.timeline li[data-kind="http_event"]`, false},
		{"rum-audience", "/apps/" + m + "/audience", `table[aria-label="Browser"] tbody tr`, false},
		{"rum-journeys", "/apps/" + m + "/journeys", `table[aria-label="Exit pages"] tbody tr`, false},
		{"service-map", "/service-map", ".node-list li", false},
		{"traces", "/traces", `table[aria-label="Trace summaries"] tbody tr`, false},
		{"trace", "/traces/" + url.PathEscape(f.traceID), ".wf-row.critical", false},
		{"traces-syntax-error", "/traces?filter=" + url.QueryEscape("responsetime >"), ".syntax-error", true},
	}
	renders := map[string]time.Duration{}
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			start := time.Now()
			var png []byte
			err := chromedp.Run(tctx,
				chromedp.Navigate(base+v.path),
				chromedp.WaitVisible(v.ready, chromedp.ByQuery),
			)
			renders[v.name] = time.Since(start)
			if err != nil {
				var html string
				_ = chromedp.Run(ctx, chromedp.OuterHTML("main", &html, chromedp.ByQuery))
				_ = chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100))
				_ = os.WriteFile(filepath.Join(out, v.name+"-failed.png"), png, 0o644)
				var lcp json.RawMessage
				_, _ = srv.api("POST", "/rum/"+f.monitor+"/vitals", map[string]any{"From": 0, "To": time.Now().Add(time.Hour).UnixMilli(), "Vital": "LCP", "GroupBy": "page"}, &lcp)
				t.Fatalf("%s: %v\nmain: %.3000s\nbrowser errors: %v\nLCP by page: %s", v.path, err, html, logs.take(), lcp)
			}
			// Let late requests (vitals, counts) finish before judging errors and taking the picture.
			_ = chromedp.Run(tctx, chromedp.Sleep(700*time.Millisecond), chromedp.FullScreenshot(&png, 100))
			if err := os.WriteFile(filepath.Join(out, v.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
			var bad []string
			for _, e := range logs.take() {
				if v.allowNet && strings.HasPrefix(e, "log network:") && strings.Contains(e, "400") {
					continue
				}
				bad = append(bad, e)
			}
			if len(bad) > 0 {
				t.Errorf("%s: browser errors: %v", v.path, bad)
			}
		})
	}
	for _, v := range views {
		t.Logf("first render %-20s %v", v.name, renders[v.name].Round(time.Millisecond))
	}

	t.Run("overview numbers match the API", func(t *testing.T) { checkOverviewNumbers(t, ctx, f) })
	t.Run("trace search lists what the API lists", func(t *testing.T) { checkTraceCount(t, ctx, f) })
	t.Run("syntax error is reported inline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var msg string
		if err := chromedp.Run(ctx, chromedp.Navigate(base+"/traces?filter="+url.QueryEscape("responsetime >")),
			chromedp.Text(".syntax-error > span", &msg, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		now := float64(time.Now().Unix())
		_, err := srv.api("POST", "/TraceSummaries", map[string]any{"StartTime": now - 3600, "EndTime": now, "FilterExpression": "responsetime >"}, nil)
		if err == nil || !strings.HasPrefix(msg, "1:") {
			t.Fatalf("inline error %q, API error %v", msg, err)
		}
		// The API's message is JSON-escaped in err; compare up to the first quote.
		prefix, _, _ := strings.Cut(strings.TrimSpace(msg), `"`)
		if !strings.Contains(err.Error(), "FilterExpression: "+prefix) {
			t.Errorf("inline error %q is not the API's %v", msg, err)
		}
		logs.take()
	})
	t.Run("click a trace row", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var loc string
		err := chromedp.Run(ctx, chromedp.Navigate(base+"/traces"),
			chromedp.WaitVisible(`table[aria-label="Trace summaries"] tbody tr`, chromedp.ByQuery),
			chromedp.Click(`table[aria-label="Trace summaries"] tbody tr td:nth-child(4)`, chromedp.ByQuery),
			chromedp.WaitVisible(".waterfall", chromedp.ByQuery),
			chromedp.Location(&loc))
		if err != nil || !strings.Contains(loc, "/traces/1-") {
			t.Fatalf("after clicking a row: %s %v", loc, err)
		}
	})
	t.Run("click a session's HTTP call", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var loc string
		err := chromedp.Run(ctx, chromedp.Navigate(base+"/apps/"+m+"/sessions/"+url.PathEscape(f.sessionID)),
			chromedp.WaitVisible(`ol.timeline a.trace-link`, chromedp.ByQuery),
			chromedp.Click(fmt.Sprintf(`ol.timeline a.trace-link[href^="/traces/%s"]`, f.traceID), chromedp.ByQuery),
			chromedp.WaitVisible(".wf-row", chromedp.ByQuery),
			chromedp.Location(&loc))
		if err != nil || !strings.Contains(loc, "/traces/"+f.traceID) {
			t.Fatalf("after clicking the HTTP call: %s %v", loc, err)
		}
		// The browser segment links back to the session.
		var href string
		var ok bool
		err = chromedp.Run(ctx,
			chromedp.Click(`.wf-row.segment .wf-name`, chromedp.ByQuery),
			chromedp.WaitVisible(`a.rum-session-link`, chromedp.ByQuery),
			chromedp.AttributeValue(`a.rum-session-link`, "href", &href, &ok, chromedp.ByQuery))
		if err != nil || !strings.Contains(href, "/sessions/"+f.sessionID) {
			t.Errorf("browser segment's session link %q: %v", href, err)
		}
	})
	t.Run("click a service map node", func(t *testing.T) { checkMapClick(t, ctx, f) })
	var bad []string
	for _, e := range logs.take() {
		// The syntax-error check provokes these on purpose.
		if !(strings.HasPrefix(e, "log network:") && strings.Contains(e, "400") && strings.Contains(e, "/TraceSummaries")) {
			bad = append(bad, e)
		}
	}
	if len(bad) > 0 {
		t.Errorf("browser errors during interactions: %v", bad)
	}
}

func checkOverviewNumbers(t *testing.T, ctx context.Context, f *consoleFixture) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	base := "http://" + f.srv.http
	now := time.Now()
	from, to := now.Add(-time.Hour).UnixMilli(), now.Add(time.Minute).UnixMilli()
	path := fmt.Sprintf("/apps/%s/overview?from=%d&to=%d", url.PathEscape(f.monitor), from, to)
	var views, errs string
	err := chromedp.Run(ctx, chromedp.Navigate(base+path),
		chromedp.WaitVisible(`.vital[data-vital="FCP"] .rating-bar`, chromedp.ByQuery),
		chromedp.Sleep(500*time.Millisecond),
		chromedp.Text(`[data-stat="Page views"] .stat-value`, &views, chromedp.ByQuery),
		chromedp.Text(`[data-stat="JS errors"] .stat-value`, &errs, chromedp.ByQuery))
	if err != nil {
		t.Fatal(err)
	}
	var loads struct{ Points []struct{ PageViews int } }
	if _, err := f.srv.api("POST", "/rum/"+f.monitor+"/pageloads", map[string]any{"From": from, "To": to}, &loads); err != nil {
		t.Fatal(err)
	}
	var groups struct{ Groups []struct{ Count int } }
	if _, err := f.srv.api("POST", "/rum/"+f.monitor+"/errors", map[string]any{"From": from, "To": to, "Limit": 1000}, &groups); err != nil {
		t.Fatal(err)
	}
	wantViews, wantErrs := 0, 0
	for _, p := range loads.Points {
		wantViews += p.PageViews
	}
	for _, g := range groups.Groups {
		wantErrs += g.Count
	}
	if views != fmt.Sprint(wantViews) || errs != fmt.Sprint(wantErrs) || wantViews == 0 || wantErrs == 0 {
		t.Errorf("overview shows %s page views and %s errors; the API counts %d and %d", views, errs, wantViews, wantErrs)
	}
}

func checkTraceCount(t *testing.T, ctx context.Context, f *consoleFixture) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	now := time.Now()
	from, to := now.Add(-time.Hour), now.Add(time.Minute)
	var sums struct{ TraceSummaries []json.RawMessage }
	if _, err := f.srv.api("POST", "/TraceSummaries", map[string]any{"StartTime": from.Unix(), "EndTime": to.Unix(), "FilterExpression": `service("front")`}, &sums); err != nil {
		t.Fatal(err)
	}
	var rows []*cdp.Node
	path := fmt.Sprintf("/traces?from=%d&to=%d&filter=%s", from.UnixMilli(), to.UnixMilli(), url.QueryEscape(`service("front")`))
	err := chromedp.Run(ctx, chromedp.Navigate("http://"+f.srv.http+path),
		chromedp.WaitVisible(`table[aria-label="Trace summaries"] tbody tr`, chromedp.ByQuery),
		chromedp.Nodes(`table[aria-label="Trace summaries"] tbody tr`, &rows, chromedp.ByQueryAll))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(sums.TraceSummaries) || len(rows) == 0 {
		t.Errorf("console lists %d traces through front, the API %d", len(rows), len(sums.TraceSummaries))
	}
}

func checkMapClick(t *testing.T, ctx context.Context, f *consoleFixture) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	base := "http://" + f.srv.http
	var pos struct{ X, Y float64 }
	err := chromedp.Run(ctx, chromedp.Navigate(base+"/service-map"),
		chromedp.WaitVisible(".node-list li", chromedp.ByQuery),
		chromedp.Sleep(500*time.Millisecond),
		chromedp.Evaluate(`(() => {
			const cy = window.__sightlineMap;
			const n = cy.nodes().filter(n => n.data('label') === 'front')[0];
			const box = cy.container().getBoundingClientRect();
			const p = n.renderedPosition();
			return {X: box.left + p.x, Y: box.top + p.y};
		})()`, &pos))
	if err != nil {
		t.Fatalf("locate node front: %v", err)
	}
	var title, loc string
	var n int
	err = chromedp.Run(ctx,
		chromedp.MouseClickXY(pos.X, pos.Y),
		chromedp.WaitVisible(".node-details", chromedp.ByQuery),
		chromedp.Text(".node-details h2", &title, chromedp.ByQuery),
		chromedp.Click("a.traces-through", chromedp.ByQuery),
		chromedp.WaitVisible(`table[aria-label="Trace summaries"] tbody tr`, chromedp.ByQuery),
		chromedp.Location(&loc),
		chromedp.Evaluate(`document.querySelectorAll('table[aria-label="Trace summaries"] tbody tr').length`, &n))
	if err != nil {
		t.Fatalf("click node front: %v", err)
	}
	if title != "front" || !strings.Contains(loc, "filter="+url.QueryEscape(`service("front")`)) || n == 0 {
		t.Errorf("node details %q, then %s with %d traces", title, loc, n)
	}
	// The browser's client node is on the map. The node list can render
	// before the map has laid out its elements: poll the map.
	err = chromedp.Run(ctx, chromedp.Navigate(base+"/service-map"), chromedp.WaitVisible(".node-list li", chromedp.ByQuery),
		chromedp.Poll(`window.__sightlineMap && window.__sightlineMap.nodes().some(n => /AppMonitor|client/.test(n.data('type')))`, nil,
			chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		var types []string
		_ = chromedp.Run(ctx, chromedp.Evaluate(`window.__sightlineMap ? window.__sightlineMap.nodes().map(n => n.data('label') + '/' + n.data('type')) : []`, &types))
		t.Errorf("no browser/client node on the service map (%v): %v", err, types)
	}
}
