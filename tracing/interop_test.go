package tracing

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
)

// TestInteropWithAWSSDK runs this package and aws-xray-sdk-go in one trace, both ways,
// and checks the links the daemon receives.
func TestInteropWithAWSSDK(t *testing.T) {
	d := newFakeDaemon(t)
	all, err := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version":2,"default":{"fixed_target":0,"rate":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	// The SDK's configuration is global; this is the only test that touches it.
	if err := xray.Configure(xray.Config{DaemonAddr: d.addr, SamplingStrategy: all}); err != nil {
		t.Fatal(err)
	}
	rec := newTestRecorder(t, d, Config{ServiceName: "sightline-svc"})

	// byName reads documents until one segment of each name has arrived.
	byName := func(names ...string) map[string]doc {
		out := map[string]doc{}
		for len(out) < len(names) {
			m := d.next(t)
			t.Logf("received %s %s", m.str("name"), m.str("id"))
			for _, n := range names {
				if m.str("name") == n && out[n] == nil {
					out[n] = m
				}
			}
		}
		return out
	}

	t.Run("tracing.Transport calls xray.Handler", func(t *testing.T) {
		sdkSvc := httptest.NewServer(xray.Handler(xray.NewFixedSegmentNamer("sdk-svc"),
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "from sdk") })))
		defer sdkSvc.Close()
		front := rec.Middleware(callingHandler(sdkSvc.URL, false))
		resp := serve(front, nil)
		if resp.Code != 200 {
			t.Fatalf("status %d", resp.Code)
		}
		segs := byName("sightline-svc", "sdk-svc")
		ours, theirs := segs["sightline-svc"], segs["sdk-svc"]
		if ours == nil || theirs == nil {
			t.Fatalf("segments received: %v", keys(segs))
		}
		subs := ours.subsegments()
		if len(subs) != 1 {
			t.Fatalf("%d subsegments", len(subs))
		}
		if theirs.str("trace_id") != ours.str("trace_id") {
			t.Errorf("SDK trace_id %q, ours %q", theirs.str("trace_id"), ours.str("trace_id"))
		}
		if theirs.str("parent_id") != subs[0].str("id") {
			t.Errorf("SDK parent_id %q, want our subsegment id %q", theirs.str("parent_id"), subs[0].str("id"))
		}
	})

	t.Run("xray.Client calls tracing middleware", func(t *testing.T) {
		ourSvc := httptest.NewServer(rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "from sightline")
		})))
		defer ourSvc.Close()
		client := xray.Client(&http.Client{})
		sdkFront := xray.Handler(xray.NewFixedSegmentNamer("sdk-front"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, ourSvc.URL+"/work", nil)
			resp, err := client.Do(req)
			if err != nil {
				http.Error(w, err.Error(), 502)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}))
		resp := serve(sdkFront, nil)
		if resp.Code != 200 {
			t.Fatalf("status %d", resp.Code)
		}
		segs := byName("sdk-front", "sightline-svc")
		theirs, ours := segs["sdk-front"], segs["sightline-svc"]
		if ours == nil || theirs == nil {
			t.Fatalf("segments received: %v", keys(segs))
		}
		var clientSub doc
		for _, s := range theirs.subsegments() {
			if s.str("namespace") == "remote" {
				clientSub = s
			}
		}
		if clientSub == nil {
			t.Fatalf("no remote subsegment in SDK segment: %v", theirs)
		}
		if ours.str("trace_id") != theirs.str("trace_id") {
			t.Errorf("our trace_id %q, SDK %q", ours.str("trace_id"), theirs.str("trace_id"))
		}
		if ours.str("parent_id") != clientSub.str("id") {
			t.Errorf("our parent_id %q, want SDK client subsegment id %q", ours.str("parent_id"), clientSub.str("id"))
		}
	})
}

func keys(m map[string]doc) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
