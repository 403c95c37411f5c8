package demo

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/receiver/rumdata"
)

// fakeCollector stands in for `sightline serve`: the RUM control plane,
// PutRumEvents decoded with the collector's own decoder, the agent script,
// and the X-Ray daemon's UDP port with segments parsed by the collector's
// own parser.
type fakeCollector struct {
	t        *testing.T
	api      *httptest.Server
	ingest   *httptest.Server
	udp      net.PacketConn
	xrayAddr string

	// agentJS is served at the agent path; nil answers 404.
	agentJS []byte
	// answer, when set, picks the ingest status for the n-th POST (from 0).
	answer func(n int) int

	mu       sync.Mutex
	monitors map[string]map[string]any
	calls    []string // control-plane "METHOD path"
	posts    int
	batches  []receivedBatch
	segments []*model.Segment
	bad      []string // what the collector's decoders refused
}

const testMonitorID = "6f1d3c2a-8b4e-4f7a-9c1d-2e3f4a5b6c7d"

type receivedBatch struct {
	status                            int
	contentType, encoding, origin, ua string
	req                               *rumdata.Request
	segments                          []model.SegmentRecord
}

func newFakeCollector(t *testing.T) *fakeCollector {
	t.Helper()
	c := &fakeCollector{t: t, monitors: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /appmonitor", c.create)
	mux.HandleFunc("GET /appmonitor/{Name}", c.get)
	mux.HandleFunc("PATCH /appmonitor/{Name}", c.patch)
	c.api = httptest.NewServer(mux)
	t.Cleanup(c.api.Close)
	c.ingest = httptest.NewServer(http.HandlerFunc(c.serveIngest))
	t.Cleanup(c.ingest.Close)

	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.udp, c.xrayAddr = udp, udp.LocalAddr().String()
	done := make(chan struct{})
	go c.readSegments(done)
	t.Cleanup(func() { udp.Close(); <-done })
	return c
}

func (c *fakeCollector) create(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	name, _ := body["Name"].(string)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "POST /appmonitor")
	if _, ok := c.monitors[name]; ok {
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, `{"__type":"ConflictException","message":"exists"}`)
		return
	}
	body["Id"] = testMonitorID
	c.monitors[name] = body
	json.NewEncoder(w).Encode(map[string]any{"Id": body["Id"]})
}

func (c *fakeCollector) get(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "GET /appmonitor/"+r.PathValue("Name"))
	m, ok := c.monitors[r.PathValue("Name")]
	if !ok {
		http.Error(w, `{"__type":"ResourceNotFoundException"}`, 404)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"AppMonitor": m})
}

func (c *fakeCollector) patch(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "PATCH /appmonitor/"+r.PathValue("Name"))
	m, ok := c.monitors[r.PathValue("Name")]
	if !ok {
		http.Error(w, `{"__type":"ResourceNotFoundException"}`, 404)
		return
	}
	for k, v := range body {
		m[k] = v
	}
	io.WriteString(w, "{}")
}

func (c *fakeCollector) monitor(name string) map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.monitors[name]
}

func (c *fakeCollector) serveIngest(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/agent/v1/sightline.js" {
		if c.agentJS == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(c.agentJS)
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/appmonitors/") {
		http.NotFound(w, r)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/appmonitors/")
	raw, _ := io.ReadAll(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			raw, err = io.ReadAll(zr)
		}
		if err != nil {
			c.refuse(w, "gzip: "+err.Error())
			return
		}
	}
	req, err := rumdata.Decode(raw, rumdata.Limits{MaxEvents: 100, MaxEventBytes: 256 << 10})
	if err != nil {
		c.refuse(w, err.Error())
		return
	}
	if req.AppMonitorID != id {
		c.refuse(w, "AppMonitorDetails.id "+req.AppMonitorID+" is not the path's "+id)
		return
	}
	_, segs, err := rumdata.ToModel(req, id, rumdata.Origin{}, time.Now().UnixMicro(), model.ParseSegmentDocument)
	if err != nil {
		c.refuse(w, err.Error())
		return
	}
	c.mu.Lock()
	n := c.posts
	c.posts++
	status := http.StatusOK
	if c.answer != nil {
		status = c.answer(n)
	}
	c.batches = append(c.batches, receivedBatch{
		status: status, contentType: r.Header.Get("Content-Type"), encoding: r.Header.Get("Content-Encoding"),
		origin: r.Header.Get("Origin"), ua: r.UserAgent(), req: req, segments: segs,
	})
	c.mu.Unlock()
	w.WriteHeader(status)
	io.WriteString(w, "{}")
}

func (c *fakeCollector) refuse(w http.ResponseWriter, why string) {
	c.mu.Lock()
	c.bad = append(c.bad, why)
	c.mu.Unlock()
	http.Error(w, why, http.StatusBadRequest)
}

func (c *fakeCollector) readSegments(done chan struct{}) {
	defer close(done)
	buf := make([]byte, 65536)
	for {
		n, _, err := c.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		header, doc, ok := bytes.Cut(buf[:n], []byte("\n"))
		if !ok || !bytes.Contains(header, []byte(`"format"`)) {
			c.mu.Lock()
			c.bad = append(c.bad, "datagram without header: "+string(buf[:min(n, 80)]))
			c.mu.Unlock()
			continue
		}
		seg, err := model.ParseSegmentDocument(bytes.Clone(doc))
		c.mu.Lock()
		if err != nil {
			c.bad = append(c.bad, "segment: "+err.Error())
		} else {
			c.segments = append(c.segments, seg)
		}
		c.mu.Unlock()
	}
}

// snapshot copies what arrived so far.
func (c *fakeCollector) snapshot() ([]receivedBatch, []*model.Segment, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]receivedBatch(nil), c.batches...), append([]*model.Segment(nil), c.segments...), append([]string(nil), c.bad...)
}
