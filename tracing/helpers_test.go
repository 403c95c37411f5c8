package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"regexp"
	"testing"
	"time"
)

// fakeDaemon is a UDP listener on 127.0.0.1 standing in for the X-Ray daemon.
type fakeDaemon struct {
	addr string
	got  chan []byte
}

func newFakeDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	d := &fakeDaemon{addr: conn.LocalAddr().String(), got: make(chan []byte, 1000)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			d.got <- bytes.Clone(buf[:n])
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	return d
}

// doc is a received segment document, decoded.
type doc map[string]any

var (
	idPattern      = regexp.MustCompile(`^[0-9a-f]{16}$`)
	traceIDPattern = regexp.MustCompile(`^1-[0-9a-f]{8}-[0-9a-f]{24}$`)
)

// next returns the next datagram's document after checking it against PROTOCOLS §3.
func (d *fakeDaemon) next(t *testing.T) doc {
	t.Helper()
	select {
	case b := <-d.got:
		header, body, ok := bytes.Cut(b, []byte("\n"))
		if !ok {
			t.Fatalf("datagram without header line: %q", b)
		}
		if string(header) != `{"format": "json", "version": 1}` {
			t.Fatalf("header line = %q", header)
		}
		if bytes.HasSuffix(body, []byte("\n")) {
			t.Fatalf("document ends with a newline")
		}
		var m doc
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("document is not JSON: %v: %s", err, body)
		}
		checkDocument(t, m, true)
		return m
	case <-time.After(5 * time.Second):
		t.Fatalf("no datagram received")
		return nil
	}
}

// none asserts nothing arrives within wait.
func (d *fakeDaemon) none(t *testing.T, wait time.Duration) {
	t.Helper()
	select {
	case b := <-d.got:
		t.Fatalf("unexpected datagram: %s", b)
	case <-time.After(wait):
	}
}

func checkDocument(t *testing.T, m doc, top bool) {
	t.Helper()
	if name, _ := m["name"].(string); name == "" || len(name) > 200 {
		t.Errorf("bad name %q", m["name"])
	}
	if id, _ := m["id"].(string); !idPattern.MatchString(id) {
		t.Errorf("bad id %q", m["id"])
	}
	if top || m["trace_id"] != nil {
		if tid, _ := m["trace_id"].(string); !traceIDPattern.MatchString(tid) {
			t.Errorf("bad trace_id %q", m["trace_id"])
		}
	}
	if p, ok := m["parent_id"]; ok {
		if s, _ := p.(string); !idPattern.MatchString(s) {
			t.Errorf("bad parent_id %q", p)
		}
	}
	if m["type"] == "subsegment" && m["parent_id"] == nil {
		t.Errorf("independent subsegment without parent_id")
	}
	start, ok := m["start_time"].(float64)
	if !ok || start < 1e9 {
		t.Errorf("bad start_time %v", m["start_time"])
	}
	end, hasEnd := m["end_time"].(float64)
	if !hasEnd && m["in_progress"] != true {
		t.Errorf("neither end_time nor in_progress")
	}
	if hasEnd && end < start {
		t.Errorf("end_time %v before start_time %v", end, start)
	}
	for _, s := range m.subsegments() {
		checkDocument(t, s, false)
	}
}

func (m doc) subsegments() []doc {
	list, _ := m["subsegments"].([]any)
	out := make([]doc, 0, len(list))
	for _, s := range list {
		out = append(out, doc(s.(map[string]any)))
	}
	return out
}

func (m doc) str(path ...string) string {
	var cur any = map[string]any(m)
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	s, _ := cur.(string)
	return s
}

func (m doc) num(path ...string) float64 {
	var cur any = map[string]any(m)
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return 0
		}
		cur = mm[p]
	}
	f, _ := cur.(float64)
	return f
}

// newTestRecorder returns a Recorder sending to d, sampling everything unless cfg says otherwise.
func newTestRecorder(t *testing.T, d *fakeDaemon, cfg Config) *Recorder {
	t.Helper()
	cfg.DaemonAddress = d.addr
	if cfg.ServiceName == "" {
		cfg.ServiceName = "test-svc"
	}
	if cfg.Sampler == nil {
		cfg.Sampler = NewLocalSampler(0, 1)
	}
	r, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}
