// Package agentjs serves Sightline's browser agent (web/agent's IIFE build)
// from the collector, so a site installs monitoring with one snippet and no
// asset of its own: GET /agent/v1/sightline.js with long-lived caching, a
// strong ETag, precompressed gzip and CORS, plus the Subresource Integrity
// string and the install snippet that pins it.
package agentjs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"sync"
)

// Path is where the collector serves the agent. The version in the path is
// the snippet's contract, not the agent's release: it changes only when an
// old snippet could no longer load the new script.
const Path = "/agent/v1/sightline.js"

// FileName is the bundle's name inside the dist directory.
const FileName = "sightline.js"

// ErrNotBuilt means the binary was built without the agent bundle (the
// build copies web/agent/dist/sightline.js into this package's dist/).
var ErrNotBuilt = errors.New("browser agent not built into this binary: run `make agent` (cd web/agent && npm ci && npm run build), copy web/agent/dist/sightline.js to internal/agentjs/dist/ and rebuild")

// dist always exists in git (dist/.keep), so the embed compiles before the
// agent has been built; the bundle itself is copied in by the build.
//
//go:embed all:dist
var dist embed.FS

// Bundle is one build of the agent, hashed and compressed once.
type Bundle struct {
	raw       []byte
	gz        []byte // nil when gzip would not make it smaller
	etag      string // strong, for the identity encoding
	etagGzip  string // strong, for the gzip encoding (another representation, another tag)
	integrity string
}

// Load reads sightline.js from the root of fsys. A missing file is not an
// error: the returned bundle answers 404 with ErrNotBuilt's message, so a
// server built without the agent still runs.
func Load(fsys fs.FS) (*Bundle, error) {
	raw, err := fs.ReadFile(fsys, FileName)
	if errors.Is(err, fs.ErrNotExist) {
		return &Bundle{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read agent bundle: %w", err)
	}
	if len(raw) == 0 {
		return &Bundle{}, nil
	}
	b := &Bundle{raw: raw}
	sum := sha256.Sum256(raw)
	tag := base64.RawURLEncoding.EncodeToString(sum[:])
	b.etag = `"` + tag + `"`
	b.etagGzip = `"` + tag + `-gzip"`
	sri := sha512.Sum384(raw)
	b.integrity = "sha384-" + base64.StdEncoding.EncodeToString(sri[:])

	var zbuf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&zbuf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip agent bundle: %w", err)
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("gzip agent bundle: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip agent bundle: %w", err)
	}
	if zbuf.Len() < len(raw) {
		b.gz = zbuf.Bytes()
	}
	return b, nil
}

// Embedded is the bundle compiled into this binary; it is read and
// compressed once, on first use.
var Embedded = sync.OnceValues(func() (*Bundle, error) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("agent dist: %w", err)
	}
	return Load(sub)
})

// Built reports whether the bundle holds an agent build.
func (b *Bundle) Built() bool { return len(b.raw) > 0 }

// Integrity is the Subresource Integrity value of the bundle
// ("sha384-<base64>"), or "" when it was not built.
func (b *Bundle) Integrity() string { return b.integrity }

// Size is the bundle's size in bytes, uncompressed and gzipped as served
// (gzipped equals raw when compression does not pay).
func (b *Bundle) Size() (raw, gzipped int) {
	if b.gz == nil {
		return len(b.raw), len(b.raw)
	}
	return len(b.raw), len(b.gz)
}

// Handler serves the embedded agent at Path; see Bundle.Handler.
func Handler() http.Handler {
	b, err := Embedded()
	if err != nil {
		return errorHandler(err)
	}
	return b.Handler()
}

// Integrity is the embedded agent's SRI value, or "" when the binary was
// built without it.
func Integrity() string {
	b, err := Embedded()
	if err != nil {
		return ""
	}
	return b.Integrity()
}

// Snippet is the install snippet for the embedded agent; see Bundle.Snippet.
func Snippet(collectorURL, appMonitorID string, opts SnippetOptions) (string, error) {
	b, err := Embedded()
	if err != nil {
		return "", err
	}
	return b.Snippet(collectorURL, appMonitorID, opts)
}
