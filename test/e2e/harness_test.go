// Package e2e starts the real sightline binary and drives it with the real
// clients: aws-rum-web in headless Chromium, the AWS SDKs, raw HTTP.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

var sightlineBin string

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	sightlineBin = os.Getenv("SIGHTLINE_BIN")
	if sightlineBin == "" {
		dir, err := os.MkdirTemp("", "sightline-e2e-bin")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		sightlineBin = filepath.Join(dir, "sightline")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", sightlineBin, "./cmd/sightline")
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("build sightline: %w", err)
		}
	}
	return m.Run(), nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// server is one running `sightline serve` process.
type server struct {
	t       *testing.T
	role    string // serve, collector, query, demo
	cmd     *exec.Cmd
	dataDir string
	http    string
	ingest  string
	xray    string
	log     *bytes.Buffer
	exited  chan struct{}
}

func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	return startRole(t, "serve", dataDir, extra...)
}

// startRole starts `sightline <role>` on free ports.
func startRole(t *testing.T, role, dataDir string, extra ...string) *server {
	t.Helper()
	s := &server{t: t, role: role, dataDir: dataDir, http: freeAddr(t), ingest: freeAddr(t), xray: freeAddr(t), log: &bytes.Buffer{}, exited: make(chan struct{})}
	s.start(extra...)
	return s
}

func (s *server) start(extra ...string) {
	t := s.t
	args := append([]string{s.role, "--data-dir", s.dataDir, "--http-addr", s.http, "--ingest-addr", s.ingest,
		"--xray-addr", s.xray, "--log-format", "json", "--log-level", "info"}, extra...)
	s.cmd = exec.Command(sightlineBin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.exited = make(chan struct{})
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.kill() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.http + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("sightline exited at start:\n%s", s.log)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("sightline not ready after 60s:\n%s", s.log)
}

func (s *server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(60 * time.Second):
		s.t.Fatalf("sightline did not stop after SIGTERM:\n%s", s.log)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		s.t.Fatalf("exit code %d after SIGTERM:\n%s", code, s.log)
	}
}

func (s *server) api(method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+s.http+path, body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(raw, out)
	}
	return resp.StatusCode, nil
}

func (s *server) createAppMonitor(name string, domain string, config map[string]any) string {
	s.t.Helper()
	var out struct{ Id string }
	body := map[string]any{"Name": name, "Domain": domain, "CustomEvents": map[string]string{"Status": "ENABLED"}}
	if config != nil {
		body["AppMonitorConfiguration"] = config
	}
	if _, err := s.api("POST", "/appmonitor", body, &out); err != nil {
		s.t.Fatal(err)
	}
	return out.Id
}

// storedEvent is one GetAppMonitorData event string, decoded.
type storedEvent struct {
	Timestamp   int64                  `json:"event_timestamp"`
	Type        string                 `json:"event_type"`
	ID          string                 `json:"event_id"`
	Metadata    map[string]any         `json:"metadata"`
	UserDetails map[string]string      `json:"user_details"`
	Details     map[string]any         `json:"event_details"`
	Raw         string                 `json:"-"`
	Extra       map[string]interface{} `json:"-"`
}

// allEvents pages through GetAppMonitorData.
func (s *server) allEvents(name string, filters ...map[string]any) ([]storedEvent, error) {
	var out []storedEvent
	token := ""
	for page := 0; page < 10000; page++ {
		req := map[string]any{"TimeRange": map[string]any{"After": 0}, "MaxResults": 100}
		if len(filters) > 0 {
			req["Filters"] = filters
		}
		if token != "" {
			req["NextToken"] = token
		}
		var resp struct {
			Events    []string
			NextToken string
		}
		if _, err := s.api("POST", "/appmonitor/"+name+"/data", req, &resp); err != nil {
			return nil, err
		}
		for _, e := range resp.Events {
			var se storedEvent
			if err := json.Unmarshal([]byte(e), &se); err != nil {
				return nil, err
			}
			se.Raw = e
			out = append(out, se)
		}
		if resp.NextToken == "" {
			return out, nil
		}
		token = resp.NextToken
	}
	return out, fmt.Errorf("too many pages")
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %s", what, last)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var _ = strings.Contains
var _ = context.Background
