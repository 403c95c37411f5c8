package tracing

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	inRoot   = "1-5759e988-bd862e3fe1be46a994272793"
	inParent = "53995c3f42cd8ad8"
)

// downstream records the trace header an outbound call carried.
func downstream(t *testing.T) (*httptest.Server, <-chan http.Header) {
	t.Helper()
	got := make(chan http.Header, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		io.WriteString(w, "downstream ok")
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// callingHandler calls url through Transport and writes "ok".
func callingHandler(url string, tp bool) http.Handler {
	client := &http.Client{Transport: &Transport{Traceparent: tp}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		io.WriteString(w, "ok")
	})
}

func serve(h http.Handler, headers map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "http://api.example.com/orders/7?x=1", nil)
	req.Header.Set("User-Agent", "test-agent/1.0")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestMiddlewarePropagation(t *testing.T) {
	tests := []struct {
		name        string
		headers     map[string]string
		traceparent bool
		wantRoot    string // "" = a new trace id
		wantParent  string // parent_id of the recorded segment
		wantExtra   string
		sampled     bool
	}{
		{name: "x-ray header continues the trace",
			headers:  map[string]string{"X-Amzn-Trace-Id": "Root=" + inRoot + ";Parent=" + inParent + ";Sampled=1"},
			wantRoot: inRoot, wantParent: inParent, sampled: true},
		{name: "lineage kept, self dropped",
			headers:  map[string]string{"X-Amzn-Trace-Id": "Self=1-67891234-12456789abcdef012345678a;Root=" + inRoot + ";Parent=" + inParent + ";Sampled=1;Lineage=a87bd80c:1|68fd508a:5"},
			wantRoot: inRoot, wantParent: inParent, wantExtra: "Lineage=a87bd80c:1|68fd508a:5", sampled: true},
		{name: "traceparent maps to x-ray id",
			headers:  map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
			wantRoot: "1-0af76519-16cd43dd8448eb211c80319c", wantParent: "b7ad6b7169203331", sampled: true, traceparent: true},
		{name: "x-ray header wins over traceparent",
			headers: map[string]string{
				"X-Amzn-Trace-Id": "Root=" + inRoot + ";Parent=" + inParent + ";Sampled=1",
				"traceparent":     "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
			wantRoot: inRoot, wantParent: inParent, sampled: true},
		{name: "sampling requested: receiver decides",
			headers:  map[string]string{"X-Amzn-Trace-Id": "Root=" + inRoot + ";Parent=" + inParent + ";Sampled=?"},
			wantRoot: inRoot, wantParent: inParent, sampled: true},
		{name: "invalid x-ray header starts a fresh trace",
			headers: map[string]string{"X-Amzn-Trace-Id": "Root=1-nothex;Parent=zz;Sampled=1"}, sampled: true},
		{name: "invalid traceparent starts a fresh trace",
			headers: map[string]string{"traceparent": "00-00000000000000000000000000000000-b7ad6b7169203331-01"}, sampled: true},
		{name: "no header starts a fresh trace", sampled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newFakeDaemon(t)
			rec := newTestRecorder(t, d, Config{})
			srv, got := downstream(t)
			resp := serve(rec.Middleware(callingHandler(srv.URL, tt.traceparent)), tt.headers)
			if resp.Code != http.StatusOK {
				t.Fatalf("status %d: %s", resp.Code, resp.Body)
			}
			seg := d.next(t)
			root := seg.str("trace_id")
			if tt.wantRoot != "" && root != tt.wantRoot {
				t.Errorf("trace_id = %q, want %q", root, tt.wantRoot)
			}
			if tt.wantRoot == "" && (root == inRoot || !traceIDPattern.MatchString(root)) {
				t.Errorf("trace_id = %q, want a fresh one", root)
			}
			if got := seg.str("parent_id"); got != tt.wantParent {
				t.Errorf("parent_id = %q, want %q", got, tt.wantParent)
			}
			if want := "Root=" + root + ";Sampled=1"; resp.Header().Get("X-Amzn-Trace-Id") != want {
				t.Errorf("response header = %q, want %q", resp.Header().Get("X-Amzn-Trace-Id"), want)
			}
			subs := seg.subsegments()
			if len(subs) != 1 {
				t.Fatalf("got %d subsegments, want 1", len(subs))
			}
			down := <-got
			wantDown := "Root=" + root + ";Parent=" + subs[0].str("id") + ";Sampled=1"
			if tt.wantExtra != "" {
				wantDown += ";" + tt.wantExtra
			}
			if h := down.Get("X-Amzn-Trace-Id"); h != wantDown {
				t.Errorf("downstream header = %q, want %q", h, wantDown)
			}
			if tt.traceparent {
				h, err := ParseTraceparent(down.Get("traceparent"))
				if err != nil || h.TraceID != root || h.ParentID != subs[0].str("id") || h.Decision != DecisionSampled {
					t.Errorf("downstream traceparent = %q (%+v, %v)", down.Get("traceparent"), h, err)
				}
			}
		})
	}
}

func TestMiddlewareUnsampled(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		sampler Sampler
	}{
		{name: "caller says unsampled",
			headers: map[string]string{"X-Amzn-Trace-Id": "Root=" + inRoot + ";Parent=" + inParent + ";Sampled=0;Lineage=a:1"},
			sampler: NewLocalSampler(0, 1)},
		{name: "traceparent flags 00",
			headers: map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"},
			sampler: NewLocalSampler(0, 1)},
		{name: "sampler says no", sampler: NewLocalSampler(0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newFakeDaemon(t)
			rec := newTestRecorder(t, d, Config{Sampler: tt.sampler})
			srv, got := downstream(t)
			resp := serve(rec.Middleware(callingHandler(srv.URL, true)), tt.headers)
			if resp.Code != http.StatusOK {
				t.Fatalf("status %d", resp.Code)
			}
			respHeader, err := ParseTraceHeader(resp.Header().Get("X-Amzn-Trace-Id"))
			if err != nil || respHeader.Decision != DecisionNotSampled {
				t.Fatalf("response header %q: %v", resp.Header().Get("X-Amzn-Trace-Id"), err)
			}
			down := <-got
			h, err := ParseTraceHeader(down.Get("X-Amzn-Trace-Id"))
			if err != nil {
				t.Fatalf("downstream header %q: %v", down.Get("X-Amzn-Trace-Id"), err)
			}
			if h.TraceID != respHeader.TraceID || h.ParentID != zeroParentID || h.Decision != DecisionNotSampled {
				t.Errorf("downstream header = %q", down.Get("X-Amzn-Trace-Id"))
			}
			if tt.headers["X-Amzn-Trace-Id"] != "" && h.Extra != "Lineage=a:1" {
				t.Errorf("downstream lost Lineage: %q", down.Get("X-Amzn-Trace-Id"))
			}
			tp, err := ParseTraceparent(down.Get("traceparent"))
			if err != nil || tp.Decision != DecisionNotSampled || tp.TraceID != h.TraceID {
				t.Errorf("downstream traceparent %q: %+v %v", down.Get("traceparent"), tp, err)
			}
			d.none(t, 200*time.Millisecond)
		})
	}
}

func TestMiddlewareSegmentFields(t *testing.T) {
	d := newFakeDaemon(t)
	rec := newTestRecorder(t, d, Config{ServiceName: "orders-api", Origin: "AWS::EC2::Instance", ServiceVersion: "1.2.3"})
	h := rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seg := FromContext(r.Context())
		seg.SetUser("alice")
		if err := seg.AddAnnotation("customer", "acme"); err != nil {
			t.Error(err)
		}
		if err := seg.AddAnnotation("items", 3); err != nil {
			t.Error(err)
		}
		if err := seg.AddAnnotation("bad-key", 1); err == nil {
			t.Error("annotation key with '-' accepted")
		}
		if err := seg.AddAnnotation("obj", struct{}{}); err == nil {
			t.Error("struct annotation value accepted")
		}
		if err := seg.AddMetadata("cart", map[string]int{"n": 2}); err != nil {
			t.Error(err)
		}
		_, sub := Start(r.Context(), "compute-price")
		sub.AddAnnotation("rule", "std")
		sub.SetError(errors.New("price service slow"))
		sub.End()
		w.Header().Set("Content-Length", "9")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "not found")
	}))
	req := httptest.NewRequest(http.MethodPost, "http://api.example.com/orders?id=7", strings.NewReader("{}"))
	req.Header.Set("User-Agent", "ua/1")
	req.Header.Set("X-Forwarded-For", "203.0.113.9, 10.0.0.1")
	h.ServeHTTP(httptest.NewRecorder(), req)

	seg := d.next(t)
	checks := map[string][2]string{
		"name":       {seg.str("name"), "orders-api"},
		"user":       {seg.str("user"), "alice"},
		"origin":     {seg.str("origin"), "AWS::EC2::Instance"},
		"version":    {seg.str("service", "version"), "1.2.3"},
		"method":     {seg.str("http", "request", "method"), "POST"},
		"url":        {seg.str("http", "request", "url"), "http://api.example.com/orders?id=7"},
		"user_agent": {seg.str("http", "request", "user_agent"), "ua/1"},
		"client_ip":  {seg.str("http", "request", "client_ip"), "203.0.113.9"},
		"annotation": {seg.str("annotations", "customer"), "acme"},
	}
	for k, v := range checks {
		if v[0] != v[1] {
			t.Errorf("%s = %q, want %q", k, v[0], v[1])
		}
	}
	if seg["http"].(map[string]any)["request"].(map[string]any)["x_forwarded_for"] != true {
		t.Error("x_forwarded_for not set")
	}
	if seg.num("http", "response", "status") != 404 || seg.num("http", "response", "content_length") != 9 {
		t.Errorf("response = %v", seg["http"])
	}
	if seg.num("annotations", "items") != 3 || seg.num("metadata", "default", "cart", "n") != 2 {
		t.Errorf("annotations/metadata = %v %v", seg["annotations"], seg["metadata"])
	}
	if seg["error"] != true || seg["fault"] != nil || seg["throttle"] != nil {
		t.Errorf("flags error=%v fault=%v throttle=%v, want error only", seg["error"], seg["fault"], seg["throttle"])
	}
	subs := seg.subsegments()
	if len(subs) != 1 || subs[0].str("name") != "compute-price" || subs[0]["fault"] != true {
		t.Fatalf("subsegments = %v", subs)
	}
	ex := subs[0]["cause"].(map[string]any)["exceptions"].([]any)[0].(map[string]any)
	if ex["message"] != "price service slow" {
		t.Errorf("exception = %v", ex)
	}
}

func TestMiddlewareStatusFlags(t *testing.T) {
	tests := []struct {
		status                  int
		wantErr, wantThr, wantF bool
	}{
		{200, false, false, false},
		{400, true, false, false},
		{429, true, true, false},
		{500, false, false, true},
		{503, false, false, true},
	}
	d := newFakeDaemon(t)
	rec := newTestRecorder(t, d, Config{})
	for _, tt := range tests {
		h := rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tt.status) }))
		serve(h, nil)
		seg := d.next(t)
		if (seg["error"] == true) != tt.wantErr || (seg["throttle"] == true) != tt.wantThr || (seg["fault"] == true) != tt.wantF {
			t.Errorf("status %d: error=%v throttle=%v fault=%v", tt.status, seg["error"], seg["throttle"], seg["fault"])
		}
		if int(seg.num("http", "response", "status")) != tt.status {
			t.Errorf("status %d recorded as %v", tt.status, seg.num("http", "response", "status"))
		}
	}
}

func TestMiddlewarePanic(t *testing.T) {
	boom := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { explode() })
	for _, recover500 := range []bool{false, true} {
		name := map[bool]string{false: "re-panic", true: "recover as 500"}[recover500]
		t.Run(name, func(t *testing.T) {
			d := newFakeDaemon(t)
			rec := newTestRecorder(t, d, Config{RecoverPanics: recover500})
			var resp *httptest.ResponseRecorder
			repanicked := func() (p any) {
				defer func() { p = recover() }()
				resp = serve(rec.Middleware(boom), nil)
				return nil
			}()
			if recover500 {
				if repanicked != nil {
					t.Fatalf("panic escaped: %v", repanicked)
				}
				if resp.Code != http.StatusInternalServerError {
					t.Errorf("status = %d, want 500", resp.Code)
				}
			} else if repanicked != "kaboom" {
				t.Fatalf("re-panic = %v, want kaboom", repanicked)
			}
			seg := d.next(t)
			if seg["fault"] != true || seg.num("http", "response", "status") != 500 {
				t.Errorf("fault=%v status=%v", seg["fault"], seg.num("http", "response", "status"))
			}
			exs := seg["cause"].(map[string]any)["exceptions"].([]any)
			ex := exs[0].(map[string]any)
			if ex["message"] != "kaboom" || ex["type"] != "panic" {
				t.Errorf("exception = %v", ex)
			}
			stack, _ := ex["stack"].([]any)
			if len(stack) == 0 {
				t.Fatal("no stack")
			}
			top := stack[0].(map[string]any)
			if !strings.HasSuffix(top["label"].(string), "tracing.explode") || !strings.HasSuffix(top["path"].(string), "middleware_test.go") {
				t.Errorf("top frame = %v, want explode in middleware_test.go", top)
			}
		})
	}
}

func explode() { panic("kaboom") }

func TestMiddlewareUnsampledPanicRecovered(t *testing.T) {
	d := newFakeDaemon(t)
	rec := newTestRecorder(t, d, Config{Sampler: NewLocalSampler(0, 0), RecoverPanics: true})
	resp := serve(rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { explode() })), nil)
	if resp.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", resp.Code)
	}
	d.none(t, 100*time.Millisecond)
}

func TestStartWithoutSpan(t *testing.T) {
	ctx, s := Start(context.Background(), "orphan")
	if s != nil || FromContext(ctx) != nil {
		t.Fatal("span without a segment")
	}
	// Every method is safe on the nil span.
	s.AddAnnotation("k", "v")
	s.AddMetadata("k", 1)
	s.SetUser("u")
	s.SetError(errors.New("x"))
	s.End()
}
