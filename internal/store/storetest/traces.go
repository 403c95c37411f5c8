package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

func testListTraces(t *testing.T, s store.Store) {
	ctx := context.Background()
	var recs []model.SegmentRecord
	// 30 traces, one second apart, epoch 0x5f000000 + i.
	for i := 0; i < 30; i++ {
		epoch := 0x5f000000 + i
		tid := fmt.Sprintf("1-%08x-%024x", epoch, i)
		recs = append(recs, seg(tid, fmt.Sprintf("%016x", i+1), "", float64(epoch), float64(epoch)+0.5, false))
		// A second document of the same trace must not list it twice.
		recs = append(recs, seg(tid, fmt.Sprintf("%016x", 1000+i), "", float64(epoch)+0.1, float64(epoch)+0.2, false))
	}
	if err := s.Write(ctx, 1, []*model.Batch{{Segments: recs}}); err != nil {
		t.Fatal(err)
	}
	from, to := int64(0x5f000000+5)*1e6, int64(0x5f000000+25)*1e6
	var all []store.TraceRef
	q := store.TraceListQuery{FromMicros: from, ToMicros: to, Limit: 7}
	for i := 0; i < 10; i++ {
		page, err := s.ListTraces(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < q.Limit {
			break
		}
		q.BeforeStartMicros, q.BeforeTraceID = page[len(page)-1].StartMicros, page[len(page)-1].TraceID
		// Data arriving meanwhile (newer than the first page) must not
		// shift later pages.
		late := seg(fmt.Sprintf("1-%08x-%024x", 0x5f000000+24, 999+i), fmt.Sprintf("%016x", 5000+i), "", float64(0x5f000000+24)+0.9, float64(0x5f000000+25), false)
		if err := s.Write(ctx, uint64(2+i), []*model.Batch{{Segments: []model.SegmentRecord{late}}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(all) != 20 {
		t.Fatalf("listed %d traces, want 20", len(all))
	}
	for i, r := range all {
		if want := fmt.Sprintf("1-%08x-%024x", 0x5f000000+24-i, 24-i); r.TraceID != want {
			t.Fatalf("trace %d is %s, want %s (most recent first)", i, r.TraceID, want)
		}
	}
	byID, err := s.ListTraces(ctx, store.TraceListQuery{FromMicros: from, ToMicros: from + 3e6, TimeRangeType: store.TimeRangeTraceID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(byID) != 3 {
		t.Fatalf("TraceId range listed %d traces, want 3", len(byID))
	}
	if _, err := s.ListTraces(ctx, store.TraceListQuery{TimeRangeType: "Bogus"}); err == nil {
		t.Error("unknown TimeRangeType accepted")
	}
}

func testGroups(t *testing.T, s store.Store) {
	ctx := context.Background()
	g := store.Group{Name: "slow", ARN: "arn:aws:xray:us-east-1:000000000000:group/slow/1", FilterExpression: "responsetime > 5"}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup(ctx, g); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate group: %v", err)
	}
	g.FilterExpression = "fault"
	if err := s.UpdateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetGroup(ctx, "slow")
	if err != nil || got.FilterExpression != "fault" || got.ARN != g.ARN {
		t.Fatalf("get: %+v %v", got, err)
	}
	list, err := s.ListGroups(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := s.DeleteGroup(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetGroup(ctx, "slow"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
