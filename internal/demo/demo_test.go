package demo

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/agentjs"
	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/tracing"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testOptions(c *fakeCollector, t *testing.T) Options {
	return Options{
		APIURL: c.api.URL, IngestURL: c.ingest.URL, XRayAddr: c.xrayAddr,
		UsersPerSecond: 30, PageDwell: 15 * time.Millisecond,
		DBDriver: fakeDriver, DBSource: freshDSN(t), Seed: 42, Logger: quietLogger(),
		// Faults often enough to be seen in a few seconds; no slow paths.
		Faults: &Faults{PaymentFailure: 0.5, DBError: 0.2},
	}
}

// TestDemoThroughFakeCollector runs the whole demo against a collector
// that decodes with Sightline's own decoders, and checks that traces start
// in the browser and reach the database.
func TestDemoThroughFakeCollector(t *testing.T) {
	c := newFakeCollector(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	opts := testOptions(c, t)
	opts.Out = &out
	d, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		s := d.Stats()
		if s.CompletedSessions >= 40 && s.Faults > 0 && s.ClientErrors > 0 && s.JSErrors > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := d.Stats(); s.NetworkErrors > 0 {
		// Only calls cut off by the stop may fail without an answer.
		t.Errorf("network errors while running: %s", s)
	}
	cancel()
	if err := d.Wait(); err != nil {
		t.Fatal(err)
	}
	stats := d.Stats()
	t.Log(stats)
	if stats.Faults == 0 || stats.ClientErrors == 0 || stats.JSErrors == 0 {
		t.Fatalf("after 20 s of traffic no faults, client errors or JS errors: %s", stats)
	}
	if !strings.Contains(out.String(), "shop at "+d.ShopURL) || !strings.Contains(out.String(), "open "+c.api.URL) {
		t.Errorf("banner does not name the console and the shop:\n%s", out.String())
	}

	m := c.monitor(DefaultAppMonitorName)
	cfg, _ := m["AppMonitorConfiguration"].(map[string]any)
	if m["Domain"] != "127.0.0.1" || cfg["EnableXRay"] != true || !slices.Equal(toStrings(cfg["TraceHeaderAllowList"]), []string{d.APIURL}) {
		t.Errorf("app monitor %v", m)
	}

	// Segments travel over UDP; give the last ones a moment.
	var batches []receivedBatch
	var segs []*model.Segment
	var bad []string
	for i := 0; i < 50; i++ {
		batches, segs, bad = c.snapshot()
		if len(segs) > 0 && len(segs) == countAfter(c, 100*time.Millisecond) {
			break
		}
	}
	if len(bad) > 0 {
		t.Fatalf("the collector's decoders refused %d inputs, first: %s", len(bad), bad[0])
	}
	checkBatches(t, d, batches)
	checkTraces(t, batches, segs, opts.DBDriver)
}

func countAfter(c *fakeCollector, wait time.Duration) int {
	time.Sleep(wait)
	_, segs, _ := c.snapshot()
	return len(segs)
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func checkBatches(t *testing.T, d *Demo, batches []receivedBatch) {
	t.Helper()
	types := map[string]int{}
	browsers, countries := map[string]bool{}, map[string]bool{}
	uas := map[string]bool{}
	for _, p := range profiles {
		uas[p.userAgent] = true
	}
	for _, b := range batches {
		if b.origin != d.ShopURL {
			t.Fatalf("batch Origin %q, want the shop's %q", b.origin, d.ShopURL)
		}
		if !uas[b.ua] {
			t.Fatalf("batch User-Agent %q is none of the profiles'", b.ua)
		}
		switch b.contentType {
		case "text/plain;charset=UTF-8":
			if b.encoding != "" {
				t.Fatalf("a beacon is never compressed, got %q", b.encoding)
			}
		case "application/json":
		default:
			t.Fatalf("Content-Type %q", b.contentType)
		}
		if b.req.SessionID == "" || b.req.UserID == "" || b.req.AppVersion != shopVersion {
			t.Fatalf("batch details %+v", b.req)
		}
		for _, e := range b.req.Events {
			types[strings.TrimPrefix(e.Type, eventPrefix)]++
			browsers[e.MetadataString("browserName")] = true
			countries[e.MetadataString("countryCode")] = true
			if e.MetadataString("pageId") == "" {
				t.Fatalf("event %s without pageId", e.Type)
			}
		}
	}
	for _, want := range []string{"session_start_event", "page_view_event", "performance_navigation_event", "performance_resource_event",
		"time_to_first_byte_event", "first_contentful_paint_event", "largest_contentful_paint_event", "cumulative_layout_shift_event",
		"interaction_to_next_paint_event", "http_event", "xray_trace_event", "js_error_event"} {
		if types[want] == 0 {
			t.Errorf("no %s among %v", want, types)
		}
	}
	if len(browsers) < 3 || len(countries) < 3 {
		t.Errorf("browsers %v, countries %v: want variety", browsers, countries)
	}
}

// checkTraces follows every browser call with an answer: the api's segment
// has the browser subsegment as parent, calls to the inventory are parents
// of inventory segments, and the inventory records SQL.
func checkTraces(t *testing.T, batches []receivedBatch, segs []*model.Segment, driver string) {
	t.Helper()
	byParent := map[string]*model.Segment{}
	for _, s := range segs {
		if s.ParentID != "" {
			byParent[s.ParentID] = s
		}
	}
	calls, joined, sqlSeen, inventorySeen := 0, 0, 0, 0
	for _, b := range batches {
		for _, rec := range b.segments {
			bs := rec.Segment
			if bs.Origin != "AWS::RUM::AppMonitor" || bs.Name != BrowserSegmentName || len(bs.Subsegments) != 1 {
				t.Fatalf("browser segment %+v", bs)
			}
			sub := bs.Subsegments[0]
			if sub.HTTP == nil || sub.HTTP.Response == nil {
				continue // cut off at shutdown
			}
			calls++
			api := byParent[sub.ID]
			if api == nil {
				continue
			}
			if api.Name != "api" || api.TraceID != bs.TraceID {
				t.Fatalf("segment %s/%s answers browser subsegment %s of trace %s", api.Name, api.TraceID, sub.ID, bs.TraceID)
			}
			if api.HTTP.Response.Status != sub.HTTP.Response.Status {
				t.Errorf("browser saw %d, api recorded %d", sub.HTTP.Response.Status, api.HTTP.Response.Status)
			}
			joined++
			for _, asub := range api.Subsegments {
				inv := byParent[asub.ID]
				if inv == nil {
					continue
				}
				if inv.Name != "inventory" || inv.TraceID != bs.TraceID {
					t.Fatalf("segment %s/%s answers api subsegment %s", inv.Name, inv.TraceID, asub.ID)
				}
				inventorySeen++
				for _, q := range inv.Subsegments {
					if len(q.SQL) > 0 && q.Name == dbTypeName(driver)+"@inventory" {
						sqlSeen++
					}
				}
			}
		}
	}
	subIDs := map[string]string{}
	for _, s := range segs {
		for _, sub := range s.Subsegments {
			subIDs[sub.ID] = s.Name
		}
	}
	for _, s := range segs {
		if s.Name == "inventory" && subIDs[s.ParentID] != "api" {
			t.Errorf("inventory segment %s (trace %s) has parent %q, not an api subsegment", s.ID, s.TraceID, s.ParentID)
		}
	}
	t.Logf("%d browser calls answered, %d inventory calls, %d SQL subsegments", calls, inventorySeen, sqlSeen)
	if calls == 0 || joined != calls {
		t.Errorf("%d of %d answered browser calls have the api's segment as their child", joined, calls)
	}
	if inventorySeen == 0 || sqlSeen == 0 {
		t.Errorf("inventory segments under api calls: %d, SQL subsegments: %d", inventorySeen, sqlSeen)
	}
}

func TestEnsureAppMonitorIsIdempotent(t *testing.T) {
	c := newFakeCollector(t)
	cp := controlPlane{base: c.api.URL, client: http.DefaultClient}
	ctx := context.Background()
	id1, err := cp.ensureAppMonitor(ctx, "demo-shop", appMonitorSpec("http://127.0.0.1:1111"))
	if err != nil {
		t.Fatal(err)
	}
	id2, err := cp.ensureAppMonitor(ctx, "demo-shop", appMonitorSpec("http://127.0.0.1:2222"))
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 || id1 != testMonitorID {
		t.Errorf("ids %q then %q", id1, id2)
	}
	cfg := c.monitor("demo-shop")["AppMonitorConfiguration"].(map[string]any)
	if got := toStrings(cfg["TraceHeaderAllowList"]); !slices.Equal(got, []string{"http://127.0.0.1:2222"}) {
		t.Errorf("allow list after the second run %v, want the new API origin", got)
	}
	want := []string{"POST /appmonitor", "POST /appmonitor", "PATCH /appmonitor/demo-shop", "GET /appmonitor/demo-shop"}
	if !slices.Equal(c.calls, want) {
		t.Errorf("calls %v, want %v", c.calls, want)
	}
}

func TestStartNeedsARegisteredDriver(t *testing.T) {
	_, err := Start(context.Background(), Options{APIURL: "http://x", IngestURL: "http://y", XRayAddr: "127.0.0.1:2000", DBDriver: "no-such-driver"})
	if err == nil || !strings.Contains(err.Error(), `"no-such-driver" is not registered`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Start(context.Background(), Options{}); err == nil {
		t.Fatal("Start without collector addresses succeeded")
	}
}

// newServices runs the api and the inventory over the fake database.
func newServices(t testing.TB, f Faults) (apiURL, dsn string) {
	t.Helper()
	ctx := context.Background()
	dsn = freshDSN(t)
	db, err := openInventoryDB(ctx, fakeDriver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dice := newFaultDice(f, 7)
	inv := &inventory{db: wrapForTest(db), faults: dice, log: quietLogger()}
	invSrv := httptest.NewServer(inv.handler())
	t.Cleanup(invSrv.Close)
	apiSrv := httptest.NewServer(newAPI(invSrv.URL, dice, quietLogger()).handler())
	t.Cleanup(apiSrv.Close)
	return apiSrv.URL, dsn
}

func wrapForTest(db *sql.DB) *tracing.DB {
	return tracing.WrapDB(db, dbTypeName(fakeDriver), dbTraceSource(fakeDriver))
}

func TestAPIAnswers(t *testing.T) {
	type step struct {
		method, path, body string
		want               int
	}
	cases := []struct {
		name   string
		faults Faults
		steps  []step
	}{
		{"catalog", Faults{}, []step{
			{"GET", "/api/products", "", 200},
			{"GET", "/api/products/oak-tray", "", 200},
			{"GET", "/api/products/" + discontinuedSKU, "", 404},
			{"GET", "/api/recommendations?sku=oak-tray", "", 200},
		}},
		{"cart", Faults{}, []step{
			{"POST", "/api/cart", `{"session":"s","sku":"oak-tray","qty":1}`, 200},
			{"POST", "/api/cart", `{"session":"s","sku":"oak-tray","qty":30}`, 400},
			{"POST", "/api/cart", `{"session":"s","sku":"ceramic-vase","qty":12}`, 409},
			{"POST", "/api/cart", `{"session":"s","sku":"nope","qty":1}`, 404},
			{"POST", "/api/cart", `not json`, 400},
		}},
		{"coupon throttled after three attempts", Faults{}, []step{
			{"POST", "/api/coupon", `{"session":"h","code":"WELCOME10"}`, 200},
			{"POST", "/api/coupon", `{"session":"h","code":"SAVE10"}`, 404},
			{"POST", "/api/coupon", `{"session":"h","code":"SAVE20"}`, 404},
			{"POST", "/api/coupon", `{"session":"h","code":"WELCOME10"}`, 429},
			{"POST", "/api/coupon", `{"session":"other","code":"WELCOME10"}`, 200},
		}},
		{"checkout", Faults{}, []step{
			{"POST", "/api/checkout", `{"session":"s","order":"o1","items":[{"sku":"tea-tin","qty":2}]}`, 200},
			{"POST", "/api/checkout", `{"session":"s","order":"o2","items":[{"sku":"ceramic-vase","qty":9}]}`, 409},
			{"POST", "/api/checkout", `{"session":"s","order":"o3","items":[]}`, 400},
		}},
		{"payment fails", Faults{PaymentFailure: 1}, []step{
			{"POST", "/api/checkout", `{"session":"s","order":"o1","items":[{"sku":"tea-tin","qty":1}]}`, 502},
		}},
		{"database fails", Faults{DBError: 1}, []step{
			{"POST", "/api/checkout", `{"session":"s","order":"o1","items":[{"sku":"tea-tin","qty":1}]}`, 502},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api, _ := newServices(t, tc.faults)
			for _, s := range tc.steps {
				req, _ := http.NewRequest(s.method, api+s.path, strings.NewReader(s.body))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != s.want {
					t.Fatalf("%s %s %s: %d %s, want %d", s.method, s.path, s.body, resp.StatusCode, body, s.want)
				}
				if !json.Valid(body) {
					t.Fatalf("%s %s: body is not JSON: %s", s.method, s.path, body)
				}
			}
		})
	}
}

func TestDatabaseErrorIsReal(t *testing.T) {
	api, dsn := newServices(t, Faults{DBError: 1})
	resp, err := http.Post(api+"/api/checkout", "application/json", strings.NewReader(`{"order":"o","items":[{"sku":"tea-tin","qty":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	db := fakeDB(dsn)
	db.mu.Lock()
	defer db.mu.Unlock()
	if !slices.ContainsFunc(db.statements, func(s string) bool { return strings.HasPrefix(s, "INSERT INTO reservation_audit") }) {
		t.Errorf("the failing statement never reached the database: %v", db.statements)
	}
	// The reservation was rolled back.
	if p := db.products["tea-tin"]; p.Stock != 60 {
		t.Errorf("tea-tin stock %d after a failed reservation, want 60", p.Stock)
	}
}

func TestShopPages(t *testing.T) {
	embedded, err := agentjs.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		agentJS []byte
		want    AgentSource
	}{
		{"collector serves the agent", []byte("/* agent */"), AgentFromCollector},
		{"collector without the agent", nil, map[bool]AgentSource{true: AgentFromShop, false: AgentMissing}[embedded.Built()]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeCollector(t)
			c.agentJS = tc.agentJS
			ref, err := locateAgent(context.Background(), http.DefaultClient, c.ingest.URL)
			if err != nil {
				t.Fatal(err)
			}
			if ref.source != tc.want {
				t.Fatalf("agent source %q, want %q", ref.source, tc.want)
			}
			sh := &shop{appMonitorName: "demo-shop", appMonitorID: testMonitorID, ingestURL: c.ingest.URL, apiURL: "http://127.0.0.1:9999", consoleURL: c.api.URL, agent: ref}
			if err := sh.init(); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(sh.handler())
			defer srv.Close()
			for _, path := range []string{"/", "/product/oak-tray", "/cart", "/checkout"} {
				body := get(t, srv.URL+path, 200)
				for _, want := range []string{`data-api="http://127.0.0.1:9999"`, "/static/shop.js", c.api.URL} {
					if !strings.Contains(body, want) {
						t.Errorf("%s lacks %q", path, want)
					}
				}
				switch tc.want {
				case AgentFromCollector:
					if !strings.Contains(body, c.ingest.URL+agentjs.Path) || !strings.Contains(body, `integrity="sha384-`) || !strings.Contains(body, testMonitorID) {
						t.Errorf("%s: no pinned snippet for the collector's agent", path)
					}
				case AgentFromShop:
					if !strings.Contains(body, `'script',"`+agentjs.Path+`"`) || !strings.Contains(body, `"endpoint":"`+c.ingest.URL+`"`) || !strings.Contains(body, "Note: ") {
						t.Errorf("%s: no inline loader of the shop's copy with a note:\n%s", path, body)
					}
				}
			}
			get(t, srv.URL+"/static/shop.js", 200)
			get(t, srv.URL+"/static/page.html", 404)
			if tc.want == AgentFromShop {
				get(t, srv.URL+agentjs.Path, 200)
			}
		})
	}
}

func get(t *testing.T, url string, want int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d", url, resp.StatusCode, want)
	}
	return string(b)
}

// TestBatchRetries: a fetch batch answered 503 is sent again with the same
// BatchId; a beacon is not; 404 stops the session's sending.
func TestBatchRetries(t *testing.T) {
	cases := []struct {
		name        string
		beacon      bool
		answers     []int
		wantPosts   int
		wantOK      int64
		wantFailed  int64
		wantStopped bool
	}{
		{"fetch retried until accepted", false, []int{503, 429, 200}, 3, 1, 0, false},
		{"fetch dropped after two retries", false, []int{500, 500, 500, 200}, 3, 0, 1, false},
		{"beacon never retried", true, []int{503, 200}, 1, 0, 1, false},
		{"400 drops the batch", false, []int{400, 200}, 1, 0, 1, false},
		{"404 stops the session", false, []int{404, 200}, 1, 0, 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeCollector(t)
			c.answer = func(n int) int {
				if n < len(tc.answers) {
					return tc.answers[n]
				}
				return 200
			}
			g := &generator{shopURL: "http://127.0.0.1:1", apiURL: "http://127.0.0.1:2", ingestURL: c.ingest.URL, appMonitorID: testMonitorID,
				client: http.DefaultClient, stats: &Stats{}, log: quietLogger(), retryDelays: []time.Duration{time.Millisecond, time.Millisecond}}
			s := g.newSession(rand.New(rand.NewPCG(1, 2)))
			s.cur = page{kind: "home"}
			s.record("page_view_event", map[string]any{"version": "1.0.0", "pageId": "/"})
			s.flush(context.Background(), tc.beacon)
			batches, _, bad := c.snapshot()
			if len(bad) > 0 {
				t.Fatal(bad)
			}
			if len(batches) != tc.wantPosts {
				t.Fatalf("%d posts, want %d", len(batches), tc.wantPosts)
			}
			for _, b := range batches[1:] {
				if b.req.BatchID != batches[0].req.BatchID {
					t.Fatalf("retry with BatchId %s, first was %s", b.req.BatchID, batches[0].req.BatchID)
				}
			}
			st := g.stats.Snapshot()
			if st.Batches != tc.wantOK || st.BatchesFailed != tc.wantFailed || s.stopped != tc.wantStopped {
				t.Errorf("ok %d failed %d stopped %v", st.Batches, st.BatchesFailed, s.stopped)
			}
		})
	}
}

func TestGzipIfWorth(t *testing.T) {
	small := bytes.Repeat([]byte("a"), 2047)
	big := bytes.Repeat([]byte(`{"type":"com.amazon.rum.page_view_event"}`), 100)
	random := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	if gzipIfWorth(small) != nil {
		t.Error("compressed a body under 2048 bytes")
	}
	if gzipIfWorth(random) != nil {
		t.Error("compressed a body that does not shrink by 20%")
	}
	if gz := gzipIfWorth(big); gz == nil || len(gz) >= len(big) {
		t.Error("did not compress a repetitive body")
	}
}

func TestBrowserSegmentFlags(t *testing.T) {
	cases := []struct {
		status                 int
		fault, error, throttle bool
	}{
		{200, false, false, false},
		{404, false, true, false},
		{409, false, true, false},
		{429, false, false, true},
		{502, true, false, false},
		{0, true, false, false},
	}
	for _, tc := range cases {
		start := time.Unix(1_750_000_000, 0)
		c := apiCall{method: "POST", url: "http://127.0.0.1:9/api/checkout", host: "127.0.0.1:9", start: start, end: start.Add(30 * time.Millisecond),
			status: tc.status, contentLength: 12, traceID: "1-68501bc0-0123456789abcdef01234567", segmentID: "1111111111111111", subsegmentID: "2222222222222222"}
		if tc.status == 0 {
			c.errType, c.errMsg = "TypeError", "Failed to fetch"
		}
		d := xrayTraceDetails(c, BrowserSegmentName)
		delete(d, "version") // the RUM event's, not the segment's
		seg, err := model.ParseSegmentDocument([]byte(mustJSON(d)))
		if err != nil {
			t.Fatalf("status %d: %v", tc.status, err)
		}
		sub := seg.Subsegments[0]
		for _, s := range []*model.Segment{seg, sub} {
			if s.Fault != tc.fault || s.Error != tc.error || s.Throttle != tc.throttle {
				t.Errorf("status %d: %s fault=%v error=%v throttle=%v", tc.status, s.Name, s.Fault, s.Error, s.Throttle)
			}
		}
		if sub.ID != c.subsegmentID || sub.Namespace != "remote" || seg.Origin != "AWS::RUM::AppMonitor" || seg.ParentID != "" {
			t.Errorf("status %d: segment %+v", tc.status, seg)
		}
		if (tc.status == 0) != (len(sub.Cause) > 0) {
			t.Errorf("status %d: cause %s", tc.status, sub.Cause)
		}
		h := httpEventDetails(c)
		if h["trace_id"] != c.traceID || h["segment_id"] != c.subsegmentID {
			t.Errorf("http_event %v does not name the call's trace", h)
		}
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestVitalsDistributions(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	desktop, android := profiles[0], profiles[2]
	us, wifi, slow := countries[0], networks[0], networks[2]
	draw := func(kind string, p clientProfile, n network) (ttfb, lcp []float64) {
		for i := 0; i < 2001; i++ {
			v := drawVitals(rnd, kind, p, us, n)
			if v.ttfb <= 0 || v.fcp < v.ttfb || v.lcp < v.fcp || v.cls < 0 || v.cls > 0.35 || v.inp <= 0 {
				t.Fatalf("inconsistent vitals %+v", v)
			}
			ttfb, lcp = append(ttfb, v.ttfb), append(lcp, v.lcp)
		}
		return
	}
	_, productLCP := draw("product", desktop, wifi)
	_, cartLCP := draw("cart", desktop, wifi)
	_, mobileLCP := draw("product", android, wifi)
	fastTTFB, _ := draw("home", desktop, wifi)
	slowTTFB, _ := draw("home", desktop, slow)
	if !(median(productLCP) > median(cartLCP)) {
		t.Errorf("product LCP median %.0f not above cart %.0f", median(productLCP), median(cartLCP))
	}
	if !(median(mobileLCP) > 1.3*median(productLCP)) {
		t.Errorf("Android LCP median %.0f not well above desktop %.0f", median(mobileLCP), median(productLCP))
	}
	if !(median(slowTTFB) > 2*median(fastTTFB)) {
		t.Errorf("3g TTFB median %.0f not above wifi %.0f", median(slowTTFB), median(fastTTFB))
	}
	// The median lands near the table's value for the base case.
	if m := median(productLCP); m < 1500 || m > 2700 {
		t.Errorf("desktop product LCP median %.0f ms, want about 2100×0.9", m)
	}
}

func TestNavigationTimingIsOrdered(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 500; i++ {
		v := drawVitals(rnd, "checkout", profiles[i%len(profiles)], countries[i%len(countries)], networks[i%len(networks)])
		d := navigationDetails(rnd, v, i%2 == 0, "navigate")
		order := []string{"fetchStart", "connectStart", "requestStart", "responseStart", "domInteractive", "domContentLoadedEventStart", "domComplete", "loadEventStart", "duration"}
		for j := 1; j < len(order); j++ {
			if d[order[j]].(float64) < d[order[j-1]].(float64) {
				t.Fatalf("%s %v before %s %v in %v", order[j], d[order[j]], order[j-1], d[order[j-1]], d)
			}
		}
	}
}

func TestUUIDAndIDs(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 9))
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		u := newUUID(rnd)
		if len(u) != 36 || u[14] != '4' || !strings.ContainsRune("89ab", rune(u[19])) || seen[u] {
			t.Fatalf("bad or repeated UUID %q", u)
		}
		seen[u] = true
	}
	tid := newTraceID(rnd, time.Unix(0x68501bc0, 0))
	if !strings.HasPrefix(tid, "1-68501bc0-") || len(tid) != 35 {
		t.Errorf("trace id %q", tid)
	}
	if id := newSpanID(rnd); len(id) != 16 {
		t.Errorf("span id %q", id)
	}
}

func BenchmarkPageBatch(b *testing.B) {
	g := &generator{shopURL: "http://127.0.0.1:1", apiURL: "http://127.0.0.1:2", ingestURL: "http://127.0.0.1:3", appMonitorID: testMonitorID, stats: &Stats{}}
	rnd := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		s := g.newSession(rnd)
		s.cur = page{kind: "product", sku: "oak-tray"}
		v := drawVitals(s.rnd, "product", s.profile, s.country, s.network)
		s.record("page_view_event", map[string]any{"version": "1.0.0", "pageId": s.cur.id()})
		s.record("performance_navigation_event", navigationDetails(s.rnd, v, true, "navigate"))
		s.recordResources(v, true)
		for i := 0; i < 2; i++ {
			now := time.Now()
			c := apiCall{method: "GET", url: g.apiURL + "/api/products/oak-tray", host: "127.0.0.1:2", start: now, end: now, status: 200,
				traceID: newTraceID(s.rnd, now), segmentID: newSpanID(s.rnd), subsegmentID: newSpanID(s.rnd)}
			s.record("xray_trace_event", xrayTraceDetails(c, BrowserSegmentName))
			s.record("http_event", httpEventDetails(c))
		}
		s.record("largest_contentful_paint_event", vitalDetails(v.lcp, map[string]any{}))
		s.record("cumulative_layout_shift_event", vitalDetails(v.cls, map[string]any{}))
		raw, err := json.Marshal(putRumEvents{BatchID: newUUID(s.rnd), RumEvents: s.pending, SessionMetadata: s.sessionMetadata})
		if err != nil || len(raw) == 0 {
			b.Fatal(err)
		}
	}
}
