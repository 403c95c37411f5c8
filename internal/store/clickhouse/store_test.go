package clickhouse

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/clickhouse/chtest"
	"github.com/sightline/sightline/internal/store/storetest"
)

// One server serves the package's tests, each test in its own database.
var (
	serverOnce sync.Once
	server     *chtest.Server
	serverErr  error
	serverDir  string
	dbCounter  atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopShards()
	if server != nil {
		server.Stop()
	}
	if serverDir != "" {
		_ = os.RemoveAll(serverDir)
	}
	os.Exit(code)
}

func sharedServer(tb testing.TB) *chtest.Server {
	tb.Helper()
	chtest.SkipIfMissing(tb)
	serverOnce.Do(func() {
		serverDir, serverErr = os.MkdirTemp("", "sightline-clickhouse-")
		if serverErr == nil {
			server, serverErr = chtest.Start(context.Background(), serverDir, chtest.Options{})
		}
	})
	if serverErr != nil {
		tb.Fatal(serverErr)
	}
	return server
}

func freshDatabase() string {
	return fmt.Sprintf("sightline_test_%d_%d", os.Getpid(), dbCounter.Add(1))
}

func openTestStore(tb testing.TB, opts Options) *Store {
	tb.Helper()
	srv := sharedServer(tb)
	if opts.URL == "" {
		opts.URL = srv.HTTPURL()
	}
	if opts.Database == "" {
		opts.Database = freshDatabase()
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTestStore(t, Options{}) })
}

func TestRumStatsConformance(t *testing.T) {
	storetest.RunRumStats(t, func(t *testing.T) store.Store { return openTestStore(t, Options{}) })
}
