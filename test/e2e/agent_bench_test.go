package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"
)

// benchPage is the same page for every agent: head (%s) gets the agent,
// the body does nothing of its own.
const benchPage = `<!doctype html><html><head><meta charset="utf-8"><title>bench</title>
%s
</head><body><h1>Agent cost</h1><p>A paragraph for contentful paint.</p>
<script>
window.fetches = async function (n) {
  for (var i = 0; i < n; i++) await (await fetch('/api/hello?i=' + i)).text();
  return n;
};
</script></body></html>`

// BenchmarkAgentMainThread loads the same page in headless Chromium with no
// agent, with Sightline's agent (from the collector, with the snippet) and
// with aws-rum-web 3.2.1, each sending to a real sightline process, and
// reports the agent's main-thread cost: script and task time (CDP
// Performance.getMetrics ScriptDuration/TaskDuration) per page load and per
// recorded fetch, minus the same figures without an agent, and the
// bundle's gzipped size.
func BenchmarkAgentMainThread(b *testing.B) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil && os.Getenv("CHROMIUM") == "" {
		b.Skip("chromium not installed")
	}
	srv := benchServer(b)
	resp, err := http.Get("http://" + srv.ingest + "/agent/v1/sightline.js")
	if err != nil {
		b.Fatal(err)
	}
	sightlineJS := must(readAll(resp))
	if resp.StatusCode != 200 {
		b.Skipf("this sightline binary does not serve the agent: %d", resp.StatusCode)
	}
	sightlineBundle := loadBundle(b, sightlineJS)
	rumJS, err := os.ReadFile("rumweb/dist/rum.js")
	if err != nil {
		b.Skipf("aws-rum-web bundle missing (run `make e2e-assets`): %v", err)
	}

	create := func(name string) string {
		var out struct{ Id string }
		body := map[string]any{"Name": name, "Domain": "127.0.0.1", "AppMonitorConfiguration": map[string]any{"SessionSampleRate": 1, "EnableXRay": true}}
		if _, err := srv.api("POST", "/appmonitor", body, &out); err != nil {
			b.Fatal(err)
		}
		return out.Id
	}
	slID, rumID := create("bench-sightline"), create("bench-rumweb")
	snippet, err := sightlineBundle.Snippet("http://"+srv.ingest, slID, snippetOpts(1000))
	if err != nil {
		b.Fatal(err)
	}
	rumHead := fmt.Sprintf(`<script src="/rum.js"></script><script>startRum('%s', 'us-east-1', {endpoint: 'http://%s', signing: false,
  sessionSampleRate: 1, enableXRay: true, dispatchInterval: 1000,
  telemetries: ['errors', 'performance', ['http', {addXRayTraceIdHeader: true, recordAllRequests: true}]]});</script>`, rumID, srv.ingest)

	rec := &recorder{}
	page := func(head string) func() string { return func() string { return fmt.Sprintf(benchPage, head) } }
	site := startPageSite(b, rec, map[string]func() string{
		"/none.html": page(""), "/sightline.html": page(snippet), "/rumweb.html": page(rumHead),
	}, map[string][]byte{"/rum.js": rumJS})

	const fetchesPerLoad = 50
	measure := func(b *testing.B, page string) agentCost {
		ctx := benchBrowser(b)
		var total agentCost
		for i := 0; i < b.N; i++ {
			var m0, m1, m2 map[string]float64
			err := chromedp.Run(ctx,
				chromedp.Navigate("about:blank"),
				metrics(&m0),
				chromedp.Navigate(site+page),
				// Settled: remote config, observers, first flush.
				chromedp.Sleep(1500*time.Millisecond),
				metrics(&m1),
				chromedp.Evaluate(fmt.Sprintf(`fetches(%d)`, fetchesPerLoad), nil, func(p *runtimeEvaluateParams) *runtimeEvaluateParams { return p.WithAwaitPromise(true) }),
				chromedp.Sleep(1500*time.Millisecond),
				metrics(&m2),
			)
			if err != nil {
				b.Fatal(err)
			}
			total.loadScript += m1["ScriptDuration"] - m0["ScriptDuration"]
			total.loadTask += m1["TaskDuration"] - m0["TaskDuration"]
			total.fetchScript += (m2["ScriptDuration"] - m1["ScriptDuration"]) / fetchesPerLoad
			total.fetchTask += (m2["TaskDuration"] - m1["TaskDuration"]) / fetchesPerLoad
		}
		n := float64(b.N)
		return agentCost{total.loadScript / n, total.loadTask / n, total.fetchScript / n, total.fetchTask / n}
	}

	var base agentCost
	b.Run("none", func(b *testing.B) {
		base = measure(b, "/none.html")
		report(b, base, agentCost{}, 0)
	})
	for _, a := range []struct {
		name, page string
		js         []byte
	}{{"sightline", "/sightline.html", sightlineJS}, {"aws-rum-web", "/rumweb.html", rumJS}} {
		b.Run(a.name, func(b *testing.B) {
			c := measure(b, a.page)
			report(b, c, base, gzipLen(a.js))
		})
	}
}

// agentCost is main-thread seconds, per page load and per fetch.
type agentCost struct{ loadScript, loadTask, fetchScript, fetchTask float64 }

func report(b *testing.B, c, base agentCost, gz int) {
	ms := func(s float64) float64 { return s * 1000 }
	b.ReportMetric(ms(c.loadScript-base.loadScript), "script-ms/load")
	b.ReportMetric(ms(c.loadTask-base.loadTask), "task-ms/load")
	b.ReportMetric(ms(c.fetchScript-base.fetchScript), "script-ms/fetch")
	b.ReportMetric(ms(c.fetchTask-base.fetchTask), "task-ms/fetch")
	if gz > 0 {
		b.ReportMetric(float64(gz), "gzip-bytes")
	}
	b.ReportMetric(0, "ns/op") // wall time per op is mostly the sleeps
}

func metrics(out *map[string]float64) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		ms, err := performance.GetMetrics().Do(ctx)
		if err != nil {
			return err
		}
		m := map[string]float64{}
		for _, x := range ms {
			m[x.Name] = x.Value
		}
		*out = m
		return nil
	})
}

func gzipLen(b []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Len()
}

func readAll(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err := buf.ReadFrom(resp.Body)
	return buf.Bytes(), err
}

// benchServer starts `sightline serve` for a benchmark (the e2e harness
// helpers take *testing.T).
func benchServer(b *testing.B) *server {
	b.Helper()
	s := &server{dataDir: b.TempDir(), log: &bytes.Buffer{}, exited: make(chan struct{})}
	for _, p := range []*string{&s.http, &s.ingest, &s.xray} {
		*p = must(freePort())
	}
	s.cmd = exec.Command(sightlineBin, "serve", "--data-dir", s.dataDir, "--http-addr", s.http, "--ingest-addr", s.ingest,
		"--xray-addr", s.xray, "--log-format", "json", "--log-level", "warn")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	b.Cleanup(func() { _ = s.cmd.Process.Signal(syscall.SIGKILL); <-s.exited })
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + s.http + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
	}
	b.Fatalf("sightline not ready:\n%s", s.log)
	return nil
}

// benchBrowser is newBrowser for a benchmark, with the Performance domain on.
func benchBrowser(b *testing.B) context.Context {
	b.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	// Not b.TempDir: Chromium's helpers may still write the profile
	// while the browser exits, and a failed RemoveAll fails the benchmark.
	profile, err := os.MkdirTemp("", "sightline-agent-bench")
	if err != nil {
		b.Fatal(err)
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 800))...)
	ctx, cancelB := chromedp.NewContext(actx)
	b.Cleanup(func() { cancelB(); cancelA(); _ = os.RemoveAll(profile) })
	if err := chromedp.Run(ctx, performance.Enable()); err != nil {
		b.Fatalf("start chromium: %v", err)
	}
	return ctx
}
