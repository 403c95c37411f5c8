package rumdata

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/model"
)

const fixtureMonitorID = "6f1d3c2a-8b4e-4f7a-9c1d-2e3f4a5b6c7d"

type fakeMonitors map[string]*model.AppMonitor

func (f fakeMonitors) AppMonitorByID(_ context.Context, id string) (*model.AppMonitor, error) {
	if m, ok := f[id]; ok {
		return m, nil
	}
	return nil, ErrUnknownAppMonitor
}

type fakeSink struct {
	mu      sync.Mutex
	batches []*model.Batch
	err     error
}

func (s *fakeSink) Accept(_ context.Context, b *model.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.batches = append(s.batches, b)
	return nil
}

func (s *fakeSink) events() []model.RumEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []model.RumEvent
	for _, b := range s.batches {
		out = append(out, b.Rum...)
	}
	return out
}

type capturedRequest struct {
	Path       string            `json:"path"`
	Headers    map[string]string `json:"headers"`
	BodyBase64 string            `json:"bodyBase64"`
}

func loadCaptured(t *testing.T) map[string]capturedRequest {
	t.Helper()
	files, err := filepath.Glob("testdata/requests/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captured requests: %v", err)
	}
	out := map[string]capturedRequest{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c capturedRequest
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = c
	}
	return out
}

func newTestHandler(sink *fakeSink, mutate func(*model.AppMonitor)) *Handler {
	mon := &model.AppMonitor{ID: fixtureMonitorID, Name: "shop", Domain: "127.0.0.1", CustomEventsEnabled: true}
	if mutate != nil {
		mutate(mon)
	}
	return NewHandler(fakeMonitors{fixtureMonitorID: mon}, sink, Options{RatePerIP: 1e6, BurstPerIP: 1e6, RatePerApp: 1e6, BurstPerApp: 1e6})
}

func send(h http.Handler, method, path string, headers map[string]string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestCapturedRequests replays every PutRumEvents request captured from the
// real aws-rum-web client and checks what would be stored.
func TestCapturedRequests(t *testing.T) {
	for name, c := range loadCaptured(t) {
		t.Run(name, func(t *testing.T) {
			sink := &fakeSink{}
			h := newTestHandler(sink, nil)
			body, err := base64.StdEncoding.DecodeString(c.BodyBase64)
			if err != nil {
				t.Fatal(err)
			}
			rec := send(h, http.MethodPost, c.Path, c.Headers, body)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != c.Headers["origin"] {
				t.Errorf("Allow-Origin = %q, want %q", got, c.Headers["origin"])
			}
			evs := sink.events()
			if len(evs) == 0 {
				t.Fatal("no events stored")
			}
			for _, e := range evs {
				if e.Browser != "Headless Chrome" || e.OS != "Linux" || e.DeviceType != "desktop" {
					t.Errorf("UA not parsed server-side: %+v", e)
				}
				if e.SessionID == "" || e.EventID == "" || e.TimestampMicros < 1e15 {
					t.Errorf("ids/time missing: %+v", e)
				}
				if e.PageID == "" {
					t.Errorf("event %s has no page id", e.Type)
				}
				var md map[string]any
				if err := json.Unmarshal(e.Metadata, &md); err != nil || md["domain"] == nil {
					t.Errorf("metadata not merged with SessionMetadata: %s", e.Metadata)
				}
				switch e.Type {
				case model.EventXRayTrace:
					if e.TraceID == "" {
						t.Errorf("xray event without trace id")
					}
				case model.EventLCP, model.EventFCP, model.EventTTFB, model.EventCLS:
					if e.Value == nil {
						t.Errorf("%s without value", e.Type)
					}
				case model.EventJSError:
					if e.ErrorMessage == "" {
						t.Errorf("js error without message")
					}
				}
			}
			nx, ns := 0, 0
			for _, b := range sink.batches {
				ns += len(b.Segments)
				for _, e := range b.Rum {
					if e.Type == model.EventXRayTrace {
						nx++
					}
				}
				for _, s := range b.Segments {
					if s.Segment.Origin != "AWS::RUM::AppMonitor" || s.SessionID == "" || s.AppMonitorID != fixtureMonitorID {
						t.Errorf("browser segment not linked: %+v", s)
					}
					if bytes.Contains(s.Raw, []byte(`"version"`)) {
						t.Errorf("segment raw still has the RUM version key: %s", s.Raw)
					}
				}
			}
			if nx != ns {
				t.Errorf("%d xray events but %d segments", nx, ns)
			}
		})
	}
}

func validBody(batchID string, events ...string) []byte {
	if len(events) == 0 {
		events = []string{`{"id":"e1","timestamp":1795559747,"type":"com.amazon.rum.page_view_event","metadata":"{\"pageId\":\"/a\"}","details":"{\"version\":\"1.0.0\",\"pageId\":\"/a\"}"}`}
	}
	return []byte(`{"BatchId":"` + batchID + `","AppMonitorDetails":{"id":"` + fixtureMonitorID + `","version":"1.0"},` +
		`"UserDetails":{"userId":"00000000-0000-0000-0000-000000000000","sessionId":"s1"},` +
		`"RumEvents":[` + strings.Join(events, ",") + `],"SessionMetadata":"{\"domain\":\"127.0.0.1\"}"}`)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func TestBadInput(t *testing.T) {
	path := "/appmonitors/" + fixtureMonitorID
	jsonHdr := map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:8080"}
	bomb := gz(bytes.Repeat([]byte(" "), 11<<20))
	many := make([]string, 101)
	for i := range many {
		many[i] = `{"id":"e` + string(rune('a'+i%26)) + `","timestamp":1795559747,"type":"x","details":"{}"}`
	}
	cases := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    []byte
		status  int
		contain string
	}{
		{"wrong content type", "POST", path, map[string]string{"Content-Type": "application/xml"}, validBody("b1"), 415, "Content-Type"},
		{"unknown content encoding", "POST", path, map[string]string{"Content-Type": "application/json", "Content-Encoding": "br"}, validBody("b1"), 415, "Content-Encoding"},
		{"broken gzip", "POST", path, map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, []byte("not gzip at all"), 400, "gzip"},
		{"truncated gzip", "POST", path, map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, gz(validBody("b1"))[:40], 400, "gzip"},
		{"gzip bomb", "POST", path, map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, bomb, 413, "decompressed"},
		{"body too large", "POST", path, jsonHdr, bytes.Repeat([]byte("x"), 2<<20), 413, "bytes"},
		{"invalid JSON", "POST", path, jsonHdr, []byte(`{"BatchId":`), 400, "invalid JSON"},
		{"missing BatchId", "POST", path, jsonHdr, []byte(`{"AppMonitorDetails":{},"UserDetails":{},"RumEvents":[]}`), 400, "BatchId"},
		{"metadata not a string", "POST", path, jsonHdr, validBody("b2", `{"id":"e1","timestamp":1795559747,"type":"com.amazon.rum.page_view_event","metadata":{"pageId":"/a"},"details":"{}"}`), 400, "metadata"},
		{"details not JSON inside", "POST", path, jsonHdr, validBody("b3", `{"id":"e1","timestamp":1795559747,"type":"com.amazon.rum.page_view_event","details":"{oops"}`), 400, "details"},
		{"bad timestamp", "POST", path, jsonHdr, validBody("b4", `{"id":"e1","timestamp":"yesterday","type":"t","details":"{}"}`), 400, "timestamp"},
		{"oversized batch", "POST", path, jsonHdr, validBody("b5", many...), 400, "at most 100"},
		{"wrong origin", "POST", path, map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, validBody("b6"), 403, "not in the domains"},
		{"unknown app monitor", "POST", "/appmonitors/11111111-2222-3333-4444-555555555555", jsonHdr, validBody("b7"), 404, "does not exist"},
		{"app monitor id mismatch", "POST", path, jsonHdr, bytes.Replace(validBody("b8"), []byte(fixtureMonitorID), []byte("other"), 1), 400, "does not match"},
		{"GET not allowed", "GET", path, jsonHdr, nil, 405, "POST"},
		{"bad path", "POST", "/nothing", jsonHdr, validBody("b9"), 404, "PutRumEvents"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := &fakeSink{}
			h := newTestHandler(sink, nil)
			rec := send(h, c.method, c.path, c.headers, c.body)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			var e map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e["__type"] == "" || !strings.Contains(e["message"], c.contain) {
				t.Errorf("body %s does not name %q", rec.Body, c.contain)
			}
			if len(sink.batches) != 0 {
				t.Errorf("stored %d batches on a refused request", len(sink.batches))
			}
		})
	}
}

func TestUnknownEventTypeIsKept(t *testing.T) {
	sink := &fakeSink{}
	h := newTestHandler(sink, nil)
	rec := send(h, "POST", "/appmonitors/"+fixtureMonitorID+"/", map[string]string{"Content-Type": "text/plain;charset=UTF-8"},
		validBody("b1", `{"id":"e1","timestamp":1795559747,"type":"my.custom_event","details":"{\"sku\":42}"}`))
	if rec.Code != 200 || len(sink.events()) != 1 || sink.events()[0].Type != "my.custom_event" {
		t.Fatalf("custom event not kept: %d %s %+v", rec.Code, rec.Body, sink.events())
	}
}

func TestReplayedBatchIDStoredOnce(t *testing.T) {
	sink := &fakeSink{}
	h := newTestHandler(sink, nil)
	hdr := map[string]string{"Content-Type": "application/json"}
	for i := 0; i < 3; i++ {
		if rec := send(h, "POST", "/appmonitors/"+fixtureMonitorID, hdr, validBody("same")); rec.Code != 200 {
			t.Fatalf("attempt %d: %d", i, rec.Code)
		}
	}
	if len(sink.batches) != 1 {
		t.Fatalf("replayed BatchId stored %d times", len(sink.batches))
	}
}

func TestSpoolFullIsTransient(t *testing.T) {
	sink := &fakeSink{err: errors.New("spool: full")}
	h := newTestHandler(sink, nil)
	hdr := map[string]string{"Content-Type": "application/json"}
	rec := send(h, "POST", "/appmonitors/"+fixtureMonitorID, hdr, validBody("x"))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q, want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	sink.err = nil
	// The retry of the same batch must be accepted: the failure did not
	// mark it as seen.
	if rec := send(h, "POST", "/appmonitors/"+fixtureMonitorID, hdr, validBody("x")); rec.Code != 200 || len(sink.batches) != 1 {
		t.Fatalf("retry after transient failure: %d, %d batches", rec.Code, len(sink.batches))
	}
}

func TestRateLimit(t *testing.T) {
	sink := &fakeSink{}
	mon := &model.AppMonitor{ID: fixtureMonitorID, Name: "shop", Domain: "127.0.0.1"}
	now := time.Unix(1_800_000_000, 0)
	h := NewHandler(fakeMonitors{fixtureMonitorID: mon}, sink, Options{RatePerIP: 1, BurstPerIP: 2, RatePerApp: 100, BurstPerApp: 100, Now: func() time.Time { return now }})
	hdr := map[string]string{"Content-Type": "application/json"}
	codes := []int{}
	for i := 0; i < 3; i++ {
		rec := send(h, "POST", "/appmonitors/"+fixtureMonitorID, hdr, validBody("r"+string(rune('0'+i))))
		codes = append(codes, rec.Code)
		if rec.Code == 429 && rec.Header().Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Fatalf("codes %v, want [200 200 429]", codes)
	}
	now = now.Add(2 * time.Second)
	if rec := send(h, "POST", "/appmonitors/"+fixtureMonitorID, hdr, validBody("r9")); rec.Code != 200 {
		t.Fatalf("after refill: %d", rec.Code)
	}
}

func TestPreflight(t *testing.T) {
	h := newTestHandler(&fakeSink{}, nil)
	rec := send(h, "OPTIONS", "/some/prefix/appmonitors/"+fixtureMonitorID, map[string]string{
		"Origin": "http://127.0.0.1:8080", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "content-type,content-encoding,x-api-key",
	}, nil)
	if rec.Code != 204 {
		t.Fatalf("preflight status %d", rec.Code)
	}
	allow := rec.Header().Get("Access-Control-Allow-Headers")
	for _, want := range []string{"content-type", "content-encoding", "x-api-key", "x-amz-date", "authorization"} {
		if !strings.Contains(allow, want) {
			t.Errorf("Allow-Headers %q lacks %s", allow, want)
		}
	}
	if rec.Header().Get("Access-Control-Max-Age") == "" || !strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight headers incomplete: %v", rec.Header())
	}
	rec = send(h, "OPTIONS", "/appmonitors/"+fixtureMonitorID, map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, nil)
	if rec.Code != 403 {
		t.Errorf("preflight from a foreign origin: %d, want 403", rec.Code)
	}
}

func TestTelemetryAndPageFiltering(t *testing.T) {
	sink := &fakeSink{}
	h := newTestHandler(sink, func(m *model.AppMonitor) {
		m.AppMonitorConfiguration.Telemetries = []string{"performance"}
		m.AppMonitorConfiguration.ExcludedPages = []string{"https://127.0.0.1/private"}
		m.CustomEventsEnabled = false
	})
	body := validBody("f1",
		`{"id":"e1","timestamp":1795559747,"type":"com.amazon.rum.js_error_event","metadata":"{\"pageId\":\"/a\"}","details":"{\"type\":\"Error\",\"message\":\"x\"}"}`,
		`{"id":"e2","timestamp":1795559747,"type":"com.amazon.rum.largest_contentful_paint_event","metadata":"{\"pageId\":\"/a\"}","details":"{\"value\":1200}"}`,
		`{"id":"e3","timestamp":1795559747,"type":"com.amazon.rum.largest_contentful_paint_event","metadata":"{\"pageId\":\"/private/x\"}","details":"{\"value\":1200}"}`,
		`{"id":"e4","timestamp":1795559747,"type":"my.custom","details":"{}"}`,
	)
	rec := send(h, "POST", "/appmonitors/"+fixtureMonitorID, map[string]string{"Content-Type": "application/json", "Origin": "https://127.0.0.1"}, body)
	if rec.Code != 200 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	evs := sink.events()
	if len(evs) != 1 || evs[0].EventID != "e2" || *evs[0].Value != 1200 {
		t.Fatalf("kept %+v, want only e2", evs)
	}
}

func TestOriginAllowed(t *testing.T) {
	cases := []struct {
		origin  string
		domains []string
		want    bool
	}{
		{"https://shop.example.com", []string{"shop.example.com"}, true},
		{"https://a.b.example.com", []string{"*.example.com"}, true},
		{"https://example.com", []string{"*.example.com"}, false},
		{"https://evilexample.com", []string{"*.example.com"}, false},
		{"http://localhost:3000", []string{"shop.example.com"}, false},
		{"http://localhost:3000", []string{"localhost"}, true},
		{"http://127.0.0.1:8080", []string{"127.0.0.1:8080"}, true},
		{"http://127.0.0.1:9090", []string{"127.0.0.1:8080"}, false},
		{"null", []string{"*"}, false},
	}
	for _, c := range cases {
		if got := OriginAllowed(c.origin, c.domains); got != c.want {
			t.Errorf("OriginAllowed(%q, %v) = %v, want %v", c.origin, c.domains, got, c.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := Decode(body, Limits{MaxEvents: 100, MaxEventBytes: 1 << 20})
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if r.BatchID == "" || len(r.Events) > 100 {
			t.Fatalf("invalid request accepted: %+v", r)
		}
		for _, e := range r.Events {
			if !json.Valid(e.Details) {
				t.Fatalf("details not valid JSON: %q", e.Details)
			}
		}
		if _, _, err := ToModel(r, "m", Origin{}, 1, nil); err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("ToModel error of type %T: %v", err, err)
			}
		}
	})
}

// TestEditedPageRulesApply: compiled page rules are cached, and an edited
// app monitor's new rules apply at once.
func TestEditedPageRulesApply(t *testing.T) {
	sink := &fakeSink{}
	mon := &model.AppMonitor{ID: fixtureMonitorID, Name: "shop", Domain: "127.0.0.1"}
	h := NewHandler(fakeMonitors{fixtureMonitorID: mon}, sink, Options{RatePerIP: 1e6, BurstPerIP: 1e6, RatePerApp: 1e6, BurstPerApp: 1e6})
	hdr := map[string]string{"Content-Type": "application/json", "Origin": "https://127.0.0.1"}
	ev := `{"id":"e1","timestamp":1795559747,"type":"com.amazon.rum.page_view_event","metadata":"{\"pageId\":\"/admin/x\"}","details":"{\"pageId\":\"/admin/x\"}"}`
	mon.AppMonitorConfiguration.ExcludedPages = []string{"https://127.0.0.1/admin"}
	send(h, "POST", "/appmonitors/"+fixtureMonitorID, hdr, validBody("p1", ev))
	mon.AppMonitorConfiguration.ExcludedPages = []string{"https://127.0.0.1/private"}
	send(h, "POST", "/appmonitors/"+fixtureMonitorID, hdr, validBody("p2", ev))
	if n := len(sink.events()); n != 1 {
		t.Fatalf("%d events kept, want 1 (dropped under the first rules, kept under the edited ones)", n)
	}
}
