package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/model"
)

// bigTrace builds a 100-segment trace: a fan-out of 10 services each
// calling 9 more, every segment with a few subsegments, annotations and
// one aws call without a child segment (an inferred node).
func bigTrace() []model.SegmentRecord {
	tid := "1-6b070000-00000000000000000000beef"
	var recs []model.SegmentRecord
	id := 0
	next := func() string { id++; return fmt.Sprintf("%016x", id) }
	mk := func(name, parent string, start float64, fault bool) *model.Segment {
		s := &model.Segment{TraceID: tid, ID: next(), ParentID: parent, Name: name, StartTime: start, EndTime: start + 0.5,
			Fault: fault, Annotations: map[string]any{"tenant": "acme", "n": float64(id % 7)}, User: "u"}
		for j := 0; j < 3; j++ {
			s.Subsegments = append(s.Subsegments, &model.Segment{ID: next(), Name: fmt.Sprintf("work-%d", j), StartTime: start + 0.01*float64(j), EndTime: start + 0.1})
		}
		return s
	}
	root := mk("root", "", 0, true)
	recs = append(recs, model.SegmentRecord{Segment: root})
	for i := 0; i < 11; i++ {
		call := &model.Segment{ID: next(), Name: fmt.Sprintf("svc-%d", i), Namespace: "remote", StartTime: 0.1, EndTime: 0.4, Fault: i == 3}
		root.Subsegments = append(root.Subsegments, call)
		mid := mk(call.Name, call.ID, 0.1, i == 3)
		recs = append(recs, model.SegmentRecord{Segment: mid})
		for k := 0; k < 8 && len(recs) < 100; k++ {
			c := &model.Segment{ID: next(), Name: fmt.Sprintf("leaf-%d-%d", i, k), Namespace: "remote", StartTime: 0.2, EndTime: 0.3}
			mid.Subsegments = append(mid.Subsegments, c)
			recs = append(recs, model.SegmentRecord{Segment: mk(c.Name, c.ID, 0.2, false)})
		}
		mid.Subsegments = append(mid.Subsegments, &model.Segment{ID: next(), Name: "DynamoDB", Namespace: "aws", StartTime: 0.15, EndTime: 0.2})
	}
	return recs[:100]
}

func BenchmarkAssembleSummarize100(b *testing.B) {
	recs := bigTrace()
	b.ReportAllocs()
	for b.Loop() {
		tr := Assemble("t", recs)
		_ = Summarize(tr)
	}
}

func BenchmarkDocuments100(b *testing.B) {
	tr := Assemble("t", bigTrace())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Documents(tr); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzAssemble feeds arbitrary segment documents (one JSON document per
// line, as stored) through Assemble, Summarize and Documents: no panics,
// no hangs, every attached node reachable once.
func FuzzAssemble(f *testing.F) {
	for _, name := range fixtures {
		b, err := os.ReadFile(filepath.Join("testdata", name+".jsonl"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var recs []model.SegmentRecord
		for i, line := range bytes.Split(in, []byte("\n")) {
			var s model.Segment
			if json.Unmarshal(line, &s) != nil {
				continue
			}
			recs = append(recs, model.SegmentRecord{Segment: &s, ReceivedAtMicros: int64(i)})
			if len(recs) > 200 {
				break
			}
		}
		tr := Assemble("t", recs)
		seen := map[*model.Segment]bool{}
		for _, s := range tr.Segments {
			s.Walk(func(n *model.Segment) bool {
				if seen[n] {
					t.Fatalf("node %s reachable twice", n.ID)
				}
				seen[n] = true
				return true
			})
		}
		_ = Summarize(tr)
		if _, err := Documents(tr); err != nil {
			t.Fatal(err)
		}
	})
}
