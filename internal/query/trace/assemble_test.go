package trace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/model"
)

var update = flag.Bool("update", false, "rewrite golden files")

// loadRecords reads one raw segment document per line, as the store keeps
// them; the line number stands in for the arrival time.
func loadRecords(t testing.TB, name string) []model.SegmentRecord {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []model.SegmentRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for i := 0; sc.Scan(); i++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var s model.Segment
		if err := json.Unmarshal(line, &s); err != nil {
			t.Fatalf("%s line %d: %v", name, i+1, err)
		}
		recs = append(recs, model.SegmentRecord{Segment: &s, Raw: append(json.RawMessage(nil), line...), ReceivedAtMicros: int64(i)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func assembleFixture(t testing.TB, name string) *model.Trace {
	t.Helper()
	recs := loadRecords(t, name)
	return Assemble(recs[0].Segment.TraceID, recs)
}

var fixtures = []string{
	"go_remote_call", "go_fault_and_throttle", "go_not_found", "go_independent_subsegments",
	"go_root_without_parent", "rum_browser_join", "synthetic_inferred",
}

// TestGolden pins the assembled documents and the summary of every fixture.
func TestGolden(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			tr := assembleFixture(t, name)
			docs, err := Documents(tr)
			if err != nil {
				t.Fatal(err)
			}
			var parsed []json.RawMessage
			for _, d := range docs {
				parsed = append(parsed, json.RawMessage(d.Document))
			}
			sum := Summarize(tr)
			got, err := json.MarshalIndent(map[string]any{"segments": parsed, "summary": sum}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run with -update and review the diff)", name, golden)
			}
		})
	}
}

// shape prints a trace's tree as "name[child,child]" with inferred
// segments starred, to assert structure compactly.
func shape(tr *model.Trace) string {
	var b strings.Builder
	var node func(s *model.Segment)
	node = func(s *model.Segment) {
		b.WriteString(s.Name)
		if tr.Inferred[s.ID] {
			b.WriteString("*")
		}
		if len(s.Subsegments) > 0 {
			b.WriteString("[")
			for i, c := range s.Subsegments {
				if i > 0 {
					b.WriteString(",")
				}
				node(c)
			}
			b.WriteString("]")
		}
	}
	for i, s := range tr.Segments {
		if i > 0 {
			b.WriteString(" ")
		}
		node(s)
	}
	return b.String()
}

func TestAssembleShapes(t *testing.T) {
	tests := []struct {
		name  string
		shape string
		root  string
	}{
		{"go_remote_call", "front-svc[compute-price,127.0.0.1:43979[connect[dial],request,response]] downstream-svc", "front-svc"},
		{"go_fault_and_throttle", "front-svc[127.0.0.1:43979[request,response],127.0.0.1:43979[request,response]] downstream-svc downstream-svc", "front-svc"},
		{"go_not_found", "front-svc", "front-svc"},
		{"rum_browser_join", "rum.aws.amazon.com[127.0.0.1] api-svc", "rum.aws.amazon.com"},
		{"synthetic_inferred", "orders[DynamoDB,handler[S3],orders@db.internal,payments.example.com] DynamoDB* S3* orders@db.internal* payments.example.com*", "orders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := assembleFixture(t, tt.name)
			if got := shape(tr); got != tt.shape {
				t.Errorf("shape\n got: %s\nwant: %s", got, tt.shape)
			}
			if r := tr.Root(); r == nil || r.Name != tt.root {
				t.Errorf("root = %v, want %s", r, tt.root)
			}
		})
	}
}

func TestIndependentSubsegmentsAttach(t *testing.T) {
	tr := assembleFixture(t, "go_independent_subsegments")
	if len(tr.Segments) != 1 {
		t.Fatalf("got %d top-level segments, want 1: %s", len(tr.Segments), shape(tr))
	}
	subs := tr.Segments[0].Subsegments
	if len(subs) != 25 {
		t.Fatalf("front-svc has %d subsegments, want 25 (20 embedded + 5 independent)", len(subs))
	}
	for i, s := range subs {
		if want := "step-" + twoDigits(i); s.Name != want {
			t.Errorf("subsegment %d = %s, want %s (ordered by start time)", i, s.Name, want)
		}
	}
}

func twoDigits(i int) string { return string([]byte{byte('0' + i/10), byte('0' + i%10)}) }

func TestRUMSegmentJoinsBackend(t *testing.T) {
	tr := assembleFixture(t, "rum_browser_join")
	if len(tr.Segments) != 2 || len(tr.Inferred) != 0 {
		t.Fatalf("want browser + backend and no inferred node, got %s", shape(tr))
	}
	browser, backend := tr.Segments[0], tr.Segments[1]
	if browser.Origin != "AWS::RUM::AppMonitor" || backend.ParentID != browser.Subsegments[0].ID {
		t.Fatalf("backend parent %s is not the browser subsegment %s", backend.ParentID, browser.Subsegments[0].ID)
	}
	sum := Summarize(tr)
	if sum.EntryPoint == nil || sum.EntryPoint.Type != "AWS::RUM::AppMonitor" {
		t.Errorf("entry point = %+v, want the browser", sum.EntryPoint)
	}
	if len(sum.ServiceIDs) != 2 {
		t.Errorf("ServiceIds = %+v, want browser and api-svc", sum.ServiceIDs)
	}
}

func TestAssembleReplacesInProgress(t *testing.T) {
	seg := func(id string, inProgress bool, end float64, name string) model.SegmentRecord {
		return model.SegmentRecord{Segment: &model.Segment{TraceID: "1-a-b", ID: id, Name: name, StartTime: 1, EndTime: end, InProgress: inProgress}}
	}
	tests := []struct {
		name string
		recs []model.SegmentRecord
		want string // name of the surviving document
	}{
		{"complete after in progress", []model.SegmentRecord{seg("s1", true, 0, "open"), seg("s1", false, 2, "done")}, "done"},
		{"in progress after complete", []model.SegmentRecord{seg("s1", false, 2, "done"), seg("s1", true, 0, "open")}, "done"},
		{"later complete wins", []model.SegmentRecord{seg("s1", false, 2, "first"), seg("s1", false, 3, "second")}, "second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.recs {
				tt.recs[i].ReceivedAtMicros = int64(i)
			}
			tr := Assemble("1-a-b", tt.recs)
			if len(tr.Segments) != 1 || tr.Segments[0].Name != tt.want {
				t.Errorf("got %s, want %s", shape(tr), tt.want)
			}
		})
	}
	// An independent subsegment completes the in-progress copy its parent
	// was sent with.
	tr := assembleFixture(t, "synthetic_inferred")
	var s3 *model.Segment
	tr.Segments[0].Walk(func(n *model.Segment) bool {
		if n.Name == "S3" {
			s3 = n
		}
		return true
	})
	if s3 == nil || s3.InProgress || !s3.Throttle {
		t.Errorf("S3 subsegment = %+v, want the complete independent document", s3)
	}
	if Summarize(tr).IsPartial {
		t.Error("trace is partial although every document completed")
	}
}

func TestAssembleEdgeCases(t *testing.T) {
	sub := func(id, parent string) model.SegmentRecord {
		return model.SegmentRecord{Segment: &model.Segment{TraceID: "1-a-b", ID: id, ParentID: parent, Type: "subsegment", Name: id, StartTime: 1, EndTime: 2}}
	}
	t.Run("orphan subsegment stays visible", func(t *testing.T) {
		tr := Assemble("1-a-b", []model.SegmentRecord{sub("x", "missing")})
		if shape(tr) != "x" {
			t.Errorf("got %q", shape(tr))
		}
	})
	t.Run("parent cycle does not loop", func(t *testing.T) {
		tr := Assemble("1-a-b", []model.SegmentRecord{sub("x", "y"), sub("y", "x"), sub("z", "z")})
		var n int
		for _, s := range tr.Segments {
			s.Walk(func(*model.Segment) bool { n++; return true })
		}
		if n != 3 {
			t.Errorf("got %d nodes (%s), want 3", n, shape(tr))
		}
		_ = Summarize(tr)
		if _, err := Documents(tr); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("records are not modified", func(t *testing.T) {
		recs := loadRecords(t, "go_independent_subsegments")
		var root *model.Segment
		for _, r := range recs {
			if r.Segment.Type != "subsegment" {
				root = r.Segment
			}
		}
		before := len(root.Subsegments)
		Assemble("x", recs)
		if len(root.Subsegments) != before {
			t.Errorf("Assemble changed a record: %d subsegments, had %d", len(root.Subsegments), before)
		}
	})
	t.Run("empty", func(t *testing.T) {
		tr := Assemble("1-a-b", nil)
		if len(tr.Segments) != 0 || tr.Root() != nil {
			t.Fatal("empty trace has segments")
		}
		if s := Summarize(tr); s.ID != "1-a-b" || s.EntryPoint != nil {
			t.Errorf("summary of empty trace = %+v", s)
		}
	})
}

func TestInferredSegments(t *testing.T) {
	tr := assembleFixture(t, "synthetic_inferred")
	want := map[string]string{
		"DynamoDB":             "AWS::DynamoDB",
		"S3":                   "AWS::S3",
		"orders@db.internal":   "Database::SQL",
		"payments.example.com": "remote",
	}
	got := map[string]string{}
	for _, s := range tr.Segments {
		if tr.Inferred[s.ID] {
			got[s.Name] = s.Origin
			if s.ParentID == "" || len(s.ID) != 16 {
				t.Errorf("inferred %s: id %q parent %q", s.Name, s.ID, s.ParentID)
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("inferred = %v, want %v", got, want)
	}
	for n, typ := range want {
		if got[n] != typ {
			t.Errorf("inferred %s type = %q, want %q", n, got[n], typ)
		}
	}
	doc, err := Document(tr, tr.Segments[1])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte(`"inferred":true`)) {
		t.Errorf("inferred document lacks the marker: %s", doc)
	}
	// Same input, same ids: documents are stable across assemblies.
	again := assembleFixture(t, "synthetic_inferred")
	if shape(again) != shape(tr) || again.Segments[1].ID != tr.Segments[1].ID {
		t.Error("assembly is not deterministic")
	}
}
