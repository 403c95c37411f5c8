package tracing

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// traceHeaderNames are the request headers browsers send to continue a trace; they
// must be allowed by preflights or the browser drops the request.
var traceHeaderNames = []string{"x-amzn-trace-id", "traceparent"}

// CORSConfig configures CORS.
type CORSConfig struct {
	// AllowedOrigins are exact origins ("https://app.example.com"), subdomain wildcards
	// ("https://*.example.com" or "*.example.com", any scheme) or "*".
	AllowedOrigins []string
	// AllowedHeaders are the application's own request headers (e.g. "content-type");
	// the trace headers are always added.
	AllowedHeaders []string
	// AllowedMethods default to GET, HEAD, POST, PUT, PATCH, DELETE.
	AllowedMethods []string
	// ExposedHeaders are response headers scripts may read; X-Amzn-Trace-Id is always added.
	ExposedHeaders []string
	// AllowCredentials sends Access-Control-Allow-Credentials: true. With credentials a
	// "*" origin is answered by echoing the request's origin, as browsers require.
	AllowCredentials bool
	// MaxAge is how long browsers cache a preflight (default 2 h; Chrome caps it at 2 h).
	// Without it Chrome preflights again every 5 s.
	MaxAge time.Duration
}

// CORS answers preflights for the allowed origins itself and decorates other
// cross-origin responses. Requests from other origins pass through without CORS
// headers (preflights from them get 403), so the browser blocks them.
func CORS(cfg CORSConfig, next http.Handler) http.Handler {
	c := newCORS(cfg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		allowed := c.originAllowed(origin)
		if isPreflight(r) {
			h := w.Header()
			h.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
			if !allowed {
				http.Error(w, "origin not allowed", http.StatusForbidden)
				return
			}
			c.setOrigin(h, origin)
			h.Set("Access-Control-Allow-Methods", c.methods)
			h.Set("Access-Control-Allow-Headers", c.headers)
			h.Set("Access-Control-Max-Age", c.maxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h := w.Header()
			h.Add("Vary", "Origin")
			c.setOrigin(h, origin)
			h.Set("Access-Control-Expose-Headers", c.expose)
		}
		next.ServeHTTP(w, r)
	})
}

type corsPolicy struct {
	cfg     CORSConfig
	any     bool
	exact   map[string]bool
	suffix  []string // ".example.com" with optional "scheme://" prefix kept in scheme
	schemes []string
	methods string
	headers string
	expose  string
	maxAge  string
}

func newCORS(cfg CORSConfig) *corsPolicy {
	c := &corsPolicy{cfg: cfg, exact: map[string]bool{}}
	for _, o := range cfg.AllowedOrigins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		switch {
		case o == "*":
			c.any = true
		case strings.Contains(o, "*."):
			scheme, rest, ok := strings.Cut(o, "://")
			if !ok {
				scheme, rest = "", o
			}
			c.schemes = append(c.schemes, strings.ToLower(scheme))
			c.suffix = append(c.suffix, strings.ToLower(strings.TrimPrefix(rest, "*")))
		default:
			c.exact[strings.ToLower(o)] = true
		}
	}
	methods := cfg.AllowedMethods
	if len(methods) == 0 {
		methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
	}
	c.methods = strings.Join(methods, ", ")
	c.headers = mergeHeaderList("", append(append([]string{}, cfg.AllowedHeaders...), traceHeaderNames...))
	c.expose = mergeHeaderList("", append(append([]string{}, cfg.ExposedHeaders...), AmznTraceHeader))
	maxAge := cfg.MaxAge
	if maxAge <= 0 {
		maxAge = 2 * time.Hour
	}
	c.maxAge = strconv.Itoa(int(maxAge / time.Second))
	return c
}

func (c *corsPolicy) originAllowed(origin string) bool {
	if c.any {
		return true
	}
	o := strings.ToLower(origin)
	if c.exact[o] {
		return true
	}
	scheme, host, ok := strings.Cut(o, "://")
	if !ok {
		return false
	}
	for i, suf := range c.suffix {
		if c.schemes[i] != "" && c.schemes[i] != scheme {
			continue
		}
		// "*.example.com" matches subdomains only, and "evil-example.com" never.
		if strings.HasSuffix(host, suf) && len(host) > len(suf) {
			return true
		}
	}
	return false
}

func (c *corsPolicy) setOrigin(h http.Header, origin string) {
	if c.any && !c.cfg.AllowCredentials {
		h.Set("Access-Control-Allow-Origin", "*")
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if c.cfg.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

// AllowTraceHeaders makes an existing CORS handler allow the trace headers. next is a
// handler that already does CORS (rs/cors, a framework's middleware, a hand-written
// one). The trace header names are removed from the preflight's
// Access-Control-Request-Headers before next sees it, so a strict CORS implementation
// does not refuse them, and appended to next's Access-Control-Allow-Headers answer;
// responses that carry Access-Control-Allow-Origin also expose X-Amzn-Trace-Id.
func AllowTraceHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "" {
			next.ServeHTTP(w, r)
			return
		}
		preflight := isPreflight(r)
		if preflight {
			if requested := r.Header.Values("Access-Control-Request-Headers"); len(requested) > 0 {
				rest := withoutTraceHeaders(requested)
				r = r.Clone(r.Context())
				if rest == "" {
					r.Header.Del("Access-Control-Request-Headers")
				} else {
					r.Header.Set("Access-Control-Request-Headers", rest)
				}
			}
		}
		next.ServeHTTP(&corsAugmenter{ResponseWriter: w, preflight: preflight}, r)
	})
}

type corsAugmenter struct {
	http.ResponseWriter
	preflight bool
	done      bool
}

func (a *corsAugmenter) augment() {
	if a.done {
		return
	}
	a.done = true
	h := a.Header()
	if h.Get("Access-Control-Allow-Origin") == "" {
		return // next refused the origin; not ours to override
	}
	if a.preflight {
		current := strings.Join(h.Values("Access-Control-Allow-Headers"), ", ")
		// "*" already covers them, except for credentialed requests where "*" is literal.
		if strings.TrimSpace(current) == "*" && h.Get("Access-Control-Allow-Credentials") != "true" {
			return
		}
		h.Set("Access-Control-Allow-Headers", mergeHeaderList(current, traceHeaderNames))
		return
	}
	current := strings.Join(h.Values("Access-Control-Expose-Headers"), ", ")
	if strings.TrimSpace(current) != "*" {
		h.Set("Access-Control-Expose-Headers", mergeHeaderList(current, []string{AmznTraceHeader}))
	}
}

func (a *corsAugmenter) WriteHeader(code int) {
	a.augment()
	a.ResponseWriter.WriteHeader(code)
}

func (a *corsAugmenter) Write(b []byte) (int, error) {
	a.augment()
	return a.ResponseWriter.Write(b)
}

func (a *corsAugmenter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

func (a *corsAugmenter) Flush() {
	a.augment()
	_ = http.NewResponseController(a.ResponseWriter).Flush()
}

// mergeHeaderList appends names missing (case-insensitively) from the comma-separated
// list current.
func mergeHeaderList(current string, names []string) string {
	var parts []string
	seen := map[string]bool{}
	for _, p := range strings.Split(current, ",") {
		p = strings.TrimSpace(p)
		if p != "" && !seen[strings.ToLower(p)] {
			seen[strings.ToLower(p)] = true
			parts = append(parts, p)
		}
	}
	for _, n := range names {
		if !seen[strings.ToLower(n)] {
			seen[strings.ToLower(n)] = true
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, ", ")
}

func withoutTraceHeaders(values []string) string {
	var kept []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			trace := false
			for _, t := range traceHeaderNames {
				if strings.EqualFold(p, t) {
					trace = true
				}
			}
			if !trace {
				kept = append(kept, p)
			}
		}
	}
	return strings.Join(kept, ",")
}
