package xrayapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/receiver/xraydoc"
)

type memSink struct {
	mu   sync.Mutex
	recs []model.SegmentRecord
	err  error
}

func (s *memSink) AcceptSegments(ctx context.Context, recs []model.SegmentRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.recs = append(s.recs, recs...)
	return nil
}

func newAPI(t *testing.T, sink xraydoc.Sink, opts Options) (*API, http.Handler) {
	t.Helper()
	opts.Sink = sink
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Register(mux)
	return a, mux
}

type captured struct {
	URI     string            `json:"request_uri"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
	BodyRaw string            `json:"body_raw"`
}

func loadCaptured(t *testing.T, path string) []captured {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []captured
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		var c captured
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// Replays what the real daemon (and aws-sdk-go-v2) sent, signed headers and all.
func TestReplayCapturedRequests(t *testing.T) {
	sink := &memSink{}
	a, h := newAPI(t, sink, Options{})
	var reqs []captured
	reqs = append(reqs, loadCaptured(t, "testdata/via_daemon_api_requests.jsonl")...)
	reqs = append(reqs, loadCaptured(t, "testdata/api_requests.jsonl")...)
	wantDocs, unprocessed, telemetry := 0, 0, 0
	for _, c := range reqs {
		if c.URI != PathTraceSegments && c.URI != PathTelemetryRecords {
			continue
		}
		req := httptest.NewRequest(c.Method, c.URI, strings.NewReader(c.BodyRaw))
		for k, v := range c.Headers {
			if k != "Content-Length" {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", c.URI, rec.Code, rec.Body)
		}
		if c.URI == PathTelemetryRecords {
			telemetry++
			continue
		}
		var in struct{ TraceSegmentDocuments []string }
		json.Unmarshal([]byte(c.BodyRaw), &in)
		var out struct {
			UnprocessedTraceSegments []struct{ Id, ErrorCode, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.UnprocessedTraceSegments == nil {
			t.Fatalf("response %s: %v", rec.Body, err)
		}
		for _, d := range in.TraceSegmentDocuments {
			if d == "THIS IS NOT JSON" {
				unprocessed++
			} else {
				wantDocs++
			}
		}
		for _, u := range out.UnprocessedTraceSegments {
			if u.ErrorCode != string(model.CodeInvalidJSON) {
				t.Errorf("unexpected unprocessed %+v", u)
			}
		}
	}
	s := a.Stats()
	if len(sink.recs) != wantDocs || s.Accepted != uint64(wantDocs) || s.Rejected != uint64(unprocessed) || unprocessed != 1 {
		t.Fatalf("sink has %d, want %d; stats %+v", len(sink.recs), wantDocs, s)
	}
	if telemetry == 0 || s.TelemetryRecords == 0 {
		t.Fatalf("telemetry requests %d, records %d", telemetry, s.TelemetryRecords)
	}
	for _, r := range sink.recs {
		if r.Segment == nil || r.ReceivedAtMicros == 0 || !json.Valid(r.Raw) {
			t.Fatalf("bad record %+v", r)
		}
	}
}

func TestPutTraceSegmentsPerDocumentErrors(t *testing.T) {
	sink := &memSink{}
	_, h := newAPI(t, sink, Options{})
	good := `{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"41dc2d5e8e5f26e7","name":"a","start_time":1,"end_time":2}`
	docs := []string{
		good,
		`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"41dc2d5e8e5f26e8","name":"a","start_time":2,"end_time":1}`,
		`{"trace_id":"1-5759e988-bd862e3fe1be46a99427279","id":"41dc2d5e8e5f26e9","name":"a","start_time":1,"end_time":2}`,
		`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"41dc2d5e8e5f26e","name":"a","start_time":1,"end_time":2}`,
		`{"trace_id":`,
	}
	body, _ := json.Marshal(map[string]any{"TraceSegmentDocuments": docs})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", PathTraceSegments, strings.NewReader(string(body))))
	var out struct {
		UnprocessedTraceSegments []struct{ Id, ErrorCode, Message string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	want := []struct{ id, code string }{
		{"41dc2d5e8e5f26e8", "EndTimeBeforeStartTime"},
		{"41dc2d5e8e5f26e9", "InvalidTraceId"},
		{"41dc2d5e8e5f26e", "InvalidId"},
		{"", "InvalidJson"},
	}
	if len(out.UnprocessedTraceSegments) != len(want) {
		t.Fatalf("unprocessed %+v", out.UnprocessedTraceSegments)
	}
	for i, w := range want {
		u := out.UnprocessedTraceSegments[i]
		if u.Id != w.id || u.ErrorCode != w.code || u.Message == "" {
			t.Errorf("unprocessed[%d] = %+v, want %v", i, u, w)
		}
	}
	if len(sink.recs) != 1 || string(sink.recs[0].Raw) != good {
		t.Fatalf("sink %+v", sink.recs)
	}
}

func TestRequestErrors(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		sink   error
		status int
		code   string
	}{
		{"bad json", `{"TraceSegmentDocuments":`, nil, 400, "InvalidRequestException"},
		{"wrong type", `{"TraceSegmentDocuments":"x"}`, nil, 400, "InvalidRequestException"},
		{"missing documents", `{}`, nil, 400, "InvalidRequestException"},
		{"too large", `{"TraceSegmentDocuments":["` + strings.Repeat("x", 2000) + `"]}`, nil, 413, "InvalidRequestException"},
		{"sink full", `{"TraceSegmentDocuments":["{\"trace_id\":\"1-5759e988-bd862e3fe1be46a994272793\",\"id\":\"41dc2d5e8e5f26e7\",\"name\":\"a\",\"start_time\":1,\"end_time\":2}"]}`,
			fmt.Errorf("spool: %w", xraydoc.ErrSinkFull), 429, "ThrottledException"},
		{"sink broken", `{"TraceSegmentDocuments":["{\"trace_id\":\"1-5759e988-bd862e3fe1be46a994272793\",\"id\":\"41dc2d5e8e5f26e7\",\"name\":\"a\",\"start_time\":1,\"end_time\":2}"]}`,
			errors.New("disk gone"), 503, "ServiceUnavailableException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, h := newAPI(t, &memSink{err: tt.sink}, Options{MaxBodyBytes: 1024})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("POST", PathTraceSegments, strings.NewReader(tt.body)))
			var body map[string]string
			json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != tt.status || rec.Header().Get("X-Amzn-ErrorType") != tt.code || body["__type"] != tt.code || body["message"] == "" {
				t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
			}
		})
	}
}

func client(t *testing.T, h http.Handler) *xray.Client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return xray.New(xray.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}, nil
		})})
}

func TestAWSSDKPutTraceSegments(t *testing.T) {
	sink := &memSink{}
	reg := prometheus.NewRegistry()
	_, h := newAPI(t, sink, Options{Registerer: reg})
	c := client(t, h)
	out, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{
		`{"trace_id":"1-6b0611f5-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"direct-put","start_time":1795559925.421,"end_time":1795559925.521}`,
		`{"trace_id":"1-6b0611f5-a006649127e371903a2de979","id":"70de5b6f19ff9a0b","name":"no-end","start_time":1795559925.421}`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.UnprocessedTraceSegments) != 1 || aws.ToString(out.UnprocessedTraceSegments[0].Id) != "70de5b6f19ff9a0b" ||
		aws.ToString(out.UnprocessedTraceSegments[0].ErrorCode) != "MissingEndTime" {
		t.Fatalf("unprocessed %+v", out.UnprocessedTraceSegments)
	}
	if len(sink.recs) != 1 {
		t.Fatalf("sink %d", len(sink.recs))
	}
	if _, err := c.PutTelemetryRecords(context.Background(), &xray.PutTelemetryRecordsInput{
		TelemetryRecords: []types.TelemetryRecord{{Timestamp: aws.Time(sinkTime), SegmentsReceivedCount: aws.Int32(3)}}}); err != nil {
		t.Fatal(err)
	}
	sink.err = xraydoc.ErrSinkFull
	_, err = c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{
		`{"trace_id":"1-6b0611f5-a006649127e371903a2de979","id":"70de5b6f19ff9a0c","name":"x","start_time":1,"end_time":2}`}})
	var thr *types.ThrottledException
	if !errors.As(err, &thr) {
		t.Fatalf("sink full: %T %v", err, err)
	}
	mfs, _ := reg.Gather()
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "sightline_xray_api_throttled_total" && mf.GetMetric()[0].GetCounter().GetValue() == 1 {
			found = true
		}
	}
	if !found {
		t.Fatal("throttle not counted in metrics")
	}
}
