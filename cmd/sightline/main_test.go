package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestUsageAndUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, &out, &errOut, func(string) string { return "" }); code != 2 || !strings.Contains(errOut.String(), "usage") {
		t.Fatalf("no args: %d %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errOut, func(string) string { return "" }); code != 2 || !strings.Contains(errOut.String(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown: %d %q", code, errOut.String())
	}
	if code := run(context.Background(), []string{"collector"}, &out, &errOut, func(string) string { return "" }); code != 2 || !strings.Contains(errOut.String(), "--store clickhouse") {
		t.Fatalf("collector on duckdb: %d %q", code, errOut.String())
	}
}

func TestAppMonitorSnippetTakesNameBeforeFlags(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/appmonitor/shop" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"AppMonitor":{"Id":"6f1d3c2a-8b4e-4f7a-9c1d-2e3f4a5b6c7d","AppMonitorConfiguration":{"SessionSampleRate":0.5}}}`))
	}))
	defer api.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"appmonitor", "snippet", "shop", "--server", api.URL}, &out, &errOut, func(string) string { return "" })
	if code != 0 || !strings.Contains(out.String(), "6f1d3c2a-8b4e-4f7a-9c1d-2e3f4a5b6c7d") || !strings.Contains(out.String(), "sessionSampleRate: 0.5") {
		t.Fatalf("snippet: %d %q %q", code, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"appmonitor", "create", "--server", api.URL}, &out, &errOut, func(string) string { return "" }); code != 2 || !strings.Contains(errOut.String(), "--name and --domain") {
		t.Fatalf("create without name: %d %q", code, errOut.String())
	}
}
