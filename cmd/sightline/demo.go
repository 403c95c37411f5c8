package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/demo"
)

// demoCmd runs `serve` and, once it is ready, the demo shop with its
// traced services and synthetic users in the same process.
func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	base := config.Default()
	base.DataDir = "./demo-data"
	// Every synthetic user comes from 127.0.0.1.
	base.RatePerIP, base.BurstPerIP = 1000, 2000
	var shopAddr, apiAddr, invAddr string
	var users float64
	var duration time.Duration
	var browser bool
	var seed uint64
	cfg, err := config.LoadWith(base, "sightline demo", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&shopAddr, "shop-addr", "127.0.0.1:8090", "address of the demo shop (static site with the agent)")
		fs.StringVar(&apiAddr, "api-addr", "127.0.0.1:8091", "address of the demo shop's API (another origin)")
		fs.StringVar(&invAddr, "inventory-addr", "127.0.0.1:8092", "address of the downstream inventory service")
		fs.Float64Var(&users, "users-per-second", demo.DefaultUsersPerSecond, "synthetic sessions started per second (0: none)")
		fs.DurationVar(&duration, "duration", 0, "stop starting sessions after this long (0: until stopped)")
		fs.BoolVar(&browser, "browser", false, "also walk the shop with headless Chromium when it is installed")
		fs.Uint64Var(&seed, "seed", 0, "random seed of the synthetic users (0: from the clock)")
	})
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "sightline demo:", err)
		return 2
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "sightline demo:", err)
		return 2
	}
	// The collector outlives the demo so the last beacons and segments are
	// still accepted after a stop signal.
	serveCtx, stopServe := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServe()
	served := make(chan error, 1)
	go func() { served <- runServe(serveCtx, cfg, log) }()
	if err := waitReady(ctx, "http://"+cfg.HTTPAddr+"/readyz", served); err != nil {
		log.Error("sightline demo: collector did not start", "err", err)
		return 1
	}
	opts := demo.Options{APIURL: "http://" + cfg.HTTPAddr, IngestURL: "http://" + cfg.IngestAddr, XRayAddr: cfg.XRayAddr,
		ShopAddr: shopAddr, APIAddr: apiAddr, InventoryAddr: invAddr, UsersPerSecond: users, Duration: duration,
		Seed: seed, Out: stdout, Logger: log}
	if browser {
		opts.Chromium = demo.FindChromium()
	}
	demoErr := demo.Run(ctx, opts)
	stopServe()
	serveErr := <-served
	if demoErr != nil && !errors.Is(demoErr, context.Canceled) {
		log.Error("sightline demo", "err", demoErr)
		return 1
	}
	if serveErr != nil {
		log.Error("sightline serve", "err", serveErr)
		return 1
	}
	return 0
}

func waitReady(ctx context.Context, url string, served <-chan error) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-served:
			return fmt.Errorf("serve exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("not ready after 2 minutes")
}
