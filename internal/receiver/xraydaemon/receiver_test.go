package xraydaemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/model"
)

// recordingSink keeps every record it is given.
type recordingSink struct {
	mu   sync.Mutex
	recs []model.SegmentRecord
	// fail, when set, is returned instead of taking the batch.
	fail error
	// gate, when set, blocks each call until it can receive.
	gate chan struct{}
}

func (s *recordingSink) AcceptSegments(ctx context.Context, recs []model.SegmentRecord) error {
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.recs = append(s.recs, recs...)
	return nil
}

func (s *recordingSink) ids() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]bool{}
	for _, r := range s.recs {
		m[r.Segment.ID] = true
	}
	return m
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type running struct {
	r    *Receiver
	conn *net.UDPConn
	done chan error
	stop context.CancelFunc
}

func startReceiver(t *testing.T, opts Options) *running {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := ListenUDP("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.ServeUDP(ctx, conn) }()
	rr := &running{r: r, conn: conn, done: done, stop: cancel}
	t.Cleanup(func() {
		rr.shutdown(t)
		conn.Close()
	})
	return rr
}

func (rr *running) shutdown(t *testing.T) {
	rr.stop()
	select {
	case err, ok := <-rr.done:
		if ok && err != nil {
			t.Errorf("ServeUDP: %v", err)
		}
		close(rr.done)
	case <-time.After(10 * time.Second):
		t.Fatal("ServeUDP did not return after cancel")
	}
}

func sender(t *testing.T, to net.Addr) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, to.(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetWriteBuffer(8 << 20); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls until cond holds or fails the test after a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestReceiverCountsDropsAndKeepsWorking(t *testing.T) {
	sink := &recordingSink{}
	reg := prometheus.NewRegistry()
	rr := startReceiver(t, Options{Sink: sink, Registerer: reg, BatchWait: 5 * time.Millisecond})
	c := sender(t, rr.conn.LocalAddr())

	want := map[Reason]uint64{}
	accepted := 0
	for _, tt := range datagramCases {
		if tt.raw == nil {
			continue // a zero-length write sends an empty datagram; covered by "garbage"
		}
		if _, err := c.Write(tt.raw); err != nil {
			if tt.reason == ReasonTooLarge && len(tt.raw) > MaxDatagramBytes {
				continue // the kernel refuses to send it: nothing to receive
			}
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tt.reason == "" {
			accepted++
		} else {
			want[tt.reason]++
		}
		time.Sleep(time.Millisecond) // keep the order; not needed for counting
	}
	// Valid traffic after all the bad: the receiver still works.
	fixtures := loadFixtureDatagrams(t)
	for _, d := range fixtures {
		if _, err := c.Write(d.bytes()); err != nil {
			t.Fatal(err)
		}
	}
	accepted += len(fixtures)
	sent := uint64(accepted)
	for _, n := range want {
		sent += n
	}
	waitFor(t, "all datagrams accounted for", func() bool {
		s := rr.r.Stats()
		return s.Datagrams == sent && s.Accepted+s.TotalDropped() == sent
	})
	s := rr.r.Stats()
	if s.Accepted != uint64(accepted) {
		t.Errorf("accepted %d, want %d", s.Accepted, accepted)
	}
	for _, reason := range Reasons {
		if s.Dropped[reason] != want[reason] {
			t.Errorf("dropped[%s] = %d, want %d", reason, s.Dropped[reason], want[reason])
		}
	}
	ids := sink.ids()
	for _, d := range fixtures {
		if !ids[d.BodyJSON["id"].(string)] {
			t.Errorf("fixture seq %d (id %s) not in the sink", d.Seq, d.BodyJSON["id"])
		}
	}
	for _, rec := range sink.recs {
		if rec.ReceivedAtMicros == 0 || len(rec.Raw) == 0 || rec.Raw[0] != '{' {
			t.Fatalf("record without receive time or raw document: %+v", rec)
		}
	}

	// The Prometheus view reads the same counters.
	got := gatherCounters(t, reg)
	if got["sightline_xray_udp_segments_accepted_total"] != float64(accepted) {
		t.Errorf("metric accepted = %v, want %d", got["sightline_xray_udp_segments_accepted_total"], accepted)
	}
	if got["sightline_xray_udp_dropped_total/bad_header"] != float64(want[ReasonBadHeader]) {
		t.Errorf("metric bad_header = %v, want %d", got["sightline_xray_udp_dropped_total/bad_header"], want[ReasonBadHeader])
	}
}

func gatherCounters(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
			}
			if m.GetCounter() != nil {
				out[key] = m.GetCounter().GetValue()
			} else if m.GetGauge() != nil {
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestReceiverQueueFullDropsInsteadOfBlocking(t *testing.T) {
	sink := &recordingSink{gate: make(chan struct{})}
	rr := startReceiver(t, Options{Sink: sink, QueueSize: 4, BatchSize: 1})
	c := sender(t, rr.conn.LocalAddr())
	const n = 200
	for range n {
		if _, err := c.Write(withHeader(goodDoc)); err != nil {
			t.Fatal(err)
		}
	}
	// The sink is blocked, yet the reader reads every datagram.
	waitFor(t, "reader to read everything", func() bool { return rr.r.Stats().Datagrams == n })
	close(sink.gate) // let every Sink call through
	waitFor(t, "all accounted for", func() bool {
		s := rr.r.Stats()
		return s.Accepted+s.TotalDropped() == n
	})
	s := rr.r.Stats()
	if s.Dropped[ReasonQueueFull] == 0 || s.Dropped[ReasonQueueFull] > n-4 {
		t.Fatalf("queue_full drops = %d, want between 1 and %d", s.Dropped[ReasonQueueFull], n-4)
	}
}

func TestReceiverSinkErrorCounted(t *testing.T) {
	sink := &recordingSink{fail: errors.New("spool full")}
	rr := startReceiver(t, Options{Sink: sink, BatchSize: 3})
	c := sender(t, rr.conn.LocalAddr())
	for range 7 {
		if _, err := c.Write(withHeader(goodDoc)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "sink errors", func() bool { return rr.r.Stats().Dropped[ReasonSinkError] == 7 })
	if s := rr.r.Stats(); s.Accepted != 0 || s.Batches != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestReceiverBatchesAndFlushesOnShutdown(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	sink := sinkFunc(func(ctx context.Context, recs []model.SegmentRecord) error {
		mu.Lock()
		sizes = append(sizes, len(recs))
		mu.Unlock()
		return nil
	})
	// A batch window far longer than the test: only size or shutdown flush.
	rr := startReceiver(t, Options{Sink: sink, BatchSize: 10, BatchWait: time.Hour})
	c := sender(t, rr.conn.LocalAddr())
	for range 25 {
		if _, err := c.Write(withHeader(goodDoc)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "two full batches", func() bool { return rr.r.Stats().Batches == 2 })
	waitFor(t, "all queued", func() bool { return rr.r.Stats().Datagrams == 25 && rr.r.Stats().QueueLen == 0 })
	rr.shutdown(t)
	rr.done = make(chan error, 1) // cleanup shuts down again
	rr.done <- nil
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 10 || sizes[2] != 5 {
		t.Fatalf("batch sizes %v, want [10 10 5]", sizes)
	}
}

type sinkFunc func(ctx context.Context, recs []model.SegmentRecord) error

func (f sinkFunc) AcceptSegments(ctx context.Context, recs []model.SegmentRecord) error {
	return f(ctx, recs)
}

func TestReceiverBatchWaitFlushes(t *testing.T) {
	sink := &recordingSink{}
	rr := startReceiver(t, Options{Sink: sink, BatchSize: 1000, BatchWait: 10 * time.Millisecond})
	c := sender(t, rr.conn.LocalAddr())
	if _, err := c.Write(withHeader(goodDoc)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the lone document", func() bool { return len(sink.ids()) == 1 })
}

func TestNewRequiresSink(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a Sink succeeded")
	}
}

func TestServeRoutesSamplingAndUDP(t *testing.T) {
	sink := &recordingSink{}
	r, err := New(Options{Sink: sink, Logger: quietLogger(), BatchWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	udp, _, err := ListenUDP("127.0.0.1:0", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var mu sync.Mutex
	sampling := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		paths = append(paths, req.URL.Path)
		mu.Unlock()
		io.WriteString(w, `{}`)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, udp, tcp, sampling) }()

	base := "http://" + tcp.Addr().String()
	for _, p := range []string{"/GetSamplingRules", "/SamplingTargets"} {
		resp, err := http.Post(base+p, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
	resp, err := http.Post(base+"/Other", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-ErrorType") == "" {
		t.Fatalf("/Other: %d %v", resp.StatusCode, resp.Header)
	}
	c := sender(t, udp.LocalAddr())
	if _, err := c.Write(withHeader(goodDoc)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "udp document", func() bool { return len(sink.ids()) == 1 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if len(paths) != 2 {
		t.Fatalf("sampling saw %v", paths)
	}
}

func TestTCPHandlerReplaysCapturedSDKRequests(t *testing.T) {
	var got []string
	h := TCPHandler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		got = append(got, req.URL.Path+" "+string(b))
	}))
	for _, line := range strings.Split(strings.TrimSpace(mustRead(t, "testdata/tcp_sampling_requests.jsonl")), "\n") {
		var c struct {
			Method  string `json:"method"`
			URI     string `json:"request_uri"`
			BodyRaw string `json:"body_raw"`
		}
		if err := jsonUnmarshal(line, &c); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.Method, c.URI, strings.NewReader(c.BodyRaw)))
		if rec.Code != 200 {
			t.Fatalf("%s: %d", c.URI, rec.Code)
		}
	}
	if len(got) != 3 || !strings.HasPrefix(got[0], "/GetSamplingRules {\"NextToken\": null}") {
		t.Fatalf("sampling handler saw %q", got)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/GetSamplingRules", nil))
	if rec.Code == 200 {
		t.Fatal("GET served")
	}
}
