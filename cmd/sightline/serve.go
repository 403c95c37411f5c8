package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/sightline/sightline/internal/agentjs"
	"github.com/sightline/sightline/internal/api/admin"
	rumapi "github.com/sightline/sightline/internal/api/rum"
	"github.com/sightline/sightline/internal/api/rumquery"
	xrayquery "github.com/sightline/sightline/internal/api/xray"
	"github.com/sightline/sightline/internal/appmonitor"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/geoip"
	"github.com/sightline/sightline/internal/model"
	rumsvc "github.com/sightline/sightline/internal/query/rum"
	"github.com/sightline/sightline/internal/receiver/rumdata"
	"github.com/sightline/sightline/internal/receiver/xrayapi"
	"github.com/sightline/sightline/internal/receiver/xraydaemon"
	"github.com/sightline/sightline/internal/rummetrics"
	"github.com/sightline/sightline/internal/sampling"
	"github.com/sightline/sightline/internal/spool"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/clickhouse"
	"github.com/sightline/sightline/internal/store/duckdb"
	"github.com/sightline/sightline/internal/ui"
	"github.com/sightline/sightline/internal/writer"
)

func newLogger(cfg config.Config, stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "auto" {
		format = "json"
		if f, ok := stderr.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is not auto, json or text", cfg.LogFormat)
}

// role says which parts of Sightline a process runs: `serve` runs both,
// `collector` only ingest (receivers, spool, writer), `query` only the
// APIs and the console.
type role struct {
	name   string
	ingest bool
	query  bool
}

var (
	roleAll       = role{name: "serve", ingest: true, query: true}
	roleCollector = role{name: "collector", ingest: true}
	roleQuery     = role{name: "query", query: true}
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return runCommand(ctx, roleAll, args, stderr, getenv)
}

func runCommand(ctx context.Context, r role, args []string, stderr io.Writer, getenv func(string) string) int {
	cfg, err := config.Load("sightline "+r.name, args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flagHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "sightline %s: %v\n", r.name, err)
		return 2
	}
	if r != roleAll && cfg.Store != "clickhouse" {
		fmt.Fprintf(stderr, "sightline %s: needs --store clickhouse (DuckDB allows one process per database file; use `sightline serve`)\n", r.name)
		return 2
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sightline %s: %v\n", r.name, err)
		return 2
	}
	if err := runRole(ctx, r, cfg, log); err != nil {
		log.Error("sightline "+r.name+" stopped", "err", err)
		return 1
	}
	return 0
}

// backend is what every storage backend provides.
type backend interface {
	store.Store
	store.RumStats
}

func clickhouseOptions(cfg config.Config, log *slog.Logger) clickhouse.Options {
	var shards []string
	for _, u := range strings.Split(cfg.ClickHouseShardURLs, ",") {
		if u = strings.TrimSpace(u); u != "" {
			shards = append(shards, u)
		}
	}
	writerID := cfg.ClickHouseWriterID
	if writerID == "" {
		// Each collector's spool needs its own stable id in the shared
		// progress table.
		host, _ := os.Hostname()
		abs, _ := filepath.Abs(cfg.DataDir)
		writerID = host + ":" + abs
	}
	return clickhouse.Options{URL: cfg.ClickHouseURL, Database: cfg.ClickHouseDatabase, Cluster: cfg.ClickHouseCluster,
		ShardURLs: shards, WriterID: writerID, RetentionDays: cfg.RetentionDays, Logger: log}
}

func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (backend, error) {
	switch cfg.Store {
	case "clickhouse":
		st, err := clickhouse.Open(ctx, clickhouseOptions(cfg, log))
		if err != nil {
			return nil, fmt.Errorf("open clickhouse store: %w", err)
		}
		return st, nil
	default:
		st, err := duckdb.Open(ctx, duckdb.Options{
			Path: filepath.Join(cfg.DataDir, "sightline.duckdb"), MemoryLimit: cfg.DuckDBMemoryLimit,
			CheckpointThreshold: cfg.DuckDBCheckpointThreshold, Threads: cfg.DuckDBThreads, Logger: log,
		})
		if err != nil {
			return nil, fmt.Errorf("open duckdb store: %w", err)
		}
		return st, nil
	}
}

func runServe(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	return runRole(ctx, roleAll, cfg, log)
}

// server is one HTTP listener of the process.
type server struct {
	srv *http.Server
	ln  net.Listener
}

func runRole(ctx context.Context, r role, cfg config.Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	registry := appmonitor.NewRegistry(st, 10*time.Second)
	samplingSvc, err := sampling.Open(ctx, filepath.Join(cfg.DataDir, "sampling"), sampling.Options{})
	if err != nil {
		return fmt.Errorf("open sampling rules: %w", err)
	}
	mux := http.NewServeMux()
	checks := map[string]admin.Check{"store": func(ctx context.Context) string {
		if err := st.Ping(ctx); err != nil {
			return err.Error()
		}
		return ""
	}}
	for _, p := range []string{"/GetSamplingRules", "/SamplingTargets", "/CreateSamplingRule", "/UpdateSamplingRule", "/DeleteSamplingRule", "/SamplingStatisticSummaries"} {
		mux.Handle("POST "+p, samplingSvc.Handler())
	}
	if r.query {
		(&rumapi.API{Registry: registry, Events: st, Logger: log}).Register(mux)
		(&rumquery.API{Monitors: registry, Service: &rumsvc.Service{Stats: st, Events: st}, Logger: log}).Register(mux)
		(&xrayquery.API{Store: st, Logger: log}).Register(mux)
	}

	var servers []server
	listen := func(addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen %s: %w", addr, err)
		}
		servers = append(servers, server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}, ln: ln})
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)

	var ing *ingest
	if r.ingest {
		ing, err = startIngest(ctx, cfg, log, reg, st, registry, samplingSvc, mux, checks)
		if err != nil {
			return err
		}
		defer ing.close()
		g.Go(func() error { return ing.daemon.Serve(gctx, ing.udp, ing.tcp, samplingSvc.SDKHandler()) })
	}
	admin.Register(mux, reg, checks)

	console := ui.Options{IngestURL: "http://" + cfg.IngestAddr, AgentIntegrity: agentjs.Integrity(), Version: version}
	switch {
	case r.ingest && cfg.IngestAddr == cfg.HTTPAddr:
		// One address: API paths first, then the console's pages, then
		// PutRumEvents (any prefix) for the rest.
		mux.Handle(agentjs.Path, agentjs.Handler())
		if r.query {
			console.Next = ing.rum
			mux.Handle("/", ui.Handler(console))
		} else {
			mux.Handle("/", ing.rum)
		}
		if err := listen(cfg.HTTPAddr, mux); err != nil {
			return err
		}
	case r.ingest:
		if r.query {
			mux.Handle("/", ui.Handler(console))
		}
		if err := listen(cfg.HTTPAddr, mux); err != nil {
			return err
		}
		ingestMux := http.NewServeMux()
		ingestMux.Handle(agentjs.Path, agentjs.Handler())
		ingestMux.Handle("/", ing.rum)
		if err := listen(cfg.IngestAddr, ingestMux); err != nil {
			return err
		}
	default:
		mux.Handle("/", ui.Handler(console))
		if err := listen(cfg.HTTPAddr, mux); err != nil {
			return err
		}
	}
	if cs, ok := st.(*clickhouse.Store); ok && cfg.RetentionDays > 0 && r.ingest {
		g.Go(func() error { dropExpired(gctx, cs, log); return nil })
	}
	if ds, ok := st.(*duckdb.Store); ok && cfg.GraphRollupInterval > 0 {
		g.Go(func() error { rollUpGraph(gctx, ds, cfg.GraphRollupInterval, log); return nil })
	}
	if ds, ok := st.(*duckdb.Store); ok && cfg.RetentionDays > 0 {
		g.Go(func() error { deleteExpired(gctx, ds, cfg.RetentionDays, log); return nil })
	}

	writerCtx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWriter()
	writerDone := make(chan error, 1)
	if ing != nil {
		go func() { writerDone <- ing.writer.Run(writerCtx, cfg.ShutdownTimeout) }()
	} else {
		writerDone <- nil
	}
	for _, s := range servers {
		s := s
		g.Go(func() error {
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve %s: %w", s.ln.Addr(), err)
			}
			return nil
		})
	}
	log.Info("sightline "+r.name+" serving", "version", version, "http", cfg.HTTPAddr, "ingest", r.ingest, "ingest_addr", cfg.IngestAddr,
		"xray", cfg.XRayAddr, "data_dir", cfg.DataDir, "store", cfg.Store)

	<-gctx.Done()
	log.Info("shutting down: stop accepting, then store what was acknowledged")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.srv.Shutdown(sctx); err != nil {
			log.Warn("http shutdown", "err", err)
		}
	}
	serveErr := g.Wait()
	stopWriter()
	if err := <-writerDone; err != nil {
		log.Error("writer", "err", err)
	}
	if ing != nil {
		log.Info("stopped", "spool_pending_records", ing.spool.Stats().PendingRecords)
	}
	return serveErr
}

// ingest is the receiving half: spool, writer, RUM and X-Ray receivers.
type ingest struct {
	spool  *spool.Spool
	writer *writer.Writer
	rum    *rumdata.Handler
	daemon *xraydaemon.Receiver
	udp    *net.UDPConn
	tcp    net.Listener
}

func (i *ingest) close() {
	_ = i.udp.Close()
	_ = i.spool.Close()
}

func startIngest(ctx context.Context, cfg config.Config, log *slog.Logger, reg *prometheus.Registry, st backend,
	registry *appmonitor.Registry, samplingSvc *sampling.Service, mux *http.ServeMux, checks map[string]admin.Check) (*ingest, error) {
	sp, err := spool.Open(ctx, spool.Options{Dir: filepath.Join(cfg.DataDir, "spool"), MaxBytes: cfg.SpoolMaxBytes, SegmentBytes: cfg.SpoolSegmentBytes, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = sp.Close()
		}
	}()
	sink := writer.Sink{Spool: sp}
	rumMetrics, err := rummetrics.New(reg, rummetrics.Options{})
	if err != nil {
		return nil, fmt.Errorf("rum metrics: %w", err)
	}
	var country func(string) string
	if cfg.GeoIPDB != "" {
		geo, err := geoip.Open(cfg.GeoIPDB)
		if err != nil {
			return nil, fmt.Errorf("--geoip-db: %w", err)
		}
		// The database is memory-mapped for the life of the process.
		country = geo.Country
	}
	rumHandler := rumdata.NewHandler(registry, sink, rumdata.Options{
		MaxBodyBytes: cfg.MaxBodyBytes, MaxDecompressedBytes: cfg.MaxDecompressedBytes,
		Limits:    rumdata.Limits{MaxEvents: cfg.MaxEventsPerBatch, MaxEventBytes: cfg.MaxEventBytes},
		RatePerIP: cfg.RatePerIP, BurstPerIP: cfg.BurstPerIP, RatePerApp: cfg.RatePerApp, BurstPerApp: cfg.BurstPerApp,
		DedupWindow: cfg.DedupWindow, CORSMaxAge: cfg.CORSMaxAge, RetryAfter: cfg.RetryAfter, AnonymizeIP: cfg.AnonymizeIP,
		Logger: log, Registerer: reg, Config: rumapi.ConfigHandler(registry),
		ParseSegment: model.ParseSegmentDocument,
		Country:      country, Observe: rumMetrics.Observe,
	})
	// Retries of batches stored before a restart must stay deduplicated.
	recent, err := st.RecentBatchIDs(ctx, time.Now().Add(-cfg.DedupWindow).UnixMicro())
	if err != nil {
		return nil, err
	}
	for _, k := range recent {
		app, batch, _ := strings.Cut(k, "/")
		rumHandler.MarkSeen(app, batch)
	}
	wr := writer.New(sp, st, writer.Options{MaxRows: cfg.WriterMaxRows, FlushInterval: cfg.WriterFlushInterval, Logger: log, Registerer: reg,
		OnReplay: rumHandler.MarkSeen})
	if err := wr.Prime(ctx); err != nil {
		return nil, err
	}
	xrayIngest, err := xrayapi.New(xrayapi.Options{Sink: sink, MaxBodyBytes: cfg.MaxSegmentBodyBytes, Registerer: reg, Logger: log})
	if err != nil {
		return nil, err
	}
	xrayIngest.Register(mux)
	daemon, err := xraydaemon.New(xraydaemon.Options{Sink: sink, Registerer: reg, Logger: log})
	if err != nil {
		return nil, err
	}
	udpConn, granted, err := xraydaemon.ListenUDP(cfg.XRayAddr, cfg.UDPReadBuffer)
	if err != nil {
		return nil, fmt.Errorf("listen udp %s: %w", cfg.XRayAddr, err)
	}
	if granted < cfg.UDPReadBuffer {
		log.Warn("UDP receive buffer smaller than asked; bursts may be dropped", "asked", cfg.UDPReadBuffer, "granted", granted)
	}
	tcpSampling, err := net.Listen("tcp", cfg.XRayAddr)
	if err != nil {
		_ = udpConn.Close()
		return nil, fmt.Errorf("listen tcp %s: %w", cfg.XRayAddr, err)
	}
	checks["writer"] = func(context.Context) string {
		if ok, why := wr.Healthy(); !ok {
			return "store writes failing, acknowledged data waits in the spool: " + why
		}
		return ""
	}
	checks["spool"] = func(context.Context) string {
		s := sp.Stats()
		if s.PendingBytes > cfg.SpoolMaxBytes*9/10 {
			return fmt.Sprintf("spool %d%% full", s.PendingBytes*100/cfg.SpoolMaxBytes)
		}
		return ""
	}
	ok = true
	return &ingest{spool: sp, writer: wr, rum: rumHandler, daemon: daemon, udp: udpConn, tcp: tcpSampling}, nil
}

// dropExpired applies retention on ClickHouse servers without TTL.
func dropExpired(ctx context.Context, cs *clickhouse.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := cs.DropExpiredPartitions(ctx, time.Now()); err != nil {
			log.Warn("retention", "err", err)
		} else if n > 0 {
			log.Info("retention dropped partitions", "partitions", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// deleteExpired applies the DuckDB store's retention every hour.
func deleteExpired(ctx context.Context, ds *duckdb.Store, days int, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		cutoff := time.Now().AddDate(0, 0, -days)
		if n, err := ds.DeleteBefore(ctx, cutoff); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("retention", "err", err)
		} else if n > 0 {
			log.Info("retention removed old data", "rows", n, "before", cutoff.UTC().Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// graphSettle is how long after a minute ends before it is rolled up:
// most of its segments have arrived by then. Later ones make it stale
// (computed live) until the next refresh recomputes it.
const graphSettle = 10 * time.Second

// rollUpGraph keeps the DuckDB store's per-minute service graph rollups
// current until ctx ends.
func rollUpGraph(ctx context.Context, ds *duckdb.Store, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		start := time.Now()
		n, more, err := ds.RefreshGraphRollups(ctx, start.Add(-graphSettle).UnixMicro())
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			log.Warn("service graph rollup", "err", err)
		case n > 0:
			log.Debug("service graph rolled up", "minutes", n, "took", time.Since(start))
		}
		if more && err == nil {
			continue // a long history: the next minutes at once
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// The service graph is built from SQL aggregates where the store offers
// them; a signature drift would silently fall back to the slow path.
var _ xrayquery.GraphAggregator = (*duckdb.Store)(nil)
