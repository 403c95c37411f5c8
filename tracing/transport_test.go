package tracing

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// rewriteHost sends every request to target while keeping the original URL in the
// request, so a "*.amazonaws.com" call can be tested on loopback.
type rewriteHost struct{ target string }

func (rw rewriteHost) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Host = rw.target
	out.URL.Scheme = "http"
	return http.DefaultTransport.RoundTrip(out)
}

func TestTransportSubsegments(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/slow-down":
			w.WriteHeader(http.StatusTooManyRequests)
		case "/broken":
			w.WriteHeader(http.StatusBadGateway)
		default:
			io.WriteString(w, "hello")
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		url                  string
		base                 http.RoundTripper
		name, namespace      string
		status               int
		errF, throttle, faul bool
	}{
		{url: srv.URL + "/ok", name: host, namespace: "remote", status: 200},
		{url: srv.URL + "/missing", name: host, namespace: "remote", status: 404, errF: true},
		{url: srv.URL + "/slow-down", name: host, namespace: "remote", status: 429, errF: true, throttle: true},
		{url: srv.URL + "/broken", name: host, namespace: "remote", status: 502, faul: true},
		{url: "https://dynamodb.us-east-1.amazonaws.com/", base: rewriteHost{host}, name: "dynamodb.us-east-1.amazonaws.com", namespace: "aws", status: 200},
		{url: "http://127.0.0.1:1/unreachable", name: "127.0.0.1:1", namespace: "remote", faul: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			d := newFakeDaemon(t)
			rec := newTestRecorder(t, d, Config{})
			ctx, seg := rec.BeginSegment(context.Background(), "caller", TraceHeader{})
			client := &http.Client{Transport: &Transport{Base: tt.base}}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tt.url, nil)
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			seg.End()
			got := d.next(t)
			subs := got.subsegments()
			if len(subs) != 1 {
				t.Fatalf("%d subsegments", len(subs))
			}
			s := subs[0]
			if s.str("name") != tt.name || s.str("namespace") != tt.namespace {
				t.Errorf("name=%q namespace=%q, want %q %q", s.str("name"), s.str("namespace"), tt.name, tt.namespace)
			}
			if int(s.num("http", "response", "status")) != tt.status || s.str("http", "request", "url") != tt.url {
				t.Errorf("http = %v", s["http"])
			}
			if (s["error"] == true) != tt.errF || (s["throttle"] == true) != tt.throttle || (s["fault"] == true) != tt.faul {
				t.Errorf("flags error=%v throttle=%v fault=%v", s["error"], s["throttle"], s["fault"])
			}
			if tt.status == 0 {
				ex := s["cause"].(map[string]any)["exceptions"].([]any)[0].(map[string]any)
				if ex["remote"] != true || ex["message"] == "" {
					t.Errorf("exception = %v", ex)
				}
			}
		})
	}
}

func TestTransportWithoutSpanPassesThrough(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer srv.Close()
	resp, err := (&http.Client{Transport: &Transport{}}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get("X-Amzn-Trace-Id") != "" {
		t.Errorf("untraced call got header %q", got.Get("X-Amzn-Trace-Id"))
	}
}

// fakeDriver is a database/sql driver that accepts "SELECT ..." and fails "FAIL ...".
type fakeDriver struct{}
type fakeConn struct{}
type fakeRows struct{ done bool }
type fakeResult struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return fakeConn{}, nil }
func (fakeConn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("prepare not supported")
}
func (fakeConn) Close() error              { return nil }
func (fakeConn) Begin() (driver.Tx, error) { return nil, errors.New("no tx") }
func (fakeConn) QueryContext(_ context.Context, q string, _ []driver.NamedValue) (driver.Rows, error) {
	if strings.HasPrefix(q, "FAIL") {
		return nil, errors.New("syntax error at FAIL")
	}
	return &fakeRows{}, nil
}
func (fakeConn) ExecContext(_ context.Context, q string, _ []driver.NamedValue) (driver.Result, error) {
	if strings.HasPrefix(q, "FAIL") {
		return nil, errors.New("syntax error at FAIL")
	}
	return fakeResult{}, nil
}
func (*fakeRows) Columns() []string { return []string{"n"} }
func (*fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	dest[0] = int64(1)
	return nil
}
func (fakeResult) LastInsertId() (int64, error) { return 0, nil }
func (fakeResult) RowsAffected() (int64, error) { return 1, nil }

func init() { sql.Register("tracing-fake", fakeDriver{}) }

func TestSQLSubsegments(t *testing.T) {
	raw, err := sql.Open("tracing-fake", "")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	db := WrapDB(raw, "PostgreSQL", "postgres://app:s3cret@db.internal:5432/orders?sslmode=disable&password=x")
	d := newFakeDaemon(t)
	rec := newTestRecorder(t, d, Config{})
	ctx, seg := rec.BeginSegment(context.Background(), "sql-user", TraceHeader{})
	rows, err := db.QueryContext(ctx, "SELECT n FROM t WHERE id = $1", 42)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if _, err := db.ExecContext(ctx, "FAIL UPDATE t SET n = $1", 7); err == nil {
		t.Fatal("want error")
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("QueryRow: %v %d", err, n)
	}
	seg.End()
	got := d.next(t)
	subs := got.subsegments()
	if len(subs) != 3 {
		t.Fatalf("%d subsegments, want 3", len(subs))
	}
	q := subs[0]
	if q.str("name") != "PostgreSQL@db.internal" || q.str("namespace") != "remote" {
		t.Errorf("name=%q namespace=%q", q.str("name"), q.str("namespace"))
	}
	if q.str("sql", "sanitized_query") != "SELECT n FROM t WHERE id = $1" || q.str("sql", "database_type") != "PostgreSQL" || q.str("sql", "user") != "app" {
		t.Errorf("sql = %v", q["sql"])
	}
	if u := q.str("sql", "url"); strings.Contains(u, "s3cret") || strings.Contains(u, "password") || !strings.Contains(u, "db.internal:5432/orders") {
		t.Errorf("url = %q leaks or loses data", u)
	}
	if subs[1]["fault"] != true || subs[0]["fault"] != nil || subs[2]["fault"] != nil {
		t.Errorf("fault flags: %v %v %v", subs[0]["fault"], subs[1]["fault"], subs[2]["fault"])
	}
}

func TestSanitizeDSN(t *testing.T) {
	tests := []struct{ in, clean, user, host string }{
		{"postgres://app:pw@h:5432/db", "postgres://app@h:5432/db", "app", "h"},
		{"app:pw@tcp(mysql.local:3306)/shop?parseTime=true", "app@tcp(mysql.local:3306)/shop?parseTime=true", "app", "mysql.local"},
		{"host=pg user=app password=pw dbname=x", "host=pg user=app dbname=x", "app", "pg"},
	}
	for _, tt := range tests {
		clean, user, host := sanitizeDSN(tt.in)
		if clean != tt.clean || user != tt.user || host != tt.host {
			t.Errorf("sanitizeDSN(%q) = %q %q %q, want %q %q %q", tt.in, clean, user, host, tt.clean, tt.user, tt.host)
		}
	}
}
