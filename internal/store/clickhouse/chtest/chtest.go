// Package chtest starts throw-away ClickHouse servers for tests: Debian's
// clickhouse-server (18.16) or any newer one on PATH, on free loopback
// ports, with its data in a temporary directory, stopped by PID.
//
// When clickhouse-server is not installed the tests skip, unless CI is set
// or SIGHTLINE_REQUIRE_CLICKHOUSE=1, where they fail: scripts/clickhouse-
// install.sh installs it.
package chtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binary is the server program looked up on PATH.
const Binary = "clickhouse-server"

// Required reports whether a missing server must fail the tests.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("SIGHTLINE_REQUIRE_CLICKHOUSE") == "1"
}

// SkipIfMissing skips (or fails, see Required) when no server is installed.
func SkipIfMissing(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath(Binary); err != nil {
		msg := Binary + " is not installed; run scripts/clickhouse-install.sh (apt-get install clickhouse-server)"
		if Required() {
			tb.Fatal(msg + " — required because CI or SIGHTLINE_REQUIRE_CLICKHOUSE=1 is set")
		}
		tb.Skip(msg)
	}
}

// Server is one running clickhouse-server.
type Server struct {
	Dir      string
	HTTPPort int
	TCPPort  int
	cmd      *exec.Cmd
	done     chan struct{}
}

// HTTPURL is the server's HTTP interface.
func (s *Server) HTTPURL() string { return fmt.Sprintf("http://127.0.0.1:%d", s.HTTPPort) }

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Options shape a server.
type Options struct {
	// RemoteServers is placed inside <remote_servers> (cluster tests).
	RemoteServers string
	// Ports, when non-zero, are used instead of free ones (a cluster
	// config must name its shards' ports before they start).
	HTTPPort, TCPPort int
}

// FreePort asks the OS for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts a server under dir and waits until it answers; the caller
// stops it with Stop.
func Start(ctx context.Context, dir string, opts Options) (*Server, error) {
	if _, err := exec.LookPath(Binary); err != nil {
		return nil, fmt.Errorf("%s not installed: %w", Binary, err)
	}
	s := &Server{Dir: dir, HTTPPort: opts.HTTPPort, TCPPort: opts.TCPPort, done: make(chan struct{})}
	var err error
	if s.HTTPPort == 0 {
		if s.HTTPPort, err = FreePort(); err != nil {
			return nil, err
		}
	}
	if s.TCPPort == 0 {
		if s.TCPPort, err = FreePort(); err != nil {
			return nil, err
		}
	}
	for _, sub := range []string{"data", "tmp", "user_files", "format_schemas", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), []byte(Config(dir, s.HTTPPort, s.TCPPort, opts.RemoteServers)), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(usersXML), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "log", "stdout.log"))
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(Binary, "--config-file="+filepath.Join(dir, "config.xml"))
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", Binary, err)
	}
	go func() {
		_ = s.cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w\n%s", err, s.logTail())
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("%s exited during start", Binary)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get(s.HTTPURL() + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s did not answer on port %d within %s", Binary, s.HTTPPort, limit)
}

func (s *Server) logTail() string {
	var b strings.Builder
	for _, f := range []string{"stdout.log", "server.err.log"} {
		data, _ := os.ReadFile(filepath.Join(s.Dir, "log", f))
		if len(data) > 2000 {
			data = data[len(data)-2000:]
		}
		b.WriteString(f + ":\n" + string(data) + "\n")
	}
	return b.String()
}

// Stop ends the server by its PID: SIGTERM, then SIGKILL after 20 s.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// StartT starts a server under a test temp dir (skipping when none is
// installed) and stops it when the test ends.
func StartT(tb testing.TB, opts Options) *Server {
	tb.Helper()
	SkipIfMissing(tb)
	var s *Server
	var err error
	for try := 0; try < 3; try++ {
		// A free port can be taken between asking and binding; retry.
		s, err = Start(context.Background(), tb.TempDir(), opts)
		if err == nil || opts.HTTPPort != 0 {
			break
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Config is the server configuration: loopback only, everything under dir,
// small caches (the machine is shared), UTC.
func Config(dir string, httpPort, tcpPort int, remoteServers string) string {
	return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>` + dir + `/log/server.log</log><errorlog>` + dir + `/log/server.err.log</errorlog><size>50M</size><count>2</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>` + strconv.Itoa(httpPort) + `</http_port>
  <tcp_port>` + strconv.Itoa(tcpPort) + `</tcp_port>
  <path>` + dir + `/data/</path>
  <tmp_path>` + dir + `/tmp/</tmp_path>
  <user_files_path>` + dir + `/user_files/</user_files_path>
  <format_schema_path>` + dir + `/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <timezone>UTC</timezone>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <users_config>users.xml</users_config>
  <remote_servers>` + remoteServers + `</remote_servers>
</yandex>
`
}

const usersXML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage><max_threads>2</max_threads></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

// ShardsXML is a remote_servers entry naming each TCP port as one shard.
func ShardsXML(cluster string, tcpPorts ...int) string {
	var b strings.Builder
	b.WriteString("<" + cluster + ">")
	for _, p := range tcpPorts {
		b.WriteString("<shard><replica><host>127.0.0.1</host><port>" + strconv.Itoa(p) + "</port></replica></shard>")
	}
	b.WriteString("</" + cluster + ">")
	return b.String()
}
