package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestAppendNextCommitOrder(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir()})
	want := map[uint64][]byte{}
	for i := range 100 {
		seq := appendT(t, s, numbered(i))
		if seq != uint64(i+1) {
			t.Fatalf("seq %d for append %d, want %d", seq, i, i+1)
		}
		want[seq] = numbered(i)
	}
	var got []Record
	for len(got) < 100 {
		recs, err := s.Next(context.Background(), 7, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 || len(recs) > 7 {
			t.Fatalf("Next returned %d records, want 1..7", len(recs))
		}
		got = append(got, recs...)
		if err := s.Commit(recs[len(recs)-1].Seq); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range got {
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
	}
	checkPayloads(t, got, want)
	expectNothing(t, s)
	st := s.Stats()
	if st.PendingRecords != 0 || st.PendingBytes != 0 || st.Appended != 100 || st.Committed != 100 ||
		st.LastSeq != 100 || st.CommittedSeq != 100 {
		t.Fatalf("stats after full commit: %+v", st)
	}
}

func TestNextLimits(t *testing.T) {
	sizes := []int{10, 10, 10, 50, 10, 10}
	tests := []struct {
		name       string
		maxRecords int
		maxBytes   int
		want       [][]uint64
	}{
		{"records only", 4, 0, [][]uint64{{1, 2, 3, 4}, {5, 6}}},
		{"bytes only", 0, 30, [][]uint64{{1, 2, 3}, {4}, {5, 6}}},
		{"oversized record still returned", 0, 5, [][]uint64{{1}, {2}, {3}, {4}, {5}, {6}}},
		{"both, records bind", 2, 1000, [][]uint64{{1, 2}, {3, 4}, {5, 6}}},
		{"both, bytes bind", 10, 60, [][]uint64{{1, 2, 3}, {4, 5}, {6}}},
		{"unlimited", 0, 0, [][]uint64{{1, 2, 3, 4, 5, 6}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openT(t, Options{Dir: t.TempDir()})
			for _, n := range sizes {
				appendT(t, s, make([]byte, n))
			}
			var got [][]uint64
			for range tt.want {
				recs, err := s.Next(context.Background(), tt.maxRecords, tt.maxBytes)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, seqsOf(recs))
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Fatalf("batches %v, want %v", got, tt.want)
			}
			expectNothing(t, s)
		})
	}
}

func TestNextAcrossSegments(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), SegmentBytes: 100})
	for i := range 20 {
		appendT(t, s, numbered(i)) // 16+13 bytes: three per segment
	}
	recs, err := s.Next(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A batch never spans segment files.
	if len(recs) != 3 {
		t.Fatalf("first batch %v, want the 3 records of the first segment", seqsOf(recs))
	}
	got := append(recs, drain(t, s)...)
	if len(got) != 20 || got[19].Seq != 20 {
		t.Fatalf("read %v", seqsOf(got))
	}
}

func TestNextWaitsForAppend(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := s.Next(ctx, 1, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on empty spool: %v, want deadline exceeded", err)
	}

	got := make(chan []Record, 1)
	go func() {
		recs, err := s.Next(context.Background(), 10, 0)
		if err != nil {
			t.Error(err)
		}
		got <- recs
	}()
	time.Sleep(20 * time.Millisecond)
	appendT(t, s, []byte("hello"))
	select {
	case recs := <-got:
		if len(recs) != 1 || string(recs[0].Payload) != "hello" {
			t.Fatalf("Next woke with %+v", recs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not wake up after Append")
	}
}

func TestRewind(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir()})
	for i := range 10 {
		appendT(t, s, numbered(i))
	}
	first, _ := s.Next(context.Background(), 4, 0)  // 1-4
	second, _ := s.Next(context.Background(), 4, 0) // 5-8
	if !slices.Equal(seqsOf(first), []uint64{1, 2, 3, 4}) || !slices.Equal(seqsOf(second), []uint64{5, 6, 7, 8}) {
		t.Fatalf("batches %v %v", seqsOf(first), seqsOf(second))
	}
	if err := s.Commit(4); err != nil {
		t.Fatal(err)
	}
	s.Rewind()
	again, _ := s.Next(context.Background(), 0, 0)
	if !slices.Equal(seqsOf(again), []uint64{5, 6, 7, 8, 9, 10}) {
		t.Fatalf("after Rewind got %v, want 5..10", seqsOf(again))
	}
	checkPayloads(t, again, map[uint64][]byte{5: numbered(4), 10: numbered(9)})
	expectNothing(t, s)

	// Rewind with everything committed hands out nothing.
	if err := s.Commit(10); err != nil {
		t.Fatal(err)
	}
	s.Rewind()
	expectNothing(t, s)
}

func TestCommitRules(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir()})
	for i := range 5 {
		appendT(t, s, numbered(i))
	}
	if err := s.Commit(1); err == nil {
		t.Fatal("Commit of a seq never handed out succeeded")
	}
	recs, _ := s.Next(context.Background(), 3, 0)
	if err := s.Commit(recs[2].Seq); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(2); err != nil {
		t.Fatalf("Commit of an already committed seq: %v", err)
	}
	if st := s.Stats(); st.CommittedSeq != 3 || st.PendingRecords != 2 {
		t.Fatalf("stats %+v", st)
	}
	// After a Rewind the consumer may commit what it had read before.
	recs, _ = s.Next(context.Background(), 2, 0)
	s.Rewind()
	if err := s.Commit(recs[1].Seq); err != nil {
		t.Fatal(err)
	}
	expectNothing(t, s)
}

func TestErrFullAndRecovery(t *testing.T) {
	const maxBytes = 10 * (16 + 100)
	s := openT(t, Options{Dir: t.TempDir(), MaxBytes: maxBytes, MaxRecordBytes: 100})
	payload := make([]byte, 100)
	for range 10 {
		appendT(t, s, payload)
	}
	start := time.Now()
	_, err := s.Append(context.Background(), payload)
	if !errors.Is(err, ErrFull) {
		t.Fatalf("Append past MaxBytes: %v, want ErrFull", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("ErrFull was not immediate")
	}
	// A smaller record that still does not fit is refused too.
	if _, err := s.Append(context.Background(), nil); !errors.Is(err, ErrFull) {
		t.Fatalf("empty Append on full spool: %v", err)
	}
	if st := s.Stats(); st.PendingBytes != maxBytes || st.PendingRecords != 10 {
		t.Fatalf("stats when full %+v", st)
	}
	recs, _ := s.Next(context.Background(), 3, 0)
	if err := s.Commit(recs[len(recs)-1].Seq); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		appendT(t, s, payload)
	}
	if _, err := s.Append(context.Background(), payload); !errors.Is(err, ErrFull) {
		t.Fatalf("Append after refilling: %v, want ErrFull", err)
	}
}

func TestRecordTooLarge(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir(), MaxRecordBytes: 10})
	appendT(t, s, make([]byte, 10))
	if _, err := s.Append(context.Background(), make([]byte, 11)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized Append: %v, want ErrTooLarge", err)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	for name, opts := range map[string]Options{
		"no dir":                {},
		"huge segment":          {Dir: t.TempDir(), SegmentBytes: 2 << 30},
		"record above maxbytes": {Dir: t.TempDir(), MaxBytes: 100, MaxRecordBytes: 100},
	} {
		t.Run(name, func(t *testing.T) {
			if s, err := Open(context.Background(), opts); err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}

func TestSegmentRotationAndDeletion(t *testing.T) {
	dir := t.TempDir()
	// Each frame is 16+13 = 29 bytes, so a 100-byte segment holds three.
	s := openT(t, Options{Dir: dir, SegmentBytes: 100})
	for i := range 30 {
		appendT(t, s, numbered(i))
	}
	files := segmentFiles(t, dir)
	wantNames := []string{}
	for first := uint64(1); first <= 30; first += 3 {
		wantNames = append(wantNames, filepath.Join(dir, segmentName(first)))
	}
	if !slices.Equal(files, wantNames) {
		t.Fatalf("segment files %v, want %v", files, wantNames)
	}
	for _, f := range files {
		if fi, _ := os.Stat(f); fi.Size() > 100 {
			t.Fatalf("%s is %d bytes, above SegmentBytes", f, fi.Size())
		}
	}
	if st := s.Stats(); st.Segments != 10 || st.DiskBytes != 30*29 {
		t.Fatalf("stats %+v", st)
	}

	recs := drain(t, s)
	// Committing into the middle of the third segment deletes the first two.
	if err := s.Commit(8); err != nil {
		t.Fatal(err)
	}
	if files := segmentFiles(t, dir); len(files) != 8 || files[0] != wantNames[2] {
		t.Fatalf("after Commit(8): %v", files)
	}
	if err := s.Commit(recs[len(recs)-1].Seq); err != nil {
		t.Fatal(err)
	}
	// The active segment stays; everything sealed and committed is gone.
	if files := segmentFiles(t, dir); len(files) != 1 {
		t.Fatalf("after committing everything: %v", files)
	}
	if st := s.Stats(); st.Segments != 1 || st.PendingBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOversizedRecordGetsItsOwnSegment(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir, SegmentBytes: 100})
	appendT(t, s, make([]byte, 10))
	appendT(t, s, make([]byte, 500))
	appendT(t, s, make([]byte, 10))
	if files := segmentFiles(t, dir); len(files) != 3 {
		t.Fatalf("segments %v, want 3", files)
	}
	if recs := drain(t, s); len(recs) != 3 || len(recs[1].Payload) != 500 {
		t.Fatalf("read back %v", seqsOf(recs))
	}
}

func TestReplayAfterRestart(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir, SegmentBytes: 100})
	want := map[uint64][]byte{}
	for i := range 10 {
		want[appendT(t, s, numbered(i))] = numbered(i)
	}
	recs := readN(t, s, 4)
	if err := s.Commit(recs[3].Seq); err != nil {
		t.Fatal(err)
	}
	readN(t, s, 3) // read but not committed: must come back
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, Options{Dir: dir, SegmentBytes: 100})
	got := drain(t, s)
	if !slices.Equal(seqsOf(got), []uint64{5, 6, 7, 8, 9, 10}) {
		t.Fatalf("replayed %v, want 5..10", seqsOf(got))
	}
	checkPayloads(t, got, want)
	if st := s.Stats(); st.PendingRecords != 6 || st.CommittedSeq != 4 || st.Appended != 0 {
		t.Fatalf("stats after reopen %+v", st)
	}
	if seq := appendT(t, s, []byte("new")); seq != 11 {
		t.Fatalf("seq after reopen %d, want 11", seq)
	}
}

func TestSeqMonotonicAcrossReopen(t *testing.T) {
	tests := []struct {
		name    string
		commit  bool                           // commit everything before closing
		replays bool                           // records come back (the commit point is gone)
		tamper  func(t *testing.T, dir string) // run while closed
		wantSeq uint64
	}{
		{name: "segments remain", wantSeq: 11},
		{name: "everything committed and deleted", commit: true, wantSeq: 11},
		{name: "commit file lost", tamper: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, commitFileName))
		}, commit: true, replays: true, wantSeq: 11},
		{name: "segments lost, commit file kept", commit: true, tamper: func(t *testing.T, dir string) {
			for _, f := range segmentFiles(t, dir) {
				os.Remove(f)
			}
		}, wantSeq: 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, Options{Dir: dir, SegmentBytes: 100})
			for i := range 10 {
				appendT(t, s, numbered(i))
			}
			if tt.commit {
				recs := drain(t, s)
				if err := s.Commit(recs[len(recs)-1].Seq); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			if tt.tamper != nil {
				tt.tamper(t, dir)
			}
			s = openT(t, Options{Dir: dir, SegmentBytes: 100})
			if tt.commit && !tt.replays {
				expectNothing(t, s)
			}
			if seq := appendT(t, s, []byte("x")); seq != tt.wantSeq {
				t.Fatalf("first seq after reopen %d, want %d", seq, tt.wantSeq)
			}
			// And once more, with the new record's segment as the only file.
			s.Close()
			s = openT(t, Options{Dir: dir, SegmentBytes: 100})
			if seq := appendT(t, s, []byte("y")); seq != tt.wantSeq+1 {
				t.Fatalf("seq after second reopen %d, want %d", seq, tt.wantSeq+1)
			}
		})
	}
}

func TestCloseSemantics(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	appendT(t, s, []byte("a"))

	blocked := make(chan error, 1)
	go func() {
		s.Next(context.Background(), 10, 0) // takes "a"
		_, err := s.Next(context.Background(), 10, 0)
		blocked <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case err := <-blocked:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("blocked Next returned %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake a blocked Next")
	}
	if _, err := s.Append(context.Background(), []byte("b")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := s.Next(context.Background(), 1, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	if err := s.Commit(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit after Close: %v", err)
	}
	s.Rewind() // must not panic or block
	_ = s.Stats()

	// The directory lock is released: the spool can be opened again.
	s = openT(t, Options{Dir: dir})
	if recs := drain(t, s); len(recs) != 1 {
		t.Fatalf("after reopen read %v", seqsOf(recs))
	}
}

func TestCloseDuringAppends(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	var (
		mu    sync.Mutex
		acked = map[uint64][]byte{}
		wg    sync.WaitGroup
	)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint64(0); ; i++ {
				p := payloadFor(uint64(w), i, 2000)
				seq, err := s.Append(context.Background(), p)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[seq] = p
				mu.Unlock()
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no Append succeeded before Close")
	}
	s = openT(t, Options{Dir: dir})
	got := drain(t, s)
	seen := map[uint64]bool{}
	for _, r := range got {
		seen[r.Seq] = true
	}
	for seq := range acked {
		if !seen[seq] {
			t.Fatalf("acknowledged seq %d lost across Close", seq)
		}
	}
	checkPayloads(t, got, acked)
}

func TestSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	openT(t, Options{Dir: dir})
	if s, err := Open(context.Background(), Options{Dir: dir}); err == nil {
		s.Close()
		t.Fatal("second Open of a locked directory succeeded")
	}
}

func TestAppendHonoursContext(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with canceled ctx: %v", err)
	}
	if _, err := s.Next(ctx, 1, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with canceled ctx: %v", err)
	}
}

func TestConcurrentAppendsShareFsyncs(t *testing.T) {
	s := openT(t, Options{Dir: t.TempDir()})
	const workers, each = 32, 50
	var (
		mu   sync.Mutex
		seqs []uint64
		wg   sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				seq, err := s.Append(context.Background(), payloadFor(uint64(w), uint64(i), 1000))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seqs = append(seqs, seq)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(seqs)
	if len(seqs) != workers*each || len(slices.Compact(seqs)) != workers*each {
		t.Fatalf("got %d seqs, want %d distinct", len(seqs), workers*each)
	}
	st := s.Stats()
	if st.Appended != workers*each || st.Flushes >= st.Appended/2 {
		t.Fatalf("group commit did not batch: %d appends in %d flushes", st.Appended, st.Flushes)
	}
	t.Logf("%d appends in %d flushes", st.Appended, st.Flushes)
	if got := drain(t, s); len(got) != workers*each {
		t.Fatalf("read %d records", len(got))
	}
}
