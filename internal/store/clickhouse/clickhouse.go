// Package clickhouse is Sightline's scale-out store: RUM events and X-Ray
// segments in ClickHouse, reached over its HTTP interface. The SQL is a
// portable subset that runs on Debian's ClickHouse 18.16 and on current
// releases; newer features (codecs, bloom-filter indexes, TTL,
// LowCardinality) are switched on by the server version the store detects.
//
// With Options.Cluster the data tables are local tables on every shard
// with Distributed tables over them: RUM events sharded by session id,
// segments by trace id.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Options configure the store.
type Options struct {
	// URL of the ClickHouse HTTP interface, e.g. http://127.0.0.1:8123;
	// user and password may be given as http://user:pass@host:8123, and
	// query parameters become ClickHouse settings.
	URL string
	// Database holds the tables; created when missing ("sightline").
	Database string
	// Cluster names a remote_servers entry: local tables on every shard
	// and Distributed tables over them.
	Cluster string
	// ShardURLs are the HTTP URLs of every node of Cluster. When given,
	// the schema and repairs are applied to each node directly, which
	// needs no ZooKeeper; when empty, statements use ON CLUSTER.
	ShardURLs []string
	// WriterID names this process's spool in ingest_progress. Every
	// collector writing into one database needs its own stable id
	// ("default").
	WriterID string
	// RetentionDays, when positive, sets a TTL on servers that have one;
	// DropExpiredPartitions applies it on older servers.
	RetentionDays int
	// HTTPClient is used for every request (a pooled default otherwise).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

func (o *Options) defaults() {
	if o.Database == "" {
		o.Database = "sightline"
	}
	if o.WriterID == "" {
		o.WriterID = "default"
	}
	if o.HTTPClient == nil {
		o.HTTPClient = defaultHTTPClient()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Store is the ClickHouse backend.
type Store struct {
	opts    Options
	conn    *conn   // the node queries and inserts go to
	nodes   []*conn // every node DDL and repairs go to (ShardURLs), or just conn
	version Version
	log     *slog.Logger

	// writeMu serialises Write, which owns the fields below.
	writeMu sync.Mutex
	// lastWriteID is the write id of the last recorded write.
	lastWriteID uint64
	// unsure is set when a Write failed after sending rows: the next
	// Write repairs first (see write.go).
	unsure   bool
	unsureAt uint64 // the spool seq of that write
	// rumBuf and segBuf are Write's encode buffers, reused.
	rumBuf, segBuf []byte

	versionMu   sync.Mutex
	lastVersion uint64 // of metadata rows, see nextVersion
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.RumStats = (*Store)(nil)
)

// Open connects, applies the schema migrations and removes the rows of a
// write whose progress was not recorded, so the spool replay stores them
// exactly once.
func Open(ctx context.Context, opts Options) (*Store, error) {
	s, err := connect(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	if err := s.repair(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Migrate applies the schema migrations and returns; it is what
// `sightline migrate` runs.
func Migrate(ctx context.Context, opts Options) error {
	s, err := connect(ctx, opts)
	if err != nil {
		return err
	}
	return s.migrate(ctx)
}

func connect(ctx context.Context, opts Options) (*Store, error) {
	opts.defaults()
	if opts.URL == "" {
		return nil, errors.New("clickhouse: no URL (e.g. http://127.0.0.1:8123)")
	}
	c, err := newConn(opts.URL, opts.Database, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	s := &Store{opts: opts, conn: c, log: opts.Logger}
	if opts.Cluster != "" {
		// Inserts through a Distributed table reach the shards before
		// returning, so a recorded write is on disk everywhere; IN
		// subqueries run shard-locally (RUM events are sharded by
		// session, so a session's events are all on one shard).
		c.settings.Set("insert_distributed_sync", "1")
		c.settings.Set("distributed_product_mode", "local")
	}
	s.nodes = []*conn{c}
	if len(opts.ShardURLs) > 0 {
		s.nodes = nil
		for _, u := range opts.ShardURLs {
			n, err := newConn(u, opts.Database, opts.HTTPClient)
			if err != nil {
				return nil, fmt.Errorf("shard url: %w", err)
			}
			s.nodes = append(s.nodes, n)
		}
	}
	rows, err := withDatabase(c, "").query(ctx, "SELECT version()")
	if err != nil {
		return nil, fmt.Errorf("clickhouse at %s unreachable: %w", c, err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return nil, errors.New("clickhouse: SELECT version() returned no row")
	}
	v, err := str(rows[0][0])
	if err != nil {
		return nil, err
	}
	if s.version, err = ParseVersion(v); err != nil {
		return nil, err
	}
	return s, nil
}

// withDatabase is a copy of c using another database ("" for none).
func withDatabase(c *conn, db string) *conn {
	cp := *c
	cp.database = db
	cp.settings = url.Values{}
	for k, v := range c.settings {
		cp.settings[k] = v
	}
	cp.settings.Del("database")
	return &cp
}

// ServerVersion is the version detected at Open.
func (s *Store) ServerVersion() Version { return s.version }

func (s *Store) schemaConfig() SchemaConfig {
	return SchemaConfig{Version: s.version, Cluster: s.opts.Cluster, OnCluster: s.opts.Cluster != "" && len(s.opts.ShardURLs) == 0,
		RetentionDays: s.opts.RetentionDays}
}

// migrate applies the steps not yet recorded in schema_migrations, on
// every node. Each step's statements are idempotent, so a step that
// failed half way is simply run again.
func (s *Store) migrate(ctx context.Context) error {
	cfg := s.schemaConfig()
	d := ddl{cfg}
	onCluster := d.onCluster()
	for _, n := range s.nodes {
		if err := withDatabase(n, "").exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(s.opts.Database)+onCluster); err != nil {
			return fmt.Errorf("create database on %s: %w", n, err)
		}
		if err := n.exec(ctx, d.migrationsTable()); err != nil {
			return fmt.Errorf("create %s on %s: %w", tMigrations, n, err)
		}
		rows, err := n.query(ctx, "SELECT version FROM "+tMigrations)
		if err != nil {
			return fmt.Errorf("read %s on %s: %w", tMigrations, n, err)
		}
		applied := map[uint64]bool{}
		for _, r := range rows {
			v, err := u64(r[0])
			if err != nil {
				return err
			}
			applied[v] = true
		}
		for _, m := range Migrations(cfg) {
			if applied[uint64(m.Version)] {
				continue
			}
			for _, stmt := range m.Statements {
				if err := n.exec(ctx, stmt); err != nil {
					return fmt.Errorf("migration %d (%s) on %s: %q: %w", m.Version, m.Name, n, firstLine(stmt), err)
				}
			}
			rec := fmt.Sprintf("INSERT INTO %s (version, name, applied_us) VALUES (%d, %s, %d)", tMigrations, m.Version, quoteString(m.Name), time.Now().UnixMicro())
			if err := n.exec(ctx, rec); err != nil {
				return fmt.Errorf("record migration %d on %s: %w", m.Version, n, err)
			}
			s.log.InfoContext(ctx, "applied clickhouse migration", "version", m.Version, "name", m.Name, "node", n.String(), "server", s.version.String())
		}
	}
	return nil
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}

// Ping checks that ClickHouse answers a query, with a message that names
// the server; /readyz reports it.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.conn.query(ctx, "SELECT 1"); err != nil {
		return fmt.Errorf("clickhouse at %s not ready: %w", s.conn, err)
	}
	return nil
}

// Close releases idle connections; the writer must have stopped.
func (s *Store) Close() error {
	if t, ok := s.opts.HTTPClient.Transport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
	return nil
}

// nextVersion orders the versions of metadata rows (ReplacingMergeTree
// keeps the highest); nanoseconds, but strictly increasing in-process.
func (s *Store) nextVersion() uint64 {
	s.versionMu.Lock()
	defer s.versionMu.Unlock()
	v := uint64(time.Now().UnixNano())
	if v <= s.lastVersion {
		v = s.lastVersion + 1
	}
	s.lastVersion = v
	return v
}
