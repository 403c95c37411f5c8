package corscheck

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

type headerList []string

func (h *headerList) String() string { return strings.Join(*h, ",") }
func (h *headerList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return fmt.Errorf("empty header name in %q", v)
		}
		if strings.ContainsAny(p, " :\t") {
			return fmt.Errorf("%q is not a header name", p)
		}
		*h = append(*h, strings.ToLower(p))
	}
	return nil
}

// Main runs "cors-check URL... [flags]" and returns the exit status: 0 when every URL
// allows the trace headers, 1 when one does not, 2 for bad usage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cors-check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	origin := fs.String("origin", "https://example.com", "origin of the page calling the API")
	method := fs.String("method", "GET", "method of the real request")
	var extra headerList
	fs.Var(&extra, "header", "another request header the page sends, e.g. traceparent (repeatable, or comma-separated)")
	credentials := fs.Bool("credentials", false, "the real request is sent with credentials (cookies)")
	asJSON := fs.Bool("json", false, "print results as JSON")
	timeout := fs.Duration("timeout", 10*time.Second, "timeout per URL")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sightline cors-check URL... [--origin https://site] [--header traceparent] [--method GET] [--credentials] [--json]")
		fs.PrintDefaults()
	}

	// Accept flags before and after the URLs, as users type them either way.
	var targets []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2 // flag has printed which flag is wrong
		}
		if fs.NArg() == 0 {
			break
		}
		targets = append(targets, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(targets) == 0 {
		fmt.Fprintln(stderr, "cors-check: no URL given")
		fs.Usage()
		return 2
	}
	for _, t := range targets {
		if err := validateTarget(t); err != nil {
			fmt.Fprintf(stderr, "cors-check: %v\n", err)
			return 2
		}
	}
	if err := validateOrigin(*origin); err != nil {
		fmt.Fprintf(stderr, "cors-check: %v\n", err)
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "cors-check: --timeout %v: must be positive\n", *timeout)
		return 2
	}
	headers := append([]string{"x-amzn-trace-id"}, extra...)
	opts := Options{Origin: strings.TrimSuffix(*origin, "/"), Method: *method, Headers: dedupe(headers), Credentials: *credentials}
	client := &http.Client{
		Timeout: *timeout,
		// A preflight is never redirected by browsers: a 3xx is an answer to judge.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	results := make([]Result, 0, len(targets))
	failed := false
	for _, t := range targets {
		r := Check(ctx, client, t, opts)
		results = append(results, r)
		failed = failed || !r.OK
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			fmt.Fprintf(stderr, "cors-check: write JSON: %v\n", err)
			return 1
		}
	} else {
		for _, r := range results {
			writeReport(stdout, r, opts)
		}
	}
	if failed {
		return 1
	}
	return 0
}

func writeReport(w io.Writer, r Result, opts Options) {
	verdict := "OK  "
	if !r.OK {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s %s (origin %s, %s with %s)\n", verdict, r.URL, opts.Origin, strings.ToUpper(opts.Method), strings.Join(opts.Headers, ", "))
	if r.Error != "" {
		fmt.Fprintf(w, "     error: %s\n", r.Error)
	}
	if r.Status != 0 {
		fmt.Fprintf(w, "     preflight status: %d\n", r.Status)
		for _, h := range answeredHeaders {
			if v, ok := r.Answered[h]; ok {
				fmt.Fprintf(w, "     %s: %s\n", h, v)
			}
		}
	}
	for _, h := range r.Headers {
		state := "allowed"
		if h.ViaWildcard {
			state = "allowed (via *)"
		} else if !h.Allowed {
			state = "NOT allowed"
		}
		fmt.Fprintf(w, "     header %s: %s\n", h.Name, state)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "     problem: %s\n", p)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "     note: %s\n", n)
	}
	if len(r.Fix) > 0 {
		fmt.Fprintln(w, "     add to the OPTIONS response:")
		for _, f := range r.Fix {
			fmt.Fprintf(w, "       %s\n", f)
		}
	}
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !containsFold(out, s) {
			out = append(out, s)
		}
	}
	return out
}
