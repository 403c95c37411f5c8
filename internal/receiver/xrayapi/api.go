// Package xrayapi serves the ingest half of the X-Ray API:
// PutTraceSegments (POST /TraceSegments) and PutTelemetryRecords
// (POST /TelemetryRecords), as the real daemon and aws-sdk-go-v2 send them.
package xrayapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/receiver/xraydoc"
)

// DefaultMaxBodyBytes is the default request body limit.
const DefaultMaxBodyBytes = 5 << 20

// Paths the handlers are meant to be mounted on.
const (
	PathTraceSegments    = "/TraceSegments"
	PathTelemetryRecords = "/TelemetryRecords"
)

// Options configure an API. Only Sink is required.
type Options struct {
	Sink xraydoc.Sink
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	Registerer   prometheus.Registerer
	Logger       *slog.Logger
	Now          func() time.Time
}

// API holds the handlers and their counters.
type API struct {
	opts Options
	log  *slog.Logger

	requests  atomic.Uint64
	accepted  atomic.Uint64
	rejected  atomic.Uint64 // documents answered as unprocessed
	throttled atomic.Uint64 // requests answered 429
	telemetry atomic.Uint64 // TelemetryRecords entries
}

// Stats are the API's counters.
type Stats struct {
	Requests, Accepted, Rejected, Throttled, TelemetryRecords uint64
}

// New checks the options and makes an API.
func New(opts Options) (*API, error) {
	if opts.Sink == nil {
		return nil, errors.New("xrayapi: Options.Sink is required")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &API{opts: opts, log: opts.Logger.With("component", "xrayapi")}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(&collector{a: a}); err != nil {
			return nil, fmt.Errorf("xrayapi: register metrics: %w", err)
		}
	}
	return a, nil
}

// Register mounts both handlers on mux at their AWS paths.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("POST "+PathTraceSegments, a.TraceSegmentsHandler())
	mux.Handle("POST "+PathTelemetryRecords, a.TelemetryRecordsHandler())
}

// Stats returns the counters.
func (a *API) Stats() Stats {
	return Stats{Requests: a.requests.Load(), Accepted: a.accepted.Load(), Rejected: a.rejected.Load(),
		Throttled: a.throttled.Load(), TelemetryRecords: a.telemetry.Load()}
}

type unprocessed struct {
	ID        string `json:"Id,omitempty"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
}

// TraceSegmentsHandler serves PutTraceSegments. Each document is checked
// on its own: bad ones come back in UnprocessedTraceSegments, the good ones
// go to the Sink in one call. Only a Sink failure fails the whole request.
// SigV4 Authorization headers are accepted without verification.
func (a *API) TraceSegmentsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.requests.Add(1)
		var in struct {
			TraceSegmentDocuments []string `json:"TraceSegmentDocuments"`
		}
		if !a.decode(w, r, &in) {
			return
		}
		if in.TraceSegmentDocuments == nil {
			writeError(w, http.StatusBadRequest, "InvalidRequestException", "TraceSegmentDocuments is required")
			return
		}
		now := a.opts.Now().UnixMicro()
		recs := make([]model.SegmentRecord, 0, len(in.TraceSegmentDocuments))
		bad := []unprocessed{}
		for _, doc := range in.TraceSegmentDocuments {
			raw := []byte(doc)
			seg, err := model.ParseSegmentDocument(raw)
			if err != nil {
				var se *model.SegmentError
				u := unprocessed{ErrorCode: "InvalidSegment", Message: err.Error()}
				if errors.As(err, &se) {
					u.ID, u.ErrorCode = se.ID, string(se.Code)
				}
				bad = append(bad, u)
				continue
			}
			recs = append(recs, model.SegmentRecord{Segment: seg, Raw: json.RawMessage(raw), ReceivedAtMicros: now})
		}
		if len(recs) > 0 {
			if err := a.opts.Sink.AcceptSegments(r.Context(), recs); err != nil {
				if errors.Is(err, xraydoc.ErrSinkFull) {
					a.throttled.Add(1)
					w.Header().Set("Retry-After", "1")
					writeError(w, http.StatusTooManyRequests, "ThrottledException", "ingest is full; retry later")
					return
				}
				a.log.Error("segment sink failed", "docs", len(recs), "err", err)
				writeError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "could not store segments; retry later")
				return
			}
		}
		a.accepted.Add(uint64(len(recs)))
		a.rejected.Add(uint64(len(bad)))
		writeJSON(w, map[string]any{"UnprocessedTraceSegments": bad})
	})
}

// TelemetryRecordsHandler accepts the daemon's PutTelemetryRecords and
// counts the records; nothing is stored.
func (a *API) TelemetryRecordsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			TelemetryRecords []json.RawMessage `json:"TelemetryRecords"`
		}
		if !a.decode(w, r, &in) {
			return
		}
		a.telemetry.Add(uint64(len(in.TelemetryRecords)))
		writeJSON(w, struct{}{})
	})
}

func (a *API) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "InvalidRequestException",
				fmt.Sprintf("request body over %d bytes", a.opts.MaxBodyBytes))
			return false
		}
		writeError(w, http.StatusBadRequest, "InvalidRequestException", "could not read request body")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequestException", "request body is not valid JSON for this operation: "+err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in the AWS restJson1 error shape.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

type collector struct{ a *API }

var (
	descRequests = prometheus.NewDesc("sightline_xray_api_put_trace_segments_requests_total",
		"PutTraceSegments requests.", nil, nil)
	descDocs = prometheus.NewDesc("sightline_xray_api_segments_total",
		"Segment documents received by PutTraceSegments, by outcome.", []string{"outcome"}, nil)
	descThrottled = prometheus.NewDesc("sightline_xray_api_throttled_total",
		"PutTraceSegments requests answered 429 because the sink was full.", nil, nil)
	descTelemetry = prometheus.NewDesc("sightline_xray_api_telemetry_records_total",
		"Telemetry records received.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRequests
	ch <- descDocs
	ch <- descThrottled
	ch <- descTelemetry
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.a.Stats()
	ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(s.Requests))
	ch <- prometheus.MustNewConstMetric(descDocs, prometheus.CounterValue, float64(s.Accepted), "accepted")
	ch <- prometheus.MustNewConstMetric(descDocs, prometheus.CounterValue, float64(s.Rejected), "rejected")
	ch <- prometheus.MustNewConstMetric(descThrottled, prometheus.CounterValue, float64(s.Throttled))
	ch <- prometheus.MustNewConstMetric(descTelemetry, prometheus.CounterValue, float64(s.TelemetryRecords))
}
