package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleFirstRenderAtScale stores SIGHTLINE_CONSOLE_EVENTS synthetic RUM events (e.g.
// 1000000) through PutRumEvents and reports each RUM page's first render time (navigation to
// its data on screen) in Chromium. Gated: filling a million events takes minutes on 2 cores.
func TestConsoleFirstRenderAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SIGHTLINE_CONSOLE_EVENTS"))
	if n <= 0 {
		t.Skip("set SIGHTLINE_CONSOLE_EVENTS=1000000 to measure the console's first render over that many stored events")
	}
	srv := startServer(t, t.TempDir(), "--rate-per-ip", "1000000", "--burst-per-ip", "1000000", "--rate-per-app", "10000000", "--burst-per-app", "10000000")
	requireConsole(t, srv)
	id := srv.createAppMonitor("scale", "127.0.0.1", map[string]any{"SessionSampleRate": 1})
	start := time.Now()
	fillEvents(t, srv, id, n)
	t.Logf("stored %d events in %v", n, time.Since(start).Round(time.Second))

	ctx := newBrowser(t)
	views := []consoleView{
		{"overview", "/apps/scale/overview?range=6h", `.vital[data-vital="LCP"] .rating-bar`, false},
		{"performance", "/apps/scale/performance?range=6h", `table[aria-label="Load time by page"] tbody tr`, false},
		{"vitals", "/apps/scale/vitals?range=6h", `table[aria-label="LCP by page"] tbody tr`, false},
		{"errors", "/apps/scale/errors?range=6h", `table[aria-label="Error groups"] tbody tr`, false},
		{"http", "/apps/scale/http?range=6h", `table[aria-label="HTTP endpoints"] tbody tr`, false},
		{"sessions", "/apps/scale/sessions?range=6h", `table[aria-label="Sessions"] tbody tr`, false},
		{"audience", "/apps/scale/audience?range=6h", `table[aria-label="Browser"] tbody tr`, false},
		{"journeys", "/apps/scale/journeys?range=6h", `table[aria-label="Exit pages"] tbody tr`, false},
	}
	for _, v := range views {
		tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		// Second load: the browser has the (immutable) assets cached, as a returning user has.
		_ = chromedp.Run(tctx, chromedp.Navigate("http://"+srv.http+v.path), chromedp.WaitVisible(v.ready, chromedp.ByQuery))
		t0 := time.Now()
		err := chromedp.Run(tctx, chromedp.Navigate("http://"+srv.http+v.path), chromedp.WaitVisible(v.ready, chromedp.ByQuery))
		cancel()
		if err != nil {
			t.Errorf("%s: %v", v.name, err)
			continue
		}
		t.Logf("first render over %d events: %-12s %v", n, v.name, time.Since(t0).Round(time.Millisecond))
	}
}

// fillEvents posts n events in batches of 100: sessions of 20 events (page views, loads,
// vitals, HTTP calls, errors) spread over the last 6 hours.
func fillEvents(t *testing.T, srv *server, appID string, n int) {
	t.Helper()
	pages := []string{"/", "/cart", "/checkout", "/product/1", "/product/2", "/search", "/account"}
	browsers := []string{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"}
	now := time.Now().Unix()
	batches := (n + 99) / 100
	var next, failed atomic.Int64
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1)) - 1
				if b >= batches || failed.Load() > 0 {
					return
				}
				ts := now - int64(b%21600)
				var evs []string
				for i := 0; i < 100 && b*100+i < n; i++ {
					k := b*100 + i
					page := pages[(k/20)%len(pages)]
					var typ, details string
					switch i % 10 {
					case 0, 1:
						typ, details = "page_view_event", fmt.Sprintf(`{"version":"1.0.0","pageId":"%s"}`, page)
					case 2:
						typ, details = "performance_navigation_event", fmt.Sprintf(`{"version":"1.0.0","initiatorType":"navigation","duration":%d,"timeToFirstByte":%d,"dns":3}`, 300+k%4000, 50+k%500)
					case 3:
						typ, details = "largest_contentful_paint_event", fmt.Sprintf(`{"version":"1.0.0","value":%d}`, 500+k%5000)
					case 4:
						typ, details = "first_contentful_paint_event", fmt.Sprintf(`{"version":"1.0.0","value":%d}`, 300+k%3000)
					case 5:
						typ, details = "cumulative_layout_shift_event", fmt.Sprintf(`{"version":"1.0.0","value":%.3f}`, float64(k%300)/1000)
					case 6, 7:
						typ, details = "http_event", fmt.Sprintf(`{"version":"1.0.0","request":{"method":"GET","url":"https://api.example.com/items/%d"},"response":{"status":%d},"duration":%d}`, k%50, []int{200, 200, 200, 404, 500}[k%5], 20+k%300)
					case 8:
						typ, details = "js_error_event", fmt.Sprintf(`{"version":"1.0.0","type":"TypeError","message":"x%d is undefined","stack":"TypeError: x is undefined\n    at f (https://shop.example.com/app.js:1:%d)"}`, k%5, k%5)
					default:
						typ, details = "time_to_first_byte_event", fmt.Sprintf(`{"version":"1.0.0","value":%d}`, 50+k%1500)
					}
					evs = append(evs, fmt.Sprintf(`{"id":"e-%d","timestamp":%d,"type":"com.amazon.rum.%s","metadata":%q,"details":%q}`,
						k, ts, typ, fmt.Sprintf(`{"pageId":"%s","title":"t"}`, page), details))
				}
				body := fmt.Sprintf(`{"BatchId":"b-%d","AppMonitorDetails":{"id":"%s","version":"1.%d"},"UserDetails":{"userId":"00000000-0000-0000-0000-000000000000","sessionId":"s-%d"},"RumEvents":[%s],"SessionMetadata":"{\"domain\":\"127.0.0.1\"}"}`,
					b, appID, b%3, b/5, strings.Join(evs, ","))
				req, _ := http.NewRequest("POST", "http://"+srv.ingest+"/appmonitors/"+appID, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("User-Agent", browsers[b%2])
				for attempt := 0; ; attempt++ {
					resp, err := client.Do(req.Clone(context.Background()))
					if err == nil {
						resp.Body.Close()
					}
					if err == nil && resp.StatusCode == 200 {
						break
					}
					if attempt > 20 || (err == nil && resp.StatusCode != 429 && resp.StatusCode != 503) {
						failed.Add(1)
						t.Errorf("batch %d: %v %v", b, err, resp)
						return
					}
					req, _ = http.NewRequest("POST", "http://"+srv.ingest+"/appmonitors/"+appID, strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("User-Agent", browsers[b%2])
					time.Sleep(500 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.FailNow()
	}
	// Wait until the writer has stored everything.
	waitFor(t, 10*time.Minute, "every event stored", func() (bool, string) {
		var c struct{ Points []struct{ PageViews int } }
		if _, err := srv.api("POST", "/rum/scale/pageloads", map[string]any{"From": (now - 7*3600) * 1000, "To": (now + 60) * 1000}, &c); err != nil {
			return false, err.Error()
		}
		views := 0
		for _, p := range c.Points {
			views += p.PageViews
		}
		return views >= n/5, fmt.Sprintf("%d page views stored of %d", views, n/5)
	})
}
