package agentjs

import (
	"net/http"
	"strconv"
	"strings"
)

// Handler serves the bundle. Mount it at Path (it answers whatever path it
// is given). The script is public and loaded by any site with
// crossorigin="anonymous" (required for SRI), hence `*` for CORS.
//
// The cache lifetime is a year and immutable: the snippet pins the bundle
// with its integrity hash, so a changed bundle at the same URL would be
// refused by those pages anyway; a new agent ships with a new snippet.
func (b *Bundle) Handler() http.Handler {
	if !b.Built() {
		return errorHandler(ErrNotBuilt)
	}
	rawLen := strconv.Itoa(len(b.raw))
	gzLen := strconv.Itoa(len(b.gz))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, r.Method+" is not allowed here; use GET", http.StatusMethodNotAllowed)
			return
		}
		body, etag, length := b.raw, b.etag, rawLen
		if b.gz != nil {
			h.Set("Vary", "Accept-Encoding")
			if acceptsGzip(r.Header.Get("Accept-Encoding")) {
				body, etag, length = b.gz, b.etagGzip, gzLen
				h.Set("Content-Encoding", "gzip")
			}
		}
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("ETag", etag)
		h.Set("X-Content-Type-Options", "nosniff")
		// Either tag names the same script: a cache holding the other
		// encoding still has current content.
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, b.etag, b.etagGzip) {
			h.Del("Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", length)
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}

func errorHandler(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Not cacheable: the next deployment may have the bundle.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		http.Error(w, err.Error(), http.StatusNotFound)
	})
}

// acceptsGzip reads Accept-Encoding (RFC 9110 §12.5.3): gzip or x-gzip or
// `*` with a non-zero quality, where an explicit gzip entry wins over `*`.
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		ok := qualityNonZero(params)
		if name == "*" {
			star = ok
			continue
		}
		return ok
	}
	return star
}

func qualityNonZero(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
	}
	return true
}

// etagMatch is If-None-Match's weak comparison (RFC 9110 §13.1.2) against
// any of tags; `*` matches any current representation.
func etagMatch(header string, tags ...string) bool {
	for _, c := range strings.Split(header, ",") {
		c = strings.TrimPrefix(strings.TrimSpace(c), "W/")
		if c == "*" {
			return true
		}
		for _, t := range tags {
			if c == t {
				return true
			}
		}
	}
	return false
}
