package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// agentPage is a shop page with the install snippet (%s) and a script
// that exercises every telemetry once the agent is ready.
const agentPage = `<!doctype html><html><head><meta charset="utf-8"><title>Agent shop</title>
%s
</head><body><h1>Sightline agent shop</h1><p>Some text so the page has a contentful paint.</p>
<button id="buy" onclick="var t=performance.now();while(performance.now()-t<60){}">Buy</button>
<script>
window.xhr = function (url) {
  return new Promise(function (done) {
    var x = new XMLHttpRequest();
    x.open('GET', url);
    x.onloadend = function () { done(x.status); };
    x.send();
  });
};
window.exercise = async function (cross) {
  var out = {};
  out.hello = (await fetch('/api/hello')).status;
  out.xhr = await xhr('/api/xhr');
  out.fail = (await fetch('/api/fail', {method: 'POST'})).status;
  out.allowed = (await fetch(cross.allowed + '/api/cross')).status;
  out.notListed = (await fetch(cross.notListed + '/api/cross')).status;
  try { out.wronglyListed = (await fetch(cross.wronglyListed + '/api/cross')).status; } catch (e) { out.wronglyListed = e.name; }
  history.pushState({}, '', '/route-a');
  setTimeout(function () { throw new TypeError('agent e2e boom'); }, 0);
  Promise.reject(new Error('agent e2e rejection'));
  await new Promise(function (r) { setTimeout(r, 100); });
  Sightline('flush');
  return out;
};
</script></body></html>`

const secondPage = `<!doctype html><html><head><meta charset="utf-8"><title>Agent shop, page 2</title>
%s
</head><body><h1>Second page</h1><p>Another page of the same site.</p></body></html>`

const byePage = `<!doctype html><title>bye</title><p>No agent here.</p>`

// exerciseResult is what window.exercise returns: HTTP statuses, or the
// error name for a request that failed.
type exerciseResult struct {
	Hello, XHR, Fail, Allowed, NotListed int
	WronglyListed                        any
}

// TestAgentFromCollectorInChromium loads Sightline's agent from the
// collector with the install snippet on a multi-page site, exercises every
// telemetry, and reads everything back through GetAppMonitorData; then
// checks that remote config changes (sample rate 0, a shorter allow list)
// reach the next page load.
func TestAgentFromCollectorInChromium(t *testing.T) {
	chromiumPath(t)
	srv := startServer(t, t.TempDir())
	bundle := agentBundle(t, srv)
	rec := &recorder{}
	allowed := startCrossAPI(t, rec, true)
	notListed := startCrossAPI(t, rec, false)
	wronglyListed := startCrossAPI(t, rec, false)
	cross := map[string]string{"allowed": allowed, "notListed": notListed, "wronglyListed": wronglyListed}

	const name = "agent-shop"
	baseConfig := map[string]any{"SessionSampleRate": 1, "EnableXRay": true, "Telemetries": []string{"errors", "performance", "http"},
		"TraceHeaderAllowList": []string{allowed, wronglyListed}}
	id := srv.createAppMonitor(name, "127.0.0.1", baseConfig)
	collector := "http://" + srv.ingest
	snippet := agentSnippet(t, bundle, collector, id)
	if !strings.Contains(snippet, `integrity="sha384-`) || !strings.Contains(snippet, `crossorigin="anonymous"`) {
		t.Fatalf("snippet without SRI: %s", snippet)
	}
	site := startPageSite(t, rec, map[string]func() string{
		"/index.html":  func() string { return fmt.Sprintf(agentPage, snippet) },
		"/second.html": func() string { return fmt.Sprintf(secondPage, snippet) },
		"/bye.html":    func() string { return byePage },
	}, nil)

	// ---- phase 1: everything on, one tab across three pages ----
	ctx, netlog := agentBrowser(t)
	var res exerciseResult
	var sessionID string
	err := chromedp.Run(ctx,
		chromedp.Navigate(site+"/index.html"),
		chromedp.Poll(agentReady, nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Evaluate(`exercise(`+mustJSON(cross)+`)`, &res, awaitPromise),
		chromedp.Evaluate(`Sightline.agent.stats().sessionId`, &sessionID),
		// An input finalises LCP and gives INP something to report.
		chromedp.Click("#buy", chromedp.ByID),
		chromedp.Sleep(1500*time.Millisecond),
		// Leaving the page hides it: the rest goes with sendBeacon.
		chromedp.Navigate(site+"/second.html"),
		chromedp.Poll(agentReady, nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Evaluate(`fetch('/api/hello?page=2').then(function (r) { return r.status; })`, nil, awaitPromise),
		// Nothing flushes this one: only the page-hide beacon can carry it.
		chromedp.Evaluate(`Sightline('recordEvent', 'e2e.before_hide', {page: 2})`, nil),
		chromedp.Navigate(site+"/bye.html"),
		chromedp.Sleep(1000*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("browser: %v\nserver log:\n%s", err, srv.log)
	}
	if res.Hello != 200 || res.XHR != 200 || res.Fail != 500 || res.Allowed != 200 || res.NotListed != 200 || res.WronglyListed != "TypeError" {
		t.Fatalf("page requests: %+v; want 200s, the 500, and a CORS TypeError for the wrongly allow-listed origin", res)
	}

	want := []string{"session_start_event", "page_view_event", "performance_navigation_event", "performance_resource_event",
		"first_contentful_paint_event", "time_to_first_byte_event", "largest_contentful_paint_event", "cumulative_layout_shift_event",
		"e2e.before_hide", "js_error_event", "http_event", "xray_trace_event", "sightline.cors_suspect"}
	var events []storedEvent
	waitFor(t, 15*time.Second, "every event type from the agent", func() (bool, string) {
		evs, err := srv.allEvents(name)
		if err != nil {
			return false, err.Error()
		}
		events = evs
		missing := missingTypes(evs, want)
		return len(missing) == 0, fmt.Sprintf("missing %v of %d events", missing, len(evs))
	})
	if testing.Verbose() {
		for _, p := range netlog.ingestPosts(collector, id) {
			var types []string
			for _, e := range decodePut(t, p.Body).RumEvents {
				types = append(types, strings.TrimPrefix(e.Type, "com.amazon.rum."))
			}
			t.Logf("sent %s: %v", p.Type, types)
		}
	}
	// Late beacons: give the second page's hide a moment, then read again.
	time.Sleep(time.Second)
	events = must(srv.allEvents(name))

	checkPhaseOneEvents(t, events, sessionID, site, cross)
	checkPhaseOneHeaders(t, rec.take(), site, cross, events)
	checkSentOnce(t, netlog, collector, id, events)

	// ---- phase 2: sample rate 0 through the remote config ----
	zero := clone(baseConfig)
	zero["SessionSampleRate"] = 0
	setConfig(t, srv, name, id, zero, func(r map[string]any) bool { return r["sessionSampleRate"] == 0.0 })
	before := len(events)
	ctx, netlog = agentBrowser(t) // a new profile: a new session, no cached config
	var stats struct {
		Queued, Dropped int
		Sampled         bool
	}
	err = chromedp.Run(ctx,
		chromedp.Navigate(site+"/index.html"),
		chromedp.Poll(agentReady, nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Evaluate(`exercise(`+mustJSON(cross)+`)`, &res, awaitPromise),
		chromedp.Evaluate(`Sightline('recordEvent', 'e2e.before_hide', {}); Sightline.agent.stats()`, &stats),
		chromedp.Sleep(1500*time.Millisecond),
		chromedp.Navigate(site+"/bye.html"),
		chromedp.Sleep(1500*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("browser (sample rate 0): %v", err)
	}
	// Nothing queued means nothing for fetch nor for the page-hide beacon.
	if stats.Sampled || stats.Queued != 0 || stats.Dropped != 0 {
		t.Fatalf("agent at sessionSampleRate 0: %+v, want unsampled with nothing queued", stats)
	}
	// No trace header anywhere, so the wrongly allow-listed API is reached
	// without a preflight and answers.
	if res.Hello != 200 || res.Fail != 500 || res.Allowed != 200 || res.NotListed != 200 || res.WronglyListed != 200.0 {
		t.Fatalf("page requests at sample rate 0: %+v", res)
	}
	for origin, hits := range rec.take() {
		for _, h := range hits {
			if h.TraceHeader != "" || h.Method == http.MethodOptions {
				t.Errorf("sample rate 0: %s received %s %s with trace header %q", origin, h.Method, h.Path, h.TraceHeader)
			}
		}
	}
	if posts := netlog.ingestPosts(collector, id); len(posts) != 0 {
		t.Errorf("sample rate 0: the agent sent %d PutRumEvents requests", len(posts))
	}
	if after := must(srv.allEvents(name)); len(after) != before {
		t.Errorf("sample rate 0: %d events stored, %d before", len(after), before)
	}

	// ---- phase 3: a shorter allow list and no http telemetry ----
	less := clone(baseConfig)
	less["TraceHeaderAllowList"] = nil
	less["Telemetries"] = []string{"errors", "performance"}
	setConfig(t, srv, name, id, less, func(r map[string]any) bool {
		return r["sessionSampleRate"] == 1.0 && r["traceHeaderAllowList"] == nil && len(r["telemetries"].([]any)) == 2
	})
	ctx, netlog = agentBrowser(t)
	var session3 string
	err = chromedp.Run(ctx,
		chromedp.Navigate(site+"/index.html"),
		chromedp.Poll(agentReady, nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Evaluate(`exercise(`+mustJSON(cross)+`)`, &res, awaitPromise),
		chromedp.Evaluate(`Sightline.agent.stats().sessionId`, &session3),
		chromedp.Sleep(1500*time.Millisecond),
		chromedp.Navigate(site+"/bye.html"),
		chromedp.Sleep(1500*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("browser (changed config): %v", err)
	}
	if res.Allowed != 200 || res.WronglyListed != 200.0 {
		t.Fatalf("page requests with the allow list emptied: %+v", res)
	}
	hits := rec.take()
	for _, origin := range []string{allowed, notListed, wronglyListed} {
		for _, h := range hits[origin] {
			if h.TraceHeader != "" || h.Method == http.MethodOptions {
				t.Errorf("allow list emptied: %s received %s %s with trace header %q", origin, h.Method, h.Path, h.TraceHeader)
			}
		}
	}
	for _, h := range hits[site] {
		if !strings.HasPrefix(h.TraceHeader, "Root=1-") {
			t.Errorf("same-origin %s %s without trace header (%q) after the config change", h.Method, h.Path, h.TraceHeader)
		}
	}
	// The agent itself applied the telemetries (the server would also
	// filter): no http_event leaves the browser.
	sent := 0
	for _, p := range netlog.ingestPosts(collector, id) {
		for _, e := range decodePut(t, p.Body).RumEvents {
			sent++
			if strings.HasSuffix(e.Type, ".http_event") {
				t.Errorf("http_event sent with http telemetry off: %s", p.Body)
			}
		}
	}
	if sent == 0 {
		t.Error("nothing sent after the config change")
	}
	waitFor(t, 20*time.Second, "js errors of the third session", func() (bool, string) {
		n := 0
		for _, e := range must(srv.allEvents(name)) {
			if e.UserDetails["sessionId"] == session3 && strings.HasSuffix(e.Type, ".js_error_event") {
				n++
			}
		}
		return n == 2, fmt.Sprintf("%d js errors", n)
	})
	srv.stop()
}

// agentBrowser is a new Chromium with a fresh profile and its network log.
func agentBrowser(t *testing.T) (context.Context, *netLog) {
	t.Helper()
	ctx := newBrowser(t)
	netlog := watchNetwork(ctx)
	if err := chromedp.Run(ctx, network.Enable()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return ctx, netlog
}

func checkPhaseOneEvents(t *testing.T, events []storedEvent, sessionID, site string, cross map[string]string) {
	t.Helper()
	var pages, errs []string
	starts := 0
	httpByURL := map[string]storedEvent{}
	for _, e := range events {
		if e.UserDetails["sessionId"] != sessionID {
			t.Errorf("event of another session %q (want %q): %s", e.UserDetails["sessionId"], sessionID, e.Raw)
		}
		if e.Metadata["aws:client"] != "sightline" {
			t.Errorf("metadata not from the agent: %v", e.Metadata)
		}
		switch strings.TrimPrefix(e.Type, "com.amazon.rum.") {
		case "session_start_event":
			starts++
		case "page_view_event":
			pages = append(pages, fmt.Sprint(e.Details["pageId"]))
		case "js_error_event":
			errs = append(errs, fmt.Sprint(e.Details["message"]))
		case "http_event":
			req, _ := e.Details["request"].(map[string]any)
			httpByURL[fmt.Sprint(req["url"])] = e
		case "sightline.cors_suspect":
			if e.Details["origin"] != cross["wronglyListed"] || !strings.Contains(fmt.Sprint(e.Details["header"]), "X-Amzn-Trace-Id") {
				t.Errorf("cors_suspect %v, want origin %s and the header", e.Details, cross["wronglyListed"])
			}
		}
	}
	if starts != 1 {
		t.Errorf("%d session_start_events across the site's pages, want 1", starts)
	}
	for _, p := range []string{"/index.html", "/route-a", "/second.html"} {
		if !slices.Contains(pages, p) {
			t.Errorf("page views %v lack %s", pages, p)
		}
	}
	joined := strings.Join(errs, "|")
	if !strings.Contains(joined, "agent e2e boom") || !strings.Contains(joined, "agent e2e rejection") {
		t.Errorf("js errors %q lack the thrown error or the rejection", joined)
	}
	status := func(url string) any {
		e, ok := httpByURL[url]
		if !ok {
			t.Errorf("no http_event for %s (have %d)", url, len(httpByURL))
			return nil
		}
		resp, _ := e.Details["response"].(map[string]any)
		return resp["status"]
	}
	for url, want := range map[string]any{"/api/hello": 200.0, "/api/xhr": 200.0, "/api/fail": 500.0,
		cross["allowed"] + "/api/cross": 200.0, cross["notListed"] + "/api/cross": 200.0, cross["wronglyListed"] + "/api/cross": nil} {
		if got := status(url); got != want {
			t.Errorf("http_event %s: status %v, want %v", url, got, want)
		}
	}
	if e := httpByURL[cross["notListed"]+"/api/cross"]; e.Details["trace_id"] != nil {
		t.Errorf("not allow-listed request traced: %s", e.Raw)
	}
	if e := httpByURL[cross["wronglyListed"]+"/api/cross"]; e.Details["error"] == nil {
		t.Errorf("CORS failure without error: %s", e.Raw)
	}
}

func checkPhaseOneHeaders(t *testing.T, hits map[string][]hit, site string, cross map[string]string, events []storedEvent) {
	t.Helper()
	traceIDs := map[string]bool{}
	for _, e := range events {
		if id, ok := e.Details["trace_id"].(string); ok {
			traceIDs[id] = true
		}
	}
	traced := func(origin, path string) {
		n := 0
		for _, h := range hits[origin] {
			if h.Path != path || h.Method == http.MethodOptions {
				continue
			}
			n++
			root, _, _ := strings.Cut(strings.TrimPrefix(h.TraceHeader, "Root="), ";")
			if !strings.HasPrefix(h.TraceHeader, "Root=1-") || !strings.Contains(h.TraceHeader, ";Parent=") || !strings.Contains(h.TraceHeader, "Sampled=1") {
				t.Errorf("%s%s received trace header %q", origin, path, h.TraceHeader)
			} else if !traceIDs[root] {
				t.Errorf("%s%s: trace %s in the header matches no stored http_event", origin, path, root)
			}
		}
		if n == 0 {
			t.Errorf("%s%s never reached", origin, path)
		}
	}
	traced(site, "/api/hello")
	traced(site, "/api/xhr")
	traced(site, "/api/fail")
	traced(cross["allowed"], "/api/cross")

	var notListed []hit
	for _, h := range hits[cross["notListed"]] {
		notListed = append(notListed, h)
		if h.TraceHeader != "" || h.Method != http.MethodGet {
			t.Errorf("not allow-listed origin received %s %s with trace header %q", h.Method, h.Path, h.TraceHeader)
		}
	}
	if len(notListed) != 1 {
		t.Errorf("not allow-listed origin received %v, want one plain GET", notListed)
	}
	wrong := hits[cross["wronglyListed"]]
	if len(wrong) == 0 || slices.ContainsFunc(wrong, func(h hit) bool { return h.Method != http.MethodOptions }) {
		t.Errorf("wrongly allow-listed origin received %v, want only the failed preflight", wrong)
	}
}

// checkSentOnce: every event the tab sent with fetch is stored exactly
// once, and there was more than one such request (the retry test covers
// the duplicates a retry makes).
func checkSentOnce(t *testing.T, netlog *netLog, collector, id string, events []storedEvent) {
	t.Helper()
	stored := map[string]int{}
	for _, e := range events {
		stored[e.ID]++
	}
	for _, e := range events {
		if stored[e.ID] != 1 {
			t.Errorf("event %s (%s) stored %d times", e.ID, e.Type, stored[e.ID])
		}
	}
	posts := netlog.ingestPosts(collector, id)
	for _, p := range posts {
		for _, e := range decodePut(t, p.Body).RumEvents {
			if stored[e.ID] != 1 {
				t.Errorf("event %s (%s) sent by %s stored %d times", e.ID, e.Type, p.Type, stored[e.ID])
			}
		}
	}
	if len(posts) == 0 {
		t.Error("no PutRumEvents request seen")
	}
}

// missingTypes lists the wanted types (without com.amazon.rum.) absent from events.
func missingTypes(events []storedEvent, want []string) []string {
	seen := map[string]bool{}
	for _, e := range events {
		seen[strings.TrimPrefix(e.Type, "com.amazon.rum.")] = true
	}
	var missing []string
	for _, w := range want {
		if !seen[w] {
			missing = append(missing, w)
		}
	}
	return missing
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mustJSON(v any) string {
	return string(must(jsonMarshal(v)))
}
