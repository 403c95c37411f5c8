package tracing

import (
	"testing"
)

func TestParseTraceHeader(t *testing.T) {
	const root = "1-5759e988-bd862e3fe1be46a994272793"
	tests := []struct {
		in      string
		want    TraceHeader
		wantErr bool
	}{
		{in: "Root=" + root + ";Parent=53995c3f42cd8ad8;Sampled=1",
			want: TraceHeader{TraceID: root, ParentID: "53995c3f42cd8ad8", Decision: DecisionSampled}},
		{in: "Root=" + root + ";Parent=53995c3f42cd8ad8;Sampled=0",
			want: TraceHeader{TraceID: root, ParentID: "53995c3f42cd8ad8", Decision: DecisionNotSampled}},
		{in: "Root=" + root + ";Sampled=?",
			want: TraceHeader{TraceID: root, Decision: DecisionRequested}},
		{in: "Root=" + root,
			want: TraceHeader{TraceID: root}},
		{in: " Root=" + root + " ; Parent=53995c3f42cd8ad8 ;Sampled=1;",
			want: TraceHeader{TraceID: root, ParentID: "53995c3f42cd8ad8", Decision: DecisionSampled}},
		{in: "Self=1-67891234-12456789abcdef012345678a;Root=" + root + ";Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5",
			want: TraceHeader{TraceID: root, ParentID: "53995c3f42cd8ad8", Decision: DecisionSampled, Extra: "Lineage=a87bd80c:1|68fd508a:5"}},
		{in: "Root=" + root + ";Foo=bar;Sampled=1;Lineage=x:1",
			want: TraceHeader{TraceID: root, Decision: DecisionSampled, Extra: "Foo=bar;Lineage=x:1"}},
		{in: "root=" + root + ";sampled=1",
			want: TraceHeader{TraceID: root, Decision: DecisionSampled}},
		{in: "Root=" + root + ";Sampled=yes",
			want: TraceHeader{TraceID: root, Decision: DecisionUnknown}},
		{in: "", wantErr: true},
		{in: "Parent=53995c3f42cd8ad8;Sampled=1", wantErr: true},
		{in: "Root=1-5759e98-bd862e3fe1be46a994272793", wantErr: true},
		{in: "Root=2-5759e988-bd862e3fe1be46a994272793", wantErr: true},
		{in: "Root=1-5759E988-bd862e3fe1be46a994272793", wantErr: true},
		{in: "Root=" + root + ";Parent=xyz", wantErr: true},
		{in: "Root=" + root + ";garbage", wantErr: true},
		{in: "garbage", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseTraceHeader(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseTraceHeader(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseTraceHeader(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestTraceHeaderString(t *testing.T) {
	h := TraceHeader{TraceID: "1-5759e988-bd862e3fe1be46a994272793", ParentID: "53995c3f42cd8ad8", Decision: DecisionSampled, Extra: "Lineage=a:1"}
	want := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a:1"
	if got := h.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	back, err := ParseTraceHeader(h.String())
	if err != nil || back != h {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}

func TestParseTraceparent(t *testing.T) {
	tests := []struct {
		in      string
		want    TraceHeader
		wantErr bool
	}{
		{in: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
			want: TraceHeader{TraceID: "1-0af76519-16cd43dd8448eb211c80319c", ParentID: "b7ad6b7169203331", Decision: DecisionSampled}},
		{in: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
			want: TraceHeader{TraceID: "1-0af76519-16cd43dd8448eb211c80319c", ParentID: "b7ad6b7169203331", Decision: DecisionNotSampled}},
		{in: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03",
			want: TraceHeader{TraceID: "1-0af76519-16cd43dd8448eb211c80319c", ParentID: "b7ad6b7169203331", Decision: DecisionSampled}},
		// A future version may carry more fields after a '-'.
		{in: "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-whatever",
			want: TraceHeader{TraceID: "1-0af76519-16cd43dd8448eb211c80319c", ParentID: "b7ad6b7169203331", Decision: DecisionSampled}},
		{in: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x", wantErr: true},
		{in: "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", wantErr: true},
		{in: "00-00000000000000000000000000000000-b7ad6b7169203331-01", wantErr: true},
		{in: "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", wantErr: true},
		{in: "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", wantErr: true},
		{in: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", wantErr: true},
		{in: "00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseTraceparent(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseTraceparent(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseTraceparent(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestTraceparentRoundTrip(t *testing.T) {
	in := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	h, err := ParseTraceparent(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Traceparent(); got != in {
		t.Errorf("Traceparent() = %q, want %q", got, in)
	}
}

func FuzzParseTraceHeader(f *testing.F) {
	f.Add("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
	f.Add("Self=1-67891234-12456789abcdef012345678a;Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?;Lineage=a:1")
	f.Add("Root=;Parent=;Sampled=")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseTraceHeader(s)
		if err != nil {
			return
		}
		if !validXRayTraceID(h.TraceID) {
			t.Fatalf("accepted invalid trace id %q", h.TraceID)
		}
		if h.ParentID != "" && !isLowerHex(h.ParentID, 16) {
			t.Fatalf("accepted invalid parent %q", h.ParentID)
		}
		// What we forward must parse back to the same header.
		back, err := ParseTraceHeader(h.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", h.String(), err)
		}
		if back.TraceID != h.TraceID || back.ParentID != h.ParentID || back.Decision != h.Decision {
			t.Fatalf("round trip %+v -> %+v", h, back)
		}
	})
}

func FuzzParseTraceparent(f *testing.F) {
	f.Add("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	f.Add("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-extra")
	f.Add("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseTraceparent(s)
		if err != nil {
			return
		}
		if !validXRayTraceID(h.TraceID) || !isLowerHex(h.ParentID, 16) {
			t.Fatalf("accepted invalid ids: %+v", h)
		}
		back, err := ParseTraceparent(h.Traceparent())
		if err != nil || back.TraceID != h.TraceID || back.ParentID != h.ParentID || back.Decision != h.Decision {
			t.Fatalf("round trip %+v -> %+v, %v", h, back, err)
		}
	})
}
