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
	"github.com/sightline/sightline/internal/store/duckdb"
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

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := config.Load("sightline serve", args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flagHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "sightline serve:", err)
		return 2
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "sightline serve:", err)
		return 2
	}
	if err := runServe(ctx, cfg, log); err != nil {
		log.Error("sightline serve stopped", "err", err)
		return 1
	}
	return 0
}

func runServe(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if cfg.Store != "duckdb" {
		return fmt.Errorf("--store %s is not available in this build yet", cfg.Store)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	st, err := duckdb.Open(ctx, duckdb.Options{
		Path: filepath.Join(cfg.DataDir, "sightline.duckdb"), MemoryLimit: cfg.DuckDBMemoryLimit,
		CheckpointThreshold: cfg.DuckDBCheckpointThreshold, Threads: cfg.DuckDBThreads, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	sp, err := spool.Open(ctx, spool.Options{Dir: filepath.Join(cfg.DataDir, "spool"), MaxBytes: cfg.SpoolMaxBytes, SegmentBytes: cfg.SpoolSegmentBytes, Logger: log})
	if err != nil {
		return fmt.Errorf("open spool: %w", err)
	}
	defer sp.Close()
	sink := writer.Sink{Spool: sp}

	registry := appmonitor.NewRegistry(st, 10*time.Second)
	rumMetrics, err := rummetrics.New(reg, rummetrics.Options{})
	if err != nil {
		return fmt.Errorf("rum metrics: %w", err)
	}
	var country func(string) string
	if cfg.GeoIPDB != "" {
		geo, err := geoip.Open(cfg.GeoIPDB)
		if err != nil {
			return fmt.Errorf("--geoip-db: %w", err)
		}
		defer geo.Close()
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
		return err
	}
	for _, k := range recent {
		app, batch, _ := strings.Cut(k, "/")
		rumHandler.MarkSeen(app, batch)
	}
	wr := writer.New(sp, st, writer.Options{MaxRows: cfg.WriterMaxRows, FlushInterval: cfg.WriterFlushInterval, Logger: log, Registerer: reg,
		OnReplay: rumHandler.MarkSeen})
	if err := wr.Prime(ctx); err != nil {
		return err
	}

	samplingSvc, err := sampling.Open(ctx, filepath.Join(cfg.DataDir, "sampling"), sampling.Options{})
	if err != nil {
		return fmt.Errorf("open sampling rules: %w", err)
	}
	xrayIngest, err := xrayapi.New(xrayapi.Options{Sink: sink, MaxBodyBytes: cfg.MaxSegmentBodyBytes, Registerer: reg, Logger: log})
	if err != nil {
		return err
	}
	daemon, err := xraydaemon.New(xraydaemon.Options{Sink: sink, Registerer: reg, Logger: log})
	if err != nil {
		return err
	}
	udpConn, granted, err := xraydaemon.ListenUDP(cfg.XRayAddr, cfg.UDPReadBuffer)
	if err != nil {
		return fmt.Errorf("listen udp %s: %w", cfg.XRayAddr, err)
	}
	defer udpConn.Close()
	if granted < cfg.UDPReadBuffer {
		log.Warn("UDP receive buffer smaller than asked; bursts may be dropped", "asked", cfg.UDPReadBuffer, "granted", granted)
	}
	tcpSampling, err := net.Listen("tcp", cfg.XRayAddr)
	if err != nil {
		return fmt.Errorf("listen tcp %s: %w", cfg.XRayAddr, err)
	}

	mux := http.NewServeMux()
	(&rumapi.API{Registry: registry, Events: st, Logger: log}).Register(mux)
	(&rumquery.API{Monitors: registry, Service: &rumsvc.Service{Stats: st, Events: st}, Logger: log}).Register(mux)
	xrayIngest.Register(mux)
	(&xrayquery.API{Store: st, Logger: log}).Register(mux)
	for _, p := range []string{"/GetSamplingRules", "/SamplingTargets", "/CreateSamplingRule", "/UpdateSamplingRule", "/DeleteSamplingRule", "/SamplingStatisticSummaries"} {
		mux.Handle("POST "+p, samplingSvc.Handler())
	}
	admin.Register(mux, reg, map[string]admin.Check{
		"store": func(ctx context.Context) string {
			if err := st.Ping(ctx); err != nil {
				return err.Error()
			}
			if ok, why := wr.Healthy(); !ok {
				return "store writes failing: " + why
			}
			return ""
		},
		"spool": func(context.Context) string {
			s := sp.Stats()
			if s.PendingBytes > cfg.SpoolMaxBytes*9/10 {
				return fmt.Sprintf("spool %d%% full", s.PendingBytes*100/cfg.SpoolMaxBytes)
			}
			return ""
		},
	})

	servers := []*http.Server{}
	listeners := []net.Listener{}
	listen := func(addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen %s: %w", addr, err)
		}
		listeners = append(listeners, ln)
		servers = append(servers, &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute})
		return nil
	}
	if cfg.IngestAddr == cfg.HTTPAddr {
		// One address: API paths first, PutRumEvents (any prefix) for the rest.
		mux.Handle(agentjs.Path, agentjs.Handler())
		mux.Handle("/", rumHandler)
		if err := listen(cfg.HTTPAddr, mux); err != nil {
			return err
		}
	} else {
		if err := listen(cfg.HTTPAddr, mux); err != nil {
			return err
		}
		ingestMux := http.NewServeMux()
		ingestMux.Handle(agentjs.Path, agentjs.Handler())
		ingestMux.Handle("/", rumHandler)
		if err := listen(cfg.IngestAddr, ingestMux); err != nil {
			return err
		}
	}

	writerCtx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWriter()
	g, gctx := errgroup.WithContext(ctx)
	writerDone := make(chan error, 1)
	go func() { writerDone <- wr.Run(writerCtx, cfg.ShutdownTimeout) }()
	for i, srv := range servers {
		srv, ln := srv, listeners[i]
		g.Go(func() error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve %s: %w", ln.Addr(), err)
			}
			return nil
		})
	}
	g.Go(func() error {
		return daemon.Serve(gctx, udpConn, tcpSampling, samplingSvc.SDKHandler())
	})
	log.Info("sightline serving", "xray", cfg.XRayAddr, "version", version, "http", cfg.HTTPAddr, "ingest", cfg.IngestAddr, "data_dir", cfg.DataDir, "store", cfg.Store)

	<-gctx.Done()
	log.Info("shutting down: stop accepting, then store what was acknowledged")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("http shutdown", "err", err)
		}
	}
	serveErr := g.Wait()
	stopWriter()
	if err := <-writerDone; err != nil {
		log.Error("writer", "err", err)
	}
	log.Info("stopped", "spool_pending_records", sp.Stats().PendingRecords)
	return serveErr
}
