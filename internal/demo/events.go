package demo

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// eventPrefix starts every built-in RUM event type.
const eventPrefix = "com.amazon.rum."

// agentVersion is the client version synthetic sessions report.
const agentVersion = "0.1.0"

// rumEvent is one element of RumEvents, as the agent sends it: metadata
// and details are JSON strings holding JSON.
type rumEvent struct {
	ID        string  `json:"id"`
	Timestamp float64 `json:"timestamp"` // epoch seconds
	Type      string  `json:"type"`
	Metadata  string  `json:"metadata"`
	Details   string  `json:"details"`
}

// putRumEvents is the PutRumEvents request body.
type putRumEvents struct {
	BatchID           string            `json:"BatchId"`
	AppMonitorDetails appMonitorDetails `json:"AppMonitorDetails"`
	UserDetails       userDetails       `json:"UserDetails"`
	RumEvents         []rumEvent        `json:"RumEvents"`
	SessionMetadata   string            `json:"SessionMetadata,omitempty"`
}

type appMonitorDetails struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

type userDetails struct {
	UserID    string `json:"userId"`
	SessionID string `json:"sessionId"`
}

// maxEventsPerBatch is PutRumEvents' limit.
const maxEventsPerBatch = 100

// newUUID returns a version 4 UUID drawn from rnd, so a seeded demo repeats.
func newUUID(rnd *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rnd.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newSpanID returns 16 hex digits, an X-Ray segment or subsegment id.
func newSpanID(rnd *rand.Rand) string {
	return fmt.Sprintf("%016x", rnd.Uint64()|1)
}

// newTraceID returns an X-Ray trace id started at t.
func newTraceID(rnd *rand.Rand, t time.Time) string {
	return fmt.Sprintf("1-%08x-%08x%016x", t.Unix(), rnd.Uint32(), rnd.Uint64())
}

func epochSeconds(t time.Time) float64 {
	return float64(t.UnixMicro()) / 1e6
}

// ms rounds a duration in ms to 0.1 ms, as performance entries are.
func ms(v float64) float64 { return math.Round(v*10) / 10 }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only maps of plain values are marshalled here.
		panic(fmt.Sprintf("demo: marshal %T: %v", v, err))
	}
	return string(b)
}

// apiCall is one traced request from a page to the API, as the browser saw it.
type apiCall struct {
	method, url, host string
	start, end        time.Time
	status            int // 0: no response (network or CORS failure)
	statusText        string
	contentLength     int64
	traceID           string
	segmentID         string // the browser segment
	subsegmentID      string // the header's Parent
	errType, errMsg   string
}

func healthFlags(status int, m map[string]any) {
	switch {
	case status == 0 || status >= 500:
		m["fault"] = true
	case status == 429:
		m["throttle"] = true
	case status >= 400:
		m["error"] = true
	}
}

// xrayTraceDetails is the browser segment of a call, as the agent records
// it: origin AWS::RUM::AppMonitor, one remote subsegment whose id is the
// Parent the API received.
func xrayTraceDetails(c apiCall, name string) map[string]any {
	httpDoc := map[string]any{"request": map[string]any{"method": c.method, "url": c.url, "traced": true}}
	if c.status != 0 {
		res := map[string]any{"status": c.status}
		if c.contentLength >= 0 {
			res["content_length"] = c.contentLength
		}
		httpDoc["response"] = res
	}
	sub := map[string]any{
		"id": c.subsegmentID, "name": c.host, "start_time": epochSeconds(c.start), "end_time": epochSeconds(c.end),
		"in_progress": false, "namespace": "remote", "http": httpDoc,
	}
	healthFlags(c.status, sub)
	if c.errType != "" {
		sub["cause"] = map[string]any{"exceptions": []map[string]string{{"type": c.errType, "message": c.errMsg}}}
	}
	seg := map[string]any{
		"version": "1.0.0", "name": name, "origin": "AWS::RUM::AppMonitor", "id": c.segmentID,
		"start_time": epochSeconds(c.start), "trace_id": c.traceID, "end_time": epochSeconds(c.end),
		"subsegments": []any{sub}, "in_progress": false,
	}
	healthFlags(c.status, seg)
	return seg
}

// httpEventDetails is the http_event of a call; trace_id and segment_id
// tie it to the trace.
func httpEventDetails(c apiCall) map[string]any {
	d := map[string]any{
		"version":    "1.0.0",
		"request":    map[string]any{"url": c.url, "method": c.method},
		"duration":   ms(float64(c.end.Sub(c.start).Microseconds()) / 1000),
		"trace_id":   c.traceID,
		"segment_id": c.subsegmentID,
	}
	if c.status != 0 {
		d["response"] = map[string]any{"status": c.status, "statusText": c.statusText}
	}
	if c.errType != "" {
		d["error"] = map[string]any{"version": "1.0.0", "type": c.errType, "message": c.errMsg}
	}
	return d
}

// navigationDetails is a performance_navigation_event consistent with the
// page's vitals: TTFB ends the request, FCP follows DOM interactive, the
// load event follows LCP. A new connection pays DNS and connect.
func navigationDetails(rnd *rand.Rand, v vitals, newConnection bool, navType string) map[string]any {
	fetchStart := uniform(rnd, 1, 6)
	dns, connect := 0.0, 0.0
	if newConnection {
		dns = uniform(rnd, 0.15, 0.35) * v.ttfb
		connect = uniform(rnd, 0.15, 0.3) * v.ttfb
	}
	requestStart := fetchStart + dns + connect
	responseStart := math.Max(v.ttfb, requestStart+1)
	responseTime := uniform(rnd, 2, 25)
	responseEnd := responseStart + responseTime
	domInteractive := math.Max(responseEnd+5, v.fcp*uniform(rnd, 0.8, 0.95))
	dclStart := domInteractive + uniform(rnd, 0.2, 3)
	dclTime := uniform(rnd, 0.5, 8)
	domComplete := math.Max(dclStart+dclTime+1, v.lcp*uniform(rnd, 0.85, 1.05))
	loadTime := uniform(rnd, 0.3, 4)
	transfer := 2200 + rnd.IntN(900)
	return map[string]any{
		"version": "1.0.0", "initiatorType": "navigation", "navigationType": navType, "startTime": 0,
		"unloadEventStart": 0, "promptForUnload": 0, "redirectCount": 0, "redirectStart": 0, "redirectTime": 0,
		"workerStart": 0, "workerTime": 0, "fetchStart": ms(fetchStart), "domainLookupStart": ms(fetchStart), "dns": ms(dns),
		"nextHopProtocol": "http/1.1", "connectStart": ms(fetchStart + dns), "connect": ms(connect),
		"secureConnectionStart": 0, "tlsTime": 0, "requestStart": ms(requestStart),
		"timeToFirstByte": ms(responseStart - requestStart), "responseStart": ms(responseStart), "responseTime": ms(responseTime),
		"domInteractive": ms(domInteractive), "domContentLoadedEventStart": ms(dclStart), "domContentLoaded": ms(dclTime),
		"domComplete": ms(domComplete), "domProcessingTime": ms(domComplete - responseEnd), "loadEventStart": ms(domComplete + 0.2),
		"loadEventTime": ms(loadTime), "duration": ms(domComplete + 0.2 + loadTime), "headerSize": 300,
		"transferSize": transfer, "compressionRatio": 1, "navigationTimingLevel": 2,
	}
}

func vitalDetails(value float64, attribution map[string]any) map[string]any {
	return map[string]any{"version": "1.0.0", "value": value, "attribution": attribution}
}

// jsError is an error as one engine reports it.
type jsError struct {
	typ, message, stack string
	line, col           int
}

// reviewWidgetError is the product page's broken widget, worded per engine
// as each really words "undefined has no property".
func reviewWidgetError(e engine, scriptURL string) jsError {
	const line, col = 92, 62
	switch e {
	case engineGecko:
		return jsError{"TypeError", "window.reviewWidget is undefined", fmt.Sprintf("product/<@%s:%d:%d\nsetTimeout handler*later@%s:31:27\nproduct@%s:92:18\n", scriptURL, line, col, scriptURL, scriptURL), line, col}
	case engineWebKit:
		return jsError{"TypeError", "undefined is not an object (evaluating 'window.reviewWidget.render')", fmt.Sprintf("@%s:%d:%d", scriptURL, line, col), line, col}
	}
	return jsError{"TypeError", "Cannot read properties of undefined (reading 'render')", fmt.Sprintf("TypeError: Cannot read properties of undefined (reading 'render')\n    at %s:%d:%d", scriptURL, line, col), line, col}
}

// checkoutError is thrown by the checkout page after a failed payment.
func checkoutError(e engine, scriptURL string, status int) jsError {
	msg := fmt.Sprintf("checkout failed with HTTP %d", status)
	const line, col = 151, 48
	switch e {
	case engineGecko, engineWebKit:
		return jsError{"Error", msg, fmt.Sprintf("checkout/</<@%s:%d:%d\n", scriptURL, line, col), line, col}
	}
	return jsError{"Error", msg, fmt.Sprintf("Error: %s\n    at %s:%d:%d", msg, scriptURL, line, col), line, col}
}

// resizeObserverError is the benign error every shop sees now and then.
func resizeObserverError() jsError {
	return jsError{"Error", "ResizeObserver loop completed with undelivered notifications.", "", 0, 0}
}

func jsErrorDetails(e jsError, filename string) map[string]any {
	d := map[string]any{"version": "1.0.0", "type": e.typ, "message": e.message}
	if e.line > 0 {
		d["filename"], d["lineno"], d["colno"] = filename, e.line, e.col
	}
	if e.stack != "" {
		d["stack"] = e.stack
	}
	return d
}
