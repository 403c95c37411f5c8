package duckdb

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/query/servicegraph"
	"github.com/sightline/sightline/internal/query/trace"
)

// liveGraphAggregates computes the graph rows of [from, to) from the
// segments alone, bypassing the rollups: the reference GraphAggregates is
// checked against.
func (s *Store) liveGraphAggregates(ctx context.Context, fromMicros, toMicros int64) ([]servicegraph.NodeAgg, []servicegraph.EdgeAgg, []string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	defer func() { _ = tx.Rollback() }()
	out, err := liveGraph(ctx, tx, [][2]int64{{fromMicros, toMicros}}, s.legacySeq)
	return out.nodes, out.edges, out.unaggregated, err
}

// quantize rounds a trace's times to the microsecond, as SDKs send them,
// so the stored microseconds give back the same float seconds.
func quantize(recs []model.SegmentRecord) {
	q := func(x float64) float64 { return math.Round(x*1e6) / 1e6 }
	for i := range recs {
		recs[i].Segment.Walk(func(n *model.Segment) bool {
			n.StartTime, n.EndTime = q(n.StartTime), q(n.EndTime)
			return true
		})
	}
	setRaw(recs)
}

// TestGraphAggregatesMatchBuild checks that the SQL rows, plus the rows of
// the traces the store leaves to the caller, build the same graph as
// servicegraph.Build over the assembled traces, for windows that cut
// through traces and minutes: computed live, from the per-minute rollups,
// after late documents made some rollups stale, and after a refresh.
func TestGraphAggregatesMatchBuild(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	r := rand.New(rand.NewPCG(5, 17))
	base := 1_700_000_000.0
	var ids []string
	var held [][]model.SegmentRecord
	seq := uint64(0)
	writeRecs := func(recs []model.SegmentRecord) {
		seq++
		if err := s.Write(ctx, seq, []*model.Batch{{Segments: recs}}); err != nil {
			t.Fatal(err)
		}
	}
	// write stores a trace in two Writes; the second half of every fifth
	// trace is held back until after the first refresh.
	write := func(i int, recs []model.SegmentRecord) {
		quantize(recs)
		first, second := recs[:len(recs)/2], recs[len(recs)/2:]
		if len(first) > 0 {
			writeRecs(first)
		}
		if len(second) == 0 {
			return
		}
		if i%5 == 0 {
			held = append(held, second)
			return
		}
		writeRecs(second)
	}
	for i := 0; i < 300; i++ {
		tid := fmt.Sprintf("1-%08x-%024x", int64(base)+int64(i), i)
		ids = append(ids, tid)
		recs := genTraceRecords(r, tid, base+float64(i))
		if i%3 == 0 { // an account on some documents and calls
			for _, rec := range recs {
				rec.Segment.AWS = json.RawMessage(fmt.Sprintf(`{"account_id":"%012d"}`, r.IntN(3)))
				for _, sub := range rec.Segment.Subsegments {
					if sub.Namespace == "aws" {
						sub.AWS = json.RawMessage(`{"account_id":"999999999999","operation":"GetItem"}`)
					}
				}
			}
		}
		write(i, recs)
	}
	br := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		recs := benchTrace(br, i)
		ids = append(ids, recs[0].Segment.TraceID)
		write(i, recs)
	}
	// Browser traces (aws-rum-web's X-Ray segments): a RUM root calling
	// front; every other browser document arrives in a later Write.
	for i := 0; i < 60; i++ {
		st := base + 400 + float64(i)*1.5
		tid := fmt.Sprintf("1-%08x-%024x", int64(st), 1000+i)
		ids = append(ids, tid)
		call := &model.Segment{ID: fmt.Sprintf("c%015x", i), Name: "front.example.com", Namespace: "remote", StartTime: st + 0.01, EndTime: st + 0.3,
			HTTP: &model.HTTP{Request: &model.HTTPRequest{Method: "GET", URL: "https://front.example.com/api"}, Response: &model.HTTPResponse{Status: 200}}}
		browser := &model.Segment{TraceID: tid, ID: fmt.Sprintf("b%015x", i), Name: "shop-web", Origin: "AWS::RUM::AppMonitor", StartTime: st, EndTime: st + 0.31,
			Subsegments: []*model.Segment{call}}
		front := &model.Segment{TraceID: tid, ID: fmt.Sprintf("f%015x", i), ParentID: call.ID, Name: "front", Origin: "AWS::EC2::Instance", StartTime: st + 0.02, EndTime: st + 0.29,
			HTTP: &model.HTTP{Response: &model.HTTPResponse{Status: 200}}}
		recs := []model.SegmentRecord{{Segment: front, ReceivedAtMicros: int64((st + 1) * 1e6)}, {Segment: browser, ReceivedAtMicros: int64((st + 2) * 1e6)}}
		quantize(recs)
		writeRecs(recs[:1])
		if i%2 == 0 {
			held = append(held, recs[1:])
		} else {
			writeRecs(recs[1:])
		}
	}
	windows := [][2]float64{
		{base + 390, base + 600},
		{base - 10, base + 1000},
		{base + 50.3, base + 120.7},
		{base + 298.5, base + 301},
		{base + 60, base + 240},
		{benchStart, benchStart + 3},
		{benchStart + 1.23, benchStart + 6.5},
	}
	check := func(t *testing.T) {
		all, err := trace.Load(ctx, s, ids)
		if err != nil {
			t.Fatal(err)
		}
		var traces []*model.Trace
		for _, id := range ids {
			if tr := all[id]; tr != nil {
				traces = append(traces, tr)
			}
		}
		for _, w := range windows {
			from, to := int64(math.Round(w[0]*1e6)), int64(math.Round(w[1]*1e6))
			t.Run(fmt.Sprintf("%d-%d", from, to), func(t *testing.T) {
				want := servicegraph.Build(traces, servicegraph.Options{Start: time.UnixMicro(from), End: time.UnixMicro(to)})
				aggNodes, aggEdges, unagg, err := s.GraphAggregates(ctx, from, to)
				if err != nil {
					t.Fatal(err)
				}
				rest, err := trace.Load(ctx, s, unagg)
				if err != nil {
					t.Fatal(err)
				}
				var restList []*model.Trace
				for _, tr := range rest {
					restList = append(restList, tr)
				}
				nodes, edges := servicegraph.Aggregate(restList, servicegraph.Options{Start: time.UnixMicro(from), End: time.UnixMicro(to)})
				got := servicegraph.BuildFromAggregates(append(aggNodes, nodes...), append(aggEdges, edges...))
				if len(want.Services) == 0 {
					t.Fatal("the window holds no segments: the test checks nothing")
				}
				if len(aggNodes) == 0 {
					t.Fatal("no rows from SQL: every trace fell back")
				}
				alignResponseTimes(t, &got, &want)
				if !reflect.DeepEqual(got, want) {
					g, _ := json.MarshalIndent(got, "", " ")
					wn, _ := json.MarshalIndent(want, "", " ")
					t.Errorf("graph from aggregates differs (%d traces left to the caller)\ngot:\n%s\nwant:\n%s", len(unagg), g, wn)
				}
			})
		}
	}
	valid := func() int {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		m, err := validMinutes(ctx, tx, int64(base-60)*1e6, int64(base+1000)*1e6)
		if err != nil {
			t.Fatal(err)
		}
		return len(m)
	}
	t.Run("live", check)
	// Two new minutes per refresh: the first refresh takes several steps.
	s.rollupStep = 2
	refreshAll := func() int {
		total := 0
		for {
			n, more, err := s.RefreshGraphRollups(ctx, time.Now().UnixMicro())
			if err != nil {
				t.Fatal(err)
			}
			total += n
			if !more {
				return total
			}
		}
	}
	if n := refreshAll(); n == 0 {
		t.Fatal("RefreshGraphRollups recomputed no minute")
	}
	before := valid()
	if before < 5 {
		t.Fatalf("%d valid rolled-up minutes over the first traces", before)
	}
	t.Run("rollups", check)
	for _, recs := range held {
		writeRecs(recs)
	}
	if after := valid(); after >= before {
		t.Fatalf("late documents left %d of %d rolled-up minutes valid", after, before)
	}
	t.Run("stale", check)
	if n := refreshAll(); n == 0 {
		t.Fatal("the second refresh recomputed no minute")
	}
	if v := valid(); v != before {
		t.Fatalf("after the second refresh %d minutes are valid, want %d", v, before)
	}
	t.Run("refreshed", check)
}

// alignResponseTimes accepts total response times that differ by float
// summation order (a few microseconds), then makes them equal.
func alignResponseTimes(t *testing.T, got, want *servicegraph.Graph) {
	t.Helper()
	if len(got.Services) != len(want.Services) {
		return
	}
	align := func(what string, g, w *servicegraph.Statistics) {
		if g == nil || w == nil {
			return
		}
		if math.Abs(g.TotalResponseTime-w.TotalResponseTime) <= 1e-5 {
			g.TotalResponseTime = w.TotalResponseTime
		}
	}
	for i := range got.Services {
		gs, ws := &got.Services[i], &want.Services[i]
		align(gs.Name, gs.SummaryStatistics, ws.SummaryStatistics)
		for j := range gs.Edges {
			if j < len(ws.Edges) {
				align(gs.Name, gs.Edges[j].SummaryStatistics, ws.Edges[j].SummaryStatistics)
			}
		}
	}
}
