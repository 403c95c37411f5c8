package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// controlPlane talks to the collector's CloudWatch RUM control plane over
// HTTP, as any client would: the demo never opens the store.
type controlPlane struct {
	base   string
	client *http.Client
}

// appMonitorSpec is the demo app monitor: pages on 127.0.0.1 (any port),
// every session recorded, browser traces on, and the trace header allowed
// to the demo API's origin only.
func appMonitorSpec(apiOrigin string) map[string]any {
	return map[string]any{
		"Domain":       "127.0.0.1",
		"CustomEvents": map[string]string{"Status": "ENABLED"},
		"AppMonitorConfiguration": map[string]any{
			"SessionSampleRate":    1,
			"AllowCookies":         true,
			"EnableXRay":           true,
			"Telemetries":          []string{"errors", "performance", "http"},
			"TraceHeaderAllowList": []string{apiOrigin},
		},
	}
}

// ensureAppMonitor creates the app monitor, or, when one of that name
// exists (a previous run on the same data directory), updates it to spec:
// the API's port changes from run to run, and with it the allow list.
func (c controlPlane) ensureAppMonitor(ctx context.Context, name string, spec map[string]any) (string, error) {
	body := map[string]any{"Name": name}
	for k, v := range spec {
		body[k] = v
	}
	var created struct{ Id string }
	status, err := c.call(ctx, http.MethodPost, "/appmonitor", body, &created)
	switch {
	case err == nil:
		return created.Id, nil
	case status != http.StatusConflict:
		return "", fmt.Errorf("demo: create app monitor %q: %w", name, err)
	}
	path := "/appmonitor/" + url.PathEscape(name)
	if _, err := c.call(ctx, http.MethodPatch, path, spec, nil); err != nil {
		return "", fmt.Errorf("demo: update app monitor %q: %w", name, err)
	}
	var got struct {
		AppMonitor struct{ Id string }
	}
	if _, err := c.call(ctx, http.MethodGet, path, nil, &got); err != nil {
		return "", fmt.Errorf("demo: get app monitor %q: %w", name, err)
	}
	if got.AppMonitor.Id == "" {
		return "", fmt.Errorf("demo: app monitor %q has no id", name)
	}
	return got.AppMonitor.Id, nil
}

// call sends a JSON request and decodes a 2xx answer into out. On other
// statuses it returns the status with an error quoting the body.
func (c controlPlane) call(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}
