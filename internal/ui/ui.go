// Package ui serves Sightline's web console, built from web/console into dist/ and embedded in
// the binary. Client-side routes get index.html (with the server's settings for the console
// inline), content-hashed assets are cached as immutable, and every other request goes to the
// next handler, so the console can share "/" with PutRumEvents ingest when both listen on one
// address.
package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// Options are the server's settings the console needs to know.
type Options struct {
	// IngestURL is the collector's base URL as browsers reach it (install snippets point
	// there). Empty: the console's own origin. A wildcard host (0.0.0.0) is replaced by
	// the host the console was opened on.
	IngestURL string
	// AgentIntegrity is the SRI hash of the embedded browser agent ("sha384-..."), printed
	// into the install snippet.
	AgentIntegrity string
	// Version is shown in the console.
	Version string
	// Next serves everything that is not the console: other methods, and GET/HEAD of paths
	// outside the console's routes (e.g. ingest's GET /appmonitors/{id}/config). Nil: 404.
	Next http.Handler
}

// Routes are the first path segments of the console's client-side routes; "/" is one too.
var Routes = []string{"monitors", "apps", "service-map", "traces"}

const configMarker = "<!--sightline-config-->"

// Handler serves the embedded console.
func Handler(opts Options) http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only on an invalid path; "dist" is valid.
		panic(err)
	}
	h, err := New(sub, opts)
	if err != nil {
		return notBuilt{next: opts.Next, why: err.Error()}
	}
	return h
}

type asset struct {
	body, gz    []byte
	contentType string
	etag        string
	immutable   bool
}

type handler struct {
	index  *asset
	assets map[string]*asset // by path under /assets/
	next   http.Handler
}

// New serves a built console from fsys (index.html and assets/). It fails when index.html is
// missing, i.e. the console was not built into the binary.
func New(fsys fs.FS, opts Options) (http.Handler, error) {
	idx, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		return nil, fmt.Errorf("console not built into this binary (run `make console`): %w", err)
	}
	cfg, err := json.Marshal(map[string]string{"ingestURL": opts.IngestURL, "agentIntegrity": opts.AgentIntegrity, "version": opts.Version})
	if err != nil {
		return nil, fmt.Errorf("encode console config: %w", err)
	}
	// encoding/json escapes <, > and &, so the JSON cannot end the <script> element.
	idx = bytes.Replace(idx, []byte(configMarker), []byte(`<script id="sightline-config" type="application/json">`+string(cfg)+`</script>`), 1)
	h := &handler{index: newAsset(idx, "text/html; charset=utf-8", false), assets: map[string]*asset{}, next: opts.Next}
	err = fs.WalkDir(fsys, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.assets["/"+p] = newAsset(b, ct, true)
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load console assets: %w", err)
	}
	return h, nil
}

func newAsset(b []byte, ct string, immutable bool) *asset {
	sum := sha256.Sum256(b)
	a := &asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, immutable: immutable}
	if compressible(ct) && len(b) > 1024 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		if buf.Len() < len(b) {
			a.gz = buf.Bytes()
		}
	}
	return a
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") || strings.Contains(ct, "json") || strings.Contains(ct, "svg")
}

// IsConsolePath reports whether a GET of p is the console's (a client route or an asset).
func IsConsolePath(p string) bool {
	if p == "/" || strings.HasPrefix(p, "/assets/") {
		return true
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	for _, r := range Routes {
		if first == r {
			return true
		}
	}
	return false
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !IsConsolePath(r.URL.Path) {
		h.pass(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/assets/") {
		a, ok := h.assets[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(w, r, a)
		return
	}
	serve(w, r, h.index)
}

func (h *handler) pass(w http.ResponseWriter, r *http.Request) {
	if h.next != nil {
		h.next.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}

func serve(w http.ResponseWriter, r *http.Request, a *asset) {
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("ETag", a.etag)
	if a.immutable {
		// Asset names carry their content hash: a new build has new names.
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		// index.html names the current assets: always revalidate.
		hdr.Set("Cache-Control", "no-cache")
		hdr.Set("Referrer-Policy", "same-origin")
		hdr.Set("X-Frame-Options", "DENY")
	}
	if a.gz != nil {
		hdr.Add("Vary", "Accept-Encoding")
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		hdr.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	hdr.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// notBuilt answers console routes with a hint when the binary was built without the console.
type notBuilt struct {
	next http.Handler
	why  string
}

func (n notBuilt) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && IsConsolePath(r.URL.Path) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "Sightline's console is not in this binary:", n.why)
		return
	}
	if n.next != nil {
		n.next.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}
