package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// rumBatch builds a PutRumEvents body of n events with ids derived from
// the batch, so the test can count them back.
func rumBatch(appID, batchID string, n int) []byte {
	var evs []string
	now := time.Now().Unix()
	for i := 0; i < n; i++ {
		evs = append(evs, fmt.Sprintf(`{"id":"%s-%03d","timestamp":%d,"type":"com.amazon.rum.page_view_event","metadata":"{\"pageId\":\"/p%d\"}","details":"{\"version\":\"1.0.0\",\"pageId\":\"/p%d\"}"}`,
			batchID, i, now, i%7, i%7))
	}
	return []byte(fmt.Sprintf(`{"BatchId":"%s","AppMonitorDetails":{"id":"%s","version":"1"},"UserDetails":{"userId":"00000000-0000-0000-0000-000000000000","sessionId":"sess-%s"},"RumEvents":[%s],"SessionMetadata":"{\"domain\":\"127.0.0.1\"}"}`,
		batchID, appID, batchID, strings.Join(evs, ",")))
}

func postBatch(client *http.Client, ingest, appID string, body []byte) (int, error) {
	req, _ := http.NewRequest("POST", "http://"+ingest+"/appmonitors/"+appID, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestKillAfterAckLosesNothing acknowledges batches, SIGKILLs the server at
// once, restarts it on the same data directory, and checks that every
// acknowledged event is stored exactly once.
func TestKillAfterAckLosesNothing(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir, "--rate-per-ip", "100000", "--burst-per-ip", "100000")
	appID := srv.createAppMonitor("durable", "127.0.0.1", nil)

	const workers, perWorker, eventsPerBatch = 8, 40, 25
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				id := fmt.Sprintf("b%02d%03d", w, i)
				code, err := postBatch(client, srv.ingest, appID, rumBatch(appID, id, eventsPerBatch))
				if err == nil && code == 200 {
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				}
			}
		}(w)
	}
	wg.Wait()
	srv.kill() // SIGKILL right after the last acknowledgement
	if len(acked) == 0 {
		t.Fatalf("nothing acknowledged:\n%s", srv.log)
	}

	srv.start("--rate-per-ip", "100000", "--burst-per-ip", "100000")
	// A client retry of an acknowledged batch after the restart must not
	// be stored twice either.
	var anyAcked string
	for id := range acked {
		anyAcked = id
		break
	}
	if code, err := postBatch(client, srv.ingest, appID, rumBatch(appID, anyAcked, eventsPerBatch)); err != nil || code != 200 {
		t.Fatalf("retry after restart: %d %v", code, err)
	}
	want := len(acked) * eventsPerBatch
	waitFor(t, 60*time.Second, "every acknowledged event", func() (bool, string) {
		evs, err := srv.allEvents("durable")
		if err != nil {
			return false, err.Error()
		}
		seen := map[string]int{}
		for _, e := range evs {
			seen[e.ID]++
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("event %s stored %d times", id, n)
			}
		}
		for id := range acked {
			for i := 0; i < eventsPerBatch; i++ {
				if seen[fmt.Sprintf("%s-%03d", id, i)] != 1 {
					return false, fmt.Sprintf("%d of %d events stored; %s-%03d missing", len(evs), want, id, i)
				}
			}
		}
		return len(evs) >= want, fmt.Sprintf("%d of %d", len(evs), want)
	})
	srv.stop()
}

// TestGracefulStopStoresAcknowledged checks SIGTERM: exit 0 and everything
// acknowledged before it is queryable after a restart.
func TestGracefulStopStoresAcknowledged(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	appID := srv.createAppMonitor("graceful", "127.0.0.1", nil)
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < 20; i++ {
		if code, err := postBatch(client, srv.ingest, appID, rumBatch(appID, fmt.Sprintf("g%02d", i), 50)); err != nil || code != 200 {
			t.Fatalf("batch %d: %d %v", i, code, err)
		}
	}
	srv.stop()
	srv.start()
	evs, err := srv.allEvents("graceful")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1000 {
		t.Fatalf("%d events after a graceful stop, want 1000", len(evs))
	}
}
