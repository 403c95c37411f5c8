package spool

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash test re-executes the test binary as a child that appends from
// many goroutines and prints every acknowledged seq; the parent SIGKILLs it
// mid-stream and checks the spool it left behind.
const (
	crashChildDirEnv   = "SPOOL_CRASH_CHILD_DIR"
	crashChildRoundEnv = "SPOOL_CRASH_CHILD_ROUND"
	crashWorkers       = 16
	crashMaxPayload    = 20000
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildDirEnv); dir != "" {
		round, _ := strconv.ParseUint(os.Getenv(crashChildRoundEnv), 10, 64)
		os.Exit(runCrashChild(dir, round))
	}
	os.Exit(m.Run())
}

// crashPayload embeds its own key, so the parent can check every record it
// reads back, acknowledged or not.
func crashPayload(worker, i uint64) []byte {
	b := binary.LittleEndian.AppendUint64(nil, worker)
	b = binary.LittleEndian.AppendUint64(b, i)
	return append(b, payloadFor(worker, i, crashMaxPayload)...)
}

func runCrashChild(dir string, round uint64) int {
	s, err := Open(context.Background(), Options{Dir: dir, SegmentBytes: 256 << 10, MaxBytes: 4 << 30})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 2
	}
	// A safety net so that an orphaned child never outlives the test run.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for w := range uint64(crashWorkers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker := round*1000 + w
			for i := uint64(0); ctx.Err() == nil; i++ {
				seq, err := s.Append(ctx, crashPayload(worker, i))
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					return
				}
				// One write per line: pipe writes this small are atomic,
				// so a kill never leaves half a line.
				os.Stdout.WriteString(fmt.Sprintf("%d %d %d\n", seq, worker, i))
			}
		}()
	}
	wg.Wait()
	return 1
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	type key struct{ worker, i uint64 }
	acked := map[uint64]key{} // every acknowledged seq not yet committed
	var committed, maxSeen uint64
	for round := range uint64(4) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildDirEnv+"="+dir, fmt.Sprintf("%s=%d", crashChildRoundEnv, round))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 200 + rng.IntN(1500)
		lines := 0
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var seq, worker, i uint64
			if _, err := fmt.Sscanf(sc.Text(), "%d %d %d", &seq, &worker, &i); err != nil {
				t.Fatalf("child printed %q: %v", sc.Text(), err)
			}
			if seq <= maxSeen {
				t.Fatalf("round %d: seq %d reused (seen up to %d before)", round, seq, maxSeen)
			}
			acked[seq] = key{worker, i}
			if lines++; lines == killAfter {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
		}
		err = cmd.Wait()
		if lines < killAfter {
			t.Fatalf("child exited after %d acks (%v): %s", lines, err, stderr.String())
		}
		s, err := Open(context.Background(), Options{Dir: dir, SegmentBytes: 256 << 10, MaxBytes: 4 << 30})
		if err != nil {
			t.Fatalf("reopen after crash: %v", err)
		}
		t.Logf("round %d: child killed after %d acks; torn tail cut: %d bytes", round, lines, s.Stats().TruncatedBytes)
		got := drain(t, s)
		seen := map[key]uint64{}
		prev := committed
		for _, r := range got {
			if r.Seq <= prev {
				t.Fatalf("round %d: seq %d handed out after %d (duplicate or committed)", round, r.Seq, prev)
			}
			prev = r.Seq
			k := key{binary.LittleEndian.Uint64(r.Payload), binary.LittleEndian.Uint64(r.Payload[8:])}
			if !bytes.Equal(r.Payload, crashPayload(k.worker, k.i)) {
				t.Fatalf("round %d: seq %d payload damaged", round, r.Seq)
			}
			if other, dup := seen[k]; dup {
				t.Fatalf("round %d: payload %v stored twice, seqs %d and %d", round, k, other, r.Seq)
			}
			seen[k] = r.Seq
			if want, ok := acked[r.Seq]; ok && want != k {
				t.Fatalf("round %d: seq %d holds %v, acknowledged as %v", round, r.Seq, k, want)
			}
			maxSeen = max(maxSeen, r.Seq)
		}
		for seq, k := range acked {
			if seen[k] != seq {
				t.Fatalf("round %d: acknowledged seq %d (%v) lost", round, seq, k)
			}
			maxSeen = max(maxSeen, seq)
		}
		if st := s.Stats(); st.CorruptRecords != 0 {
			t.Fatalf("round %d: crash produced corruption reports: %+v", round, st)
		}

		// Commit a random prefix, as the writer would, before the next crash.
		if len(got) > 0 {
			c := got[rng.IntN(len(got))].Seq
			if err := s.Commit(c); err != nil {
				t.Fatal(err)
			}
			committed = c
			for seq := range acked {
				if seq <= c {
					delete(acked, seq)
				}
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
