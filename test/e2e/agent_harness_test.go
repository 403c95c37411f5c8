package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/agentjs"
)

// agentBundle fetches the agent the way a browser does, from the collector,
// and skips the test when this binary does not serve it yet.
func agentBundle(t *testing.T, srv *server) *agentjs.Bundle {
	t.Helper()
	resp, err := http.Get("http://" + srv.ingest + agentjs.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		t.Skipf("this sightline binary does not serve %s (not wired into serve, or built without the agent): %s", agentjs.Path, body)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", agentjs.Path, resp.StatusCode, body)
	}
	return loadBundle(t, body)
}

func loadBundle(tb testing.TB, js []byte) *agentjs.Bundle {
	tb.Helper()
	b, err := agentjs.Load(fstest.MapFS{agentjs.FileName: {Data: js}})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func snippetOpts(flushMs int) agentjs.SnippetOptions {
	return agentjs.SnippetOptions{AppVersion: "1.2.3", Config: map[string]any{"flushIntervalMs": flushMs}}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// agentSnippet is the install snippet for collectorURL, made by the same
// function the console shows, pinned to the bundle the collector serves.
// The flush interval is ten minutes: the tests flush explicitly, so
// whatever arrives without a flush came with the page-hide beacon.
func agentSnippet(t *testing.T, b *agentjs.Bundle, collectorURL, id string) string {
	t.Helper()
	s, err := b.Snippet(collectorURL, id, snippetOpts(600000))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// hit is one request a test API server received.
type hit struct {
	Method, Path, TraceHeader string
}

// recorder keeps what the test servers received, by origin.
type recorder struct {
	mu   sync.Mutex
	hits map[string][]hit
}

func (r *recorder) add(origin string, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hits == nil {
		r.hits = map[string][]hit{}
	}
	r.hits[origin] = append(r.hits[origin], hit{req.Method, req.URL.Path, req.Header.Get("X-Amzn-Trace-Id")})
}

func (r *recorder) take() map[string][]hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.hits
	r.hits = nil
	return h
}

func serveOn(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// startPageSite serves pages (path → HTML), scripts and the same-origin API.
func startPageSite(t testing.TB, rec *recorder, pages map[string]func() string, scripts map[string][]byte) string {
	t.Helper()
	var origin string
	mux := http.NewServeMux()
	for p, html := range pages {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			fmt.Fprint(w, html())
		})
	}
	for p, js := range scripts {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write(js)
		})
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		rec.add(origin, r)
		if r.URL.Path == "/api/fail" {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	})
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	origin = serveOn(t, mux)
	return origin
}

// startCrossAPI is an API on its own origin. allowTraceHeader decides
// whether its CORS preflight answer allows X-Amzn-Trace-Id.
func startCrossAPI(t *testing.T, rec *recorder, allowTraceHeader bool) string {
	t.Helper()
	var origin string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(origin, r)
		if o := r.Header.Get("Origin"); o != "" {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			if allowTraceHeader {
				w.Header().Set("Access-Control-Allow-Headers", "x-amzn-trace-id, traceparent")
			}
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"cross":true}`)
	})
	origin = serveOn(t, h)
	return origin
}

// netRequest is one request Chromium sent, seen through the DevTools protocol.
type netRequest struct {
	Method, URL string
	Type        network.ResourceType
	Body        []byte // decompressed when gzipped
}

// netLog records the requests of one browser tab.
type netLog struct {
	mu   sync.Mutex
	reqs []netRequest
}

func watchNetwork(ctx context.Context) *netLog {
	l := &netLog{}
	chromedp.ListenTarget(ctx, func(ev any) {
		e, ok := ev.(*network.EventRequestWillBeSent)
		if !ok {
			return
		}
		r := netRequest{Method: e.Request.Method, URL: e.Request.URL, Type: e.Type}
		for _, p := range e.Request.PostDataEntries {
			b, err := base64.StdEncoding.DecodeString(p.Bytes)
			if err == nil {
				r.Body = append(r.Body, b...)
			}
		}
		if len(r.Body) > 2 && r.Body[0] == 0x1f && r.Body[1] == 0x8b {
			if zr, err := gzip.NewReader(bytes.NewReader(r.Body)); err == nil {
				if b, err := io.ReadAll(zr); err == nil {
					r.Body = b
				}
			}
		}
		l.mu.Lock()
		l.reqs = append(l.reqs, r)
		l.mu.Unlock()
	})
	return l
}

// ingestPosts are the PutRumEvents requests sent to collector (any transport).
func (l *netLog) ingestPosts(collector, appMonitorID string) []netRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []netRequest
	for _, r := range l.reqs {
		if r.Method == "POST" && strings.HasPrefix(r.URL, collector+"/appmonitors/"+appMonitorID) {
			out = append(out, r)
		}
	}
	return out
}

// putBody is the part of a PutRumEvents body the tests check.
type putBody struct {
	BatchID     string `json:"BatchId"`
	UserDetails struct {
		SessionID string `json:"sessionId"`
	}
	RumEvents []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
}

func decodePut(t *testing.T, b []byte) putBody {
	t.Helper()
	var p putBody
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("PutRumEvents body %q: %v", b, err)
	}
	return p
}

// setConfig PATCHes the app monitor's configuration and waits until the
// collector's remote config (what the agent fetches) reflects it.
func setConfig(t *testing.T, srv *server, name, id string, cfg map[string]any, ready func(remote map[string]any) bool) {
	t.Helper()
	if _, err := srv.api("PATCH", "/appmonitor/"+name, map[string]any{"AppMonitorConfiguration": cfg}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "remote config to change", func() (bool, string) {
		resp, err := http.Get("http://" + srv.ingest + "/appmonitors/" + id + "/config")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var remote map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&remote); err != nil {
			return false, err.Error()
		}
		return ready(remote), fmt.Sprint(remote)
	})
}

// agentReady is true once the agent has its remote config and session:
// only then are requests traced.
const agentReady = `!!(window.Sightline && Sightline.agent && Sightline.agent.stats().sessionId)`

func awaitPromise(p *runtimeEvaluateParams) *runtimeEvaluateParams { return p.WithAwaitPromise(true) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
