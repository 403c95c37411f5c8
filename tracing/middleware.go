package tracing

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Middleware traces each request: it continues the caller's trace from X-Amzn-Trace-Id
// or traceparent (an invalid header starts a new trace, never an error), records one
// segment per sampled request, answers with X-Amzn-Trace-Id, and puts the segment in
// the request context for Start, Transport and the SQL helpers.
func (r *Recorder) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h := incomingHeader(req)
		seg := r.newSegment(r.serviceName, h, SamplingRequest{
			Host:        req.Host,
			Method:      req.Method,
			URLPath:     req.URL.Path,
			ServiceName: r.serviceName,
		})
		w.Header()[AmznTraceHeader] = []string{responseHeader(seg)}
		req = req.WithContext(ContextWithSpan(req.Context(), seg))
		if !seg.sampled {
			r.serveUnsampled(w, req, next)
			return
		}
		r.serveSampled(w, req, next, seg)
	})
}

// incomingHeader prefers X-Amzn-Trace-Id, then traceparent; an invalid or absent header
// yields the zero TraceHeader, which starts a new trace.
func incomingHeader(req *http.Request) TraceHeader {
	if v := req.Header[AmznTraceHeader]; len(v) > 0 {
		if h, err := ParseTraceHeader(v[0]); err == nil {
			return h
		}
	}
	if v := req.Header[TraceparentHeader]; len(v) > 0 {
		if h, err := ParseTraceparent(v[0]); err == nil {
			return h
		}
	}
	return TraceHeader{}
}

// responseHeader is "Root=<id>;Sampled=<0|1>", as aws-xray-sdk-go answers.
func responseHeader(s *Span) string {
	if s.sampled {
		return "Root=" + s.traceID + ";Sampled=1"
	}
	return "Root=" + s.traceID + ";Sampled=0"
}

func (r *Recorder) serveUnsampled(w http.ResponseWriter, req *http.Request, next http.Handler) {
	if !r.recoverPanics {
		next.ServeHTTP(w, req)
		return
	}
	rw := &responseWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			if !rw.wroteHeader {
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			}
		}
	}()
	next.ServeHTTP(rw, req)
}

func (r *Recorder) serveSampled(w http.ResponseWriter, req *http.Request, next http.Handler, seg *Span) {
	rw := &responseWriter{ResponseWriter: w}
	httpReq := &httpRequestDoc{
		Method:    req.Method,
		URL:       requestURL(req),
		UserAgent: req.UserAgent(),
	}
	httpReq.ClientIP, httpReq.XForwardedFor = clientIP(req)
	defer func() {
		p := recover()
		if p != nil {
			seg.recordPanic(p)
		}
		status := rw.status
		if p != nil && !rw.wroteHeader {
			status = http.StatusInternalServerError
		} else if status == 0 {
			status = http.StatusOK
		}
		length := rw.written
		if cl := rw.Header().Get("Content-Length"); cl != "" {
			if n, err := strconv.ParseInt(cl, 10, 64); err == nil {
				length = n
			}
		}
		seg.tree.mu.Lock()
		seg.http = &httpDoc{Request: httpReq, Response: &httpResponseDoc{Status: status, ContentLength: length}}
		seg.setStatusFlagsLocked(status)
		seg.tree.mu.Unlock()
		seg.End()
		if p != nil {
			if !r.recoverPanics || p == http.ErrAbortHandler {
				panic(p)
			}
			if !rw.wroteHeader {
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			}
		}
	}()
	next.ServeHTTP(rw, req)
}

func requestURL(req *http.Request) string {
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	} else if p := req.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme = p
	}
	return scheme + "://" + req.Host + req.URL.RequestURI()
}

// clientIP is the first X-Forwarded-For entry when present (the browser behind a proxy),
// else the peer address.
func clientIP(req *http.Request) (string, bool) {
	if xff := req.Header.Get("X-Forwarded-For"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		return strings.TrimSpace(first), true
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr, false
	}
	return host, false
}

// responseWriter captures the status and body size. Unwrap lets http.ResponseController
// reach the underlying writer's optional interfaces.
type responseWriter struct {
	http.ResponseWriter
	status      int
	written     int64
	wroteHeader bool
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush is implemented directly because many handlers type-assert http.Flusher.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack keeps websocket upgrades working through the middleware.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("tracing: underlying ResponseWriter does not support hijacking")
}
