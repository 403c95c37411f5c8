package demo

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// fuzzRoutes are the API's inputs from the outside: a path, or a JSON body.
var fuzzRoutes = []struct{ method, path string }{
	{"GET", "/api/products/"},
	{"GET", "/api/recommendations?sku="},
	{"POST", "/api/cart"},
	{"POST", "/api/coupon"},
	{"POST", "/api/checkout"},
}

// FuzzAPIRequest sends arbitrary paths and bodies through the api to the
// inventory and its database: every answer is a JSON 2xx or 4xx (never a
// 5xx without an injected fault), and no request can raise the stock.
func FuzzAPIRequest(f *testing.F) {
	f.Add(uint8(0), "oak-tray")
	f.Add(uint8(1), "tea-tin")
	f.Add(uint8(2), `{"session":"s","sku":"oak-tray","qty":1}`)
	f.Add(uint8(3), `{"session":"s","code":"WELCOME10"}`)
	f.Add(uint8(4), `{"session":"s","order":"o","items":[{"sku":"tea-tin","qty":-5}]}`)
	api, dsn := newServices(f, Faults{})
	total := func() int {
		db := fakeDB(dsn)
		db.mu.Lock()
		defer db.mu.Unlock()
		n := 0
		for _, p := range db.products {
			n += p.Stock
		}
		return n
	}
	f.Fuzz(func(t *testing.T, route uint8, input string) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		before := total()
		var req *http.Request
		var err error
		if r.method == "GET" {
			req, err = http.NewRequest(r.method, api+r.path, nil)
			if err == nil {
				// Arbitrary text in the last path segment or the query.
				if strings.HasSuffix(r.path, "/") {
					req.URL.RawPath = ""
					req.URL.Path += input
				} else {
					req.URL.RawQuery = "sku=" + url.QueryEscape(input) // as a browser encodes it
				}
			}
		} else {
			req, err = http.NewRequest(r.method, api+r.path, strings.NewReader(input))
		}
		if err != nil {
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return // not a request net/http would send
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, req.URL, input, resp.StatusCode, body)
		}
		if resp.StatusCode != http.StatusNotFound || r.method != "GET" {
			if !json.Valid(body) {
				t.Fatalf("%s %s %q: body is not JSON: %s", r.method, req.URL, input, body)
			}
		}
		// Restocking (+50 below 5) is the only way stock grows.
		if after := total(); after > before && (after-before)%50 != 0 {
			t.Fatalf("%s %q raised the stock from %d to %d", r.path, input, before, after)
		}
	})
}
