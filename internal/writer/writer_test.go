package writer

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/sightline/sightline/internal/model"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	v := 12.5
	b := &model.Batch{
		RumBatchID: "b1", AppMonitorID: "app",
		Rum: []model.RumEvent{{AppMonitorID: "app", EventID: "e1", TimestampMicros: 1, Type: model.EventLCP, Value: &v,
			Metadata: json.RawMessage(`{"pageId":"/"}`), Details: json.RawMessage(`{"value":12.5}`)}},
		Segments: []model.SegmentRecord{{Segment: &model.Segment{TraceID: "1-5f000000-000000000000000000000001", ID: "0123456789abcdef", Name: "svc",
			StartTime: 1.5, EndTime: 2.25, Annotations: map[string]any{"k": "v", "n": 3.0, "b": true},
			Subsegments: []*model.Segment{{ID: "1123456789abcdef", Name: "sub", StartTime: 1.6, EndTime: 2}}},
			Raw: json.RawMessage(`{"id":"0123456789abcdef"}`), SessionID: "s"}},
	}
	p, err := Encode(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, b) {
		t.Fatalf("round trip changed the batch:\n got %+v\nwant %+v", got, b)
	}
	if _, err := Decode([]byte("{not json")); err == nil {
		t.Fatal("garbage decoded")
	}
}
