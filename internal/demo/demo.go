// Package demo runs a small shop next to the collector so that a newcomer sees
// every part of Sightline at work within minutes: a static site that loads the
// browser agent, a Go API and a downstream inventory service traced with the
// public tracing package, an embedded SQL database, and synthetic users who
// walk through the shop over the real HTTP paths. Their RUM batches go to the
// collector's ingest address exactly as the agent sends them, and their API
// calls carry the trace header of a browser segment they record, so every
// trace starts in the browser: browser → api → inventory → database.
//
// The package does not open the collector's store and does not link a SQL
// driver: the inventory opens its database by driver name (DuckDB in the
// sightline binary, which already links it; tests register their own).
package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/tracing"
)

// Defaults of the options (and of the `sightline demo` flags).
const (
	DefaultUsersPerSecond = 2.0
	DefaultAppMonitorName = "demo-shop"
	DefaultMaxSessions    = 64
	DefaultPageDwell      = 2500 * time.Millisecond
	DefaultDBDriver       = "duckdb"
	// BrowserSegmentName names the browser's segments, so the service map's
	// client node reads as the shop rather than as a generic RUM name.
	BrowserSegmentName = "demo-shop"
)

// Options configures a demo. APIURL, IngestURL and XRayAddr name the running
// collector; everything else has a working default.
type Options struct {
	// APIURL is the collector's HTTP API and console, e.g. http://127.0.0.1:8080.
	APIURL string
	// IngestURL is the collector's public ingest base URL, where PutRumEvents
	// and the agent script (/agent/v1/sightline.js) are served.
	IngestURL string
	// XRayAddr is the X-Ray daemon address ("host:port", UDP segments and TCP
	// sampling) the api and inventory services send their segments to.
	XRayAddr string

	// ShopAddr, APIAddr and InventoryAddr are the listen addresses of the
	// three demo servers; empty means 127.0.0.1 with a port chosen by the OS.
	ShopAddr, APIAddr, InventoryAddr string

	// AppMonitorName is the app monitor the demo creates or reuses
	// (default "demo-shop").
	AppMonitorName string
	// UsersPerSecond is how many synthetic sessions start per second on
	// average (Poisson arrivals). Zero or less runs no synthetic users.
	UsersPerSecond float64
	// MaxSessions bounds the synthetic sessions in flight (default 64);
	// arrivals beyond it are skipped and counted.
	MaxSessions int
	// Duration bounds how long synthetic users arrive; zero means until ctx
	// ends. The servers keep running until ctx ends either way, so the data
	// can be explored after the load stops.
	Duration time.Duration
	// PageDwell is the median time a synthetic user spends on a page
	// (default 2.5 s, a fast-forwarded shopper).
	PageDwell time.Duration
	// Chromium is the path of a Chromium binary; when set, one headless
	// browser also walks through the shop with the real agent.
	Chromium string
	// DBDriver and DBSource open the inventory's database with database/sql
	// (default "duckdb" in memory; the driver must be registered by the binary).
	DBDriver, DBSource string
	// Faults sets how often the services misbehave (default DefaultFaults).
	Faults *Faults
	// Seed makes the synthetic users' choices repeatable; zero picks one.
	Seed uint64
	// Out receives the banner and the closing summary (default io.Discard).
	Out io.Writer
	// Logger receives operational messages (default slog.Default()).
	Logger *slog.Logger
	// HTTPClient makes the synthetic users' and the control-plane requests
	// (default: a client with a 10 s timeout).
	HTTPClient *http.Client
}

// Demo is a running demo.
type Demo struct {
	// ShopURL, APIURL and InventoryURL are where the three servers listen.
	ShopURL, APIURL, InventoryURL string
	// AppMonitorID is the id of the app monitor the shop reports to.
	AppMonitorID string
	// AgentSource says where the shop's pages load the agent from.
	AgentSource AgentSource

	opts  Options
	stats *Stats
	done  chan struct{}
	err   error
}

// Run starts the demo and blocks until ctx ends. It returns nil after a
// clean stop.
func Run(ctx context.Context, opts Options) error {
	d, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	return d.Wait()
}

// Stats returns the synthetic users' counters so far.
func (d *Demo) Stats() StatsSnapshot { return d.stats.Snapshot() }

// Wait blocks until the demo has stopped (its ctx ended) and returns the
// first error that stopped it.
func (d *Demo) Wait() error {
	<-d.done
	return d.err
}

func (o *Options) withDefaults() (Options, error) {
	out := *o
	if out.APIURL == "" || out.IngestURL == "" || out.XRayAddr == "" {
		return out, errors.New("demo: APIURL, IngestURL and XRayAddr are required")
	}
	out.APIURL = strings.TrimRight(out.APIURL, "/")
	out.IngestURL = strings.TrimRight(out.IngestURL, "/")
	for _, a := range []*string{&out.ShopAddr, &out.APIAddr, &out.InventoryAddr} {
		if *a == "" {
			*a = "127.0.0.1:0"
		}
	}
	if out.AppMonitorName == "" {
		out.AppMonitorName = DefaultAppMonitorName
	}
	if out.MaxSessions <= 0 {
		out.MaxSessions = DefaultMaxSessions
	}
	if out.PageDwell <= 0 {
		out.PageDwell = DefaultPageDwell
	}
	if out.DBDriver == "" {
		out.DBDriver = DefaultDBDriver
	}
	if out.Faults == nil {
		f := DefaultFaults
		out.Faults = &f
	}
	if out.Out == nil {
		out.Out = io.Discard
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	if out.HTTPClient == nil {
		out.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if !slices.Contains(sql.Drivers(), out.DBDriver) {
		return out, fmt.Errorf("demo: SQL driver %q is not registered in this binary (registered: %v)", out.DBDriver, sql.Drivers())
	}
	return out, nil
}

// Start starts the shop, the api, the inventory and the synthetic users, and
// returns once they all listen. Everything stops when ctx ends; Wait waits
// for that.
func Start(ctx context.Context, o Options) (*Demo, error) {
	opts, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	log := opts.Logger.With("component", "demo")

	// Listen first: the app monitor's trace-header allow list and the API's
	// CORS policy name each other's origins.
	shopLn, err := net.Listen("tcp", opts.ShopAddr)
	if err != nil {
		return nil, fmt.Errorf("demo: listen shop %s: %w", opts.ShopAddr, err)
	}
	apiLn, err := net.Listen("tcp", opts.APIAddr)
	if err != nil {
		shopLn.Close()
		return nil, fmt.Errorf("demo: listen api %s: %w", opts.APIAddr, err)
	}
	invLn, err := net.Listen("tcp", opts.InventoryAddr)
	if err != nil {
		shopLn.Close()
		apiLn.Close()
		return nil, fmt.Errorf("demo: listen inventory %s: %w", opts.InventoryAddr, err)
	}
	lns := []net.Listener{shopLn, apiLn, invLn}
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	d := &Demo{
		ShopURL:      "http://" + shopLn.Addr().String(),
		APIURL:       "http://" + apiLn.Addr().String(),
		InventoryURL: "http://" + invLn.Addr().String(),
		opts:         opts,
		stats:        &Stats{},
		done:         make(chan struct{}),
	}

	cp := controlPlane{base: opts.APIURL, client: opts.HTTPClient}
	d.AppMonitorID, err = cp.ensureAppMonitor(ctx, opts.AppMonitorName, appMonitorSpec(d.APIURL))
	if err != nil {
		closeAll()
		return nil, err
	}
	agent, err := locateAgent(ctx, opts.HTTPClient, opts.IngestURL)
	if err != nil {
		closeAll()
		return nil, err
	}
	d.AgentSource = agent.source
	log.Info("demo app monitor ready", "name", opts.AppMonitorName, "id", d.AppMonitorID, "agent", agent.source)

	runCtx, cancel := context.WithCancel(ctx)
	db, err := openInventoryDB(runCtx, opts.DBDriver, opts.DBSource)
	if err != nil {
		cancel()
		closeAll()
		return nil, err
	}
	// The recorders outlive runCtx: Close sends what the last requests
	// recorded after the stop.
	apiRec, err := tracing.New(context.WithoutCancel(ctx), tracing.Config{ServiceName: "api", DaemonAddress: opts.XRayAddr, ServiceVersion: "1.4.2", Logger: opts.Logger})
	if err != nil {
		cancel()
		db.Close()
		closeAll()
		return nil, fmt.Errorf("demo: api tracing: %w", err)
	}
	invRec, err := tracing.New(context.WithoutCancel(ctx), tracing.Config{ServiceName: "inventory", DaemonAddress: opts.XRayAddr, ServiceVersion: "0.9.0", Logger: opts.Logger})
	if err != nil {
		cancel()
		db.Close()
		closeAll()
		return nil, fmt.Errorf("demo: inventory tracing: %w", err)
	}
	faults := newFaultDice(*opts.Faults, opts.Seed)
	inv := &inventory{db: tracing.WrapDB(db, dbTypeName(opts.DBDriver), dbTraceSource(opts.DBDriver)), faults: faults, log: log}
	api := newAPI(d.InventoryURL, faults, log)
	shop := &shop{
		appMonitorName: opts.AppMonitorName, appMonitorID: d.AppMonitorID, ingestURL: opts.IngestURL, apiURL: d.APIURL,
		consoleURL: opts.APIURL, agent: agent,
	}
	if err := shop.init(); err != nil {
		cancel()
		db.Close()
		closeAll()
		return nil, err
	}

	servers := []*http.Server{
		{Handler: shop.handler(), ReadHeaderTimeout: 10 * time.Second},
		{Handler: tracing.CORS(tracing.CORSConfig{AllowedOrigins: []string{d.ShopURL}, AllowedHeaders: []string{"content-type"}}, apiRec.Middleware(api.handler())), ReadHeaderTimeout: 10 * time.Second},
		{Handler: invRec.Middleware(inv.handler()), ReadHeaderTimeout: 10 * time.Second},
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(servers)+2)
	for i, srv := range servers {
		wg.Add(1)
		go func(srv *http.Server, ln net.Listener) {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("demo: serve %s: %w", ln.Addr(), err)
				cancel()
			}
		}(srv, lns[i])
	}

	var users sync.WaitGroup
	if opts.UsersPerSecond > 0 {
		gen := &generator{
			shopURL: d.ShopURL, apiURL: d.APIURL, ingestURL: opts.IngestURL, appMonitorID: d.AppMonitorID,
			client: opts.HTTPClient, stats: d.stats, log: log, dwell: opts.PageDwell, seed: opts.Seed,
			rate: opts.UsersPerSecond, maxSessions: opts.MaxSessions,
		}
		users.Add(1)
		go func() {
			defer users.Done()
			genCtx := runCtx
			if opts.Duration > 0 {
				var stop context.CancelFunc
				genCtx, stop = context.WithTimeout(runCtx, opts.Duration)
				defer stop()
			}
			gen.run(genCtx)
			if runCtx.Err() == nil {
				fmt.Fprintf(opts.Out, "synthetic users stopped after %s: %s\n", opts.Duration, d.stats.Snapshot())
			}
		}()
	}
	if opts.Chromium != "" {
		users.Add(1)
		go func() {
			defer users.Done()
			if err := runChromium(runCtx, opts.Chromium, d.ShopURL, d.stats, log); err != nil && runCtx.Err() == nil {
				log.Warn("headless Chromium user stopped", "err", err)
			}
		}()
	}

	d.printBanner(opts)

	go func() {
		defer close(d.done)
		defer cancel()
		<-runCtx.Done()
		users.Wait()
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer scancel()
		for _, srv := range servers {
			_ = srv.Shutdown(sctx)
		}
		wg.Wait()
		// Segments still queued go out before the demo reports it stopped.
		if err := apiRec.Close(sctx); err != nil {
			log.Warn("close api tracing", "err", err)
		}
		if err := invRec.Close(sctx); err != nil {
			log.Warn("close inventory tracing", "err", err)
		}
		db.Close()
		close(errs)
		for err := range errs {
			if d.err == nil {
				d.err = err
			}
		}
		fmt.Fprintf(opts.Out, "demo stopped: %s\n", d.stats.Snapshot())
	}()
	return d, nil
}

func (d *Demo) printBanner(opts Options) {
	users := "no synthetic users"
	if opts.UsersPerSecond > 0 {
		users = fmt.Sprintf("%g synthetic sessions/s", opts.UsersPerSecond)
		if opts.Duration > 0 {
			users += fmt.Sprintf(" for %s", opts.Duration)
		}
	}
	if opts.Chromium != "" {
		users += " + a headless Chromium shopper"
	}
	fmt.Fprintf(opts.Out, `
Sightline demo is running (%s).
  open %s          console: service map, traces, RUM
  shop at %s       pages load the agent (%s)
  api %s  →  inventory %s  →  %s
  app monitor %q (%s)
Ctrl-C stops everything.

`, users, opts.APIURL, d.ShopURL, d.AgentSource, d.APIURL, d.InventoryURL, dbTypeName(opts.DBDriver), opts.AppMonitorName, d.AppMonitorID)
}
