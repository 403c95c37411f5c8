package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// rumWebBundle is aws-rum-web 3.x from npm, bundled by `make e2e-assets`.
func rumWebBundle(t *testing.T) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "rumweb", "dist", "rum.js"))
	if err != nil {
		t.Skipf("aws-rum-web bundle missing (run `make e2e-assets`): %v", err)
	}
	return b
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not installed; `make test` installs it")
	}
	t.Skip("chromium not installed")
	return ""
}

// newBrowser starts headless Debian Chromium with the flags this machine
// needs and a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	// Not t.TempDir: Chromium's helper processes may still write into the
	// profile for a moment after the browser is told to stop.
	profile, err := os.MkdirTemp("", "sightline-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelB()
		cancelA()
		for i := 0; i < 50; i++ {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// site is a test web site on 127.0.0.1 with an API that records the trace
// headers it receives.
type site struct {
	addr    string
	mu      sync.Mutex
	headers map[string][]string // path → X-Amzn-Trace-Id values
}

func startSite(t *testing.T, pages map[string]string, assets map[string][]byte) *site {
	t.Helper()
	s := &site{headers: map[string][]string{}}
	mux := http.NewServeMux()
	for p, html := range pages {
		html := html
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, html)
		})
	}
	for p, b := range assets {
		b := b
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write(b)
		})
	}
	record := func(r *http.Request) {
		s.mu.Lock()
		s.headers[r.URL.Path] = append(s.headers[r.URL.Path], r.Header.Get("X-Amzn-Trace-Id"))
		s.mu.Unlock()
	}
	mux.HandleFunc("/api/hello", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"hello":"world"}`)
	})
	mux.HandleFunc("/api/fail", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.addr = ln.Addr().String()
	return s
}

func (s *site) traceHeaders(path string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.headers[path]...)
}

// idleCallbackShim, first in a test page's head, makes requestIdleCallback
// a plain timeout: after the first input, web-vitals (in aws-rum-web)
// reports LCP from an idle callback, and on a loaded machine headless
// Chromium can go without an idle period until the page is hidden, when
// the client has already flushed its last batch: LCP was then lost.
const idleCallbackShim = `<script>window.requestIdleCallback = function (cb) {
  return setTimeout(function () { cb({didTimeout: true, timeRemaining: function () { return 0; }}); }, 0);
};</script>`

const rumPage = `<!doctype html><html><head><title>E2E shop</title>` + idleCallbackShim + `
<script src="/rum.js"></script>
<script>
startRum('%s', 'us-east-1', {
  endpoint: 'http://%s', signing: false, sessionSampleRate: 1, allowCookies: true,
  enableXRay: true, dispatchInterval: 1000,
  telemetries: ['errors', 'performance', ['http', {addXRayTraceIdHeader: true, recordAllRequests: true}]]
});
</script></head>
<body><h1>Sightline end-to-end shop</h1><p>Some text so the page has contentful paint.</p>
<button id="btn" onclick="window.clicked=true">Buy</button>
<script>
window.exercise = async function () {
  await fetch('/api/hello');
  await fetch('/api/fail', {method: 'POST'});
  setTimeout(function () { throw new TypeError('e2e boom from page'); }, 0);
  Promise.reject(new Error('e2e unhandled rejection'));
  return true;
};
</script></body></html>`

// TestAwsRumWebInChromium drives the unmodified aws-rum-web client in
// headless Chromium against a real sightline process and reads every
// event type back through GetAppMonitorData.
func TestAwsRumWebInChromium(t *testing.T) {
	bundle := rumWebBundle(t)
	srv := startServer(t, t.TempDir())
	id := srv.createAppMonitor("e2e-shop", "127.0.0.1", map[string]any{"SessionSampleRate": 1, "EnableXRay": true, "AllowCookies": true})
	page := fmt.Sprintf(rumPage, id, srv.ingest)
	st := startSite(t, map[string]string{"/index.html": page, "/next.html": "<!doctype html><title>next</title><p>next page</p>"}, map[string][]byte{"/rum.js": bundle})

	ctx := newBrowser(t)
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var ok bool
	err := chromedp.Run(tctx,
		chromedp.Navigate("http://"+st.addr+"/index.html"),
		chromedp.WaitVisible("#btn", chromedp.ByID),
		chromedp.Sleep(1500*time.Millisecond),
		chromedp.Evaluate(`window.exercise()`, &ok, func(p *runtimeEvaluateParams) *runtimeEvaluateParams { return p.WithAwaitPromise(true) }),
	)
	if err != nil {
		t.Fatalf("browser: %v\nserver log:\n%s", err, srv.log)
	}
	// The click below must come after the client has started: web-vitals
	// reports LCP on the first input it listens for, and a click before
	// the (asynchronously loaded) client installed its listeners loses
	// LCP. A stored page view says it has started; under load that took
	// longer than the pause above.
	waitFor(t, 30*time.Second, "the client's first batch", func() (bool, string) {
		evs, err := srv.allEvents("e2e-shop", map[string]any{"Name": "EventType", "Values": []string{"page_view_event"}})
		return err == nil && len(evs) > 0, fmt.Sprint(err)
	})
	err = chromedp.Run(tctx,
		// LCP must have been painted before the input that finalises it
		// (web-vitals reports LCP on the first interaction); on a busy
		// machine the first paint can take a while.
		chromedp.Poll(`new Promise(r => new PerformanceObserver((l, o) => { o.disconnect(); r(l.getEntries().length > 0); }).observe({type: 'largest-contentful-paint', buffered: true}))`,
			nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Sleep(500*time.Millisecond),
		chromedp.Click("#btn", chromedp.ByID),
	)
	if err != nil {
		t.Fatalf("browser: %v\nserver log:\n%s", err, srv.log)
	}
	// LCP is reported after the click once the page is idle, then sent
	// with the next batch; on a busy machine that can take a while, and a
	// page hidden before it is recorded loses it.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		evs, _ := srv.allEvents("e2e-shop", map[string]any{"Name": "EventType", "Values": []string{"largest_contentful_paint_event"}})
		if len(evs) > 0 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	err = chromedp.Run(tctx,
		// Navigating away hides the page: aws-rum-web flushes with
		// sendBeacon, the only transport that carries CLS.
		chromedp.Navigate("http://"+st.addr+"/next.html"),
		chromedp.Sleep(1500*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("browser: %v\nserver log:\n%s", err, srv.log)
	}

	want := []string{"session_start_event", "page_view_event", "performance_navigation_event", "largest_contentful_paint_event",
		"first_contentful_paint_event", "time_to_first_byte_event", "cumulative_layout_shift_event", "js_error_event",
		"http_event", "xray_trace_event"}
	var events []storedEvent
	waitFor(t, 30*time.Second, "every event type", func() (bool, string) {
		evs, err := srv.allEvents("e2e-shop")
		if err != nil {
			return false, err.Error()
		}
		events = evs
		seen := map[string]bool{}
		for _, e := range evs {
			seen[strings.TrimPrefix(e.Type, "com.amazon.rum.")] = true
		}
		var missing []string
		for _, w := range want {
			if !seen[w] {
				missing = append(missing, w)
			}
		}
		return len(missing) == 0, fmt.Sprintf("missing %v of %d events", missing, len(evs))
	})

	var jsErrors []string
	for _, e := range events {
		if e.Metadata["browserName"] != "Headless Chrome" || e.Metadata["osName"] != "Linux" || e.Metadata["deviceType"] != "desktop" {
			t.Fatalf("browser/OS not parsed from the User-Agent: %v", e.Metadata)
		}
		if e.UserDetails["sessionId"] == "" {
			t.Fatalf("event without session: %s", e.Raw)
		}
		switch e.Type {
		case "com.amazon.rum.js_error_event":
			jsErrors = append(jsErrors, fmt.Sprint(e.Details["message"]))
		case "com.amazon.rum.http_event":
			if e.Details["trace_id"] == nil {
				t.Errorf("http_event without trace id: %s", e.Raw)
			}
		case "com.amazon.rum.largest_contentful_paint_event", "com.amazon.rum.cumulative_layout_shift_event":
			if _, ok := e.Details["value"].(float64); !ok {
				t.Errorf("vital without value: %s", e.Raw)
			}
		}
	}
	joined := strings.Join(jsErrors, "|")
	if !strings.Contains(joined, "e2e boom from page") || !strings.Contains(joined, "e2e unhandled rejection") {
		t.Errorf("js errors %q lack the thrown error or the rejection", joined)
	}
	for _, path := range []string{"/api/hello", "/api/fail"} {
		hs := st.traceHeaders(path)
		if len(hs) == 0 || !strings.HasPrefix(hs[0], "Root=1-") || !strings.Contains(hs[0], ";Parent=") {
			t.Errorf("%s received trace headers %q", path, hs)
		}
	}

	// The analytics API groups the thrown error and times the page load;
	// /metrics counts at ingest.
	now := time.Now().UnixMilli()
	rng := map[string]any{"From": now - 600_000, "To": now + 60_000}
	var groups struct {
		Groups []struct {
			Type, Message string
			Count         int
		}
	}
	if _, err := srv.api("POST", "/rum/e2e-shop/errors", rng, &groups); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range groups.Groups {
		if strings.Contains(g.Message, "boom from page") && g.Type == "TypeError" && g.Count == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("error groups lack the thrown error: %+v", groups)
	}
	var raw json.RawMessage
	if _, err := srv.api("POST", "/rum/e2e-shop/vitals", map[string]any{"From": now - 600_000, "To": now + 60_000, "Vital": "LCP", "GroupBy": "page"}, &raw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "/index.html") {
		t.Errorf("LCP by page lacks /index.html: %s", raw)
	}
	resp, err := http.Get("http://" + srv.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `sightline_rum_js_errors_total{app_monitor="e2e-shop"}`) {
		t.Errorf("/metrics lacks the RUM js error counter")
	}
	srv.stop()
}
