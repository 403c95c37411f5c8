package agentjs

import (
	"strings"
	"testing"
)

func TestSnippet(t *testing.T) {
	b := loadFake(t, fakeAgent)
	sri := b.Integrity()
	for _, tc := range []struct {
		name, collector, id string
		opts                SnippetOptions
		want                string
	}{
		{
			name: "minimal", collector: "https://collector.example.com", id: "6f1d3c2a-8b4e-4f7a-9c1d-2e3f4a5b6c7d",
			want: `<script>window.Sightline=window.Sightline||function(){(Sightline.q=Sightline.q||[]).push(arguments)};Sightline.c={"appMonitorId":"6f1d3c2a-8b4e-4f7a-9c1d-2e3f4a5b6c7d","endpoint":"https://collector.example.com","appVersion":"0.0.0"};</script>` +
				`<script async src="https://collector.example.com/agent/v1/sightline.js" integrity="` + sri + `" crossorigin="anonymous"></script>`,
		},
		{
			name: "prefix, trailing slash, options sorted, fixed keys not overridden", collector: "http://127.0.0.1:8081/rum/", id: "abc",
			opts: SnippetOptions{AppVersion: "2.1.0", Config: map[string]any{"flushIntervalMs": 1000, "enableXRay": true, "endpoint": "http://evil", "appMonitorId": "other"}},
			want: `<script>window.Sightline=window.Sightline||function(){(Sightline.q=Sightline.q||[]).push(arguments)};Sightline.c={"appMonitorId":"abc","endpoint":"http://127.0.0.1:8081/rum","appVersion":"2.1.0","enableXRay":true,"flushIntervalMs":1000};</script>` +
				`<script async src="http://127.0.0.1:8081/rum/agent/v1/sightline.js" integrity="` + sri + `" crossorigin="anonymous"></script>`,
		},
		{
			name: "config cannot close the script element", collector: "https://c.example.com", id: "abc",
			opts: SnippetOptions{AppVersion: "</script><script>alert(1)</script>", Config: map[string]any{"sessionAttributes": map[string]any{"x": "a&b\u2028"}}},
			want: `<script>window.Sightline=window.Sightline||function(){(Sightline.q=Sightline.q||[]).push(arguments)};Sightline.c={"appMonitorId":"abc","endpoint":"https://c.example.com","appVersion":"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e","sessionAttributes":{"x":"a\u0026b\u2028"}};</script>` +
				`<script async src="https://c.example.com/agent/v1/sightline.js" integrity="` + sri + `" crossorigin="anonymous"></script>`,
		},
		{
			name: "attribute escaping of the URL path", collector: `https://c.example.com/a"b`, id: "abc",
			want: `<script>window.Sightline=window.Sightline||function(){(Sightline.q=Sightline.q||[]).push(arguments)};Sightline.c={"appMonitorId":"abc","endpoint":"https://c.example.com/a%22b","appVersion":"0.0.0"};</script>` +
				`<script async src="https://c.example.com/a%22b/agent/v1/sightline.js" integrity="` + sri + `" crossorigin="anonymous"></script>`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := b.Snippet(tc.collector, tc.id, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("snippet\n got %s\nwant %s", got, tc.want)
			}
			if strings.Contains(got, "\n") {
				t.Error("snippet is not one line")
			}
		})
	}
}

func TestSnippetRejects(t *testing.T) {
	b := loadFake(t, fakeAgent)
	for _, tc := range []struct{ collector, id, opt string }{
		{"collector.example.com", "abc", ""},
		{"ftp://collector.example.com", "abc", ""},
		{"https://", "abc", ""},
		{"https://u:p@collector.example.com", "abc", ""},
		{"https://collector.example.com/?x=1", "abc", ""},
		{"https://collector.example.com/#f", "abc", ""},
		{"https://collector.example.com", "", ""},
		{"https://collector.example.com", "a/b", ""},
		{"https://collector.example.com", `a"b`, ""},
		{"https://collector.example.com", "abc", "unencodable"},
	} {
		opts := SnippetOptions{}
		if tc.opt != "" {
			opts.Config = map[string]any{"x": func() {}}
		}
		if s, err := b.Snippet(tc.collector, tc.id, opts); err == nil {
			t.Errorf("Snippet(%q, %q) = %q, want an error", tc.collector, tc.id, s)
		}
	}
}
