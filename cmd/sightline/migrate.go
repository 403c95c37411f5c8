package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store/clickhouse"
)

// migrate applies the store's schema (versioned and idempotent) and exits,
// so an operator can upgrade ClickHouse before rolling out new collectors.
func migrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := config.Load("sightline migrate", args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flagHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "sightline migrate:", err)
		return 2
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "sightline migrate:", err)
		return 2
	}
	if cfg.Store == "clickhouse" {
		if err := clickhouse.Migrate(ctx, clickhouseOptions(cfg, log)); err != nil {
			fmt.Fprintln(stderr, "sightline migrate:", err)
			return 1
		}
		fmt.Fprintln(stdout, "clickhouse schema is up to date")
		return 0
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "sightline migrate:", err)
		return 1
	}
	if err := st.Close(); err != nil {
		fmt.Fprintln(stderr, "sightline migrate:", err)
		return 1
	}
	fmt.Fprintln(stdout, "duckdb schema is up to date")
	return 0
}
