package agentjs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// fakeAgent is large and repetitive enough that gzip pays, like the real bundle.
var fakeAgent = []byte(strings.Repeat("(function(){var Sightline=window.Sightline;Sightline&&Sightline.c;})();\n", 200))

func loadFake(t *testing.T, js []byte) *Bundle {
	t.Helper()
	b, err := Load(fstest.MapFS{FileName: {Data: js}, ".keep": {}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func do(t *testing.T, h http.Handler, method string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, Path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerServesBundle(t *testing.T) {
	b := loadFake(t, fakeAgent)
	h := b.Handler()
	sri := sha512.Sum384(fakeAgent)
	if want := "sha384-" + base64.StdEncoding.EncodeToString(sri[:]); b.Integrity() != want {
		t.Fatalf("Integrity() = %q, want %q", b.Integrity(), want)
	}

	plain := do(t, h, "GET", nil)
	body, _ := io.ReadAll(plain.Body)
	if plain.StatusCode != 200 || !bytes.Equal(body, fakeAgent) {
		t.Fatalf("GET: status %d, %d bytes, want 200 and the bundle", plain.StatusCode, len(body))
	}
	for k, want := range map[string]string{
		"Content-Type":                "text/javascript; charset=utf-8",
		"Cache-Control":               "public, max-age=31536000, immutable",
		"Access-Control-Allow-Origin": "*",
		"Vary":                        "Accept-Encoding",
		"Content-Encoding":            "",
		"Content-Length":              itoa(len(fakeAgent)),
	} {
		if got := plain.Header.Get(k); got != want {
			t.Errorf("identity %s = %q, want %q", k, got, want)
		}
	}
	etag := plain.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) != 45 {
		t.Errorf("ETag %q is not a strong sha256 tag", etag)
	}

	zipped := do(t, h, "GET", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	zbody, _ := io.ReadAll(zipped.Body)
	if zipped.Header.Get("Content-Encoding") != "gzip" || len(zbody) >= len(fakeAgent) {
		t.Fatalf("gzip GET: encoding %q, %d bytes", zipped.Header.Get("Content-Encoding"), len(zbody))
	}
	if zipped.Header.Get("Content-Length") != itoa(len(zbody)) {
		t.Errorf("gzip Content-Length %q for %d bytes", zipped.Header.Get("Content-Length"), len(zbody))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zbody))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, fakeAgent) {
		t.Fatal("gzip body does not decompress to the bundle")
	}
	zetag := zipped.Header.Get("ETag")
	if zetag == etag || zetag == "" {
		t.Errorf("gzip ETag %q must differ from identity ETag %q (another representation)", zetag, etag)
	}
	if raw, gz := b.Size(); raw != len(fakeAgent) || gz != len(zbody) {
		t.Errorf("Size() = %d, %d; want %d, %d", raw, gz, len(fakeAgent), len(zbody))
	}

	head := do(t, h, "HEAD", nil)
	hb, _ := io.ReadAll(head.Body)
	if head.StatusCode != 200 || len(hb) != 0 || head.Header.Get("ETag") != etag {
		t.Errorf("HEAD: %d, %d body bytes, etag %q", head.StatusCode, len(hb), head.Header.Get("ETag"))
	}
	if post := do(t, h, "POST", nil); post.StatusCode != 405 || post.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d Allow %q", post.StatusCode, post.Header.Get("Allow"))
	}
}

func TestHandlerConditional(t *testing.T) {
	b := loadFake(t, fakeAgent)
	h := b.Handler()
	etag := do(t, h, "GET", nil).Header.Get("ETag")
	zetag := do(t, h, "GET", map[string]string{"Accept-Encoding": "gzip"}).Header.Get("ETag")
	other := loadFake(t, append([]byte("/*v2*/"), fakeAgent...))
	stale := do(t, other.Handler(), "GET", nil).Header.Get("ETag")
	if stale == etag {
		t.Fatal("different bundles share an ETag")
	}
	for _, tc := range []struct {
		name, inm, ae string
		want          int
	}{
		{"same tag", etag, "", 304},
		{"gzip tag", zetag, "gzip", 304},
		{"other encoding's tag still current", etag, "gzip", 304},
		{"weak form", "W/" + etag, "", 304},
		{"in a list", `"nope", ` + etag, "", 304},
		{"star", "*", "", 304},
		{"stale build", stale, "", 200},
		{"garbage", `"x"`, "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := do(t, h, "GET", map[string]string{"If-None-Match": tc.inm, "Accept-Encoding": tc.ae})
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			if tc.want == 304 {
				if len(body) != 0 || res.Header.Get("ETag") == "" || res.Header.Get("Cache-Control") == "" || res.Header.Get("Content-Encoding") != "" {
					t.Errorf("304 with body %d bytes, headers %v", len(body), res.Header)
				}
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"x-gzip", true},
		{"gzip, deflate, br, zstd", true},
		{"br;q=1.0, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"*", true},
		{"*;q=0", false},
		{"gzip;q=0, *", false},
		{"*, gzip;q=0", false},
		{"br, identity", false},
		{"gzipper", false},
	} {
		if got := acceptsGzip(tc.header); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestNotBuilt(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"only placeholder": {".keep": {}},
		"empty file":       {FileName: {Data: nil}},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := Load(fsys)
			if err != nil {
				t.Fatal(err)
			}
			if b.Built() || b.Integrity() != "" {
				t.Fatalf("Built %v Integrity %q for a dist without the bundle", b.Built(), b.Integrity())
			}
			res := do(t, b.Handler(), "GET", nil)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != 404 || !strings.Contains(string(body), "npm run build") || res.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("not built: %d %q cache %q", res.StatusCode, body, res.Header.Get("Cache-Control"))
			}
			if _, err := b.Snippet("https://c.example.com", "id", SnippetOptions{}); !errors.Is(err, ErrNotBuilt) {
				t.Errorf("Snippet error %v, want ErrNotBuilt", err)
			}
		})
	}
}

func TestLoadReadError(t *testing.T) {
	// A directory where the file should be: not "missing", a real failure.
	if _, err := Load(fstest.MapFS{FileName + "/x": {Data: []byte("x")}}); err == nil {
		t.Fatal("Load of a directory named sightline.js succeeded")
	}
}

func TestEmbedded(t *testing.T) {
	b, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	// Both states are legitimate (the bundle is copied in by the build);
	// the package-level functions must agree with the embedded bundle.
	if Integrity() != b.Integrity() {
		t.Errorf("Integrity() %q != embedded %q", Integrity(), b.Integrity())
	}
	res := do(t, Handler(), "GET", nil)
	if b.Built() != (res.StatusCode == 200) {
		t.Errorf("built %v but GET answered %d", b.Built(), res.StatusCode)
	}
	if b.Built() {
		if !strings.HasPrefix(b.Integrity(), "sha384-") {
			t.Errorf("integrity %q", b.Integrity())
		}
		if _, err := Snippet("http://127.0.0.1:8081", "x", SnippetOptions{}); err != nil {
			t.Error(err)
		}
	} else {
		t.Log("agent bundle not embedded (build copies web/agent/dist/sightline.js into dist/)")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
