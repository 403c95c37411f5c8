package model

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func init() {
	// Other test files of this package may define -update too; define it once.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// fixtureDocs returns every segment document in the captured traffic: the
// UDP datagram bodies and the documents the real daemon forwarded.
func fixtureDocs(t testing.TB) (names []string, docs [][]byte) {
	t.Helper()
	for _, line := range readJSONL(t, "testdata/xray/udp_datagrams.jsonl") {
		var d struct {
			Seq     int    `json:"seq"`
			BodyRaw string `json:"body_raw"`
		}
		if err := json.Unmarshal(line, &d); err != nil {
			t.Fatalf("udp fixture: %v", err)
		}
		names = append(names, fmt.Sprintf("udp/%02d", d.Seq))
		docs = append(docs, []byte(d.BodyRaw))
	}
	for i, line := range readJSONL(t, "testdata/xray/via_daemon_api_requests.jsonl") {
		var d struct {
			URI     string `json:"request_uri"`
			BodyRaw string `json:"body_raw"`
		}
		if err := json.Unmarshal(line, &d); err != nil {
			t.Fatalf("daemon fixture: %v", err)
		}
		if d.URI != "/TraceSegments" {
			continue
		}
		var body struct{ TraceSegmentDocuments []string }
		if err := json.Unmarshal([]byte(d.BodyRaw), &body); err != nil {
			t.Fatalf("daemon fixture line %d: %v", i, err)
		}
		for j, doc := range body.TraceSegmentDocuments {
			names = append(names, fmt.Sprintf("daemon/%03d/%02d", i, j))
			docs = append(docs, []byte(doc))
		}
	}
	return names, docs
}

func readJSONL(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

type docSummary struct {
	Name           string `json:"name"`
	TraceID        string `json:"trace_id"`
	ID             string `json:"id"`
	ParentID       string `json:"parent_id,omitempty"`
	Type           string `json:"type,omitempty"`
	SegmentName    string `json:"segment_name"`
	Subsegments    int    `json:"subsegments"`
	AllSubsegments int    `json:"all_subsegments"`
	Annotations    int    `json:"annotations"`
	InProgress     bool   `json:"in_progress,omitempty"`
	Error          string `json:"error,omitempty"`
}

func countSubsegments(s *Segment) int {
	n := len(s.Subsegments)
	for _, sub := range s.Subsegments {
		n += countSubsegments(sub)
	}
	return n
}

func TestParseSegmentDocumentFixtures(t *testing.T) {
	names, docs := fixtureDocs(t)
	if len(docs) < 58 {
		t.Fatalf("only %d fixture documents", len(docs))
	}
	var got []docSummary
	independent := 0
	for i, doc := range docs {
		seg, err := ParseSegmentDocument(doc)
		if err != nil {
			// The real daemon forwards whatever follows a valid header; the
			// capture includes its "invalid body" edge case.
			if string(doc) != "THIS IS NOT JSON" {
				t.Errorf("%s: %v", names[i], err)
			}
			got = append(got, docSummary{Name: names[i], Error: string(SegmentErrorCodeOf(err))})
			continue
		}
		if seg.Type == SegmentTypeSubsegment {
			independent++
		}
		got = append(got, docSummary{
			Name: names[i], TraceID: seg.TraceID, ID: seg.ID, ParentID: seg.ParentID, Type: seg.Type,
			SegmentName: seg.Name, Subsegments: len(seg.Subsegments), AllSubsegments: countSubsegments(seg),
			Annotations: len(seg.Annotations), InProgress: seg.InProgress,
		})
	}
	// 5 in the direct UDP capture and 5 in the run through the real daemon:
	// the >20-subsegment streaming case.
	if independent != 10 {
		t.Errorf("independent subsegments = %d, want 10", independent)
	}
	out, err := json.MarshalIndent(got, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	golden := filepath.Join("testdata", "xray", "segments.golden.json")
	if updateGolden() {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("summaries differ from %s (run with -update and review the diff)", golden)
	}
}

const (
	okTrace = "1-5759e988-bd862e3fe1be46a994272793"
	okID    = "41dc2d5e8e5f26e7"
)

func doc(fields string) []byte {
	base := `"trace_id":"` + okTrace + `","id":"` + okID + `","name":"svc","start_time":1795559902.8,"end_time":1795559902.9`
	if fields == "" {
		return []byte("{" + base + "}")
	}
	return []byte("{" + base + "," + fields + "}")
}

func nested(depth int) []byte {
	var b strings.Builder
	b.WriteString(`{"trace_id":"` + okTrace + `","id":"` + okID + `","name":"svc","start_time":1,"end_time":2`)
	for i := 0; i < depth; i++ {
		b.WriteString(`,"subsegments":[{"id":"1111111111111111","name":"s","start_time":1,"end_time":2`)
	}
	for i := 0; i < depth; i++ {
		b.WriteString(`}]`)
	}
	b.WriteString(`}`)
	return []byte(b.String())
}

func annotations(n int) []byte {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	return doc(`"annotations":{` + b.String() + `}`)
}

func TestParseSegmentDocumentErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		code SegmentErrorCode // "" = accepted
	}{
		{"minimal", doc(""), ""},
		{"in progress without end", []byte(`{"trace_id":"` + okTrace + `","id":"` + okID + `","name":"a","start_time":1,"in_progress":true}`), ""},
		{"old trace epoch accepted", []byte(`{"trace_id":"1-00000001-bd862e3fe1be46a994272793","id":"` + okID + `","name":"a","start_time":1,"end_time":1}`), ""},
		{"upper-case hex accepted", []byte(`{"trace_id":"1-5759E988-BD862E3FE1BE46A994272793","id":"41DC2D5E8E5F26E7","name":"a","start_time":1,"end_time":1}`), ""},
		{"annotations of each kind", doc(`"annotations":{"s":"x","n":1.5,"b":true,"Under_9":0}`), ""},
		{"independent subsegment", doc(`"type":"subsegment","parent_id":"1ee1dfb3a53f8b27"`), ""},
		{"50 annotations", annotations(50), ""},
		{"depth at limit", nested(MaxSubsegmentDepth), ""},
		{"unknown fields kept out", doc(`"Dummy":false,"traced":true`), ""},

		{"empty", []byte(``), CodeInvalidJSON},
		{"garbage", []byte(`not json`), CodeInvalidJSON},
		{"truncated", doc("")[:40], CodeInvalidJSON},
		{"trailing garbage", append(doc(""), '}'), CodeInvalidJSON},
		{"array", []byte(`[1,2]`), CodeInvalidFieldType},
		{"null", []byte(`null`), CodeInvalidTraceID},
		{"name is a number", []byte(`{"name":5}`), CodeInvalidFieldType},
		{"missing trace id", []byte(`{"id":"` + okID + `","name":"a","start_time":1,"end_time":2}`), CodeInvalidTraceID},
		{"short trace id", []byte(`{"trace_id":"1-5759e988-bd862e3fe1be46a99427279","id":"` + okID + `","name":"a","start_time":1,"end_time":2}`), CodeInvalidTraceID},
		{"trace id version 2", []byte(`{"trace_id":"2-5759e988-bd862e3fe1be46a994272793","id":"` + okID + `","name":"a","start_time":1,"end_time":2}`), CodeInvalidTraceID},
		{"w3c trace id", []byte(`{"trace_id":"5759e988bd862e3fe1be46a994272793","id":"` + okID + `","name":"a","start_time":1,"end_time":2}`), CodeInvalidTraceID},
		{"id 15 hex", []byte(`{"trace_id":"` + okTrace + `","id":"41dc2d5e8e5f26e","name":"a","start_time":1,"end_time":2}`), CodeInvalidID},
		{"id 17 hex", []byte(`{"trace_id":"` + okTrace + `","id":"41dc2d5e8e5f26e77","name":"a","start_time":1,"end_time":2}`), CodeInvalidID},
		{"id not hex", []byte(`{"trace_id":"` + okTrace + `","id":"41dc2d5e8e5f26eg","name":"a","start_time":1,"end_time":2}`), CodeInvalidID},
		{"parent id short", doc(`"parent_id":"abc"`), CodeInvalidParentID},
		{"independent subsegment without parent", doc(`"type":"subsegment"`), CodeInvalidParentID},
		{"unknown type", doc(`"type":"segment"`), CodeInvalidType},
		{"missing name", []byte(`{"trace_id":"` + okTrace + `","id":"` + okID + `","start_time":1,"end_time":2}`), CodeInvalidName},
		{"name 201 chars", []byte(`{"trace_id":"` + okTrace + `","id":"` + okID + `","name":"` + strings.Repeat("é", 201) + `","start_time":1,"end_time":2}`), CodeInvalidName},
		{"missing start", []byte(`{"trace_id":"` + okTrace + `","id":"` + okID + `","name":"a","end_time":2}`), CodeMissingStartTime},
		{"missing end", []byte(`{"trace_id":"` + okTrace + `","id":"` + okID + `","name":"a","start_time":2}`), CodeMissingEndTime},
		{"end before start", []byte(`{"trace_id":"` + okTrace + `","id":"` + okID + `","name":"a","start_time":2,"end_time":1}`), CodeEndBeforeStart},
		{"start time string", []byte(`{"trace_id":"` + okTrace + `","id":"` + okID + `","name":"a","start_time":"1","end_time":2}`), CodeInvalidFieldType},
		{"51 annotations", annotations(51), CodeTooManyAnnotations},
		{"10000 annotations", annotations(10000), CodeDocumentTooLarge},
		{"annotation key with dash", doc(`"annotations":{"a-b":1}`), CodeInvalidAnnotation},
		{"annotation key empty", doc(`"annotations":{"":1}`), CodeInvalidAnnotation},
		{"annotation object value", doc(`"annotations":{"a":{"b":1}}`), CodeInvalidAnnotation},
		{"annotation null value", doc(`"annotations":{"a":null}`), CodeInvalidAnnotation},
		{"annotation long string", doc(`"annotations":{"a":"` + strings.Repeat("x", 1001) + `"}`), CodeInvalidAnnotation},
		{"annotations over the document", doc(`"annotations":{"a":1},"subsegments":[{"id":"1111111111111111","name":"s","start_time":1,"end_time":2,"annotations":` + string(annotations(50)[bytes.Index(annotations(50), []byte(`{"k0`)):len(annotations(50))-1]) + `}]`), CodeTooManyAnnotations},
		{"too deep", nested(MaxSubsegmentDepth + 1), CodeTooDeep},
		{"very deep", nested(700), CodeTooDeep},
		{"bad nested id", doc(`"subsegments":[{"id":"x","name":"s","start_time":1,"end_time":2}]`), CodeInvalidID},
		{"nested end before start", doc(`"subsegments":[{"id":"1111111111111111","name":"s","start_time":3,"end_time":2}]`), CodeEndBeforeStart},
		{"nested null", doc(`"subsegments":[null]`), CodeInvalidFieldType},
		{"too large", doc(`"metadata":{"default":{"pad":"` + strings.Repeat("x", MaxSegmentDocumentBytes) + `"}}`), CodeDocumentTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg, err := ParseSegmentDocument(tt.raw)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if seg == nil || seg.ID == "" {
					t.Fatalf("accepted without a segment")
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %s", tt.code)
			}
			if got := SegmentErrorCodeOf(err); got != tt.code {
				t.Fatalf("code %q (%v), want %q", got, err, tt.code)
			}
			if seg != nil {
				t.Fatalf("segment returned with an error")
			}
		})
	}
}

func TestSegmentErrorCarriesIDAndField(t *testing.T) {
	_, err := ParseSegmentDocument(doc(`"subsegments":[{"id":"1111111111111111","name":"s","start_time":1,"end_time":2},{"id":"2222222222222222","name":"s","start_time":3,"end_time":2}]`))
	se, ok := err.(*SegmentError)
	if !ok {
		t.Fatalf("error %T %v", err, err)
	}
	if se.ID != okID || se.Field != "subsegments[1].end_time" {
		t.Fatalf("ID %q Field %q", se.ID, se.Field)
	}
}

func TestTraceIDConversions(t *testing.T) {
	id, err := ParseTraceID(okTrace)
	if err != nil {
		t.Fatal(err)
	}
	if id.String() != okTrace {
		t.Fatalf("round trip %q", id.String())
	}
	if id.W3C() != "5759e988bd862e3fe1be46a994272793" {
		t.Fatalf("w3c %q", id.W3C())
	}
	if id.Epoch().Unix() != 0x5759e988 {
		t.Fatalf("epoch %v", id.Epoch())
	}
	x, err := W3CToXRay("5759e988bd862e3fe1be46a994272793")
	if err != nil || x != okTrace {
		t.Fatalf("W3CToXRay %q %v", x, err)
	}
	w, err := XRayToW3C("1-5759E988-BD862E3FE1BE46A994272793")
	if err != nil || w != "5759e988bd862e3fe1be46a994272793" {
		t.Fatalf("XRayToW3C %q %v", w, err)
	}
	for _, bad := range []string{"", "1-5759e988-bd862e3fe1be46a99427279", "1-5759e988_bd862e3fe1be46a994272793", "0-5759e988-bd862e3fe1be46a994272793", "1-5759e98z-bd862e3fe1be46a994272793"} {
		if _, err := ParseTraceID(bad); err == nil {
			t.Errorf("ParseTraceID(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "5759e988bd862e3fe1be46a99427279", "5759e988bd862e3fe1be46a99427279x"} {
		if _, err := ParseW3CTraceID(bad); err == nil {
			t.Errorf("ParseW3CTraceID(%q) accepted", bad)
		}
	}
	var r [12]byte
	copy(r[:], "abcdefghijkl")
	n := NewTraceID(id.Epoch(), r)
	if !strings.HasPrefix(n.String(), "1-5759e988-") || n.IsZero() {
		t.Fatalf("NewTraceID %q", n.String())
	}
}

func FuzzParseSegmentDocument(f *testing.F) {
	_, docs := fixtureDocs(f)
	for _, d := range docs[:10] {
		f.Add(d)
	}
	f.Add(nested(MaxSubsegmentDepth + 1))
	f.Add(annotations(51))
	f.Fuzz(func(t *testing.T, raw []byte) {
		seg, err := ParseSegmentDocument(raw)
		if err != nil {
			if SegmentErrorCodeOf(err) == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if !IsValidTraceID(seg.TraceID) || !IsValidSegmentID(seg.ID) {
			t.Fatalf("accepted invalid ids %q %q", seg.TraceID, seg.ID)
		}
		// What was accepted must survive a round trip through our own encoding.
		again, err := json.Marshal(seg)
		if err != nil {
			t.Fatalf("marshal accepted segment: %v", err)
		}
		if len(again) <= MaxSegmentDocumentBytes {
			if _, err := ParseSegmentDocument(again); err != nil {
				t.Fatalf("re-encoded segment refused: %v\n%s", err, again)
			}
		}
	})
}
