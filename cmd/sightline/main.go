// Command sightline is self-hosted real-user monitoring and distributed
// tracing that speaks the CloudWatch RUM and AWS X-Ray wire protocols.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sightline/sightline/internal/corscheck"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: sightline <command> [flags]

commands:
  serve        run collector, store, query API and console in one process
  collector    ingest only (receivers, spool, writer) into ClickHouse; run any number
  query        APIs and console only, reading ClickHouse
  migrate      create or upgrade the store's schema and exit
  appmonitor   create, list, show or delete app monitors on a running server
  demo         serve plus a traced demo shop with synthetic users
  cors-check   check that APIs allow the trace headers the browser adds
  version      print the version

Run 'sightline <command> -h' for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, getenv)
	case "collector":
		return runCommand(ctx, roleCollector, args[1:], stderr, getenv)
	case "query":
		return runCommand(ctx, roleQuery, args[1:], stderr, getenv)
	case "migrate":
		return migrate(ctx, args[1:], stdout, stderr, getenv)
	case "appmonitor":
		return appMonitorCmd(ctx, args[1:], stdout, stderr, getenv)
	case "demo":
		return demoCmd(ctx, args[1:], stdout, stderr, getenv)
	case "cors-check":
		return corscheck.Main(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "sightline", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "sightline: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
