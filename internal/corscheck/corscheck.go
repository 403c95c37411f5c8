// Package corscheck sends the CORS preflight a browser sends before an API call that
// carries a trace header, and explains whether the server allows it and what to add.
// It is the logic behind "sightline cors-check".
package corscheck

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Options describe the browser request being simulated.
type Options struct {
	// Origin is the page's origin, e.g. "https://shop.example.com".
	Origin string
	// Method is the real request's method (default GET).
	Method string
	// Headers are the request headers the real request carries (lower case is what
	// browsers send); default x-amzn-trace-id.
	Headers []string
	// Credentials says the real request is sent with cookies/credentials, where "*"
	// is not a wildcard for origins, methods or headers.
	Credentials bool
}

// HeaderResult says whether one requested header is allowed.
type HeaderResult struct {
	Name    string `json:"name"`
	Allowed bool   `json:"allowed"`
	// ViaWildcard means it is allowed only because Allow-Headers is "*".
	ViaWildcard bool `json:"via_wildcard,omitempty"`
}

// Result is the verdict for one URL.
type Result struct {
	URL    string `json:"url"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	Status int    `json:"status,omitempty"`
	// Answered holds the preflight response headers that matter for CORS.
	Answered      map[string]string `json:"answered,omitempty"`
	OriginAllowed bool              `json:"origin_allowed"`
	MethodAllowed bool              `json:"method_allowed"`
	Headers       []HeaderResult    `json:"headers"`
	Problems      []string          `json:"problems,omitempty"`
	Notes         []string          `json:"notes,omitempty"`
	// Fix lists complete header lines to add to the preflight answer.
	Fix []string `json:"fix,omitempty"`
}

// answeredHeaders are echoed in reports.
var answeredHeaders = []string{
	"Access-Control-Allow-Origin",
	"Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers",
	"Access-Control-Allow-Credentials",
	"Access-Control-Max-Age",
	"Vary",
}

// safelistedMethods need not be listed in Access-Control-Allow-Methods.
var safelistedMethods = []string{"GET", "HEAD", "POST"}

// Check sends the preflight for target and judges the answer. It never returns an
// error: an unreachable host is a failed Result.
func Check(ctx context.Context, client *http.Client, target string, opts Options) Result {
	res := Result{URL: target}
	if client == nil {
		client = http.DefaultClient
	}
	method := strings.ToUpper(opts.Method)
	if method == "" {
		method = http.MethodGet
	}
	headers := slices.Clone(opts.Headers)
	if len(headers) == 0 {
		headers = []string{"x-amzn-trace-id"}
	}
	for i, h := range headers {
		headers[i] = strings.ToLower(strings.TrimSpace(h))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, target, nil)
	if err != nil {
		res.Error = fmt.Sprintf("build request: %v", err)
		return res
	}
	req.Header.Set("Origin", opts.Origin)
	req.Header.Set("Access-Control-Request-Method", method)
	// Browsers send the names lower-cased, sorted, comma-separated without spaces.
	sorted := slices.Clone(headers)
	slices.Sort(sorted)
	req.Header.Set("Access-Control-Request-Headers", strings.Join(sorted, ","))
	resp, err := client.Do(req)
	if err != nil {
		res.Error = fmt.Sprintf("preflight failed: %v", err)
		res.Problems = append(res.Problems, "the server could not be reached; the browser would report a CORS error")
		return res
	}
	resp.Body.Close()
	res.Status = resp.StatusCode
	res.Answered = map[string]string{}
	for _, h := range answeredHeaders {
		if v := strings.Join(resp.Header.Values(h), ", "); v != "" {
			res.Answered[h] = v
		}
	}
	judge(&res, resp.Header, opts, method, headers)
	return res
}

func judge(res *Result, h http.Header, opts Options, method string, headers []string) {
	ok := true
	if res.Status < 200 || res.Status > 299 {
		ok = false
		res.Problems = append(res.Problems, fmt.Sprintf("preflight answered %d: browsers need a 2xx status (usually 204) for OPTIONS", res.Status))
	}
	credentialsAllowed := strings.EqualFold(h.Get("Access-Control-Allow-Credentials"), "true")
	if opts.Credentials && !credentialsAllowed {
		ok = false
		res.Problems = append(res.Problems, "request uses credentials but Access-Control-Allow-Credentials: true is missing")
		res.Fix = append(res.Fix, "Access-Control-Allow-Credentials: true")
	}

	allowOrigin := strings.TrimSpace(h.Get("Access-Control-Allow-Origin"))
	switch {
	case allowOrigin == opts.Origin:
		res.OriginAllowed = true
	case allowOrigin == "*" && !opts.Credentials:
		res.OriginAllowed = true
	case allowOrigin == "*":
		res.Problems = append(res.Problems, "Access-Control-Allow-Origin is \"*\", which browsers refuse for requests with credentials: echo the origin")
	case allowOrigin == "":
		res.Problems = append(res.Problems, "no Access-Control-Allow-Origin: the origin "+opts.Origin+" is not allowed")
	default:
		res.Problems = append(res.Problems, fmt.Sprintf("Access-Control-Allow-Origin is %q, not %q", allowOrigin, opts.Origin))
	}
	if !res.OriginAllowed {
		ok = false
		res.Fix = append(res.Fix, "Access-Control-Allow-Origin: "+opts.Origin)
	}

	allowMethods := splitList(h.Values("Access-Control-Allow-Methods"))
	res.MethodAllowed = slices.Contains(safelistedMethods, method) || containsFold(allowMethods, method) ||
		(containsFold(allowMethods, "*") && !opts.Credentials)
	if !res.MethodAllowed {
		ok = false
		res.Problems = append(res.Problems, "method "+method+" is not in Access-Control-Allow-Methods")
		res.Fix = append(res.Fix, "Access-Control-Allow-Methods: "+strings.Join(appendMissing(allowMethods, []string{method}), ", "))
	}

	allowHeaders := splitList(h.Values("Access-Control-Allow-Headers"))
	wildcard := containsFold(allowHeaders, "*")
	var missing []string
	for _, name := range headers {
		hr := HeaderResult{Name: name}
		switch {
		case containsFold(allowHeaders, name):
			hr.Allowed = true
		case wildcard && !opts.Credentials:
			hr.Allowed, hr.ViaWildcard = true, true
		default:
			missing = append(missing, name)
		}
		res.Headers = append(res.Headers, hr)
	}
	if wildcard {
		if opts.Credentials {
			res.Problems = append(res.Problems, "Access-Control-Allow-Headers is \"*\", which is a literal name, not a wildcard, for requests with credentials")
		} else {
			res.Notes = append(res.Notes, "allowed through Access-Control-Allow-Headers: * — this stops working if the request is sent with credentials (cookies); listing the header explicitly is safer")
		}
	}
	if len(missing) > 0 {
		ok = false
		res.Problems = append(res.Problems, "not in Access-Control-Allow-Headers: "+strings.Join(missing, ", "))
		res.Fix = append(res.Fix, "Access-Control-Allow-Headers: "+strings.Join(appendMissing(withoutStar(allowHeaders), missing), ", "))
	}
	if h.Get("Access-Control-Max-Age") == "" {
		res.Notes = append(res.Notes, "no Access-Control-Max-Age: Chrome repeats the preflight every 5 s; add e.g. Access-Control-Max-Age: 7200")
	}
	res.OK = ok
}

func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func appendMissing(list, add []string) []string {
	out := slices.Clone(list)
	for _, a := range add {
		if !containsFold(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func withoutStar(list []string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == "*" })
}

// validateTarget accepts absolute http(s) URLs only.
func validateTarget(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("URL %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("URL %q: want an absolute http:// or https:// URL", s)
	}
	return nil
}

// validateOrigin accepts scheme://host[:port] with nothing after.
func validateOrigin(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("--origin %q: want scheme://host[:port], e.g. https://shop.example.com", s)
	}
	return nil
}
