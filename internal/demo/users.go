package demo

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Timings of the agent that synthetic sessions imitate.
const (
	flushInterval = 5 * time.Second
	maxPages      = 10
	// returningUsers bounds the pool of user ids a later session may reuse.
	returningUsers = 256
)

// retryDelays are the agent's (and aws-rum-web's) waits before resending
// a batch answered 429/5xx or lost on the network, with the same BatchId.
var retryDelays = []time.Duration{2 * time.Second, 4 * time.Second}

// generator starts synthetic sessions at random (Poisson) times.
type generator struct {
	shopURL, apiURL, ingestURL, appMonitorID string
	client                                   *http.Client
	stats                                    *Stats
	log                                      *slog.Logger
	dwell                                    time.Duration
	seed                                     uint64
	rate                                     float64
	maxSessions                              int
	// retryDelays defaults to the package's; tests shorten it.
	retryDelays []time.Duration

	users []string // returning users, owned by run's goroutine
}

// run starts sessions until ctx ends, then waits for those in flight.
func (g *generator) run(ctx context.Context) {
	seed := g.seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	rnd := rand.New(rand.NewPCG(seed, 0xdec0de))
	slots := make(chan struct{}, g.maxSessions)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		timer.Reset(time.Duration(rnd.ExpFloat64() / g.rate * float64(time.Second)))
		select {
		case slots <- struct{}{}:
		default:
			g.stats.skipped.Add(1)
			continue
		}
		s := g.newSession(rnd)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			s.run(ctx)
		}()
	}
}

// newSession draws a visitor. A third of the visitors come back.
func (g *generator) newSession(rnd *rand.Rand) *session {
	s := &session{
		g:           g,
		rnd:         rand.New(rand.NewPCG(rnd.Uint64(), rnd.Uint64())),
		profile:     pick(rnd, profiles, func(p clientProfile) int { return p.weight }),
		country:     pick(rnd, countries, func(c country) int { return c.weight }),
		network:     pick(rnd, networks, func(n network) int { return n.weight }),
		preflighted: map[string]bool{},
	}
	s.id = newUUID(s.rnd)
	if len(g.users) > 0 && rnd.Float64() < 0.33 {
		s.userID = g.users[rnd.IntN(len(g.users))]
	} else {
		s.userID = newUUID(s.rnd)
		if len(g.users) < returningUsers {
			g.users = append(g.users, s.userID)
		} else {
			g.users[rnd.IntN(returningUsers)] = s.userID
		}
	}
	u, _ := url.Parse(g.shopURL)
	s.sessionMetadata = mustJSON(map[string]any{
		"browserLanguage": s.country.language, "browserName": s.profile.browser, "browserVersion": s.profile.browserVersion,
		"osName": s.profile.osName, "deviceType": s.profile.deviceType, "platformType": "web", "domain": u.Hostname(),
		"aws:client": "sightline", "aws:clientVersion": agentVersion, "version": shopVersion,
		"countryCode": s.country.code, "networkType": s.network.name, "synthetic": true,
	})
	return s
}

// page is a place in the shop.
type page struct {
	kind string // home, product, cart, checkout; "" = the visitor leaves
	sku  string
}

func (p page) id() string {
	switch p.kind {
	case "home":
		return "/"
	case "product":
		return "/product/" + p.sku
	}
	return "/" + p.kind
}

func (p page) title() string {
	switch p.kind {
	case "home":
		return "Shop · Sightline demo shop"
	case "product":
		for _, c := range catalog {
			if c.SKU == p.sku {
				return c.Name + " · Sightline demo shop"
			}
		}
		return strings.ReplaceAll(p.sku, "-", " ") + " · Sightline demo shop"
	}
	return strings.ToUpper(p.kind[:1]) + p.kind[1:] + " · Sightline demo shop"
}

// session is one synthetic visitor walking through the shop. Its methods
// run on one goroutine.
type session struct {
	g                 *generator
	rnd               *rand.Rand
	profile           clientProfile
	country           country
	network           network
	id, userID        string
	sessionMetadata   string
	preflighted       map[string]bool
	stopped           bool // the collector answered 403/404: stop sending, as the agent does
	interaction       int
	prev              page
	prevInteractionID string
	prevStart         time.Time
	cur               page
	pending           []rumEvent
	cart              []lineItem
	orders            int
}

func (s *session) run(ctx context.Context) {
	s.g.stats.sessions.Add(1)
	p := s.landing()
	for i := 0; i < maxPages && p.kind != "" && ctx.Err() == nil; i++ {
		p = s.visit(ctx, p, i == 0)
	}
	if ctx.Err() == nil {
		s.g.stats.completed.Add(1)
	}
}

// landing is where a visit starts: the home page, or a product from a
// search result or an old link.
func (s *session) landing() page {
	switch r := s.rnd.Float64(); {
	case r < 0.65:
		return page{kind: "home"}
	case r < 0.97:
		return page{kind: "product", sku: s.randomSKU()}
	default:
		return page{kind: "product", sku: discontinuedSKU}
	}
}

func (s *session) randomSKU() string { return catalog[s.rnd.IntN(len(catalog))].SKU }

func (s *session) pageURL(p page) string { return s.g.shopURL + p.id() }

// record adds an event of the current page.
func (s *session) record(name string, details map[string]any) {
	s.pending = append(s.pending, rumEvent{
		ID:        newUUID(s.rnd),
		Timestamp: float64(time.Now().UnixMilli()) / 1000,
		Type:      eventPrefix + name,
		Metadata:  mustJSON(map[string]any{"title": s.cur.title(), "pageId": s.cur.id()}),
		Details:   mustJSON(details),
	})
}

// externalReferrers are where first pages come from ("" = typed or bookmarked).
var externalReferrers = []string{"https://www.google.com/", "https://www.google.com/", "", "", "https://www.instagram.com/", "https://news.example.org/letters/42", "https://duckduckgo.com/"}

// visit loads a page, does what the visitor does there, stays a while and
// leaves; it returns the next page.
func (s *session) visit(ctx context.Context, p page, first bool) page {
	start := time.Now()
	s.cur = p
	s.interaction++
	s.g.stats.pageViews.Add(1)
	v := drawVitals(s.rnd, p.kind, s.profile, s.country, s.network)
	if first {
		s.record("session_start_event", map[string]any{"version": "1.0.0"})
	}
	interactionID := fmt.Sprintf("%s-%d", p.id(), s.interaction)
	view := map[string]any{"version": "1.0.0", "pageId": p.id(), "interaction": s.interaction, "pageInteractionId": interactionID}
	if first {
		if ref := externalReferrers[s.rnd.IntN(len(externalReferrers))]; ref != "" {
			u, _ := url.Parse(ref)
			view["referrer"], view["referrerDomain"] = ref, u.Hostname()
		}
	} else {
		u, _ := url.Parse(s.g.shopURL)
		view["referrer"], view["referrerDomain"] = s.pageURL(s.prev), u.Hostname()
		view["parentPageInteractionId"] = s.prevInteractionID
		view["timeOnParentPage"] = start.Sub(s.prevStart).Milliseconds()
	}
	s.record("page_view_event", view)
	s.record("performance_navigation_event", navigationDetails(s.rnd, v, first, "navigate"))
	s.recordResources(v, first)
	s.record("time_to_first_byte_event", vitalDetails(ms(v.ttfb), map[string]any{
		"waitingDuration": ms(uniform(s.rnd, 1, 6)), "cacheDuration": 0, "dnsDuration": 0, "connectionDuration": 0,
		"requestDuration": ms(v.ttfb * 0.85),
	}))
	s.record("first_contentful_paint_event", vitalDetails(ms(v.fcp), map[string]any{
		"timeToFirstByte": ms(v.ttfb), "firstByteToFCP": ms(v.fcp - v.ttfb), "loadState": "dom-content-loaded",
	}))

	next := s.act(ctx, p)
	if ctx.Err() != nil {
		s.closeTab(ctx)
		return page{}
	}

	s.record("largest_contentful_paint_event", vitalDetails(ms(v.lcp), map[string]any{
		"element": lcpElement(p.kind), "timeToFirstByte": ms(v.ttfb), "resourceLoadDelay": 0, "resourceLoadTime": 0,
		"elementRenderDelay": ms(v.lcp - v.ttfb),
	}))
	if s.rnd.Float64() < 0.03 {
		s.recordError(resizeObserverError())
	}
	dwell := time.Duration(logNormal(s.rnd, float64(s.g.dwell), 0.5))
	dwell = min(dwell, 4*s.g.dwell)
	if err := sleepCtx(ctx, dwell); err != nil {
		s.closeTab(ctx)
		return page{}
	}
	if time.Since(start) >= flushInterval {
		// The agent's timer fired while the visitor was still here.
		s.flush(ctx, false)
	}
	// Page hide: CLS and INP are final only now, and go with the beacon.
	if next.kind != "" || s.rnd.Float64() < 0.5 {
		s.record("interaction_to_next_paint_event", vitalDetails(ms(v.inp), map[string]any{
			"interactionTarget": interactionTarget(p.kind), "interactionType": "pointer",
			"inputDelay": ms(v.inp * 0.2), "processingDuration": ms(v.inp * 0.5), "presentationDelay": ms(v.inp * 0.3),
			"loadState": "complete",
		}))
	}
	cls := vitalDetails(v.cls, map[string]any{})
	if v.cls > 0 {
		cls["attribution"] = map[string]any{"largestShiftTarget": clsTarget(p.kind), "largestShiftValue": v.cls * 0.8, "largestShiftTime": ms(v.lcp * 0.9), "loadState": "complete"}
	}
	s.record("cumulative_layout_shift_event", cls)
	s.flush(ctx, true)
	s.prev, s.prevInteractionID, s.prevStart = p, interactionID, start
	return next
}

// closeTab is the demo stopping under a visitor: as a closing tab does,
// the page-hide beacon takes what was recorded, so no call made so far is
// left without its browser segment.
func (s *session) closeTab(ctx context.Context) { s.flush(ctx, true) }

func lcpElement(kind string) string {
	switch kind {
	case "product":
		return "#hero"
	case "home":
		return "#products>li:nth-child(1)"
	}
	return "main>h1"
}

func interactionTarget(kind string) string {
	switch kind {
	case "product":
		return "#add"
	case "cart":
		return "#to-checkout"
	case "checkout":
		return "#pay"
	}
	return "#products>li>a"
}

func clsTarget(kind string) string {
	if kind == "product" {
		return "#recommended"
	}
	return "#products"
}

// recordResources records the page's stylesheet and scripts; later pages
// find them in the cache.
func (s *session) recordResources(v vitals, first bool) {
	at := v.ttfb + 5
	for _, r := range []struct{ url, kind, initiator string }{
		{s.g.shopURL + "/static/shop.css", "stylesheet", "link"},
		{s.g.shopURL + "/static/shop.js", "script", "script"},
		{s.g.ingestURL + "/agent/v1/sightline.js", "script", "script"},
	} {
		d := uniform(s.rnd, 2, 12)
		size := 0
		if first {
			d = logNormal(s.rnd, 40*s.network.latency*s.country.rtt, 0.4)
			size = 1800 + s.rnd.IntN(9000)
		}
		s.record("performance_resource_event", map[string]any{
			"version": "1.0.0", "initiatorType": r.initiator, "startTime": ms(at), "duration": ms(d),
			"fileType": r.kind, "transferSize": size, "targetUrl": r.url,
		})
		at += uniform(s.rnd, 0.5, 4)
	}
}

func (s *session) recordError(e jsError) {
	s.g.stats.jsErrors.Add(1)
	s.record("js_error_event", jsErrorDetails(e, s.g.shopURL+"/static/shop.js"))
}

// act does what a visitor does on a page: the page's API calls, a click,
// and the choice of the next page ("" kind = leave).
func (s *session) act(ctx context.Context, p page) page {
	r := s.rnd.Float64()
	switch p.kind {
	case "home":
		s.call(ctx, http.MethodGet, "/api/products", nil)
		if r < 0.85 {
			return page{kind: "product", sku: s.randomSKU()}
		}
	case "product":
		c := s.call(ctx, http.MethodGet, "/api/products/"+p.sku, nil)
		if c.status != http.StatusOK {
			if r < 0.6 {
				return page{kind: "home"}
			}
			return page{}
		}
		s.call(ctx, http.MethodGet, "/api/recommendations?sku="+url.QueryEscape(p.sku), nil)
		if s.rnd.Float64() < 0.15 {
			s.recordError(reviewWidgetError(s.profile.engine, s.g.shopURL+"/static/shop.js"))
		}
		switch {
		case r < 0.55:
			qty := 1
			switch q := s.rnd.Float64(); {
			case q < 0.02:
				qty = 30 // the API refuses: 400
			case q < 0.05:
				qty = 12 // more than a scarce product has: 409
			case q < 0.13:
				qty = 2 + s.rnd.IntN(2)
			}
			add := s.call(ctx, http.MethodPost, "/api/cart", cartRequest{Session: s.id, SKU: p.sku, Qty: qty})
			if add.status == http.StatusOK {
				s.cart = append(s.cart, lineItem{SKU: p.sku, Qty: qty})
				return page{kind: "cart"}
			}
			if s.rnd.Float64() < 0.5 {
				return page{kind: "home"}
			}
		case r < 0.75:
			return page{kind: "product", sku: s.randomSKU()}
		case r < 0.85:
			return page{kind: "home"}
		}
	case "cart":
		switch c := s.rnd.Float64(); {
		case c < 0.08:
			// A coupon hunter: tries codes until the API throttles.
			for i := 0; i < 5 && ctx.Err() == nil; i++ {
				s.call(ctx, http.MethodPost, "/api/coupon", couponRequest{Session: s.id, Code: fmt.Sprintf("SAVE%d", 10*(i+1))})
				_ = sleepCtx(ctx, time.Duration(uniform(s.rnd, 150, 400))*time.Millisecond)
			}
		case c < 0.38:
			code := "FREESHIP"
			if s.rnd.Float64() < 0.4 {
				code = "WELCOME10"
			}
			s.call(ctx, http.MethodPost, "/api/coupon", couponRequest{Session: s.id, Code: code})
		}
		switch {
		case r < 0.65 && len(s.cart) > 0:
			return page{kind: "checkout"}
		case r < 0.75:
			return page{kind: "product", sku: s.randomSKU()}
		}
	case "checkout":
		if len(s.cart) == 0 {
			return page{}
		}
		for attempt := 0; attempt < 2; attempt++ {
			s.orders++
			order := fmt.Sprintf("o-%s-%d", s.id[:8], s.orders)
			c := s.call(ctx, http.MethodPost, "/api/checkout", checkoutRequest{Session: s.id, Order: order, Items: s.cart})
			if c.status >= 500 || c.status == 0 {
				s.recordError(checkoutError(s.profile.engine, s.g.shopURL+"/static/shop.js", c.status))
				if s.rnd.Float64() < 0.4 {
					continue // the visitor tries again
				}
				break
			}
			if c.status == http.StatusOK {
				s.cart = nil
			}
			break
		}
	}
	return page{}
}

// notMade is the status of a call the closing tab never made.
const notMade = -1

// fetchFailure is how each engine words a request that got no response.
func fetchFailure(e engine) string {
	switch e {
	case engineGecko:
		return "NetworkError when attempting to fetch resource."
	case engineWebKit:
		return "Load failed"
	}
	return "Failed to fetch"
}

// call makes one API request the way the page's fetch does with the agent
// installed: a preflight first (cached per URL), then the request with the
// trace header whose Parent is the browser subsegment recorded for it.
func (s *session) call(ctx context.Context, method, path string, body any) apiCall {
	if ctx.Err() != nil {
		return apiCall{status: notMade} // the tab is closing: no new requests
	}
	now := time.Now()
	target := s.g.apiURL + path
	u, _ := url.Parse(target)
	c := apiCall{
		method: method, url: target, host: u.Host, start: now, contentLength: -1,
		traceID: newTraceID(s.rnd, now), segmentID: newSpanID(s.rnd), subsegmentID: newSpanID(s.rnd),
	}
	s.g.stats.apiCalls.Add(1)
	defer func() {
		s.record("xray_trace_event", xrayTraceDetails(c, BrowserSegmentName))
		s.record("http_event", httpEventDetails(c))
		s.g.stats.countStatus(c.status)
	}()
	var payload []byte
	if body != nil {
		payload, _ = json.Marshal(body)
	}
	if !s.preflight(ctx, method, target, body != nil) {
		c.end = time.Now()
		c.errType, c.errMsg = "TypeError", fetchFailure(s.profile.engine)
		return c
	}
	// A request under way finishes even when the demo stops (the client's
	// timeout bounds it), so the api's segment always has its browser caller.
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), method, target, bytes.NewReader(payload))
	if err != nil {
		c.end = time.Now()
		c.errType, c.errMsg = "TypeError", fetchFailure(s.profile.engine)
		return c
	}
	s.browserHeaders(req)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Amzn-Trace-Id", "Root="+c.traceID+";Parent="+c.subsegmentID+";Sampled=1")
	resp, err := s.g.client.Do(req)
	if err != nil {
		c.end = time.Now()
		c.errType, c.errMsg = "TypeError", fetchFailure(s.profile.engine)
		return c
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.end = time.Now()
	c.status, c.statusText = resp.StatusCode, http.StatusText(resp.StatusCode)
	c.contentLength = n
	return c
}

// browserHeaders adds what a browser adds to a cross-origin request from
// the current page.
func (s *session) browserHeaders(req *http.Request) {
	req.Header.Set("Origin", s.g.shopURL)
	req.Header.Set("User-Agent", s.profile.userAgent)
	req.Header.Set("Referer", s.pageURL(s.cur))
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Accept-Language", s.country.language)
}

// preflight sends the CORS preflight a browser sends before a request with
// a trace header, unless one for the URL is cached, and reports whether
// the request may go.
func (s *session) preflight(ctx context.Context, method, target string, hasBody bool) bool {
	key := method + " " + target
	if s.preflighted[key] {
		return true
	}
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodOptions, target, nil)
	if err != nil {
		return false
	}
	s.browserHeaders(req)
	req.Header.Set("Access-Control-Request-Method", method)
	headers := "x-amzn-trace-id"
	if hasBody {
		headers = "content-type,x-amzn-trace-id"
	}
	req.Header.Set("Access-Control-Request-Headers", headers)
	resp, err := s.g.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	allowed := strings.ToLower(strings.Join(resp.Header.Values("Access-Control-Allow-Headers"), ","))
	origin := resp.Header.Get("Access-Control-Allow-Origin")
	ok := resp.StatusCode/100 == 2 && (origin == s.g.shopURL || origin == "*") &&
		strings.Contains(allowed, "x-amzn-trace-id") && (!hasBody || strings.Contains(allowed, "content-type"))
	if ok {
		s.preflighted[key] = true
	}
	return ok
}

// flush sends the page's pending events: with fetch (gzip when it pays,
// retried on 429/5xx), or as the page-hide beacon (text/plain, never
// gzipped, never retried), in batches of at most 100 events.
func (s *session) flush(ctx context.Context, beacon bool) {
	if beacon {
		// The browser delivers a beacon after the page (or the demo) is gone.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		ctx = bctx
	}
	events := s.pending
	s.pending = nil
	if s.stopped || len(events) == 0 || ctx.Err() != nil {
		return
	}
	for len(events) > 0 {
		n := min(len(events), maxEventsPerBatch)
		batch := putRumEvents{
			BatchID:           newUUID(s.rnd),
			AppMonitorDetails: appMonitorDetails{ID: s.g.appMonitorID, Version: shopVersion},
			UserDetails:       userDetails{UserID: s.userID, SessionID: s.id},
			RumEvents:         events[:n],
			SessionMetadata:   s.sessionMetadata,
		}
		events = events[n:]
		raw, err := json.Marshal(batch)
		if err != nil {
			s.g.log.Error("encode PutRumEvents", "err", err)
			return
		}
		s.send(ctx, raw, n, beacon)
		if s.stopped {
			return
		}
	}
}

func (s *session) send(ctx context.Context, raw []byte, events int, beacon bool) {
	endpoint := s.g.ingestURL + "/appmonitors/" + s.g.appMonitorID
	body, encoding, contentType := raw, "", "text/plain;charset=UTF-8"
	if !beacon {
		contentType = "application/json"
		if gz := gzipIfWorth(raw); gz != nil {
			body, encoding = gz, "gzip"
		}
	}
	delays := s.g.retryDelays
	if delays == nil {
		delays = retryDelays
	}
	for attempt := 0; ; attempt++ {
		status, err := s.post(ctx, endpoint, body, contentType, encoding)
		switch {
		case err == nil && status/100 == 2:
			s.g.stats.batches.Add(1)
			s.g.stats.events.Add(int64(events))
			return
		case err == nil && (status == http.StatusForbidden || status == http.StatusNotFound):
			s.g.stats.batchesFailed.Add(1)
			s.stopped = true
			s.g.log.Warn("collector refuses the demo's batches; this session stops sending", "status", status)
			return
		case err == nil && status != http.StatusTooManyRequests && status < 500:
			s.g.stats.batchesFailed.Add(1)
			s.g.log.Warn("collector dropped a demo batch", "status", status)
			return
		}
		if beacon || attempt >= len(delays) || ctx.Err() != nil {
			s.g.stats.batchesFailed.Add(1)
			s.g.log.Warn("collector did not take a demo batch", "status", status, "err", err, "beacon", beacon, "attempts", attempt+1)
			return
		}
		if sleepCtx(ctx, delays[attempt]) != nil {
			s.g.stats.batchesFailed.Add(1)
			return
		}
	}
}

func (s *session) post(ctx context.Context, endpoint string, body []byte, contentType, encoding string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	s.browserHeaders(req)
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := s.g.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// gzipIfWorth compresses as the agent does: only bodies of 2048 bytes or
// more, and only when that saves at least 20%; nil otherwise.
func gzipIfWorth(raw []byte) []byte {
	if len(raw) < 2048 {
		return nil
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	if buf.Len() > len(raw)*8/10 {
		return nil
	}
	return buf.Bytes()
}
