package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/model"
)

func TestDropExpiredPartitions(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, Options{RetentionDays: 7})
	defer s.Close()
	day := func(d int) int64 { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC).UnixMicro() }
	old, kept := rumEvent("old", day(1)), rumEvent("kept", day(9))
	oldSeg := segRecord("1-69a40000-000000000000000000000001", "aaaaaaaaaaaaaaaa")
	oldSeg.Segment.StartTime, oldSeg.Segment.EndTime = float64(day(1))/1e6, float64(day(1))/1e6+1
	if err := s.Write(ctx, 1, []*model.Batch{{Rum: []model.RumEvent{old, kept}, Segments: []model.SegmentRecord{oldSeg}}}); err != nil {
		t.Fatal(err)
	}
	n, err := s.DropExpiredPartitions(ctx, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 { // 1 March of rum_events, segments, segments_by_trace
		t.Errorf("dropped %d partitions, want 3", n)
	}
	if got := countEvents(t, s); got != 1 {
		t.Errorf("%d events left, want 1", got)
	}
	if got := countSegments(t, s, oldSeg.Segment.TraceID); got != 0 {
		t.Errorf("%d expired segments still served", got)
	}
	if n, err := s.DropExpiredPartitions(ctx, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)); err != nil || n != 0 {
		t.Errorf("second run dropped %d, %v", n, err)
	}
}
