package corscheck

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sightline/sightline/tracing"
)

const origin = "https://shop.example.com"

// preflightServer answers OPTIONS with fixed headers and status.
func preflightServer(t *testing.T, status int, headers map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions || r.Header.Get("Origin") != origin ||
			r.Header.Get("Access-Control-Request-Method") == "" {
			t.Errorf("not a browser preflight: %s %v", r.Method, r.Header)
		}
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCheck(t *testing.T) {
	good := map[string]string{
		"Access-Control-Allow-Origin":  origin,
		"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
		"Access-Control-Allow-Headers": "Content-Type, X-Amzn-Trace-Id",
		"Access-Control-Max-Age":       "7200",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for kk, vv := range good {
			m[kk] = vv
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name        string
		status      int
		headers     map[string]string
		opts        Options
		wantOK      bool
		wantFix     []string
		wantProblem string
		wantNote    string
		wildcard    bool
	}{
		{name: "allowed", status: 204, headers: good, wantOK: true},
		{name: "missing trace header", status: 204, headers: with("Access-Control-Allow-Headers", "content-type"),
			wantFix: []string{"Access-Control-Allow-Headers: content-type, x-amzn-trace-id"}, wantProblem: "not in Access-Control-Allow-Headers: x-amzn-trace-id"},
		{name: "no allow-headers at all", status: 204, headers: with("Access-Control-Allow-Headers", ""),
			wantFix: []string{"Access-Control-Allow-Headers: x-amzn-trace-id"}},
		{name: "traceparent asked, only x-ray allowed", status: 204, headers: good,
			opts:    Options{Headers: []string{"x-amzn-trace-id", "traceparent"}},
			wantFix: []string{"Access-Control-Allow-Headers: Content-Type, X-Amzn-Trace-Id, traceparent"}},
		{name: "wildcard headers", status: 204, headers: with("Access-Control-Allow-Headers", "*"), wantOK: true, wildcard: true, wantNote: "credentials"},
		{name: "wildcard headers with credentials", status: 204,
			headers:     map[string]string{"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Headers": "*", "Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "60"},
			opts:        Options{Credentials: true},
			wantFix:     []string{"Access-Control-Allow-Headers: x-amzn-trace-id"},
			wantProblem: "literal name"},
		{name: "wrong origin", status: 204, headers: with("Access-Control-Allow-Origin", "https://other.example.com"),
			wantFix: []string{"Access-Control-Allow-Origin: " + origin}, wantProblem: "not \"" + origin + "\""},
		{name: "star origin", status: 204, headers: with("Access-Control-Allow-Origin", "*"), wantOK: true},
		{name: "non-2xx preflight", status: 405, headers: good, wantProblem: "preflight answered 405"},
		{name: "no max-age is a note, not a failure", status: 204, headers: with("Access-Control-Max-Age", ""), wantOK: true, wantNote: "Max-Age"},
		{name: "PUT not allowed", status: 204, headers: good, opts: Options{Method: "PUT"},
			wantFix: []string{"Access-Control-Allow-Methods: GET, POST, OPTIONS, PUT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := preflightServer(t, tt.status, tt.headers)
			opts := tt.opts
			opts.Origin = origin
			r := Check(context.Background(), srv.Client(), srv.URL+"/api", opts)
			if r.OK != tt.wantOK {
				t.Errorf("OK = %v, want %v; problems %q", r.OK, tt.wantOK, r.Problems)
			}
			if r.Status != tt.status {
				t.Errorf("Status = %d", r.Status)
			}
			if tt.wantFix != nil && strings.Join(r.Fix, "|") != strings.Join(tt.wantFix, "|") {
				t.Errorf("Fix = %q, want %q", r.Fix, tt.wantFix)
			}
			if tt.wantOK && len(r.Fix) > 0 {
				t.Errorf("Fix for a passing check: %q", r.Fix)
			}
			if tt.wantProblem != "" && !strings.Contains(strings.Join(r.Problems, "\n"), tt.wantProblem) {
				t.Errorf("Problems = %q, want one containing %q", r.Problems, tt.wantProblem)
			}
			if tt.wantNote != "" && !strings.Contains(strings.Join(r.Notes, "\n"), tt.wantNote) {
				t.Errorf("Notes = %q, want one containing %q", r.Notes, tt.wantNote)
			}
			if tt.wildcard && (len(r.Headers) == 0 || !r.Headers[0].ViaWildcard) {
				t.Errorf("Headers = %+v, want via wildcard", r.Headers)
			}
			if r.Answered["Access-Control-Allow-Origin"] != tt.headers["Access-Control-Allow-Origin"] {
				t.Errorf("Answered = %v", r.Answered)
			}
		})
	}
}

func TestCheckUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r := Check(context.Background(), nil, url, Options{Origin: origin})
	if r.OK || r.Error == "" || r.Status != 0 {
		t.Errorf("unreachable: %+v", r)
	}
}

func TestCheckAgainstTracingCORS(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	srv := httptest.NewServer(tracing.CORS(tracing.CORSConfig{
		AllowedOrigins: []string{"https://*.example.com"},
		AllowedHeaders: []string{"content-type"},
	}, api))
	defer srv.Close()
	r := Check(context.Background(), srv.Client(), srv.URL, Options{Origin: origin, Headers: []string{"x-amzn-trace-id", "traceparent", "content-type"}})
	if !r.OK || len(r.Notes) != 0 {
		t.Errorf("tracing.CORS failed the check: %+v", r)
	}
	r = Check(context.Background(), srv.Client(), srv.URL, Options{Origin: "https://evil.test"})
	if r.OK {
		t.Errorf("foreign origin passed: %+v", r)
	}
}

func TestMain_(t *testing.T) {
	good := preflightServer(t, 204, map[string]string{
		"Access-Control-Allow-Origin":  origin,
		"Access-Control-Allow-Headers": "x-amzn-trace-id, traceparent",
		"Access-Control-Max-Age":       "600",
	})
	bad := preflightServer(t, 204, map[string]string{
		"Access-Control-Allow-Origin":  origin,
		"Access-Control-Allow-Headers": "content-type",
	})
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string
		wantErr    string
		jsonOutput bool
	}{
		{name: "passes", args: []string{good.URL, "--origin", origin, "--header", "traceparent"}, wantCode: 0,
			wantOut: []string{"OK   " + good.URL, "header traceparent: allowed"}},
		{name: "flags first", args: []string{"--origin=" + origin, good.URL}, wantCode: 0},
		{name: "one fails", args: []string{good.URL, bad.URL, "--origin", origin}, wantCode: 1,
			wantOut: []string{"FAIL " + bad.URL, "Access-Control-Allow-Headers: content-type, x-amzn-trace-id", "preflight status: 204"}},
		{name: "json", args: []string{"--json", "--origin", origin, bad.URL}, wantCode: 1, jsonOutput: true},
		{name: "no url", args: []string{"--origin", origin}, wantCode: 2, wantErr: "no URL given"},
		{name: "bad url", args: []string{"example.com/api"}, wantCode: 2, wantErr: `URL "example.com/api"`},
		{name: "bad origin", args: []string{good.URL, "--origin", "shop.example.com"}, wantCode: 2, wantErr: "--origin"},
		{name: "unknown flag", args: []string{good.URL, "--orign", origin}, wantCode: 2, wantErr: "orign"},
		{name: "bad header", args: []string{good.URL, "--header", "x y"}, wantCode: 2, wantErr: "not a header name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(context.Background(), tt.args, &out, &errOut)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stdout %s; stderr %s", code, tt.wantCode, out.String(), errOut.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			if tt.wantErr != "" && !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errOut.String())
			}
			if tt.jsonOutput {
				var results []Result
				if err := json.Unmarshal(out.Bytes(), &results); err != nil || len(results) != 1 || results[0].OK || len(results[0].Fix) == 0 {
					t.Errorf("JSON output %s: %v", out.String(), err)
				}
			}
		})
	}
}
