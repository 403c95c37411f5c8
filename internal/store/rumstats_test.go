package store

import "testing"

func TestNormalizeErrorMessage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Cannot read properties of undefined (reading 'price')", "Cannot read properties of undefined (reading <str>)"},
		{`Item "abc" not found`, "Item <str> not found"},
		{"Request 3f2a1b4c-1d2e-4f00-8a9b-0c1d2e3f4a5b failed after 1234 ms", "Request <uuid> failed after <n> ms"},
		{"Chunk load failed: 0x1f3a", "Chunk load failed: <hex>"},
		{"bad id deadbeef42 and cafe", "bad id <hex> and cafe"},
		{"position 12.5 of item42", "position <n> of item<n>"},
		{"Script error.", "Script error."},
		{"", ""},
	} {
		if got := NormalizeErrorMessage(tc.in); got != tc.want {
			t.Errorf("NormalizeErrorMessage(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTopStackFrame(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"TypeError: x is undefined\n    at renderCart (https://cdn.example.com/app.js?v=12:3:15)\n    at main (https://cdn.example.com/app.js:1:1)",
			"renderCart (https://cdn.example.com/app.js:3:15)"},
		{"renderCart@https://cdn.example.com/app.js#x:3:15\nmain@https://cdn.example.com/app.js:1:1\n", "renderCart@https://cdn.example.com/app.js:3:15"},
		{"@https://cdn.example.com/app.js:3:15", "@https://cdn.example.com/app.js:3:15"},
		{"    at https://cdn.example.com/app.js:9:9  ", "https://cdn.example.com/app.js:9:9"},
		{"Error: message only", ""},
		{"", ""},
	} {
		if got := TopStackFrame(tc.in); got != tc.want {
			t.Errorf("TopStackFrame(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestURLPattern(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/api/users/42", "/api/users/{id}"},
		{"/api/users/42/orders/7/items/9", "/api/users/{id}/orders/{id}/items/{id}"},
		{"/a/1/2/3/4", "/a/{id}/{id}/{id}/{id}"},
		{"https://api.example.com/orders/3f2a1b4c-1d2e-4f00-8a9b-0c1d2e3f4a5b/items?page=2", "https://api.example.com/orders/{id}/items"},
		{"http://127.0.0.1:8080/api/stock/12/levels#top", "http://127.0.0.1:8080/api/stock/{id}/levels"},
		{"/api/products/0a1b2c3d4e5f", "/api/products/{id}"},
		{"/api/v2/checkout", "/api/v2/checkout"},
		{"/api/search?q=1", "/api/search"},
		{"", ""},
	} {
		if got := URLPattern(tc.in); got != tc.want {
			t.Errorf("URLPattern(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFilterHelpers(t *testing.T) {
	if !(RumFilter{}).Empty() || (RumFilter{Metadata: map[string][]string{"a": {"b"}}}).Empty() {
		t.Error("Empty")
	}
	for k, want := range map[string]bool{"plan": true, "aws:releaseId": true, "a.b-c_d": true, "": false, `x"y`: false, "a b": false, "x')--": false} {
		if ValidMetadataKey(k) != want {
			t.Errorf("ValidMetadataKey(%q) != %v", k, want)
		}
	}
	if CheckDimension("browser") != nil || CheckDimension("user_agent") == nil {
		t.Error("CheckDimension")
	}
}
