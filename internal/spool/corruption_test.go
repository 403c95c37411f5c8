package spool

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// writeFixedSpool appends n records of size bytes each and closes the spool,
// so frame offsets are predictable: record seq s starts at (s-1)*(16+size)
// within a single segment, or per segment when perSegment > 0.
func writeFixedSpool(t *testing.T, dir string, n, size, perSegment int) map[uint64][]byte {
	t.Helper()
	opts := Options{Dir: dir}
	if perSegment > 0 {
		opts.SegmentBytes = int64(perSegment * frameSize(size))
	}
	s := openT(t, opts)
	want := map[uint64][]byte{}
	for i := range n {
		p := fixedPayload(7, uint64(i), size)
		want[appendT(t, s, p)] = p
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

func TestTornTail(t *testing.T) {
	const n, size = 40, 100
	const frame = 16 + size
	src := t.TempDir()
	want := writeFixedSpool(t, src, n, size, 0)
	rng := rand.New(rand.NewPCG(42, 1))

	type garbage struct {
		name string
		make func(int) []byte
	}
	kinds := []garbage{
		{"none", func(int) []byte { return nil }},
		{"zeros", func(k int) []byte { return make([]byte, k) }},
		{"random", func(k int) []byte {
			b := make([]byte, k)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			return b
		}},
		{"stale frame header", func(int) []byte {
			// A header whose payload never made it to disk.
			return appendFrame(nil, n+1, make([]byte, 500), 0)[:frameHeaderSize]
		}},
	}
	offsets := []int{0, 1, frame - 1, frame, frame + 15, frame + 16, n*frame - 1}
	for range 6 {
		offsets = append(offsets, rng.IntN(n*frame))
	}
	for _, off := range offsets {
		for _, g := range kinds {
			t.Run(g.name, func(t *testing.T) {
				dir := t.TempDir()
				copyDir(t, src, dir)
				seg := filepath.Join(dir, segmentName(1))
				if err := os.Truncate(seg, int64(off)); err != nil {
					t.Fatal(err)
				}
				junk := g.make(1 + rng.IntN(300))
				f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.Write(junk)
				f.Close()

				// Count the frames that survived byte for byte: garbage
				// can by chance restore a cut byte.
				orig, _ := os.ReadFile(filepath.Join(src, segmentName(1)))
				now, _ := os.ReadFile(seg)
				intact := 0
				for (intact+1)*frame <= len(now) && slices.Equal(now[intact*frame:(intact+1)*frame], orig[intact*frame:(intact+1)*frame]) {
					intact++
				}
				s := openT(t, Options{Dir: dir})
				got := drain(t, s)
				if len(got) != intact || (intact > 0 && got[intact-1].Seq != uint64(intact)) {
					t.Fatalf("cut at %d: read %v, want seqs 1..%d", off, seqsOf(got), intact)
				}
				checkPayloads(t, got, want)
				st := s.Stats()
				if wantCut := int64(off + len(junk) - intact*frame); st.TruncatedBytes != wantCut || st.CorruptRecords != 0 {
					t.Fatalf("cut at %d: truncated %d corrupt %d, want %d and 0", off, st.TruncatedBytes, st.CorruptRecords, wantCut)
				}
				seq := appendT(t, s, []byte("after crash"))
				if seq <= uint64(intact) {
					t.Fatalf("new seq %d reuses a replayed one (last %d)", seq, intact)
				}
				s.Close()

				s = openT(t, Options{Dir: dir})
				got = drain(t, s)
				if len(got) != intact+1 || got[len(got)-1].Seq != seq {
					t.Fatalf("after second reopen read %v", seqsOf(got))
				}
				if st := s.Stats(); st.TruncatedBytes != 0 || st.CorruptRecords != 0 {
					t.Fatalf("second reopen found damage: %+v", st)
				}
			})
		}
	}
}

func TestFlippedByte(t *testing.T) {
	const n, size, perSeg = 20, 100, 5 // four segments: 1-5, 6-10, 11-15, 16-20
	const frame = 16 + size
	tests := []struct {
		name          string
		seq           uint64 // record to damage
		at            int    // byte within its frame
		wantCorrupt   uint64
		wantTruncated bool
	}{
		{"length low byte, sealed segment", 3, 0, 1, false},
		{"length high byte, sealed segment", 3, 3, 1, false},
		{"checksum, sealed segment", 7, 5, 1, false},
		{"seq, sealed segment", 8, 8, 1, false},
		{"seq high byte, sealed segment", 8, 15, 1, false},
		{"payload, sealed segment", 12, 16 + 50, 1, false},
		{"first record of a segment", 6, 16, 1, false},
		{"last record of a sealed segment", 10, 16 + 99, 1, false},
		{"payload, newest segment", 17, 16 + 10, 1, false},
		{"length, newest segment", 18, 1, 1, false},
		// Damage to the very last record is indistinguishable from a torn
		// write, and is cut off as one.
		{"last record of newest segment", 20, 16, 0, true},
	}
	src := t.TempDir()
	want := writeFixedSpool(t, src, n, size, perSeg)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, src, dir)
			segFirst := (tt.seq-1)/perSeg*perSeg + 1
			path := filepath.Join(dir, segmentName(segFirst))
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[int(tt.seq-segFirst)*frame+tt.at] ^= 0x10
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}

			s := openT(t, Options{Dir: dir, SegmentBytes: perSeg * frame})
			got := drain(t, s)
			var wantSeqs []uint64
			for seq := uint64(1); seq <= n; seq++ {
				if seq != tt.seq {
					wantSeqs = append(wantSeqs, seq)
				}
			}
			if !slices.Equal(seqsOf(got), wantSeqs) {
				t.Fatalf("read %v, want all but %d", seqsOf(got), tt.seq)
			}
			checkPayloads(t, got, want)
			st := s.Stats()
			if st.CorruptRecords != tt.wantCorrupt || (st.TruncatedBytes > 0) != tt.wantTruncated {
				t.Fatalf("corrupt %d truncated %d, want %d and truncated=%v", st.CorruptRecords, st.TruncatedBytes, tt.wantCorrupt, tt.wantTruncated)
			}
			if seq := appendT(t, s, []byte("still serving")); seq <= n-1 {
				t.Fatalf("new seq %d", seq)
			}
		})
	}
}

func TestBitRotWhileRunning(t *testing.T) {
	const size, perSeg = 100, 5
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir, SegmentBytes: int64(perSeg * frameSize(size))})
	for i := range 12 {
		appendT(t, s, fixedPayload(1, uint64(i), size))
	}
	// Damage seq 7 (second record of the second segment) after it was
	// written and indexed.
	recs := readN(t, s, 5)
	f, err := os.OpenFile(filepath.Join(dir, segmentName(6)), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var one [1]byte
	f.ReadAt(one[:], int64(frameSize(size))+20)
	one[0] ^= 0xff
	f.WriteAt(one[:], int64(frameSize(size))+20)
	f.Close()

	recs = append(recs, drain(t, s)...)
	want := []uint64{1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12}
	if !slices.Equal(seqsOf(recs), want) {
		t.Fatalf("read %v, want %v", seqsOf(recs), want)
	}
	if st := s.Stats(); st.CorruptRecords != 1 {
		t.Fatalf("CorruptRecords = %d, want 1", st.CorruptRecords)
	}
	if err := s.Commit(12); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptCommitFileReplaysEverything(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, Options{Dir: dir})
	for i := range 5 {
		appendT(t, s, numbered(i))
	}
	readN(t, s, 3)
	if err := s.Commit(3); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.WriteFile(filepath.Join(dir, commitFileName), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = openT(t, Options{Dir: dir})
	if got := drain(t, s); !slices.Equal(seqsOf(got), []uint64{1, 2, 3, 4, 5}) {
		t.Fatalf("read %v, want everything replayed", seqsOf(got))
	}
	if seq := appendT(t, s, nil); seq != 6 {
		t.Fatalf("next seq %d, want 6", seq)
	}
}

func TestCommitPointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, cp := range []commitPoint{{}, {committed: 1, highWater: 2}, {committed: 1 << 62, highWater: 1<<64 - 1}} {
		if err := writeCommitPoint(dir, cp); err != nil {
			t.Fatal(err)
		}
		got, err := readCommitPoint(dir)
		if err != nil || got != cp {
			t.Fatalf("round trip of %+v: %+v, %v", cp, got, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, commitFileName))
	for i := range b {
		c := slices.Clone(b)
		c[i] ^= 1
		if _, err := decodeCommitPoint(c); err == nil {
			t.Fatalf("flipping byte %d of the commit file went unnoticed", i)
		}
	}
}
