package duckdb

import (
	"context"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/filter"
	"github.com/sightline/sightline/internal/query/trace"
	"github.com/sightline/sightline/internal/store"
)

func TestScratchSearch(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: "/tmp/sightline-xray-bench-v3.duckdb", MemoryLimit: "2GB"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hourFrom := int64(benchStart+2*3600) * 1e6
	hourTo := hourFrom + 3600e6
	for _, expr := range []string{``, `service("api") { fault } AND responsetime > 1`, `annotation.plan = "enterprise" AND http.status = 500`, `!ok`} {
		var e filter.Expr
		if expr != "" {
			e = filter.MustParse(expr)
		}
		for k := 0; k < 3; k++ {
			t0 := time.Now()
			refs, err := s.ListTraces(ctx, store.TraceListQuery{FromMicros: hourFrom, ToMicros: hourTo, Limit: 200, Filter: e})
			t1 := time.Now()
			ids := make([]string, len(refs))
			for i := range refs {
				ids[i] = refs[i].TraceID
			}
			tr, err2 := trace.Load(ctx, s, ids)
			t2 := time.Now()
			for _, x := range tr {
				trace.Summarize(x)
			}
			t3 := time.Now()
			t.Logf("%q list %d %v load %v sum %v %v %v", expr, len(refs), t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), err, err2)
		}
	}
}
