package agentjs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strings"
)

// SnippetOptions adds to the install snippet.
type SnippetOptions struct {
	// AppVersion becomes AppMonitorDetails.version ("0.0.0" when empty,
	// the agent's default).
	AppVersion string
	// Config holds further agent options (README's table, e.g.
	// "flushIntervalMs": 1000). The remote config from the app monitor
	// overrides them at run time; appMonitorId, endpoint and appVersion
	// here are ignored: the snippet sets those.
	Config map[string]any
}

// Snippet is the one-line install snippet for a page's <head>: a stub that
// queues Sightline(...) calls and carries the config, then the agent loaded
// asynchronously from the collector, pinned by its integrity hash.
// collectorURL is the collector's public base URL (the ingest address as
// browsers reach it, with any path prefix).
//
// A plain async <script> tag rather than a script-inserting loader: the
// browser's preload scanner finds it, and the integrity and crossorigin
// attributes are there to read.
func (b *Bundle) Snippet(collectorURL, appMonitorID string, opts SnippetOptions) (string, error) {
	if !b.Built() {
		return "", ErrNotBuilt
	}
	base, err := collectorBase(collectorURL)
	if err != nil {
		return "", err
	}
	if appMonitorID == "" || strings.ContainsAny(appMonitorID, "/?#\\ \"'<>") {
		return "", fmt.Errorf("snippet: app monitor id %q is not a plain id", appMonitorID)
	}
	cfg, err := snippetConfig(base, appMonitorID, opts)
	if err != nil {
		return "", err
	}
	return `<script>window.Sightline=window.Sightline||function(){(Sightline.q=Sightline.q||[]).push(arguments)};Sightline.c=` + cfg +
		`;</script><script async src="` + html.EscapeString(base+Path) + `" integrity="` + b.integrity + `" crossorigin="anonymous"></script>`, nil
}

func collectorBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("snippet: collector URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("snippet: collector URL %q must be http(s)://host[:port][/prefix] without credentials, query or fragment", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// snippetConfig is the config object as JSON, fixed keys first, the rest
// sorted, so the snippet reads the same on every call. encoding/json
// escapes <, > and & (and U+2028/9), so the object cannot close the
// <script> element.
func snippetConfig(endpoint, appMonitorID string, opts SnippetOptions) (string, error) {
	version := opts.AppVersion
	if version == "" {
		version = "0.0.0"
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	add := func(k string, v any) error {
		kb, err := json.Marshal(k)
		if err != nil {
			return err
		}
		vb, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("snippet: config %q: %w", k, err)
		}
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
		return nil
	}
	_ = add("appMonitorId", appMonitorID)
	_ = add("endpoint", endpoint)
	_ = add("appVersion", version)
	keys := make([]string, 0, len(opts.Config))
	for k := range opts.Config {
		if k != "appMonitorId" && k != "endpoint" && k != "appVersion" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := add(k, opts.Config[k]); err != nil {
			return "", err
		}
	}
	buf.WriteByte('}')
	return buf.String(), nil
}
