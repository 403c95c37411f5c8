package clickhouse

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/clickhouse/chtest"
	"github.com/sightline/sightline/internal/store/storetest"
)

const testCluster = "sightline_two_shards"

// twoShards starts two servers whose remote_servers name both as shards
// of testCluster; it is shared by the cluster tests of one run.
var (
	shardsOnce sync.Once
	shards     [2]*chtest.Server
	shardDirs  []string
)

func startShards(t *testing.T) [2]*chtest.Server {
	t.Helper()
	chtest.SkipIfMissing(t)
	shardsOnce.Do(func() {
		var ports [4]int
		for i := range ports {
			p, err := chtest.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			ports[i] = p
		}
		remote := chtest.ShardsXML(testCluster, ports[1], ports[3])
		for i := range shards {
			dir, err := os.MkdirTemp("", "sightline-clickhouse-shard-")
			if err != nil {
				t.Fatal(err)
			}
			shardDirs = append(shardDirs, dir)
			s, err := chtest.Start(context.Background(), dir, chtest.Options{RemoteServers: remote, HTTPPort: ports[2*i], TCPPort: ports[2*i+1]})
			if err != nil {
				t.Fatal(err)
			}
			shards[i] = s
		}
	})
	if shards[0] == nil || shards[1] == nil {
		t.Fatal("cluster servers did not start")
	}
	return shards
}

func openClusterStore(t *testing.T, via int, db, writer string) *Store {
	t.Helper()
	sh := startShards(t)
	s, err := Open(context.Background(), Options{URL: sh[via].HTTPURL(), Database: db, Cluster: testCluster,
		ShardURLs: []string{sh[0].HTTPURL(), sh[1].HTTPURL()}, WriterID: writer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func stopShards() {
	for _, s := range shards {
		if s != nil {
			s.Stop()
		}
	}
	for _, d := range shardDirs {
		_ = os.RemoveAll(d)
	}
}

func TestClusterConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openClusterStore(t, 0, freshDatabase(), "default") })
}

func TestClusterRumStatsConformance(t *testing.T) {
	storetest.RunRumStats(t, func(t *testing.T) store.Store { return openClusterStore(t, 1, freshDatabase(), "default") })
}

// Two collectors write through different nodes; each node reads the union,
// and both shards hold part of the data.
func TestClusterWritesThroughEitherShard(t *testing.T) {
	ctx := context.Background()
	db := freshDatabase()
	a := openClusterStore(t, 0, db, "collector-a")
	b := openClusterStore(t, 1, db, "collector-b")
	var evA, evB []model.RumEvent
	var segA []model.SegmentRecord
	for i := 0; i < 200; i++ {
		e := rumEvent(fmt.Sprintf("a%03d", i), int64(i))
		e.SessionID = fmt.Sprintf("sa%d", i)
		evA = append(evA, e)
		e = rumEvent(fmt.Sprintf("b%03d", i), int64(i))
		e.SessionID = fmt.Sprintf("sb%d", i)
		evB = append(evB, e)
		segA = append(segA, segRecord(fmt.Sprintf("1-5f000000-%024x", i), "aaaaaaaaaaaaaaaa"))
	}
	if err := a.Write(ctx, 1, []*model.Batch{{Rum: evA, Segments: segA}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, 5, []*model.Batch{{Rum: evB}}); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*Store{"a": a, "b": b} {
		if n := countEvents(t, s); n != 400 {
			t.Errorf("node %s reads %d events, want 400", name, n)
		}
		got, err := s.SegmentsByTraceIDs(ctx, []string{fmt.Sprintf("1-5f000000-%024x", 7), fmt.Sprintf("1-5f000000-%024x", 150)})
		if err != nil || len(got) != 2 {
			t.Errorf("node %s: %d segments, %v; want 2", name, len(got), err)
		}
	}
	if seq, _ := a.AppliedSeq(ctx); seq != 1 {
		t.Errorf("collector-a seq %d, want 1", seq)
	}
	if seq, _ := b.AppliedSeq(ctx); seq != 5 {
		t.Errorf("collector-b seq %d, want 5", seq)
	}
	total := 0
	for i, n := range a.nodes {
		rows, err := n.query(ctx, "SELECT count() FROM "+tRumEvents+"_local")
		if err != nil {
			t.Fatal(err)
		}
		c, _ := u64(rows[0][0])
		if c == 0 || c == 400 {
			t.Errorf("shard %d holds %d of 400 events: not sharded", i, c)
		}
		total += int(c)
	}
	if total != 400 {
		t.Errorf("shards hold %d events together, want 400", total)
	}
}
