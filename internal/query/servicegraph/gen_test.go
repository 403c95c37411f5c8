package servicegraph

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/query/trace"
)

// genServices is the pool random traces draw from: plain SDK services
// (no origin) and ones with a plugin's origin.
var genServices = []NodeKey{
	{"front", ""}, {"orders", "AWS::EC2::Instance"}, {"payments", "AWS::ECS::Container"},
	{"users", ""}, {"search", "AWS::Lambda::Function"}, {"cart", "AWS::EC2::Instance"},
}

// genDownstream are calls no service answers (inferred nodes).
var genDownstream = []struct {
	name, namespace string
	sql             bool
}{
	{"DynamoDB", "aws", false}, {"S3", "aws", false}, {"api.example.com", "remote", false}, {"orders@db", "remote", true},
}

// traceGen builds random traces shaped like the Go SDK's: segments with
// plain subsegments, remote calls with connect/request/response children
// answered by another service, aws/remote/sql calls nobody answers, a
// browser entry now and then, statuses across 2xx/4xx/429/5xx, some
// segments in progress and some entries with a parent outside the trace.
// want counts, per node, the segments that the graph must count.
type traceGen struct {
	rng  *rand.Rand
	id   uint64
	want map[NodeKey]int64
}

func newTraceGen(seed uint64) *traceGen {
	return &traceGen{rng: rand.New(rand.NewPCG(seed, 7)), want: map[NodeKey]int64{}}
}

func (g *traceGen) nextID() string { g.id++; return fmt.Sprintf("%016x", g.id*0x9E3779B97F4A7C15) }

func (g *traceGen) status() (int, bool, bool, bool) {
	switch r := g.rng.IntN(20); {
	case r == 0:
		return 500, false, false, true
	case r == 1:
		return 429, true, true, false
	case r == 2:
		return 404, true, false, false
	}
	return 200, false, false, false
}

func (g *traceGen) dur() float64 {
	if g.rng.IntN(200) == 0 {
		return 60 + g.rng.Float64()*30 // beyond the dense histogram range
	}
	return g.rng.ExpFloat64() * 0.05
}

// traceRecords makes one trace of about n segments, inferred ones
// included.
func (g *traceGen) traceRecords(n int) []model.SegmentRecord {
	tid := fmt.Sprintf("1-6b070000-%024x", g.id)
	var recs []model.SegmentRecord
	left := n // segments still to make, inferred ones included
	t0 := 1.7e9 + float64(g.rng.IntN(3600))
	var grow func(parent string, start float64, depth int) *model.Segment
	grow = func(parent string, start float64, depth int) *model.Segment {
		k := genServices[g.rng.IntN(len(genServices))]
		d := g.dur() + 0.01
		st, errF, thr, fault := g.status()
		s := &model.Segment{TraceID: tid, ID: g.nextID(), ParentID: parent, Name: k.Name, Origin: k.Type,
			StartTime: start, EndTime: start + d, Error: errF, Throttle: thr, Fault: fault,
			HTTP: &model.HTTP{Response: &model.HTTPResponse{Status: st}}}
		left--
		if g.rng.IntN(50) == 0 {
			s.EndTime, s.InProgress = 0, true
		} else {
			g.want[k]++
		}
		recs = append(recs, model.SegmentRecord{Segment: s})
		for range 1 + g.rng.IntN(3) {
			s.Subsegments = append(s.Subsegments, &model.Segment{ID: g.nextID(), Name: "work", StartTime: start, EndTime: start + d/2})
		}
		for range 1 + g.rng.IntN(3) {
			if left <= 0 {
				break
			}
			cs := start + d*g.rng.Float64()/2
			cd := d * g.rng.Float64() / 2
			st, errF, thr, fault := g.status()
			call := &model.Segment{ID: g.nextID(), StartTime: cs, EndTime: cs + cd, Error: errF, Throttle: thr, Fault: fault,
				HTTP: &model.HTTP{Response: &model.HTTPResponse{Status: st}}}
			if left > 1 && depth < 4 && g.rng.IntN(2) == 0 {
				call.Name, call.Namespace = "host:80", "remote"
				for _, c := range []string{"connect", "request", "response"} {
					call.Subsegments = append(call.Subsegments, &model.Segment{ID: g.nextID(), ParentID: s.ID, Name: c, StartTime: cs, EndTime: cs + cd/3})
				}
				grow(call.ID, cs+cd/10, depth+1)
			} else {
				ds := genDownstream[g.rng.IntN(len(genDownstream))]
				call.Name, call.Namespace = ds.name, ds.namespace
				if ds.sql {
					call.SQL = []byte(`{"url":"postgres://db/orders"}`)
				}
				g.want[NodeKey{ds.name, trace.InferredType(call)}]++
				left--
			}
			// Nest some calls one level down, as handlers do.
			if g.rng.IntN(3) == 0 {
				s.Subsegments[0].Subsegments = append(s.Subsegments[0].Subsegments, call)
			} else {
				s.Subsegments = append(s.Subsegments, call)
			}
		}
		return s
	}
	switch r := g.rng.IntN(10); {
	case r == 0: // a browser entry
		sub := &model.Segment{ID: g.nextID(), Name: "api.example.org", Namespace: "remote", StartTime: t0, EndTime: t0 + 0.2}
		rum := &model.Segment{TraceID: tid, ID: g.nextID(), Name: "rum.aws.amazon.com", Origin: rumOrigin, StartTime: t0, EndTime: t0 + 0.2,
			Subsegments: []*model.Segment{sub}}
		recs = append(recs, model.SegmentRecord{Segment: rum})
		g.want[NodeKey{rum.Name, rumOrigin}]++
		grow(sub.ID, t0+0.01, 0)
	case r == 1: // called by an uninstrumented proxy
		grow(g.nextID(), t0, 0)
	default:
		grow("", t0, 0)
	}
	g.id++
	return recs
}

func (g *traceGen) traces(count, size int) []*model.Trace {
	out := make([]*model.Trace, count)
	for i := range out {
		recs := g.traceRecords(size)
		out[i] = trace.Assemble(recs[0].Segment.TraceID, recs)
	}
	return out
}

var timeZero time.Time
