package duckdb

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/filter"
	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/query/servicegraph"
	"github.com/sightline/sightline/internal/query/trace"
)

// xrayBenchVersion names the cached benchmark database; change it when
// the generator or the schema changes.
const xrayBenchVersion = "v4"

const (
	benchTraces      = 100_000
	benchStart       = 1_750_000_000 // epoch seconds of the first trace
	benchSpanSeconds = 4 * 3600
)

// benchTrace builds one trace of 10 documents: api (root, EC2) calls auth,
// orders and search over remote subsegments; orders calls payments and
// inventory, which call db; search calls cache twice; inventory also calls
// DynamoDB, which nothing answers (an inferred node). About 2% of the
// traces fault in payments (propagating to orders and api), 1% are
// throttled by auth, and annotations name the tenant and plan.
func benchTrace(r *rand.Rand, i int) []model.SegmentRecord {
	start := float64(benchStart) + float64(i)*benchSpanSeconds/benchTraces + r.Float64()*0.01
	tid := fmt.Sprintf("1-%08x-%024x", int64(start), uint64(i)*2654435761)
	n := 0
	id := func() string { n++; return fmt.Sprintf("%08x%08x", i, n) }
	fault := r.IntN(50) == 0
	throttled := r.IntN(100) == 0
	slow := r.IntN(5) == 0
	var recs []model.SegmentRecord
	seg := func(name, origin, parent string, st, dur float64, status int) *model.Segment {
		s := &model.Segment{TraceID: tid, ID: id(), ParentID: parent, Name: name, Origin: origin, StartTime: st, EndTime: st + dur,
			HTTP:  &model.HTTP{Request: &model.HTTPRequest{Method: "GET", URL: "https://" + name + ".internal/v1/items"}, Response: &model.HTTPResponse{Status: status}},
			Fault: status >= 500, Error: status >= 400 && status < 500, Throttle: status == 429,
			Annotations: map[string]any{"tenant": fmt.Sprintf("t%d", r.IntN(20))}}
		recs = append(recs, model.SegmentRecord{Segment: s, ReceivedAtMicros: int64((st + dur) * 1e6)})
		return s
	}
	call := func(from *model.Segment, to string, st, dur float64, status int) *model.Segment {
		c := &model.Segment{ID: id(), Name: to, Namespace: "remote", StartTime: st, EndTime: st + dur,
			HTTP:  &model.HTTP{Request: &model.HTTPRequest{Method: "GET", URL: "https://" + to + ".internal/"}, Response: &model.HTTPResponse{Status: status}},
			Fault: status >= 500, Throttle: status == 429, Error: status >= 400 && status < 500}
		from.Subsegments = append(from.Subsegments, c)
		return c
	}
	status := func(bad bool, code int) int {
		if bad {
			return code
		}
		return 200
	}
	total := 0.05 + r.Float64()*0.5
	if slow {
		total += 0.6 + r.Float64()*1.5
	}
	api := seg("api", "AWS::EC2::Instance", "", start, total, status(fault, 500))
	api.User = fmt.Sprintf("user-%d", r.IntN(1000))
	api.HTTP.Request.ClientIP = "10.0.0.1"
	api.HTTP.Request.UserAgent = "Mozilla/5.0"
	api.Annotations["plan"] = []string{"free", "pro", "enterprise"}[r.IntN(3)]
	api.Annotations["items"] = float64(r.IntN(10))
	c := call(api, "auth", start+0.001, 0.01, status(throttled, 429))
	seg("auth", "AWS::ECS::Container", c.ID, start+0.002, 0.008, status(throttled, 429))
	c = call(api, "orders", start+0.012, total*0.7, status(fault, 500))
	orders := seg("orders", "AWS::ECS::Container", c.ID, start+0.013, total*0.7-0.002, status(fault, 500))
	c = call(orders, "payments", start+0.014, total*0.3, status(fault, 503))
	pay := seg("payments", "AWS::ECS::Container", c.ID, start+0.015, total*0.3-0.002, status(fault, 503))
	c = call(pay, "db", start+0.016, total*0.2, 200)
	seg("db", "Database::SQL", c.ID, start+0.017, total*0.2-0.002, 200)
	c = call(orders, "inventory", start+0.02+total*0.3, total*0.3, 200)
	inv := seg("inventory", "AWS::ECS::Container", c.ID, start+0.021+total*0.3, total*0.3-0.002, 200)
	inv.Subsegments = append(inv.Subsegments, &model.Segment{ID: id(), Name: "DynamoDB", Namespace: "aws", StartTime: inv.StartTime + 0.001, EndTime: inv.StartTime + 0.01,
		AWS: json.RawMessage(`{"operation":"GetItem","table_name":"stock"}`)})
	c = call(inv, "db", inv.StartTime+0.011, total*0.1, 200)
	seg("db", "Database::SQL", c.ID, inv.StartTime+0.012, total*0.1-0.002, 200)
	c = call(api, "search", start+0.02+total*0.7, total*0.2, 200)
	srch := seg("search", "AWS::ECS::Container", c.ID, start+0.021+total*0.7, total*0.2-0.002, 200)
	for k := 0; k < 2; k++ {
		c = call(srch, "cache", srch.StartTime+0.001+float64(k)*0.01, 0.005, 200)
		seg("cache", "AWS::ECS::Container", c.ID, c.StartTime+0.0005, 0.004, 200)
	}
	setRaw(recs)
	return recs
}

// writeBenchSegments stores the benchmark traces through Write in batches
// of about 10,000 documents, as the spool writer does, and returns the
// documents written. The root document of every third trace is held back
// to the next Write, as a root that ends last often misses its trace's
// Write: such traces are stored by two Writes.
func writeBenchSegments(ctx context.Context, s *Store, traces int) (int, error) {
	r := rand.New(rand.NewPCG(1, 2))
	var batch, late []model.SegmentRecord
	n := 0
	seq := uint64(0)
	flush := func() error {
		seq++
		n += len(batch)
		err := s.Write(ctx, seq, []*model.Batch{{Segments: batch}})
		batch = append(batch[:0], late...)
		late = late[:0]
		return err
	}
	for i := 0; i < traces; i++ {
		recs := benchTrace(r, i)
		if i%3 == 0 {
			late = append(late, recs[0])
			recs = recs[1:]
		}
		batch = append(batch, recs...)
		if len(batch) >= 10_000 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	for len(batch) > 0 {
		if err := flush(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// benchStore opens the cached 1M-segment database, building it first if
// needed (several minutes on 2 cores).
func benchStore(b *testing.B) *Store {
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), "sightline-xray-bench-"+xrayBenchVersion+".duckdb")
	opts := Options{MemoryLimit: "2GB", CheckpointThreshold: "256MB"}
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".building"
		_ = os.Remove(tmp)
		_ = os.Remove(tmp + ".wal")
		_ = os.Remove(tmp + ".docs")
		opts.Path = tmp
		s, err := Open(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		n, err := writeBenchSegments(ctx, s, benchTraces)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(t0)
		b.Logf("stored %d segments in %s (%.0f segments/s, generation included)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp+".docs", path+".docs"); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
	}
	opts.Path = path
	s, err := Open(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func p50(b *testing.B, fn func() error) {
	var lat []time.Duration
	for b.Loop() {
		t := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkXRayQueries measures the X-Ray API's store work over 1,000,000
// segments (100,000 traces over 4 hours): GetTraceSummaries with a
// selective filter over one hour, BatchGetTraces of 5 ids, and the
// service graph of one hour as GetServiceGraph builds it today.
func BenchmarkXRayQueries(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	hourFrom := int64(benchStart+2*3600) * 1e6
	hourTo := hourFrom + 3600e6

	// The last two read the root, where the bench's traces never have
	// them (orders is never the root; only payments answers 503): the
	// prefilter must find nothing rather than list every trace.
	for _, expr := range []string{`service("api") { fault } AND responsetime > 1`, `annotation.plan = "enterprise" AND http.status = 500`, `!ok`,
		`name = "orders"`, `http.status = 503`} {
		e := filter.MustParse(expr)
		b.Run("TraceSummaries/"+expr, func(b *testing.B) {
			var found int
			p50(b, func() error {
				res, err := trace.Search(ctx, s, trace.SearchQuery{FromMicros: hourFrom, ToMicros: hourTo, Filter: e, PageSize: 100})
				found = len(res.Summaries)
				return err
			})
			b.ReportMetric(float64(found), "summaries")
		})
	}
	b.Run("TraceSummaries/unfiltered", func(b *testing.B) {
		p50(b, func() error {
			_, err := trace.Search(ctx, s, trace.SearchQuery{FromMicros: hourFrom, ToMicros: hourTo, PageSize: 100})
			return err
		})
	})

	r := rand.New(rand.NewPCG(3, 4))
	b.Run("BatchGetTraces/5", func(b *testing.B) {
		p50(b, func() error {
			ids := make([]string, 5)
			for k := range ids {
				i := r.IntN(benchTraces)
				start := float64(benchStart) + float64(i)*benchSpanSeconds/benchTraces
				ids[k] = fmt.Sprintf("1-%08x-%024x", int64(start), uint64(i)*2654435761)
			}
			traces, err := trace.Load(ctx, s, ids)
			if err != nil {
				return err
			}
			if len(traces) != 5 {
				return fmt.Errorf("loaded %d of 5 traces", len(traces))
			}
			for _, t := range traces {
				if _, err := trace.Documents(t); err != nil {
					return err
				}
				_ = trace.Summarize(t)
			}
			return nil
		})
	})

	// The server refreshes the per-minute graph rollups in the background;
	// the first refresh of the cached database covers all of it.
	t0 := time.Now()
	n := 0
	for more := true; more; {
		var k int
		var err error
		if k, more, err = s.RefreshGraphRollups(ctx, time.Now().UnixMicro()); err != nil {
			b.Fatal(err)
		}
		n += k
	}
	if n > 0 {
		b.Logf("rolled up %d minutes of service graph in %s", n, time.Since(t0).Round(time.Millisecond))
	}
	b.Run("ServiceGraph/1h-from-aggregates", func(b *testing.B) {
		var services int
		p50(b, func() error {
			aggNodes, aggEdges, unagg, err := s.GraphAggregates(ctx, hourFrom, hourTo)
			if err != nil {
				return err
			}
			rest, err := trace.Load(ctx, s, unagg)
			if err != nil {
				return err
			}
			var list []*model.Trace
			for _, t := range rest {
				list = append(list, t)
			}
			n, e := servicegraph.Aggregate(list, servicegraph.Options{Start: time.UnixMicro(hourFrom), End: time.UnixMicro(hourTo)})
			g := servicegraph.BuildFromAggregates(append(aggNodes, n...), append(aggEdges, e...))
			services = len(g.Services)
			return nil
		})
		b.ReportMetric(float64(services), "services")
	})

	// The minutes a refresh has not covered yet (the last one or two of a
	// "last hour" graph) are joined live: their cost is added to the above.
	b.Run("ServiceGraph/2min-live", func(b *testing.B) {
		p50(b, func() error {
			_, _, _, err := s.liveGraphAggregates(ctx, hourTo-120e6, hourTo)
			return err
		})
	})

	// A graph of a group (GroupName = a filter): the candidates' traces
	// are loaded, evaluated and built from.
	b.Run("ServiceGraph/1h-group-fault", func(b *testing.B) {
		e := filter.MustParse("fault")
		var services int
		p50(b, func() error {
			traces, _, err := trace.LoadCandidates(ctx, s, hourFrom-60e6, hourTo, 20_000, e)
			if err != nil {
				return err
			}
			g := servicegraph.Build(traces, servicegraph.Options{Start: time.UnixMicro(hourFrom), End: time.UnixMicro(hourTo), Filter: func(t *model.Trace) bool {
				sum := trace.Summarize(t)
				return filter.Evaluate(e, t, &sum, filter.EvalContext{})
			}})
			services = len(g.Services)
			return nil
		})
		b.ReportMetric(float64(services), "services")
	})

	b.Run("ServiceGraph/1h-from-traces", func(b *testing.B) {
		p50(b, func() error {
			traces, _, err := trace.LoadRange(ctx, s, hourFrom-60e6, hourTo, 20_000)
			if err != nil {
				return err
			}
			_ = servicegraph.Build(traces, servicegraph.Options{Start: time.UnixMicro(hourFrom), End: time.UnixMicro(hourTo)})
			return nil
		})
	})
}

// BenchmarkSegmentWrite measures segment ingest through Write (batches of
// ~10,000 documents of 10-segment traces), side tables included.
func BenchmarkSegmentWrite(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(b.TempDir(), "w.duckdb"), MemoryLimit: "1GB", CheckpointThreshold: "256MB"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(1, 2))
	var batches [][]model.SegmentRecord
	for k := 0; k < 20; k++ {
		var batch []model.SegmentRecord
		for i := 0; i < 1000; i++ {
			batch = append(batch, benchTrace(r, k*1000+i)...)
		}
		batches = append(batches, batch)
	}
	seq := uint64(0)
	rows := 0
	b.ResetTimer()
	for b.Loop() {
		for _, batch := range batches {
			seq++
			if err := s.Write(ctx, seq, []*model.Batch{{Segments: batch}}); err != nil {
				b.Fatal(err)
			}
			rows += len(batch)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "segments/s")
}
