// Package sdke2e_test runs the real aws-xray-sdk-go against the daemon
// receiver and the sampling service. It is its own test binary because the
// SDK keeps global state (xray.Configure).
package sdke2e_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/v2/header"
	xsampling "github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/aws/aws-xray-sdk-go/v2/xraylog"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/receiver/xraydaemon"
	"github.com/sightline/sightline/internal/sampling"
)

type memSink struct {
	mu   sync.Mutex
	recs []model.SegmentRecord
}

func (s *memSink) AcceptSegments(ctx context.Context, recs []model.SegmentRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, recs...)
	return nil
}

func (s *memSink) byTrace() map[string][]*model.Segment {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string][]*model.Segment{}
	for _, r := range s.recs {
		m[r.Segment.TraceID] = append(m[r.Segment.TraceID], r.Segment)
	}
	return m
}

// pathCounter counts the sampling calls the SDK makes.
type pathCounter struct {
	mu     sync.Mutex
	counts map[string]int
	next   http.Handler
}

func (p *pathCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	p.next.ServeHTTP(rec, r)
	p.mu.Lock()
	if rec.Code == 200 {
		p.counts[r.URL.Path]++
	}
	p.mu.Unlock()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func (p *pathCounter) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[path]
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const steps = 25 // above the Go SDK's 20, so completed subsegments are streamed

func TestGoSDKThroughDaemonReceiver(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the SDK's 10 s sampling-target poll")
	}
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The sampling service, with a rule that samples everything.
	svc, err := sampling.Open(ctx, t.TempDir(), sampling.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRule(ctx, sampling.Rule{RuleName: "e2e-all", ResourceARN: "*", Priority: 1, FixedRate: 1,
		ReservoirSize: 100, ServiceName: "*", ServiceType: "*", Host: "*", HTTPMethod: "*", URLPath: "*", Version: 1}); err != nil {
		t.Fatal(err)
	}
	calls := &pathCounter{counts: map[string]int{}, next: svc.SDKHandler()}

	// The daemon address: UDP segments and TCP sampling.
	sink := &memSink{}
	recv, err := xraydaemon.New(xraydaemon.Options{Sink: sink, BatchWait: 5 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	udp, _, err := xraydaemon.ListenUDP("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- recv.Serve(ctx, udp, tcp, calls) }()

	xray.SetLogger(xraylog.NewDefaultLogger(io.Discard, xraylog.LogLevelError))
	strategy, err := xsampling.NewCentralizedStrategy()
	if err != nil {
		t.Fatal(err)
	}
	if err := xray.Configure(xray.Config{
		DaemonAddr:       fmt.Sprintf("tcp:%s udp:%s", tcp.Addr(), udp.LocalAddr()),
		SamplingStrategy: strategy,
		ServiceVersion:   "e2e",
	}); err != nil {
		t.Fatal(err)
	}

	// Rules fetched: the SDK's own strategy now decides by our rule.
	waitFor(t, "the SDK to apply the fetched rules", 10*time.Second, func() bool {
		d := strategy.ShouldTrace(&xsampling.Request{Host: "127.0.0.1", URL: "/", Method: "GET", ServiceName: "front-svc"})
		return d.Rule != nil && *d.Rule == "e2e-all"
	})
	if calls.count("/GetSamplingRules") == 0 {
		t.Fatal("no GetSamplingRules call")
	}

	downstream := httptest.NewServer(xray.Handler(xray.NewFixedSegmentNamer("downstream-svc"),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			xray.AddAnnotation(r.Context(), "stage", "downstream")
			io.WriteString(w, "downstream ok")
		})))
	defer downstream.Close()
	httpClient := xray.Client(nil)
	front := httptest.NewServer(xray.Handler(xray.NewFixedSegmentNamer("front-svc"),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for i := range steps {
				_ = xray.Capture(r.Context(), fmt.Sprintf("step-%02d", i), func(context.Context) error { return nil })
			}
			req, _ := http.NewRequestWithContext(r.Context(), "GET", downstream.URL+"/work", nil)
			resp, err := httpClient.Do(req)
			if err != nil {
				http.Error(w, err.Error(), 502)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			io.WriteString(w, "front ok")
		})))
	defer front.Close()

	const requests = 5
	var traces []string
	for range requests {
		resp, err := http.Get(front.URL + "/api/order")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		h := header.FromString(resp.Header.Get("X-Amzn-Trace-Id"))
		if h.TraceID == "" {
			t.Fatalf("no trace id in response header %q", resp.Header.Get("X-Amzn-Trace-Id"))
		}
		traces = append(traces, h.TraceID)
	}

	// Every trace: a front-svc segment, a downstream-svc segment whose parent
	// is the front's client subsegment, and all 25 steps (nested or streamed).
	check := func() error {
		byTrace := sink.byTrace()
		for _, id := range traces {
			segs := byTrace[id]
			var front, down *model.Segment
			ids := map[string]bool{}
			names := map[string]int{}
			independent := 0
			var walk func(s *model.Segment)
			walk = func(s *model.Segment) {
				ids[s.ID] = true
				names[s.Name]++
				for _, sub := range s.Subsegments {
					walk(sub)
				}
			}
			for _, s := range segs {
				switch {
				case s.Type == model.SegmentTypeSubsegment:
					independent++
				case s.Name == "front-svc":
					front = s
				case s.Name == "downstream-svc":
					down = s
				}
				walk(s)
			}
			if front == nil || down == nil {
				return fmt.Errorf("trace %s: front %v downstream %v of %d documents", id, front != nil, down != nil, len(segs))
			}
			if independent == 0 {
				return fmt.Errorf("trace %s: no streamed independent subsegments", id)
			}
			if !ids[down.ParentID] {
				return fmt.Errorf("trace %s: downstream parent %s not in the trace", id, down.ParentID)
			}
			for i := range steps {
				if names[fmt.Sprintf("step-%02d", i)] != 1 {
					return fmt.Errorf("trace %s: step-%02d seen %d times", id, i, names[fmt.Sprintf("step-%02d", i)])
				}
			}
		}
		return nil
	}
	var last error
	waitFor(t, "every segment in the sink", 10*time.Second, func() bool { last = check(); return last == nil })
	if s := recv.Stats(); s.TotalDropped() != 0 {
		t.Fatalf("drops %+v", s.Dropped)
	}

	// Targets: the SDK reports statistics about every 10 s.
	waitFor(t, "a SamplingTargets report", 25*time.Second, func() bool { return calls.count("/SamplingTargets") > 0 })
	var reported int32
	for _, s := range svc.StatisticSummaries(ctx).SamplingStatisticSummaries {
		if s.RuleName == "e2e-all" {
			reported += s.RequestCount
		}
	}
	if reported < requests {
		t.Fatalf("SDK reported %d requests for e2e-all, want at least %d", reported, requests)
	}
	if n := svc.ActiveClients("e2e-all"); n != 1 {
		t.Fatalf("%d active clients, want the SDK", n)
	}

	cancel()
	if err := <-served; err != nil && !strings.Contains(err.Error(), "closed") {
		t.Fatal(err)
	}
}
