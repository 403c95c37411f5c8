package pipeline

import "testing"

func TestParseUserAgent(t *testing.T) {
	cases := []struct {
		ua                           string
		browser, os, device, version string
	}{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", "Headless Chrome", "Linux", "desktop", "156.0.0.0"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome", "Windows", "desktop", "120.0.0.0"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", "Safari", "iPhone OS", "mobile", "17.0"},
		{"Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1", "Safari", "CPU OS 16_0 like Mac OS X", "tablet", "16.0"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox", "macOS", "desktop", "121.0"},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", "Other", "bot", "2.1"},
	}
	for _, c := range cases {
		got := ParseUserAgent(c.ua)
		if got.Browser != c.browser || got.DeviceType != c.device || got.BrowserVersion != c.version {
			t.Errorf("ParseUserAgent(%q) = %+v, want browser %q %q device %q", c.ua, got, c.browser, c.version, c.device)
		}
		if c.os != "" && got.OS != c.os && c.device != "tablet" {
			t.Errorf("ParseUserAgent(%q).OS = %q, want %q", c.ua, got.OS, c.os)
		}
	}
	if got := ParseUserAgent(""); got != (Client{}) {
		t.Errorf("empty UA parsed to %+v", got)
	}
}

func TestAnonymizeIP(t *testing.T) {
	cases := map[string]string{
		"203.0.113.77":               "203.0.113.0",
		"::ffff:203.0.113.77":        "203.0.113.0",
		"2001:db8:1234:5678:9abc::1": "2001:db8:1234::",
		"not-an-ip":                  "",
		"":                           "",
	}
	for in, want := range cases {
		if got := AnonymizeIP(in); got != want {
			t.Errorf("AnonymizeIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPageMatcher(t *testing.T) {
	m, err := NewPageMatcher([]string{"https://shop.example.com/", "/\\/checkout\\/\\d+$/"}, []string{"https://shop.example.com/admin"})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{
		"https://shop.example.com/cart":         true,
		"https://shop.example.com/admin/x":      false,
		"https://other.example.com/":            false,
		"https://other.example.com/checkout/12": true,
		"":                                      true,
	}
	for page, want := range cases {
		if got := m.Keep(page); got != want {
			t.Errorf("Keep(%q) = %v, want %v", page, got, want)
		}
	}
	if _, err := NewPageMatcher([]string{"/([/"}, nil); err == nil {
		t.Error("bad regexp accepted")
	}
	var none *PageMatcher
	if !none.Keep("x") {
		t.Error("nil matcher must keep")
	}
}
