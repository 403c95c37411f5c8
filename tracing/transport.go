package tracing

import (
	"net/http"
)

// Transport is an http.RoundTripper that records a subsegment for each outbound call
// made with a traced context and propagates the trace downstream in X-Amzn-Trace-Id
// (Parent = the subsegment's id) and, when Traceparent is set, in traceparent too.
type Transport struct {
	// Base performs the request (default http.DefaultTransport).
	Base http.RoundTripper
	// Traceparent also sends the W3C traceparent header.
	Traceparent bool
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	parent := FromContext(req.Context())
	if parent == nil {
		return base.RoundTrip(req)
	}
	if !parent.sampled {
		out := req.Clone(req.Context())
		h := parent.header()
		out.Header.Set(AmznTraceHeader, h.String())
		if t.Traceparent {
			// W3C forbids an all-zero parent id; any fresh id with flags 00 says "not sampled".
			h.ParentID = newID()
			out.Header.Set(TraceparentHeader, h.Traceparent())
		}
		return base.RoundTrip(out)
	}

	sub := parent.newChild(req.URL.Host)
	out := req.Clone(ContextWithSpan(req.Context(), sub))
	h := sub.header()
	out.Header.Set(AmznTraceHeader, h.String())
	if t.Traceparent {
		out.Header.Set(TraceparentHeader, h.Traceparent())
	}
	resp, err := base.RoundTrip(out)

	sub.tree.mu.Lock()
	sub.namespace = hostNamespace(req.URL.Host)
	sub.http = &httpDoc{Request: &httpRequestDoc{Method: req.Method, URL: redactURL(req), Traced: true}}
	if err == nil {
		sub.http.Response = &httpResponseDoc{Status: resp.StatusCode}
		if resp.ContentLength > 0 {
			sub.http.Response.ContentLength = resp.ContentLength
		}
		sub.setStatusFlagsLocked(resp.StatusCode)
	}
	sub.tree.mu.Unlock()
	if err != nil {
		sub.addException(exceptionDoc{ID: newID(), Type: "RoundTripError", Message: err.Error(), Remote: true}, true)
	}
	sub.End()
	return resp, err
}

// redactURL drops user info so credentials in URLs never reach the trace store.
func redactURL(req *http.Request) string {
	if req.URL.User == nil {
		return req.URL.String()
	}
	u := *req.URL
	u.User = nil
	return u.String()
}
