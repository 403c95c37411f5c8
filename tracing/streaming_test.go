package tracing

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// collect reads n documents and splits them into the segment and independent subsegments.
func collect(t *testing.T, d *fakeDaemon, n int) (seg doc, independent []doc) {
	t.Helper()
	for i := 0; i < n; i++ {
		m := d.next(t)
		if m["type"] == "subsegment" {
			independent = append(independent, m)
		} else if seg != nil {
			t.Fatalf("two segments: %v and %v", seg["id"], m["id"])
		} else {
			seg = m
		}
	}
	if seg == nil {
		t.Fatal("no segment received")
	}
	return seg, independent
}

func TestStreamingOverTwentySubsegments(t *testing.T) {
	d := newFakeDaemon(t)
	rec := newTestRecorder(t, d, Config{})
	h := rec.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 25; i++ {
			ctx, sub := Start(r.Context(), "step")
			_, inner := Start(ctx, "inner")
			inner.End()
			sub.End()
		}
	}))
	serve(h, map[string]string{"X-Amzn-Trace-Id": "Root=" + inRoot + ";Parent=" + inParent + ";Sampled=1"})

	// Completed subsegments stream as soon as the segment holds more than 20: an
	// "inner" that ends first goes alone with its "step" as parent, then its "step".
	seg, independent := collect(t, d, 1+30)
	ids := map[string]string{seg.str("id"): "segment"}
	var walk func(m doc)
	walk = func(m doc) {
		for _, s := range m.subsegments() {
			ids[s.str("id")] = s.str("name")
			walk(s)
		}
	}
	walk(seg)
	for _, s := range independent {
		ids[s.str("id")] = s.str("name")
		walk(s)
	}
	embedded := countTree(seg) - 1
	streamed := 0
	for _, s := range independent {
		if s.str("trace_id") != inRoot {
			t.Errorf("independent subsegment trace_id = %q", s.str("trace_id"))
		}
		parent, ok := ids[s.str("parent_id")]
		switch {
		case !ok:
			t.Errorf("independent %s: parent_id %q is no known (sub)segment", s.str("name"), s.str("parent_id"))
		case s.str("name") == "step" && parent != "segment":
			t.Errorf("step's parent is %q, want the segment", parent)
		case s.str("name") == "inner" && parent != "step":
			t.Errorf("inner's parent is %q, want a step", parent)
		}
		streamed += countTree(s)
	}
	if embedded+streamed != 50 {
		t.Errorf("embedded %d + streamed %d != 50 subsegments", embedded, streamed)
	}
	if embedded > 21 {
		t.Errorf("segment still embeds %d subsegments", embedded)
	}
	d.none(t, 0)
}

func countTree(m doc) int {
	n := 1
	for _, s := range m.subsegments() {
		n += countTree(s)
	}
	return n
}

func TestStreamingNumbers(t *testing.T) {
	// 25 flat subsegments: the 21st to 25th end while the segment holds more than 20.
	d := newFakeDaemon(t)
	rec := newTestRecorder(t, d, Config{})
	ctx, seg := rec.BeginSegment(context.Background(), "job", TraceHeader{})
	for i := 0; i < 25; i++ {
		_, sub := Start(ctx, "step")
		sub.End()
	}
	seg.End()
	got, independent := collect(t, d, 1+5)
	if n := len(got.subsegments()); n != 20 {
		t.Errorf("segment embeds %d subsegments, want 20", n)
	}
	if len(independent) != 5 {
		t.Errorf("streamed %d, want 5", len(independent))
	}
}

func TestLargeSegmentSplitBySize(t *testing.T) {
	d := newFakeDaemon(t)
	rec := newTestRecorder(t, d, Config{})
	ctx, seg := rec.BeginSegment(context.Background(), "big", TraceHeader{})
	blob := strings.Repeat("x", 20*1024)
	for i := 0; i < 5; i++ {
		_, sub := Start(ctx, "blob")
		sub.AddMetadata("payload", blob)
		sub.End()
	}
	seg.End()
	got, independent := collect(t, d, 6)
	if len(got.subsegments()) != 0 || len(independent) != 5 {
		t.Errorf("segment embeds %d, streamed %d; want 0 and 5", len(got.subsegments()), len(independent))
	}
	for _, s := range independent {
		if s.str("parent_id") != got.str("id") {
			t.Errorf("parent_id = %q, want %q", s.str("parent_id"), got.str("id"))
		}
	}
}

func TestSubsegmentEndingAfterSegment(t *testing.T) {
	d := newFakeDaemon(t)
	rec := newTestRecorder(t, d, Config{})
	ctx, seg := rec.BeginSegment(context.Background(), "async", TraceHeader{})
	_, late := Start(ctx, "background")
	seg.End()
	first := d.next(t)
	subs := first.subsegments()
	if len(subs) != 1 || subs[0]["in_progress"] != true {
		t.Fatalf("open subsegment not sent as in_progress: %v", subs)
	}
	late.End()
	second := d.next(t)
	if second["type"] != "subsegment" || second.str("id") != subs[0].str("id") || second["in_progress"] != nil || second.str("parent_id") != first.str("id") {
		t.Errorf("late subsegment = %v", second)
	}
}

func TestDropsCounted(t *testing.T) {
	d := newFakeDaemon(t)
	rec := newTestRecorder(t, d, Config{QueueSize: 1})
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, seg := rec.BeginSegment(context.Background(), "after-close", TraceHeader{})
	seg.End()
	if rec.Dropped() != 1 {
		t.Errorf("Dropped() = %d, want 1", rec.Dropped())
	}
}
