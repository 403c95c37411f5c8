package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sightline/sightline/internal/filter"
	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// RunTraceFilter checks TraceListQuery.Filter: a backend may use it to
// list fewer traces, but never drops one the filter matches, and paging
// stays in order. A backend that ignores the filter passes too.
func RunTraceFilter(t *testing.T, newStore Factory) {
	ctx := context.Background()
	s := newStore(t)
	t.Cleanup(func() { _ = s.Close() })
	base := 0x60000000
	var recs []model.SegmentRecord
	// Trace i: api root (fault when i%3 == 0) calling db, which carries
	// annotation shard = i%4.
	for i := 0; i < 24; i++ {
		tid := fmt.Sprintf("1-%08x-%024x", base+i, i)
		root := seg(tid, fmt.Sprintf("%016x", 2*i+1), "", float64(base+i), float64(base+i)+0.1*float64(i%5+1), false)
		root.Segment.Name = "api"
		if i%3 == 0 {
			root.Segment.Fault, root.Segment.HTTP.Response.Status = true, 500
		}
		call := &model.Segment{ID: fmt.Sprintf("c%015x", i), Name: "db", Namespace: "remote", StartTime: float64(base + i), EndTime: float64(base+i) + 0.05}
		root.Segment.Subsegments = []*model.Segment{call}
		db := seg(tid, fmt.Sprintf("%016x", 2*i+2), call.ID, float64(base+i)+0.01, float64(base+i)+0.04, false)
		db.Segment.Name = "db"
		db.Segment.Annotations = map[string]any{"shard": float64(i % 4)}
		for _, r := range []*model.SegmentRecord{&root, &db} {
			raw, err := json.Marshal(r.Segment)
			if err != nil {
				t.Fatal(err)
			}
			r.Raw = raw
		}
		recs = append(recs, root, db)
	}
	if err := s.Write(ctx, 1, []*model.Batch{{Segments: recs}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		expr string
		want []int // matching traces, newest first
	}{
		{`service("api") { fault }`, []int{21, 18, 15, 12, 9, 6, 3, 0}},
		{`service("db") { annotation.shard = 2 }`, []int{22, 18, 14, 10, 6, 2}},
		{`service("api") { fault } AND annotation.shard >= 3`, []int{15, 3}},
		{`!annotation.shard`, nil},
		{`fault AND responsetime > 0.45`, []int{9}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			q := store.TraceListQuery{FromMicros: int64(base) * 1e6, ToMicros: int64(base+100) * 1e6, Limit: 5, Filter: filter.MustParse(tt.expr)}
			listed := map[string]int{}
			var order []string
			for page := 0; page < 20; page++ {
				refs, err := s.ListTraces(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range refs {
					listed[r.TraceID]++
					order = append(order, r.TraceID)
				}
				if len(refs) < q.Limit {
					break
				}
				last := refs[len(refs)-1]
				q.BeforeStartMicros, q.BeforeTraceID = last.StartMicros, last.TraceID
			}
			for _, i := range tt.want {
				if id := fmt.Sprintf("1-%08x-%024x", base+i, i); listed[id] != 1 {
					t.Errorf("trace %d listed %d times, want once", i, listed[id])
				}
			}
			for k := 1; k < len(order); k++ {
				if order[k] >= order[k-1] {
					t.Fatalf("not newest first: %s after %s", order[k], order[k-1])
				}
			}
		})
	}
}
