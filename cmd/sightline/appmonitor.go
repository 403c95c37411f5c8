package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/agentjs"
)

var flagHelp = flag.ErrHelp

// appMonitorCmd manages app monitors through the running server's API:
// DuckDB allows one process per database file, so the CLI never opens it.
func appMonitorCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: sightline appmonitor create|list|get|delete|snippet [flags]")
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("sightline appmonitor "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := "http://127.0.0.1:8080"
	if v := getenv("SIGHTLINE_SERVER"); v != "" {
		server = v
	}
	fs.StringVar(&server, "server", server, "address of the running sightline HTTP API (SIGHTLINE_SERVER)")
	ingest := fs.String("ingest-url", "http://127.0.0.1:8081", "public ingest URL the snippet sends to")
	name := fs.String("name", "", "app monitor name")
	var domains multiFlag
	fs.Var(&domains, "domain", "domain the pages are served from (repeatable; *.example.com allowed)")
	rate := fs.Float64("sample-rate", 1, "share of sessions recorded, 0 to 1")
	cookies := fs.Bool("allow-cookies", true, "let clients keep user and session ids in cookies")
	xray := fs.Bool("xray", true, "trace allowed HTTP requests (X-Ray)")
	rest := args[1:]
	positional := ""
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		// `sightline appmonitor snippet shop --server ...`: the name may
		// come before the flags.
		positional, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *name == "" {
		*name = positional
	}
	if *name == "" && fs.NArg() > 0 {
		*name = fs.Arg(0)
	}
	c := apiClient{base: strings.TrimSuffix(server, "/"), http: &http.Client{Timeout: 10 * time.Second}}
	switch sub {
	case "create":
		if *name == "" || len(domains) == 0 {
			fmt.Fprintln(stderr, "sightline appmonitor create: --name and --domain are required")
			return 2
		}
		body := map[string]any{"Name": *name, "CustomEvents": map[string]string{"Status": "ENABLED"},
			"AppMonitorConfiguration": map[string]any{"SessionSampleRate": *rate, "AllowCookies": *cookies, "EnableXRay": *xray,
				"Telemetries": []string{"errors", "performance", "http"}}}
		if len(domains) == 1 {
			body["Domain"] = domains[0]
		} else {
			body["DomainList"] = []string(domains)
		}
		var out struct{ Id string }
		if err := c.call(ctx, http.MethodPost, "/appmonitor", body, &out); err != nil {
			fmt.Fprintln(stderr, "sightline appmonitor create:", err)
			return 1
		}
		fmt.Fprintf(stdout, "created app monitor %q with id %s\n\n", *name, out.Id)
		fmt.Fprint(stdout, snippet(out.Id, *ingest, *rate, *cookies, *xray))
		return 0
	case "list":
		var out struct {
			AppMonitorSummaries []struct{ Id, Name, State, Created string }
		}
		if err := c.call(ctx, http.MethodPost, "/appmonitors?maxResults=100", map[string]any{}, &out); err != nil {
			fmt.Fprintln(stderr, "sightline appmonitor list:", err)
			return 1
		}
		for _, m := range out.AppMonitorSummaries {
			fmt.Fprintf(stdout, "%-36s  %-24s  %s\n", m.Id, m.Name, m.Created)
		}
		return 0
	case "get", "snippet":
		if *name == "" {
			fmt.Fprintf(stderr, "sightline appmonitor %s: --name is required\n", sub)
			return 2
		}
		var out struct {
			AppMonitor json.RawMessage
		}
		if err := c.call(ctx, http.MethodGet, "/appmonitor/"+*name, nil, &out); err != nil {
			fmt.Fprintf(stderr, "sightline appmonitor %s: %v\n", sub, err)
			return 1
		}
		if sub == "get" {
			var pretty bytes.Buffer
			_ = json.Indent(&pretty, out.AppMonitor, "", "  ")
			fmt.Fprintln(stdout, pretty.String())
			return 0
		}
		var m struct {
			Id                      string
			AppMonitorConfiguration struct {
				SessionSampleRate        *float64
				AllowCookies, EnableXRay *bool
			}
		}
		_ = json.Unmarshal(out.AppMonitor, &m)
		r, ck, xr := 1.0, true, true
		if m.AppMonitorConfiguration.SessionSampleRate != nil {
			r = *m.AppMonitorConfiguration.SessionSampleRate
		}
		if m.AppMonitorConfiguration.AllowCookies != nil {
			ck = *m.AppMonitorConfiguration.AllowCookies
		}
		if m.AppMonitorConfiguration.EnableXRay != nil {
			xr = *m.AppMonitorConfiguration.EnableXRay
		}
		fmt.Fprint(stdout, snippet(m.Id, *ingest, r, ck, xr))
		return 0
	case "delete":
		if *name == "" {
			fmt.Fprintln(stderr, "sightline appmonitor delete: --name is required")
			return 2
		}
		if err := c.call(ctx, http.MethodDelete, "/appmonitor/"+*name, nil, nil); err != nil {
			fmt.Fprintln(stderr, "sightline appmonitor delete:", err)
			return 1
		}
		fmt.Fprintf(stdout, "deleted app monitor %q\n", *name)
		return 0
	}
	fmt.Fprintf(stderr, "sightline appmonitor: unknown subcommand %q (create, list, get, snippet, delete)\n", sub)
	return 2
}

func snippet(id, ingest string, rate float64, cookies, xray bool) string {
	agent := "Sightline's agent: not built into this binary (run `make build`).\n\n"
	if s, err := agentjs.Snippet(ingest, id, agentjs.SnippetOptions{}); err == nil {
		agent = "Sightline's agent (10 KB), paste into <head>:\n\n  " + s + "\n\n"
	}
	return agent + fmt.Sprintf(`aws-rum-web (npm install aws-rum-web), unsigned, sending to Sightline:

  import { AwsRum } from 'aws-rum-web';
  const rum = new AwsRum('%s', '1.0.0', 'us-east-1', {
    endpoint: '%s',
    signing: false,
    sessionSampleRate: %g,
    allowCookies: %t,
    enableXRay: %t,
    telemetries: ['errors', 'performance', ['http', { addXRayTraceIdHeader: %t }]],
  });

If your API is on another origin, it must allow the trace header:
  Access-Control-Allow-Headers: content-type, x-amzn-trace-id
Check it with: sightline cors-check https://api.example.com/path --origin https://your.site
`, id, ingest, rate, cookies, xray, xray)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type apiClient struct {
	base string
	http *http.Client
}

func (c apiClient) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("is sightline serve running at %s? %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode/100 != 2 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Message != "" {
			return fmt.Errorf("%s: %s", e.Type, e.Message)
		}
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
	}
	return nil
}
