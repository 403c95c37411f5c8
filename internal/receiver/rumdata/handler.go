package rumdata

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/api/awserr"
	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/pipeline"
)

// ErrUnknownAppMonitor is what an AppMonitors lookup returns for an id it
// does not know.
var ErrUnknownAppMonitor = errors.New("unknown app monitor")

// AppMonitors resolves app monitor ids from request paths.
type AppMonitors interface {
	AppMonitorByID(ctx context.Context, id string) (*model.AppMonitor, error)
}

// Sink takes an accepted batch durably; it returns only once the batch is
// safe (fsynced). Any error is transient for the client (503 + Retry-After).
type Sink interface {
	Accept(ctx context.Context, b *model.Batch) error
}

// Options configures the handler; zero limits are replaced by defaults.
type Options struct {
	MaxBodyBytes         int64
	MaxDecompressedBytes int64
	Limits               Limits
	RatePerIP            float64
	BurstPerIP           int
	RatePerApp           float64
	BurstPerApp          int
	DedupWindow          time.Duration
	CORSMaxAge           time.Duration
	RetryAfter           time.Duration
	AnonymizeIP          bool
	ParseSegment         SegmentParser
	Logger               *slog.Logger
	Registerer           prometheus.Registerer
	Now                  func() time.Time
	// Config serves GET /appmonitors/{id}/config for Sightline's agent;
	// nil answers 404.
	Config http.Handler
	// Country maps a client address (before anonymisation) to an ISO
	// country code; nil leaves country to the client's metadata.
	Country func(ip string) string
	// Observe is told about every newly stored batch (not duplicates), for
	// metrics computed at ingest.
	Observe func(appMonitorName string, events []model.RumEvent)
}

// Handler serves PutRumEvents on any path ending in /appmonitors/{id}.
type Handler struct {
	opts     Options
	monitors AppMonitors
	sink     Sink
	log      *slog.Logger
	dedup    *dedup
	ipLimit  *limiterSet
	appLimit *limiterSet
	requests *prometheus.CounterVec
	events   *prometheus.CounterVec
	// pages caches each app monitor definition's compiled page rules, so
	// a request never compiles regular expressions.
	pages sync.Map // page rules text → *pipeline.PageMatcher
}

// NewHandler builds the PutRumEvents handler.
func NewHandler(monitors AppMonitors, sink Sink, opts Options) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxDecompressedBytes <= 0 {
		opts.MaxDecompressedBytes = 10 << 20
	}
	if opts.Limits.MaxEvents <= 0 {
		opts.Limits.MaxEvents = 100
	}
	if opts.Limits.MaxEventBytes <= 0 {
		opts.Limits.MaxEventBytes = 256 << 10
	}
	if opts.DedupWindow <= 0 {
		opts.DedupWindow = 10 * time.Minute
	}
	if opts.CORSMaxAge <= 0 {
		opts.CORSMaxAge = 2 * time.Hour
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		opts: opts, monitors: monitors, sink: sink, log: opts.Logger,
		dedup:    newDedup(opts.DedupWindow, 1_000_000, opts.Now),
		ipLimit:  newLimiterSet(opts.RatePerIP, opts.BurstPerIP, 100_000, opts.Now),
		appLimit: newLimiterSet(opts.RatePerApp, opts.BurstPerApp, 100_000, opts.Now),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_rum_requests_total",
			Help: "PutRumEvents requests by outcome.",
		}, []string{"outcome"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_rum_events_total",
			Help: "RUM events by outcome (accepted, or why they were dropped).",
		}, []string{"outcome"}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(h.requests, h.events)
	}
	return h
}

// MarkSeen records a batch id as already accepted (used when the spool is
// replayed after a restart, so retries of those batches stay deduplicated).
func (h *Handler) MarkSeen(appMonitorID, batchID string) {
	h.dedup.markDone(appMonitorID + "/" + batchID)
}

// apiError is the JSON error body AWS clients expect.
type apiError struct {
	status int
	code   string
	msg    string
}

func (h *Handler) fail(w http.ResponseWriter, outcome string, e apiError) {
	h.requests.WithLabelValues(outcome).Inc()
	if e.status == http.StatusTooManyRequests || e.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(int((h.opts.RetryAfter+time.Second-1)/time.Second)))
	}
	awserr.Write(w, e.status, e.code, e.msg)
}

// parsePath finds the app monitor id in .../appmonitors/{id}[/][config].
func parsePath(p string) (id string, sub string, ok bool) {
	i := strings.LastIndex(p, "/appmonitors/")
	if i < 0 {
		return "", "", false
	}
	rest := strings.TrimSuffix(p[i+len("/appmonitors/"):], "/")
	id, sub, _ = strings.Cut(rest, "/")
	if id == "" || strings.Contains(sub, "/") {
		return "", "", false
	}
	return id, sub, true
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, sub, ok := parsePath(r.URL.Path)
	if !ok || (sub != "" && sub != "config") {
		h.fail(w, "not_found", apiError{http.StatusNotFound, "ResourceNotFoundException", "no such path: PutRumEvents is POST /appmonitors/{id}"})
		return
	}
	origin := r.Header.Get("Origin")
	if origin != "" {
		// Echo the origin even on errors, so the browser shows the client
		// our status code (403/404 stop it, 4xx drop the batch) instead of
		// a CORS failure that it would retry.
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Add("Vary", "Origin")
	}
	mon, err := h.monitors.AppMonitorByID(r.Context(), id)
	if errors.Is(err, ErrUnknownAppMonitor) {
		h.fail(w, "unknown_app_monitor", apiError{http.StatusNotFound, "ResourceNotFoundException", fmt.Sprintf("app monitor %q does not exist", id)})
		return
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "look up app monitor", "id", id, "err", err)
		h.fail(w, "unavailable", apiError{http.StatusServiceUnavailable, "ServiceUnavailableException", "app monitor lookup failed; retry"})
		return
	}
	if origin != "" && !OriginAllowed(origin, mon.Domains()) {
		h.fail(w, "origin_forbidden", apiError{http.StatusForbidden, "AccessDeniedException",
			fmt.Sprintf("origin %q is not in the domains of app monitor %q", origin, mon.Name)})
		return
	}
	switch {
	case r.Method == http.MethodOptions:
		h.preflight(w, r)
	case sub == "config" && r.Method == http.MethodGet:
		if h.opts.Config == nil {
			h.fail(w, "not_found", apiError{http.StatusNotFound, "ResourceNotFoundException", "remote config is not served here"})
			return
		}
		h.opts.Config.ServeHTTP(w, r)
	case sub == "" && r.Method == http.MethodPost:
		h.put(w, r, mon)
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		h.fail(w, "bad_method", apiError{http.StatusMethodNotAllowed, "ValidationException", r.Method + " is not allowed here; use POST"})
	}
}

func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
	// Allow every requested header name: allowing only content-type
	// silently drops every gzipped batch (content-encoding), and signed
	// clients add SigV4 names.
	req := r.Header.Values("Access-Control-Request-Headers")
	allowed := []string{"content-type", "content-encoding", "authorization", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token", "x-amz-user-agent", "amz-sdk-invocation-id", "amz-sdk-request"}
	for _, line := range req {
		for _, name := range strings.Split(line, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "" && validToken(name) && !slices.Contains(allowed, name) {
				allowed = append(allowed, name)
			}
		}
	}
	hdr.Set("Access-Control-Allow-Headers", strings.Join(allowed, ", "))
	hdr.Set("Access-Control-Max-Age", strconv.Itoa(int(h.opts.CORSMaxAge/time.Second)))
	hdr.Add("Vary", "Access-Control-Request-Headers")
	h.requests.WithLabelValues("preflight").Inc()
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) put(w http.ResponseWriter, r *http.Request, mon *model.AppMonitor) {
	ctx := r.Context()
	ip := clientIP(r)
	if !h.ipLimit.allow(ip) {
		h.fail(w, "rate_limited_ip", apiError{http.StatusTooManyRequests, "ThrottlingException", "too many requests from this address"})
		return
	}
	if !h.appLimit.allow(mon.ID) {
		h.fail(w, "rate_limited_app", apiError{http.StatusTooManyRequests, "ThrottlingException", "too many requests for this app monitor"})
		return
	}
	body, apiErr := h.readBody(w, r)
	if apiErr != nil {
		h.fail(w, "bad_body", *apiErr)
		return
	}
	req, err := Decode(body, h.opts.Limits)
	if err != nil {
		h.fail(w, "invalid", apiError{http.StatusBadRequest, "ValidationException", err.Error()})
		return
	}
	if req.AppMonitorID != "" && req.AppMonitorID != mon.ID {
		h.fail(w, "invalid", apiError{http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("AppMonitorDetails.id %q does not match the path's app monitor %q", req.AppMonitorID, mon.ID)})
		return
	}
	now := h.opts.Now()
	o := Origin{UserAgent: r.UserAgent(), Client: pipeline.ParseUserAgent(r.UserAgent()), Scheme: "https"}
	if u, err := url.Parse(r.Header.Get("Origin")); err == nil && u.Scheme != "" {
		o.Scheme = u.Scheme
	}
	o.ClientIP = ip
	if h.opts.Country != nil {
		o.Country = h.opts.Country(ip)
	}
	if h.opts.AnonymizeIP {
		o.ClientIP = pipeline.AnonymizeIP(ip)
	}
	events, segs, err := ToModel(req, mon.ID, o, now.UnixMicro(), h.opts.ParseSegment)
	if err != nil {
		h.fail(w, "invalid", apiError{http.StatusBadRequest, "ValidationException", err.Error()})
		return
	}
	events, segs = h.filter(mon, o.Scheme, events, segs)

	key := mon.ID + "/" + req.BatchID
	switch h.dedup.begin(key) {
	case dedupDone:
		h.requests.WithLabelValues("duplicate").Inc()
		h.events.WithLabelValues("duplicate").Add(float64(len(req.Events)))
		writeOK(w)
		return
	case dedupInFlight:
		h.fail(w, "in_flight", apiError{http.StatusServiceUnavailable, "ServiceUnavailableException", "this BatchId is being stored; retry"})
		return
	}
	batch := &model.Batch{Rum: events, Segments: segs, RumBatchID: req.BatchID, AppMonitorID: mon.ID}
	if err := h.sink.Accept(ctx, batch); err != nil {
		h.dedup.abort(key)
		h.log.WarnContext(ctx, "spool refused batch", "app_monitor", mon.ID, "err", err)
		h.fail(w, "unavailable", apiError{http.StatusServiceUnavailable, "ServiceUnavailableException", "ingest is temporarily unavailable; retry"})
		return
	}
	h.dedup.finish(key)
	if h.opts.Observe != nil {
		h.opts.Observe(mon.Name, events)
	}
	h.requests.WithLabelValues("accepted").Inc()
	h.events.WithLabelValues("accepted").Add(float64(len(events)))
	writeOK(w)
}

func writeOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "{}")
}

// filter drops what the app monitor does not collect: disabled
// telemetries, custom events when not enabled, excluded pages.
func (h *Handler) filter(mon *model.AppMonitor, scheme string, events []model.RumEvent, segs []model.SegmentRecord) ([]model.RumEvent, []model.SegmentRecord) {
	pages := h.pageMatcher(mon)
	xray := mon.AppMonitorConfiguration.EnableXRay == nil || *mon.AppMonitorConfiguration.EnableXRay
	kept := events[:0]
	keptSegs := map[string]bool{}
	for _, e := range events {
		reason := ""
		switch telemetryOf(e.Type) {
		case "":
			if !mon.CustomEventsEnabled && !strings.HasPrefix(e.Type, model.EventTypePrefix) {
				reason = "dropped_custom_disabled"
			}
		case model.TelemetryHTTP:
			if !mon.TelemetryEnabled(model.TelemetryHTTP) || (e.Type == model.EventXRayTrace && !xray) {
				reason = "dropped_telemetry"
			}
		default:
			if !mon.TelemetryEnabled(telemetryOf(e.Type)) {
				reason = "dropped_telemetry"
			}
		}
		if reason == "" && e.PageID != "" && pages != nil {
			full := e.PageID
			if e.Domain != "" && strings.HasPrefix(e.PageID, "/") {
				full = scheme + "://" + e.Domain + e.PageID
			}
			if !pages.Keep(full) {
				reason = "dropped_page"
			}
		}
		if reason != "" {
			h.events.WithLabelValues(reason).Inc()
			continue
		}
		if e.Type == model.EventXRayTrace {
			keptSegs[e.SegmentID] = true
		}
		kept = append(kept, e)
	}
	outSegs := segs[:0]
	for _, s := range segs {
		if keptSegs[s.Segment.ID] {
			outSegs = append(outSegs, s)
		}
	}
	return kept, outSegs
}

func (h *Handler) pageMatcher(mon *model.AppMonitor) *pipeline.PageMatcher {
	c := mon.AppMonitorConfiguration
	if len(c.IncludedPages) == 0 && len(c.ExcludedPages) == 0 {
		return nil
	}
	// Keyed by the rules themselves, so an edited definition never meets
	// a stale matcher.
	key := strings.Join(c.IncludedPages, "\x00") + "\x01" + strings.Join(c.ExcludedPages, "\x00")
	if m, ok := h.pages.Load(key); ok {
		return m.(*pipeline.PageMatcher)
	}
	m, err := pipeline.NewPageMatcher(c.IncludedPages, c.ExcludedPages)
	if err != nil {
		m = nil // validated at create time; a bad stored list must not drop data
	}
	h.pages.Store(key, m)
	return m
}

func telemetryOf(t string) string {
	switch t {
	case model.EventJSError:
		return model.TelemetryErrors
	case model.EventNavigation, model.EventResource, model.EventLCP, model.EventFID, model.EventCLS,
		model.EventINP, model.EventFCP, model.EventTTFB:
		return model.TelemetryPerf
	case model.EventHTTP, model.EventXRayTrace:
		return model.TelemetryHTTP
	}
	return ""
}

func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	ct := r.Header.Get("Content-Type")
	if ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || mt == "text/plain" || mt == "application/x-amz-json-1.1") {
			return nil, &apiError{http.StatusUnsupportedMediaType, "ValidationException",
				fmt.Sprintf("Content-Type %q is not supported; send application/json or text/plain", ct)}
		}
	}
	if r.ContentLength > h.opts.MaxBodyBytes {
		return nil, &apiError{http.StatusRequestEntityTooLarge, "ValidationException",
			fmt.Sprintf("body is %d bytes, at most %d", r.ContentLength, h.opts.MaxBodyBytes)}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{http.StatusRequestEntityTooLarge, "ValidationException", fmt.Sprintf("body exceeds %d bytes", h.opts.MaxBodyBytes)}
		}
		return nil, &apiError{http.StatusBadRequest, "ValidationException", "reading body: " + err.Error()}
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		if int64(len(raw)) > h.opts.MaxDecompressedBytes {
			return nil, &apiError{http.StatusRequestEntityTooLarge, "ValidationException", "body too large"}
		}
		return raw, nil
	case "gzip":
		return gunzip(raw, h.opts.MaxDecompressedBytes)
	default:
		return nil, &apiError{http.StatusUnsupportedMediaType, "ValidationException",
			fmt.Sprintf("Content-Encoding %q is not supported; send gzip or none", enc)}
	}
}

// gunzip decodes with a hard cap so a small bomb cannot expand unbounded.
func gunzip(raw []byte, limit int64) ([]byte, *apiError) {
	zr, err := gzip.NewReader(strings.NewReader(string(raw)))
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, "ValidationException", "Content-Encoding is gzip but the body is not: " + err.Error()}
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, "ValidationException", "broken gzip body: " + err.Error()}
	}
	if int64(len(out)) > limit {
		return nil, &apiError{http.StatusRequestEntityTooLarge, "ValidationException",
			fmt.Sprintf("decompressed body exceeds %d bytes", limit)}
	}
	return out, nil
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// OriginAllowed matches an Origin header against app monitor domains:
// exact host names, "*.example.com" for subdomains, host:port when the
// pattern names a port. localhost and 127.0.0.1 pass only when listed.
func OriginAllowed(origin string, domains []string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	hostPort := strings.ToLower(u.Host)
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if strings.Contains(d, "://") {
			if du, err := url.Parse(d); err == nil {
				d = du.Host
			}
		}
		target := host
		if strings.Contains(d, ":") {
			target = hostPort
		}
		if d == target {
			return true
		}
		if strings.HasPrefix(d, "*.") && strings.HasSuffix(target, d[1:]) && len(target) > len(d)-1 {
			return true
		}
	}
	return false
}

func validToken(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return len(s) <= 100
}
