package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/query/servicegraph"
	"github.com/sightline/sightline/internal/store"
)

// TestDeleteBefore stores RUM events and traces on both sides of a cutoff,
// rolls the graph up, applies retention, and checks that only the old
// side is gone, from every read path.
func TestDeleteBefore(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	cutoff := time.Unix(1_700_000_000, 0)
	r := rand.New(rand.NewPCG(1, 2))
	var oldIDs, newIDs []string
	seq := uint64(0)
	for i := 0; i < 40; i++ {
		// 10 minutes each side; one old trace in the cutoff's own minute.
		at := cutoff.Add(time.Duration(i-20)*30*time.Second - 5*time.Second)
		tid := fmt.Sprintf("1-%08x-%024x", at.Unix(), i)
		if at.Before(cutoff) {
			oldIDs = append(oldIDs, tid)
		} else {
			newIDs = append(newIDs, tid)
		}
		recs := genTraceRecords(r, tid, float64(at.Unix()))
		quantize(recs)
		ev := model.RumEvent{AppMonitorID: "app", TimestampMicros: at.UnixMicro(), EventID: fmt.Sprintf("e%d", i), Type: "com.amazon.rum.page_view_event",
			SessionID: "s", BatchID: fmt.Sprintf("b%d", i), Metadata: []byte("{}"), Details: []byte("{}")}
		seq++
		if err := s.Write(ctx, seq, []*model.Batch{{Segments: recs, Rum: []model.RumEvent{ev}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.RefreshGraphRollups(ctx, cutoff.Add(time.Hour).UnixMicro()); err != nil {
		t.Fatal(err)
	}
	from, to := cutoff.Add(-time.Hour).UnixMicro(), cutoff.Add(time.Hour).UnixMicro()
	type aggregates func(ctx context.Context, from, to int64) ([]servicegraph.NodeAgg, []servicegraph.EdgeAgg, []string, error)
	// counted is the number of segments the graph's nodes count.
	counted := func(agg aggregates) int64 {
		n, _, _, err := agg(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, x := range n {
			for _, b := range x.Histogram {
				total += b.Count
			}
		}
		return total
	}
	nodes := func() int64 { return counted(s.GraphAggregates) }
	before := nodes()

	removed, err := s.DeleteBefore(ctx, cutoff)
	if err != nil || removed == 0 {
		t.Fatalf("DeleteBefore = %d, %v", removed, err)
	}
	events, err := s.RumEvents(ctx, store.RumEventQuery{AppMonitorID: "app", FromMicros: from, ToMicros: to})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(newIDs) {
		t.Errorf("%d RUM events left, want the %d after the cutoff", len(events), len(newIDs))
	}
	for _, e := range events {
		if e.TimestampMicros < cutoff.UnixMicro() {
			t.Errorf("event at %d survived", e.TimestampMicros)
		}
	}
	if recs, err := s.SegmentsByTraceIDs(ctx, oldIDs); err != nil || len(recs) != 0 {
		t.Errorf("old traces: %d documents left, %v", len(recs), err)
	}
	recs, err := s.SegmentsByTraceIDs(ctx, newIDs)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		seen[rec.Segment.TraceID] = true
	}
	if len(seen) != len(newIDs) {
		t.Errorf("%d of %d new traces keep their documents", len(seen), len(newIDs))
	}
	refs, err := s.ListTraces(ctx, store.TraceListQuery{FromMicros: from, ToMicros: to, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		if ref.StartMicros < cutoff.UnixMicro()-60e6 { // a new trace's segments start at its epoch
			t.Errorf("listed old trace %s", ref.TraceID)
		}
	}
	if len(refs) != len(newIDs) {
		t.Errorf("listed %d traces, want %d", len(refs), len(newIDs))
	}
	after := nodes()
	if after == 0 || after >= before {
		t.Errorf("graph counts %d segments after retention, %d before: want fewer, not none", after, before)
	}
	// Rolled-up minutes and live joins agree after the deletion.
	if live := counted(s.liveGraphAggregates); live != after {
		t.Errorf("rollups count %d segments, the live join %d", after, live)
	}
}
