package duckdb

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/storetest"
)

func TestRumStatsConformance(t *testing.T) {
	storetest.RunRumStats(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "db.duckdb"), MemoryLimit: "512MB", Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
