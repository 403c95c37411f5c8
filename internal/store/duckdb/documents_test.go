package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/model"
)

// TestMigrateRawDocuments opens a database laid out as before the document
// file (documents in segments.raw, no .docs file) and checks that Open
// copies them over once, Write by Write, so every trace reads back whole.
func TestMigrateRawDocuments(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.duckdb")
	s, err := Open(ctx, Options{Path: path, MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 9))
	want := map[string]int{}
	var ids []string
	for i := 0; i < 20; i++ {
		tid := fmt.Sprintf("1-%08x-%024x", 1_700_000_000+i, i)
		recs := genTraceRecords(r, tid, 1_700_000_000+float64(i))
		quantize(recs)
		if err := s.Write(ctx, uint64(i+1), []*model.Batch{{Segments: recs}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tid)
		distinct := map[string]bool{}
		for _, rec := range recs {
			distinct[rec.Segment.ID] = true
		}
		want[tid] = len(distinct) // one document per id is read back
		// The old layout: the document in its row (the rowid order is
		// the order of recs).
		for _, rec := range recs {
			if _, err := s.db.ExecContext(ctx, "UPDATE segments SET raw = ? WHERE trace_id = ? AND id = ? AND raw IS NULL AND rowid = (SELECT min(rowid) FROM segments WHERE trace_id = ? AND id = ? AND raw IS NULL)",
				string(rec.Raw), tid, rec.Segment.ID, tid, rec.Segment.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path + ".docs"); err != nil {
		t.Fatal(err)
	}

	for round := 0; round < 2; round++ { // and again after a second open
		s, err = Open(ctx, Options{Path: path, MemoryLimit: "256MB", Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := s.SegmentsByTraceIDs(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, rec := range recs {
			got[rec.Segment.TraceID]++
			if len(rec.Raw) == 0 || rec.Segment.ID == "" {
				t.Fatalf("record without its document: %+v", rec)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d: documents per trace %v, want %v", round, got, want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
