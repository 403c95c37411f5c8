package ui

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

const testIndex = `<!doctype html><html><head>` + configMarker + `<script type="module" src="/assets/app-ABC.js"></script></head><body></body></html>`

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":         {Data: []byte(testIndex)},
		"assets/app-ABC.js":  {Data: []byte(strings.Repeat("console.log('sightline');\n", 200))},
		"assets/app-DEF.css": {Data: []byte("body{margin:0}")},
	}
}

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		rd = zr
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRouting(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(299)
		_, _ = io.WriteString(w, "next "+r.Method+" "+r.URL.Path)
	})
	h, err := New(testFS(), Options{IngestURL: "http://127.0.0.1:8081", AgentIntegrity: "sha384-abc</script>", Next: next})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		status       int
		contains     string
		cache        string
	}{
		{"GET", "/", 200, `"ingestURL":"http://127.0.0.1:8081"`, "no-cache"},
		{"GET", "/monitors", 200, "<!doctype html>", "no-cache"},
		{"GET", "/apps/shop/errors", 200, "<!doctype html>", "no-cache"},
		{"GET", "/traces/1-5f84c7a1-abcdef", 200, "<!doctype html>", "no-cache"},
		{"GET", "/service-map", 200, "<!doctype html>", "no-cache"},
		{"HEAD", "/traces", 200, "", "no-cache"},
		{"GET", "/assets/app-ABC.js", 200, "console.log", "public, max-age=31536000, immutable"},
		{"GET", "/assets/app-DEF.css", 200, "margin", "public, max-age=31536000, immutable"},
		{"GET", "/assets/missing.js", 404, "", ""},
		// Not the console's: ingest, agent config, API paths, other methods.
		{"GET", "/appmonitors/0f0e/config", 299, "next GET /appmonitors/0f0e/config", ""},
		{"POST", "/appmonitors/0f0e", 299, "next POST", ""},
		{"POST", "/traces", 299, "next POST /traces", ""},
		{"OPTIONS", "/", 299, "next OPTIONS /", ""},
		{"GET", "/agent/v1/sightline.js", 299, "next GET", ""},
		{"GET", "/tracesX", 299, "next GET /tracesX", ""},
	} {
		resp := get(t, h, tc.method, tc.path, map[string]string{"Accept-Encoding": "gzip"})
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
			continue
		}
		if b := body(t, resp); tc.contains != "" && !strings.Contains(b, tc.contains) {
			t.Errorf("%s %s: body %q lacks %q", tc.method, tc.path, b, tc.contains)
		}
		if got := resp.Header.Get("Cache-Control"); got != tc.cache {
			t.Errorf("%s %s: Cache-Control %q, want %q", tc.method, tc.path, got, tc.cache)
		}
	}
}

func TestConfigCannotCloseScript(t *testing.T) {
	h, err := New(testFS(), Options{AgentIntegrity: "</script><script>alert(1)</script>"})
	if err != nil {
		t.Fatal(err)
	}
	b := body(t, get(t, h, "GET", "/", nil))
	if strings.Contains(b, "<script>alert") || strings.Count(b, "</script>") != 2 {
		t.Fatalf("config escaped its element: %s", b)
	}
	if !strings.Contains(b, `id="sightline-config"`) {
		t.Fatalf("config missing: %s", b)
	}
}

func TestGzipAndConditional(t *testing.T) {
	h, err := New(testFS(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain := get(t, h, "GET", "/assets/app-ABC.js", nil)
	if plain.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip without Accept-Encoding")
	}
	if ct := plain.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Fatalf("Content-Type %q", ct)
	}
	gz := get(t, h, "GET", "/assets/app-ABC.js", map[string]string{"Accept-Encoding": "br, gzip"})
	if gz.Header.Get("Content-Encoding") != "gzip" || body(t, gz) != body(t, plain) {
		t.Fatal("gzip answer differs from the plain one")
	}
	if get(t, h, "GET", "/assets/app-ABC.js", map[string]string{"Accept-Encoding": "gzip;q=0"}).Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip sent although q=0")
	}
	etag := plain.Header.Get("ETag")
	if r := get(t, h, "GET", "/assets/app-ABC.js", map[string]string{"If-None-Match": etag}); r.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", r.StatusCode)
	}
	if r := get(t, h, "GET", "/", map[string]string{"If-None-Match": `"other"`}); r.StatusCode != 200 {
		t.Fatalf("stale ETag: %d", r.StatusCode)
	}
}

func TestNotBuilt(t *testing.T) {
	if _, err := New(fstest.MapFS{}, Options{}); err == nil {
		t.Fatal("New without index.html succeeded")
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	h := notBuilt{next: next, why: "no index.html"}
	if r := get(t, h, "GET", "/monitors", nil); r.StatusCode != 503 || !strings.Contains(body(t, r), "not in this binary") {
		t.Fatalf("console route without a build: %d", r.StatusCode)
	}
	if r := get(t, h, "POST", "/appmonitors/x", nil); r.StatusCode != 299 {
		t.Fatalf("ingest without a build: %d", r.StatusCode)
	}
}

func TestEmbeddedHandler(t *testing.T) {
	// Works with or without a built console: either the console or the hint.
	r := get(t, Handler(Options{}), "GET", "/", nil)
	if r.StatusCode != 200 && r.StatusCode != 503 {
		t.Fatalf("GET / on the embedded console: %d", r.StatusCode)
	}
}

func TestIsConsolePath(t *testing.T) {
	for p, want := range map[string]bool{"/": true, "/monitors/new": true, "/apps": true, "/assets/x.js": true, "/healthz": false, "/metrics": false, "/appmonitors/x": false, "/rum/shop/errors": false} {
		if got := IsConsolePath(p); got != want {
			t.Errorf("IsConsolePath(%q) = %v", p, got)
		}
	}
}
