package tracing

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func preflight(h http.Handler, origin, requestHeaders string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodOptions, "http://api.example.com/orders", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	if requestHeaders != "" {
		req.Header.Set("Access-Control-Request-Headers", requestHeaders)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestCORSPreflight(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("api")) })
	h := CORS(CORSConfig{
		AllowedOrigins: []string{"https://app.example.com", "*.shop.test", "https://*.secure.test"},
		AllowedHeaders: []string{"Content-Type", "x-api-key"},
	}, api)
	tests := []struct {
		origin  string
		allowed bool
	}{
		{"https://app.example.com", true},
		{"https://APP.example.com", true},
		{"http://app.example.com", false},
		{"https://eu.shop.test", true},
		{"http://eu.shop.test", true},
		{"https://shop.test", false},
		{"https://evilshop.test", false},
		{"https://a.b.secure.test", true},
		{"http://a.secure.test", false},
		{"https://example.org", false},
	}
	for _, tt := range tests {
		rec := preflight(h, tt.origin, "content-type,x-amzn-trace-id")
		gotOrigin := rec.Header().Get("Access-Control-Allow-Origin")
		if !tt.allowed {
			if gotOrigin != "" || rec.Code != http.StatusForbidden {
				t.Errorf("%s: status %d, allow-origin %q; want 403 without CORS headers", tt.origin, rec.Code, gotOrigin)
			}
			continue
		}
		if rec.Code != http.StatusNoContent || gotOrigin != tt.origin {
			t.Errorf("%s: status %d, allow-origin %q", tt.origin, rec.Code, gotOrigin)
		}
		allow := strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers"))
		for _, want := range []string{"content-type", "x-api-key", "x-amzn-trace-id", "traceparent"} {
			if !strings.Contains(allow, want) {
				t.Errorf("%s: Allow-Headers %q lacks %s", tt.origin, allow, want)
			}
		}
		if rec.Header().Get("Access-Control-Max-Age") != "7200" {
			t.Errorf("Max-Age = %q", rec.Header().Get("Access-Control-Max-Age"))
		}
		if !strings.Contains(rec.Header().Get("Vary"), "Origin") {
			t.Errorf("Vary = %q", rec.Header().Get("Vary"))
		}
		if rec.Body.String() == "api" {
			t.Error("preflight reached the API handler")
		}
	}
}

func TestCORSActualRequest(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("api")) })
	h := CORS(CORSConfig{AllowedOrigins: []string{"*"}, ExposedHeaders: []string{"X-Request-Id"}}, api)
	req := httptest.NewRequest(http.MethodGet, "http://api.example.com/orders", nil)
	req.Header.Set("Origin", "https://anywhere.test")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.String() != "api" || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("body %q allow-origin %q", rec.Body, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	if got := rec.Header().Get("Access-Control-Expose-Headers"); got != "X-Request-Id, X-Amzn-Trace-Id" {
		t.Errorf("Expose-Headers = %q", got)
	}

	// With credentials "*" must become the echoed origin.
	h = CORS(CORSConfig{AllowedOrigins: []string{"*"}, AllowCredentials: true}, api)
	rec = preflight(h, "https://anywhere.test", "x-amzn-trace-id")
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://anywhere.test" || rec.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("credentials: %v", rec.Header())
	}

	// No Origin: not a CORS request, untouched.
	req = httptest.NewRequest(http.MethodGet, "http://api.example.com/orders", nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS headers on a same-origin request")
	}
}

// strictCORS is a stand-in for an existing CORS middleware that refuses preflights
// asking for headers it does not know, as rs/cors does.
func strictCORS(allowHeaders string, next http.Handler) http.Handler {
	allowed := map[string]bool{}
	for _, h := range strings.Split(allowHeaders, ",") {
		allowed[strings.ToLower(strings.TrimSpace(h))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			for _, h := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
				if h = strings.TrimSpace(h); h != "" && !allowed[strings.ToLower(h)] {
					w.WriteHeader(http.StatusNoContent) // refused: no CORS headers
					return
				}
			}
			w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
			w.Header().Set("Access-Control-Allow-Headers", allowHeaders)
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Expose-Headers", "X-Request-Id")
		next.ServeHTTP(w, r)
	})
}

func TestAllowTraceHeadersWrapsExistingCORS(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("api")) })
	existing := strictCORS("Content-Type, Authorization", api)

	// Without the wrapper the existing setup refuses the trace header.
	if rec := preflight(existing, "https://app.test", "content-type,x-amzn-trace-id"); rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("stand-in is not strict")
	}
	h := AllowTraceHeaders(existing)
	rec := preflight(h, "https://app.test", "content-type,traceparent,x-amzn-trace-id")
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.test" {
		t.Fatalf("preflight refused: %v", rec.Header())
	}
	if got := rec.Header().Get("Access-Control-Allow-Headers"); got != "Content-Type, Authorization, x-amzn-trace-id, traceparent" {
		t.Errorf("Allow-Headers = %q", got)
	}
	if rec.Header().Get("Access-Control-Max-Age") != "600" {
		t.Error("existing Max-Age lost")
	}
	// Only trace headers requested: the existing handler sees none.
	rec = preflight(h, "https://app.test", "x-amzn-trace-id")
	if !strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "x-amzn-trace-id") {
		t.Errorf("Allow-Headers = %q", rec.Header().Get("Access-Control-Allow-Headers"))
	}
	// Still refuses what the app does not allow.
	rec = preflight(h, "https://app.test", "x-secret")
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Error("wrapper widened the app's policy beyond the trace headers")
	}
	// Actual responses expose X-Amzn-Trace-Id next to what the app exposes.
	req := httptest.NewRequest(http.MethodGet, "http://api.example.com/", nil)
	req.Header.Set("Origin", "https://app.test")
	res := httptest.NewRecorder()
	h.ServeHTTP(res, req)
	if got := res.Header().Get("Access-Control-Expose-Headers"); got != "X-Request-Id, X-Amzn-Trace-Id" {
		t.Errorf("Expose-Headers = %q", got)
	}
}

func TestAllowTraceHeadersKeepsWildcard(t *testing.T) {
	existing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Headers", "*")
		w.WriteHeader(http.StatusNoContent)
	})
	rec := preflight(AllowTraceHeaders(existing), "https://app.test", "x-amzn-trace-id")
	if got := rec.Header().Get("Access-Control-Allow-Headers"); got != "*" {
		t.Errorf("Allow-Headers = %q, want * untouched", got)
	}
}
