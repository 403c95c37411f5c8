package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// seenBatch is one PutRumEvents request that reached the failing proxy.
type seenBatch struct {
	Status int
	Body   putBody
}

// failFirstProxy stands in front of the collector's ingest address: the
// first PutRumEvents POST gets a 503, everything else is forwarded. The
// first one is forwarded too, and the collector's answer replaced by the
// 503, as when an answer is lost on the way back: the retry then reaches a
// collector that already stored the batch, which must not store it again.
type failFirstProxy struct {
	t       *testing.T
	forward *httputil.ReverseProxy
	mu      sync.Mutex
	batches []seenBatch
}

func (p *failFirstProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.Contains(r.URL.Path, "/appmonitors/") {
		p.forward.ServeHTTP(w, r)
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	plain := raw
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			plain, err = io.ReadAll(zr)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	b := decodePut(p.t, plain)
	p.mu.Lock()
	first := len(p.batches) == 0
	status := http.StatusOK
	if first {
		status = http.StatusServiceUnavailable
	}
	p.batches = append(p.batches, seenBatch{Status: status, Body: b})
	p.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(raw))
	r.ContentLength = int64(len(raw))
	if first {
		stored := httptest.NewRecorder()
		p.forward.ServeHTTP(stored, r)
		if stored.Code != http.StatusOK {
			p.t.Errorf("collector answered the first batch %d %s", stored.Code, stored.Body)
		}
		// The collector's own 503 carries CORS, so the agent sees the status.
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		http.Error(w, `{"__type":"ServiceUnavailableException","message":"test: first batch refused"}`, http.StatusServiceUnavailable)
		return
	}
	p.forward.ServeHTTP(w, r)
}

func (p *failFirstProxy) seen() []seenBatch {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]seenBatch(nil), p.batches...)
}

// TestAgentRetriesWithSameBatchID: a 503 from the collector is retried with
// the same BatchId, and the collector, which had stored the batch before
// the 503, stores it once.
func TestAgentRetriesWithSameBatchID(t *testing.T) {
	chromiumPath(t)
	srv := startServer(t, t.TempDir())
	bundle := agentBundle(t, srv)
	target, _ := url.Parse("http://" + srv.ingest)
	proxy := &failFirstProxy{t: t, forward: httputil.NewSingleHostReverseProxy(target)}
	collector := serveOn(t, proxy)

	const name = "agent-retry"
	id := srv.createAppMonitor(name, "127.0.0.1", map[string]any{"SessionSampleRate": 1})
	rec := &recorder{}
	snippet := agentSnippet(t, bundle, collector, id)
	site := startPageSite(t, rec, map[string]func() string{
		"/index.html": func() string { return fmt.Sprintf(secondPage, snippet) },
		"/bye.html":   func() string { return byePage },
	}, nil)

	ctx, _ := agentBrowser(t)
	const custom = 5
	err := chromedp.Run(ctx,
		chromedp.Navigate(site+"/index.html"),
		chromedp.Poll(agentReady, nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Evaluate(fmt.Sprintf(`for (var i = 0; i < %d; i++) Sightline('recordEvent', 'e2e.retry', {n: i}); Sightline('flush')`, custom), nil),
		// The agent retries after 2 s.
		chromedp.Poll(`Sightline.agent.stats().queued == 0`, nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Sleep(3*time.Second),
		chromedp.Navigate(site+"/bye.html"),
		chromedp.Sleep(time.Second),
	)
	if err != nil {
		t.Fatalf("browser: %v\nserver log:\n%s", err, srv.log)
	}

	var first seenBatch
	waitFor(t, 20*time.Second, "the refused batch to be sent again", func() (bool, string) {
		seen := proxy.seen()
		if len(seen) == 0 {
			return false, "no batch reached the proxy"
		}
		first = seen[0]
		for _, s := range seen[1:] {
			if s.Body.BatchID == first.Body.BatchID && s.Status == 200 {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d batches, none resending %s", len(seen), first.Body.BatchID)
	})
	if first.Status != http.StatusServiceUnavailable || len(first.Body.RumEvents) == 0 {
		t.Fatalf("first batch %+v", first)
	}
	// Every resend of the refused batch is byte-for-byte the same events.
	for _, s := range proxy.seen()[1:] {
		if s.Body.BatchID != first.Body.BatchID {
			continue
		}
		if fmt.Sprint(s.Body.RumEvents) != fmt.Sprint(first.Body.RumEvents) {
			t.Errorf("resent batch %s carries other events: %v vs %v", s.Body.BatchID, s.Body.RumEvents, first.Body.RumEvents)
		}
	}

	var events []storedEvent
	waitFor(t, 20*time.Second, "the custom events", func() (bool, string) {
		events = must(srv.allEvents(name))
		n := 0
		for _, e := range events {
			if e.Type == "e2e.retry" {
				n++
			}
		}
		return n >= custom, fmt.Sprintf("%d of %d custom events", n, custom)
	})
	time.Sleep(time.Second) // a duplicate would be written by now
	events = must(srv.allEvents(name))
	count := map[string]int{}
	custom0 := 0
	for _, e := range events {
		count[e.ID]++
		if e.Type == "e2e.retry" {
			custom0++
		}
	}
	if custom0 != custom {
		t.Errorf("%d e2e.retry events stored, want %d", custom0, custom)
	}
	for id, n := range count {
		if n != 1 {
			t.Errorf("event %s stored %d times", id, n)
		}
	}
	for _, e := range first.Body.RumEvents {
		if count[e.ID] != 1 {
			t.Errorf("event %s (%s) of the refused batch stored %d times", e.ID, e.Type, count[e.ID])
		}
	}
	t.Logf("proxy saw %d PutRumEvents requests; batch %s stored, answered 503, resent, stored once (%d events)", len(proxy.seen()), first.Body.BatchID, len(first.Body.RumEvents))
	srv.stop()
}
