package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"testing/fstest"

	"github.com/sightline/sightline/internal/agentjs"
)

// AgentSource says where the shop's pages load the browser agent from.
type AgentSource string

const (
	// AgentFromCollector: the collector serves the agent at agentjs.Path and
	// the pages use the install snippet pinned to that script.
	AgentFromCollector AgentSource = "agent from the collector"
	// AgentFromShop: the collector does not serve the agent (yet); the shop
	// serves the copy built into this binary and inlines the snippet.
	AgentFromShop AgentSource = "agent copy served by the shop: the collector does not serve it"
	// AgentMissing: no agent anywhere; only synthetic users report.
	AgentMissing AgentSource = "no agent built into this binary: only synthetic users report"
)

// agentRef is what the shop needs to put the agent on its pages.
type agentRef struct {
	source AgentSource
	bundle *agentjs.Bundle // the script: the collector's copy, or ours to serve
}

// locateAgent asks the collector for the agent script, as a browser would.
// Any answer but 200 (a collector without the agent wired, or built
// without it) falls back to the copy embedded in this binary.
func locateAgent(ctx context.Context, client *http.Client, ingestURL string) (agentRef, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ingestURL+agentjs.Path, nil)
	if err != nil {
		return agentRef{}, fmt.Errorf("demo: agent request: %w", err)
	}
	resp, err := client.Do(req)
	if err == nil {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if rerr == nil && resp.StatusCode == http.StatusOK && len(body) > 0 {
			b, err := agentjs.Load(fstest.MapFS{agentjs.FileName: {Data: body}})
			if err != nil {
				return agentRef{}, fmt.Errorf("demo: agent from the collector: %w", err)
			}
			return agentRef{source: AgentFromCollector, bundle: b}, nil
		}
	}
	b, err := agentjs.Embedded()
	if err != nil || !b.Built() {
		return agentRef{source: AgentMissing}, nil
	}
	return agentRef{source: AgentFromShop, bundle: b}, nil
}

// agentConfig is the snippet's configuration; the app monitor's remote
// config (sample rate, X-Ray, allow list) overrides the overlapping keys.
func agentConfig(apiURL string) map[string]any {
	return map[string]any{
		"enableXRay":           true,
		"traceHeaderAllowList": []string{apiURL},
		"xrayName":             BrowserSegmentName,
		"allowCookies":         true,
		"flushIntervalMs":      2000,
	}
}

// agentTag returns the HTML that installs the agent in a page's <head>.
func (a agentRef) agentTag(ingestURL, appMonitorID, apiURL string) (string, error) {
	switch a.source {
	case AgentFromCollector:
		return a.bundle.Snippet(ingestURL, appMonitorID, agentjs.SnippetOptions{AppVersion: shopVersion, Config: agentConfig(apiURL)})
	case AgentFromShop:
		// The README's inline loader, pointed at the shop's own copy; batches
		// still go to the collector.
		cfg := agentConfig(apiURL)
		cfg["appMonitorId"] = appMonitorID
		cfg["endpoint"] = ingestURL
		cfg["appVersion"] = shopVersion
		c, err := json.Marshal(cfg)
		if err != nil {
			return "", fmt.Errorf("demo: agent config: %w", err)
		}
		return `<script>(function(w,d,s,u,c){w.Sightline=w.Sightline||function(){(w.Sightline.q=w.Sightline.q||[]).push(arguments)};w.Sightline.c=c;var x=d.createElement(s);x.async=1;x.src=u;d.head.appendChild(x)})(window,document,'script',` +
			jsString(agentjs.Path) + `,` + string(c) + `);</script>`, nil
	}
	return "<!-- " + html.EscapeString(string(AgentMissing)) + " -->", nil
}

// jsString quotes s for a script: encoding/json escapes <, > and &, so it
// cannot close the element.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
