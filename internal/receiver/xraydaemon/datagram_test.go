package xraydaemon

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/model"
)

type fixtureDatagram struct {
	Seq           int            `json:"seq"`
	DatagramBytes int            `json:"datagram_bytes"`
	HeaderRaw     string         `json:"header_raw"`
	BodyRaw       string         `json:"body_raw"`
	BodyJSON      map[string]any `json:"body_json"`
}

func (d fixtureDatagram) bytes() []byte { return []byte(d.HeaderRaw + "\n" + d.BodyRaw) }

func loadFixtureDatagrams(t testing.TB) []fixtureDatagram {
	t.Helper()
	f, err := os.Open("testdata/udp_datagrams.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixtureDatagram
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var d fixtureDatagram
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func countNested(v any) int {
	m, _ := v.(map[string]any)
	subs, _ := m["subsegments"].([]any)
	n := len(subs)
	for _, s := range subs {
		n += countNested(s)
	}
	return n
}

func countModel(s *model.Segment) int {
	n := len(s.Subsegments)
	for _, sub := range s.Subsegments {
		n += countModel(sub)
	}
	return n
}

func TestDecodeDatagramFixtures(t *testing.T) {
	ds := loadFixtureDatagrams(t)
	if len(ds) != 58 {
		t.Fatalf("%d datagrams in the capture, want 58", len(ds))
	}
	independent := 0
	for _, d := range ds {
		raw := d.bytes()
		// datagram_bytes is not compared: the capture's working_directory
		// values were rewritten after capture, so two lengths are off by 5.
		if d.HeaderRaw != `{"format": "json", "version": 1}` {
			t.Fatalf("seq %d: header %q is not the Go SDK's", d.Seq, d.HeaderRaw)
		}
		seg, body, err := DecodeDatagram(raw)
		if err != nil {
			t.Errorf("seq %d: %v", d.Seq, err)
			continue
		}
		if string(body) != d.BodyRaw {
			t.Errorf("seq %d: body not the captured document", d.Seq)
		}
		want := d.BodyJSON
		parent, _ := want["parent_id"].(string)
		typ, _ := want["type"].(string)
		if seg.ID != want["id"] || seg.TraceID != want["trace_id"] || seg.ParentID != parent || seg.Type != typ {
			t.Errorf("seq %d: got id %s trace %s parent %s type %q, want %v %v %v %q",
				d.Seq, seg.ID, seg.TraceID, seg.ParentID, seg.Type, want["id"], want["trace_id"], parent, typ)
		}
		if got, want := countModel(seg), countNested(want); got != want {
			t.Errorf("seq %d: %d subsegments, want %d", d.Seq, got, want)
		}
		if typ == model.SegmentTypeSubsegment {
			independent++
		}
	}
	if independent != 5 {
		t.Errorf("%d independent subsegments, want 5", independent)
	}
}

const goodDoc = `{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"41dc2d5e8e5f26e7","name":"svc","start_time":1795559902.8,"end_time":1795559902.9}`

func withHeader(body string) []byte { return []byte(`{"format": "json", "version": 1}` + "\n" + body) }

// bigDatagram is a valid datagram of exactly size bytes.
func bigDatagram(size int) []byte {
	head := `{"format":"json","version":1}` + "\n" +
		`{"trace_id":"1-6b061261-bd72e26896b3f9d3a27054bb","id":"7226467e3f845501","start_time":1795560032.2963612,"end_time":1795560033.2963612,"name":"big-udp-test","metadata":{"default":{"pad":"`
	tail := `"}}}`
	return []byte(head + strings.Repeat("x", size-len(head)-len(tail)) + tail)
}

func manyAnnotations(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"a%d":1`, i)
	}
	return strings.TrimSuffix(goodDoc, "}") + `,"annotations":{` + b.String() + `}}`
}

func deepDoc(depth int) string {
	s := strings.TrimSuffix(goodDoc, "}")
	for range depth {
		s += `,"subsegments":[{"id":"1111111111111111","name":"s","start_time":1,"end_time":2`
	}
	return s + strings.Repeat("}]", depth) + "}"
}

var datagramCases = []struct {
	name   string
	raw    []byte
	reason Reason // "" = accepted
}{
	{"go header", withHeader(goodDoc), ""},
	{"node header", []byte(`{"format":"json","version":1}` + "\n" + goodDoc), ""},
	{"upper-case format", []byte(`{"format":"JSON","version":1}` + "\n" + goodDoc), ""},
	{"header with extra spaces", []byte(` { "version" : 1 , "format" : "Json" } ` + "\n" + goodDoc), ""},
	{"65507 bytes", bigDatagram(MaxDatagramBytes), ""},
	{"in progress", withHeader(`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"41dc2d5e8e5f26e7","name":"svc","start_time":1,"in_progress":true}`), ""},

	{"empty", nil, ReasonBadHeader},
	{"garbage", []byte("\x00\xff\x13garbage"), ReasonBadHeader},
	{"no newline", []byte(`{"format": "json", "version": 1}`), ReasonBadHeader},
	{"body only", []byte(goodDoc), ReasonBadHeader},
	{"version 2", []byte(`{"format":"json","version":2}` + "\n" + goodDoc), ReasonBadHeader},
	{"version as string", []byte(`{"format":"json","version":"1"}` + "\n" + goodDoc), ReasonBadHeader},
	{"version 1.0", []byte(`{"format":"json","version":1.0}` + "\n" + goodDoc), ReasonBadHeader},
	{"no version", []byte(`{"format":"json"}` + "\n" + goodDoc), ReasonBadHeader},
	{"format xml", []byte(`{"format":"xml","version":1}` + "\n" + goodDoc), ReasonBadHeader},
	{"header not json", []byte(`format=json version=1` + "\n" + goodDoc), ReasonBadHeader},
	{"empty body", withHeader(""), ReasonBadJSON},
	{"not json body", withHeader("THIS IS NOT JSON"), ReasonBadJSON},
	{"truncated json", withHeader(goodDoc[:60]), ReasonBadJSON},
	{"id 15 hex", withHeader(strings.Replace(goodDoc, "41dc2d5e8e5f26e7", "41dc2d5e8e5f26e", 1)), ReasonInvalidSegment},
	{"trace id short", withHeader(strings.Replace(goodDoc, "bd862e3fe1be46a994272793", "bd862e3fe1be46a99427279", 1)), ReasonInvalidSegment},
	{"end before start", withHeader(strings.Replace(goodDoc, "1795559902.9", "1795559902.7", 1)), ReasonInvalidSegment},
	{"51 annotations", withHeader(manyAnnotations(51)), ReasonInvalidSegment},
	{"10000 annotations", withHeader(manyAnnotations(10000)), ReasonTooLarge},
	{"deep subsegments", withHeader(deepDoc(100)), ReasonInvalidSegment},
	{"65508 bytes", bigDatagram(MaxDatagramBytes + 1), ReasonTooLarge},
}

func TestDecodeDatagram(t *testing.T) {
	for _, tt := range datagramCases {
		t.Run(tt.name, func(t *testing.T) {
			seg, _, err := DecodeDatagram(tt.raw)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("dropped: %v", err)
				}
				if seg == nil {
					t.Fatal("no segment")
				}
				return
			}
			var de *DatagramError
			if !errors.As(err, &de) {
				t.Fatalf("error %v, want a *DatagramError", err)
			}
			if de.Reason != tt.reason {
				t.Fatalf("reason %s (%v), want %s", de.Reason, err, tt.reason)
			}
		})
	}
}

func FuzzDecodeDatagram(f *testing.F) {
	for _, d := range loadFixtureDatagrams(f)[:12] {
		f.Add(d.bytes())
	}
	for _, tt := range datagramCases {
		if len(tt.raw) < 4096 {
			f.Add(tt.raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		seg, body, err := DecodeDatagram(raw)
		if err != nil {
			var de *DatagramError
			if !errors.As(err, &de) || de.Reason == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if !bytes.HasSuffix(raw, body) || seg == nil {
			t.Fatalf("accepted datagram: body is not its tail")
		}
		if !model.IsValidTraceID(seg.TraceID) || !model.IsValidSegmentID(seg.ID) {
			t.Fatalf("accepted invalid ids %q %q", seg.TraceID, seg.ID)
		}
	})
}
