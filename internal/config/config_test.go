package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("http-addr: 127.0.0.1:9000\ndedup-window: 5m\nmax-events-per-batch: 50\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load("t", []string{"--config", file, "--max-events-per-batch", "70"},
		env(map[string]string{"SIGHTLINE_HTTP_ADDR": "127.0.0.1:9100", "SIGHTLINE_DATA_DIR": "/var/lib/x"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:9100" {
		t.Errorf("env must beat file: %s", cfg.HTTPAddr)
	}
	if cfg.DedupWindow != 5*time.Minute {
		t.Errorf("file must beat default: %s", cfg.DedupWindow)
	}
	if cfg.MaxEventsPerBatch != 70 {
		t.Errorf("flag must beat file: %d", cfg.MaxEventsPerBatch)
	}
	if cfg.DataDir != "/var/lib/x" || cfg.IngestAddr != Default().IngestAddr {
		t.Errorf("env/default: %+v", cfg)
	}
}

func TestErrorsNameTheField(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("no-such-key: 1\n"), 0o644)
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--store", "mysql"}, nil, "--store"},
		{[]string{"--max-body-bytes", "0"}, nil, "--max-body-bytes"},
		{[]string{"--store", "clickhouse"}, nil, "--clickhouse-url"},
		{nil, map[string]string{"SIGHTLINE_DEDUP_WINDOW": "soon"}, "SIGHTLINE_DEDUP_WINDOW"},
		{[]string{"--config", bad}, nil, `unknown key "no-such-key"`},
		{[]string{"--config", filepath.Join(dir, "missing.yaml")}, nil, "read config file"},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		_, err := Load("t", c.args, env(c.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%v, %v) = %v, want an error naming %s", c.args, c.env, err, c.want)
		}
	}
}

func TestDefaultsValid(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if EnvName("http-addr") != "SIGHTLINE_HTTP_ADDR" {
		t.Error(EnvName("http-addr"))
	}
}
