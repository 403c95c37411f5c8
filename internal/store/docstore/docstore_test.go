package docstore

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/model"
)

func rec(trace, id string, inProgress bool, received int64) model.SegmentRecord {
	raw := fmt.Sprintf(`{"trace_id":%q,"id":%q,"name":"svc"}`, trace, id)
	return model.SegmentRecord{
		Segment:          &model.Segment{TraceID: trace, ID: id, InProgress: inProgress},
		Raw:              json.RawMessage(raw),
		ReceivedAtMicros: received,
		AppMonitorID:     "app-" + id,
		SessionID:        "sess",
	}
}

func ids(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%s/%d/%d", r.TraceID, r.Seq, r.Pos))
	}
	return out
}

func TestPutGetDiscardReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.docs")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// A trace id that prefixes another must not pick up its documents.
	if err := s.Put(ctx, 1, []model.SegmentRecord{rec("1-a", "s1", true, 10), rec("1-ab", "s9", false, 11), rec("1-a", "s2", false, 12)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, 2, []model.SegmentRecord{rec("1-a", "s1", false, 20)}); err != nil {
		t.Fatal(err)
	}
	// Write 3 is stored here but DuckDB never commits it.
	if err := s.Put(ctx, 3, []model.SegmentRecord{rec("1-a", "s3", false, 30), rec("1-c", "s4", false, 31)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, []string{"1-a", "1-missing", "1-ab"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1-a/1/0", "1-a/1/1", "1-a/2/0", "1-a/3/0", "1-ab/1/0"}
	if fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Fatalf("Get = %v, want %v", ids(got), want)
	}
	if !got[0].InProgress() || got[1].InProgress() || got[0].AppMonitorID != "app-s1" || got[0].ReceivedAtMicros != 10 || got[0].SessionID != "sess" {
		t.Fatalf("first record = %+v", got[0])
	}
	if string(got[1].Raw) != `{"trace_id":"1-a","id":"s2","name":"svc"}` {
		t.Fatalf("raw = %s", got[1].Raw)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, err := s.Discard(ctx, 2)
	if err != nil || n != 2 {
		t.Fatalf("Discard = %d, %v; want the 2 groups of write 3", n, err)
	}
	got, err = s.Get(ctx, []string{"1-a", "1-c"})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"1-a/1/0", "1-a/1/1", "1-a/2/0"}
	if fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Fatalf("after Discard: Get = %v, want %v", ids(got), want)
	}
	// Committed writes stay; a second Discard finds nothing pending.
	if n, err := s.Discard(ctx, 0); err != nil || n != 0 {
		t.Fatalf("second Discard = %d, %v", n, err)
	}
}

func TestMigratedFlag(t *testing.T) {
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if done, err := s.Migrated("m"); err != nil || done {
		t.Fatalf("Migrated before = %v, %v", done, err)
	}
	if err := s.MarkMigrated("m"); err != nil {
		t.Fatal(err)
	}
	if done, err := s.Migrated("m"); err != nil || !done {
		t.Fatalf("Migrated after = %v, %v", done, err)
	}
}

func TestDecodeGroupRejectsTruncated(t *testing.T) {
	r := rec("1-a", "s1", false, 1)
	b := encodeGroup(nil, []*model.SegmentRecord{&r})
	for cut := 1; cut < len(b); cut++ {
		if _, err := decodeGroup(nil, b[:cut], "1-a", 1); err == nil {
			t.Fatalf("truncated at %d of %d: no error", cut, len(b))
		}
	}
}

func BenchmarkGet5Traces(b *testing.B) {
	ctx := context.Background()
	s, err := Open(filepath.Join(b.TempDir(), "b.docs"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const traces = 20_000
	for w := 0; w < traces/1000; w++ {
		var batch []model.SegmentRecord
		for i := w * 1000; i < (w+1)*1000; i++ {
			for d := 0; d < 10; d++ {
				batch = append(batch, rec(fmt.Sprintf("1-%08x-%024x", i, i*7919), fmt.Sprintf("%016x", d), false, int64(i)))
			}
		}
		if err := s.Put(ctx, uint64(w+1), batch); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		var want []string
		for k := 0; k < 5; k++ {
			i = (i + 3137) % traces
			want = append(want, fmt.Sprintf("1-%08x-%024x", i, i*7919))
		}
		got, err := s.Get(ctx, want)
		if err != nil || len(got) != 50 {
			b.Fatalf("Get = %d records, %v", len(got), err)
		}
	}
}

func TestDeleteTracesBefore(t *testing.T) {
	ctx := context.Background()
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cutoff := time.Unix(1_700_000_000, 0)
	var batch []model.SegmentRecord
	// More old traces than one deletion transaction takes.
	for i := 0; i < 10_050; i++ {
		batch = append(batch, rec(fmt.Sprintf("1-%08x-%024x", cutoff.Unix()-1-int64(i%500), i), "a", false, 1))
	}
	newIDs := []string{fmt.Sprintf("1-%08x-%024x", cutoff.Unix(), 1), fmt.Sprintf("1-%08x-%024x", cutoff.Unix()+99, 2)}
	for _, id := range newIDs {
		batch = append(batch, rec(id, "b", false, 1))
	}
	if err := s.Put(ctx, 1, batch); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteTracesBefore(ctx, cutoff)
	if err != nil || n != 10_050 {
		t.Fatalf("DeleteTracesBefore = %d, %v; want 10050", n, err)
	}
	got, err := s.Get(ctx, append([]string{batch[0].Segment.TraceID, batch[10_049].Segment.TraceID}, newIDs...))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(got)) != fmt.Sprint([]string{newIDs[0] + "/1/0", newIDs[1] + "/1/0"}) {
		t.Fatalf("left %v, want only the traces from the cutoff on", ids(got))
	}
}
