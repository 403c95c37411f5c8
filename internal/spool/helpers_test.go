package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

func openT(t testing.TB, opts Options) *Spool {
	t.Helper()
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendT(t testing.TB, s *Spool, payload []byte) uint64 {
	t.Helper()
	seq, err := s.Append(context.Background(), payload)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return seq
}

// payloadFor is deterministic so that a crash test's parent can check what
// its child wrote. Sizes vary to exercise framing at many offsets.
func payloadFor(worker, i uint64, maxSize int) []byte {
	r := rand.New(rand.NewPCG(worker, i))
	b := make([]byte, 1+r.IntN(maxSize))
	for k := range b {
		b[k] = byte(r.Uint32())
	}
	return b
}

func numbered(i int) []byte { return []byte(fmt.Sprintf("record-%06d", i)) }

// drain reads every record up to the spool's last durable seq.
func drain(t testing.TB, s *Spool) []Record {
	t.Helper()
	var out []Record
	st := s.Stats()
	if st.LastSeq <= st.CommittedSeq {
		return nil
	}
	for len(out) == 0 || out[len(out)-1].Seq < st.LastSeq {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		recs, err := s.Next(ctx, 64, 1<<20)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, recs...)
	}
	return out
}

// expectNothing asserts that Next has no record to hand out.
func expectNothing(t testing.TB, s *Spool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	recs, err := s.Next(ctx, 10, 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %d records, %v; want nothing to read", len(recs), err)
	}
}

func seqsOf(recs []Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

func checkPayloads(t testing.TB, recs []Record, want map[uint64][]byte) {
	t.Helper()
	for _, r := range recs {
		if w, ok := want[r.Seq]; ok && !bytes.Equal(r.Payload, w) {
			t.Errorf("seq %d: payload %q, want %q", r.Seq, trim(r.Payload), trim(w))
		}
	}
}

func trim(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readN reads exactly n records (batches stop at segment ends, so this may
// take several Next calls).
func readN(t testing.TB, s *Spool, n int) []Record {
	t.Helper()
	var out []Record
	for len(out) < n {
		recs, err := s.Next(context.Background(), n-len(out), 0)
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, recs...)
	}
	return out
}

// fixedPayload is like payloadFor with exactly size bytes, for tests that
// compute frame offsets.
func fixedPayload(worker, i uint64, size int) []byte {
	r := rand.New(rand.NewPCG(worker, i))
	b := make([]byte, size)
	for k := range b {
		b[k] = byte(r.Uint32())
	}
	return b
}
