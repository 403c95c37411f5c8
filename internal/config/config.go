// Package config holds Sightline's one Config struct and its three sources:
// an optional YAML file, SIGHTLINE_* environment variables and flags, in
// increasing order of precedence. Every limit is a named field with a
// default that works on a laptop.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of a sightline process.
type Config struct {
	ConfigFile string

	DataDir    string
	HTTPAddr   string
	IngestAddr string
	XRayAddr   string
	Store      string
	// ClickHouse settings, used when Store is "clickhouse".
	ClickHouseURL       string
	ClickHouseDatabase  string
	ClickHouseCluster   string
	ClickHouseShardURLs string
	ClickHouseWriterID  string
	RetentionDays       int

	LogLevel  string
	LogFormat string

	// PutRumEvents limits.
	MaxBodyBytes         int64
	MaxDecompressedBytes int64
	MaxEventsPerBatch    int
	MaxEventBytes        int
	RatePerIP            float64
	BurstPerIP           int
	RatePerApp           float64
	BurstPerApp          int
	DedupWindow          time.Duration
	CORSMaxAge           time.Duration
	AnonymizeIP          bool
	// GeoIPDB is an optional MaxMind-format country database.
	GeoIPDB string

	// X-Ray ingest.
	MaxSegmentBodyBytes int64
	UDPReadBuffer       int

	// Spool and writer.
	SpoolMaxBytes       int64
	SpoolSegmentBytes   int64
	WriterMaxRows       int
	WriterFlushInterval time.Duration
	RetryAfter          time.Duration

	// DuckDB.
	DuckDBMemoryLimit         string
	DuckDBCheckpointThreshold string
	DuckDBThreads             int
	// GraphRollupInterval is how often the DuckDB store rolls the service
	// graph up per minute; 0 computes every graph from the segments.
	GraphRollupInterval time.Duration

	ShutdownTimeout time.Duration
}

// Default returns the defaults documented in README.md.
func Default() Config {
	return Config{
		DataDir:                   "./data",
		HTTPAddr:                  "127.0.0.1:8080",
		IngestAddr:                "127.0.0.1:8081",
		XRayAddr:                  "127.0.0.1:2000",
		Store:                     "duckdb",
		ClickHouseDatabase:        "sightline",
		LogLevel:                  "info",
		LogFormat:                 "auto",
		MaxBodyBytes:              1 << 20,
		MaxDecompressedBytes:      10 << 20,
		MaxEventsPerBatch:         100,
		MaxEventBytes:             256 << 10,
		RatePerIP:                 20,
		BurstPerIP:                100,
		RatePerApp:                2000,
		BurstPerApp:               10000,
		DedupWindow:               10 * time.Minute,
		CORSMaxAge:                2 * time.Hour,
		AnonymizeIP:               true,
		MaxSegmentBodyBytes:       5 << 20,
		UDPReadBuffer:             8 << 20,
		SpoolMaxBytes:             1 << 30,
		SpoolSegmentBytes:         64 << 20,
		WriterMaxRows:             20000,
		WriterFlushInterval:       200 * time.Millisecond,
		RetryAfter:                2 * time.Second,
		DuckDBMemoryLimit:         "1GB",
		DuckDBCheckpointThreshold: "256MB",
		DuckDBThreads:             2,
		GraphRollupInterval:       15 * time.Second,
		ShutdownTimeout:           30 * time.Second,
	}
}

// Register binds every field to a flag of fs; the flag name is also the
// YAML key, and SIGHTLINE_<NAME> (upper case, '-' → '_') its variable.
func (c *Config) Register(fs *flag.FlagSet) {
	fs.StringVar(&c.ConfigFile, "config", c.ConfigFile, "optional YAML file whose keys are these flag names")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the embedded store and the spool")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "console, query and admin API address")
	fs.StringVar(&c.IngestAddr, "ingest-addr", c.IngestAddr, "public RUM ingest address (PutRumEvents); may equal --http-addr")
	fs.StringVar(&c.XRayAddr, "xray-addr", c.XRayAddr, "X-Ray daemon address: UDP segments and TCP sampling API")
	fs.StringVar(&c.Store, "store", c.Store, "storage backend: duckdb or clickhouse")
	fs.StringVar(&c.ClickHouseURL, "clickhouse-url", c.ClickHouseURL, "ClickHouse HTTP interface when --store=clickhouse, e.g. http://127.0.0.1:8123")
	fs.StringVar(&c.ClickHouseDatabase, "clickhouse-database", c.ClickHouseDatabase, "ClickHouse database (created when missing)")
	fs.StringVar(&c.ClickHouseCluster, "clickhouse-cluster", c.ClickHouseCluster, "ClickHouse cluster (remote_servers) for local tables on every shard and Distributed tables over them")
	fs.StringVar(&c.ClickHouseShardURLs, "clickhouse-shard-urls", c.ClickHouseShardURLs, "comma-separated HTTP URLs of every node of --clickhouse-cluster (schema applied to each; without it ON CLUSTER is used)")
	fs.StringVar(&c.ClickHouseWriterID, "clickhouse-writer-id", c.ClickHouseWriterID, "stable id of this collector's spool in ClickHouse (default: host name and data dir)")
	fs.IntVar(&c.RetentionDays, "retention-days", c.RetentionDays, "keep data this many days (DuckDB: deleted hourly, RUM events by time, traces by the epoch in their id; ClickHouse: TTL or dropped daily partitions); 0 keeps everything")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "auto (JSON unless a terminal), json or text")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest PutRumEvents body as sent (compressed)")
	fs.Int64Var(&c.MaxDecompressedBytes, "max-decompressed-bytes", c.MaxDecompressedBytes, "largest PutRumEvents body after gzip decoding")
	fs.IntVar(&c.MaxEventsPerBatch, "max-events-per-batch", c.MaxEventsPerBatch, "most RUM events in one request")
	fs.IntVar(&c.MaxEventBytes, "max-event-bytes", c.MaxEventBytes, "largest metadata+details of one RUM event")
	fs.Float64Var(&c.RatePerIP, "rate-per-ip", c.RatePerIP, "PutRumEvents requests per second per client IP")
	fs.IntVar(&c.BurstPerIP, "burst-per-ip", c.BurstPerIP, "burst of PutRumEvents requests per client IP")
	fs.Float64Var(&c.RatePerApp, "rate-per-app", c.RatePerApp, "PutRumEvents requests per second per app monitor")
	fs.IntVar(&c.BurstPerApp, "burst-per-app", c.BurstPerApp, "burst of PutRumEvents requests per app monitor")
	fs.DurationVar(&c.DedupWindow, "dedup-window", c.DedupWindow, "how long a BatchId is remembered to drop client retries")
	fs.DurationVar(&c.CORSMaxAge, "cors-max-age", c.CORSMaxAge, "Access-Control-Max-Age of ingest preflights")
	fs.BoolVar(&c.AnonymizeIP, "anonymize-ip", c.AnonymizeIP, "drop the last octet (IPv4) or 80 bits (IPv6) of client IPs")
	fs.StringVar(&c.GeoIPDB, "geoip-db", c.GeoIPDB, "optional MaxMind-format (.mmdb) database for client countries; none is shipped")
	fs.Int64Var(&c.MaxSegmentBodyBytes, "max-segment-body-bytes", c.MaxSegmentBodyBytes, "largest PutTraceSegments body")
	fs.IntVar(&c.UDPReadBuffer, "udp-read-buffer", c.UDPReadBuffer, "socket receive buffer of the X-Ray UDP port, bytes")
	fs.Int64Var(&c.SpoolMaxBytes, "spool-max-bytes", c.SpoolMaxBytes, "bound of un-stored data in the spool; beyond it ingest answers 503")
	fs.Int64Var(&c.SpoolSegmentBytes, "spool-segment-bytes", c.SpoolSegmentBytes, "size of one spool file")
	fs.IntVar(&c.WriterMaxRows, "writer-max-rows", c.WriterMaxRows, "most rows the writer appends to the store at once")
	fs.DurationVar(&c.WriterFlushInterval, "writer-flush-interval", c.WriterFlushInterval, "longest a spooled batch waits before the writer stores it")
	fs.DurationVar(&c.RetryAfter, "retry-after", c.RetryAfter, "Retry-After sent with 429/503 answers")
	fs.StringVar(&c.DuckDBMemoryLimit, "duckdb-memory-limit", c.DuckDBMemoryLimit, "DuckDB memory_limit")
	fs.StringVar(&c.DuckDBCheckpointThreshold, "duckdb-checkpoint-threshold", c.DuckDBCheckpointThreshold, "DuckDB checkpoint_threshold")
	fs.IntVar(&c.DuckDBThreads, "duckdb-threads", c.DuckDBThreads, "DuckDB worker threads")
	fs.DurationVar(&c.GraphRollupInterval, "graph-rollup-interval", c.GraphRollupInterval, "how often the DuckDB store rolls the service graph up per minute; 0 computes every graph from the segments")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "longest a graceful shutdown waits for draining")
}

// Load builds a Config from defaults, the YAML file (--config or
// SIGHTLINE_CONFIG), SIGHTLINE_* variables and args, in that order.
func Load(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	return LoadWith(Default(), name, args, getenv, stderr, nil)
}

// LoadWith is Load from other defaults, with extra flags a subcommand
// registers on the same flag set (they take files and environment too).
func LoadWith(cfg Config, name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Register(fs)
	if extra != nil {
		extra(fs)
	}

	file := getenv("SIGHTLINE_CONFIG")
	for i, a := range args {
		switch {
		case a == "--config" || a == "-config":
			if i+1 < len(args) {
				file = args[i+1]
			}
		case strings.HasPrefix(a, "--config="), strings.HasPrefix(a, "-config="):
			file = a[strings.Index(a, "=")+1:]
		}
	}
	if file != "" {
		if err := applyYAML(fs, file); err != nil {
			return cfg, err
		}
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		v := getenv(EnvName(f.Name))
		if v == "" || envErr != nil {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			envErr = fmt.Errorf("%s: %w", EnvName(f.Name), err)
		}
	})
	if envErr != nil {
		return cfg, envErr
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg, cfg.Validate()
}

// EnvName is the environment variable that sets the flag name.
func EnvName(flagName string) string {
	return "SIGHTLINE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func applyYAML(fs *flag.FlagSet, file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("parse config file %s: %w", file, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "config" {
			return fmt.Errorf("config file %s: key %q cannot be set from a file", file, k)
		}
		if fs.Lookup(k) == nil {
			return fmt.Errorf("config file %s: unknown key %q", file, k)
		}
		if err := fs.Set(k, fmt.Sprint(m[k])); err != nil {
			return fmt.Errorf("config file %s: key %q: %w", file, k, err)
		}
	}
	return nil
}

// Validate checks values that flags cannot type-check.
func (c *Config) Validate() error {
	var errs []error
	if c.Store != "duckdb" && c.Store != "clickhouse" {
		errs = append(errs, fmt.Errorf("--store: %q is not duckdb or clickhouse", c.Store))
	}
	if c.Store == "clickhouse" && c.ClickHouseURL == "" {
		errs = append(errs, errors.New("--clickhouse-url: required with --store=clickhouse"))
	}
	positive := map[string]int64{
		"max-body-bytes": c.MaxBodyBytes, "max-decompressed-bytes": c.MaxDecompressedBytes,
		"max-events-per-batch": int64(c.MaxEventsPerBatch), "max-event-bytes": int64(c.MaxEventBytes),
		"spool-max-bytes": c.SpoolMaxBytes, "spool-segment-bytes": c.SpoolSegmentBytes,
		"writer-max-rows": int64(c.WriterMaxRows), "burst-per-ip": int64(c.BurstPerIP),
		"burst-per-app": int64(c.BurstPerApp),
	}
	names := make([]string, 0, len(positive))
	for k := range positive {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if positive[k] <= 0 {
			errs = append(errs, fmt.Errorf("--%s: must be positive, got %d", k, positive[k]))
		}
	}
	if c.RatePerIP <= 0 || c.RatePerApp <= 0 {
		errs = append(errs, errors.New("--rate-per-ip and --rate-per-app: must be positive"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir: must not be empty"))
	}
	return errors.Join(errs...)
}
