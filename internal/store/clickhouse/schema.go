package clickhouse

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/sightline/sightline/internal/store"
)

// Version is a ClickHouse server version.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v is major.minor or newer.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// ParseVersion reads what SELECT version() answers, e.g. "18.16.1" or
// "24.3.2.23".
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("clickhouse version %q: want major.minor[.patch]", s)
	}
	var nums [3]int
	for i := 0; i < len(parts) && i < 3; i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("clickhouse version %q: part %q is not a number", s, parts[i])
		}
		nums[i] = n
	}
	return Version{nums[0], nums[1], nums[2]}, nil
}

// modern reports whether the server has what the portable subset leaves
// out: column codecs, data-skipping indexes (bloom_filter), TTL and
// LowCardinality. All arrived during 19.x-20.x; 21.8 is the oldest
// release checked against them, and anything older gets the 18.16 DDL,
// which still works there.
func (v Version) modern() bool { return v.AtLeast(21, 8) }

// SchemaConfig is what the generated DDL depends on.
type SchemaConfig struct {
	Version Version
	// Cluster names a remote_servers entry: local tables get a _local
	// suffix and Distributed tables take the plain names.
	Cluster string
	// OnCluster adds ON CLUSTER to every statement, so one node runs it
	// everywhere (needs ZooKeeper/Keeper); without it the caller applies
	// the statements to each node itself.
	OnCluster bool
	// RetentionDays, when positive, becomes a TTL on modern servers; on
	// old ones DropExpiredPartitions does the same by dropping days.
	RetentionDays int
}

type column struct {
	name, typ string
	// modernTyp and codec apply on servers with LowCardinality and codecs.
	modernTyp, codec string
}

// Logical table names; queries use these. In cluster mode they are the
// Distributed tables and the data sits in name+"_local" on each shard.
const (
	tRumEvents       = "rum_events"
	tSegments        = "segments"
	tSegmentsByTrace = "segments_by_trace"
	tProgress        = "ingest_progress"
	tAppMonitors     = "app_monitors"
	tGroups          = "xray_groups"
	tMigrations      = "schema_migrations"
)

// navColumn is the stored column of a navigation phase field, extracted at
// ingest from the details JSON.
func navColumn(field string) string {
	var b strings.Builder
	b.WriteString("nav_")
	for i, r := range field {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

const lowCard = "LowCardinality(String)"

// rumColumns is the rum_events table in RowBinary order. Text columns
// that may be absent hold "" (not NULL): filters add `!= ”` where an
// absent value must not match.
var rumColumns = func() []column {
	cols := []column{
		{name: "app_monitor_id", typ: "String", modernTyp: lowCard},
		{name: "ts_us", typ: "Int64", codec: "CODEC(Delta, ZSTD(1))"},
		{name: "event_id", typ: "String"},
		{name: "event_type", typ: "String", modernTyp: lowCard},
		{name: "batch_id", typ: "String"},
		{name: "session_id", typ: "String"},
		{name: "user_id", typ: "String"},
		{name: "page_id", typ: "String", modernTyp: lowCard},
		{name: "app_version", typ: "String", modernTyp: lowCard},
		{name: "browser", typ: "String", modernTyp: lowCard},
		{name: "browser_version", typ: "String", modernTyp: lowCard},
		{name: "os", typ: "String", modernTyp: lowCard},
		{name: "os_version", typ: "String", modernTyp: lowCard},
		{name: "device_type", typ: "String", modernTyp: lowCard},
		{name: "country", typ: "String", modernTyp: lowCard},
		{name: "language", typ: "String", modernTyp: lowCard},
		{name: "domain", typ: "String", modernTyp: lowCard},
		{name: "client_ip", typ: "String"},
		{name: "user_agent", typ: "String", codec: "CODEC(ZSTD(1))"},
		{name: "value", typ: "Nullable(Float64)"},
		{name: "duration_ms", typ: "Nullable(Float64)"},
		{name: "http_method", typ: "String", modernTyp: lowCard},
		{name: "http_url", typ: "String", codec: "CODEC(ZSTD(1))"},
		{name: "http_status", typ: "Int32"},
		{name: "trace_id", typ: "String"},
		{name: "segment_id", typ: "String"},
		{name: "error_type", typ: "String", modernTyp: lowCard},
		{name: "error_message", typ: "String", codec: "CODEC(ZSTD(1))"},
		{name: "metadata", typ: "String", codec: "CODEC(ZSTD(3))"},
		{name: "details", typ: "String", codec: "CODEC(ZSTD(3))"},
		{name: "received_us", typ: "Int64", codec: "CODEC(Delta, ZSTD(1))"},
		// Grouping keys and filters extracted at ingest, so queries need
		// neither regular expressions nor JSON functions (18.16 has no
		// JSONExtract and no Map).
		{name: "error_message_norm", typ: "String"},
		{name: "error_frame", typ: "String"},
		{name: "http_url_pattern", typ: "String"},
		{name: "md_keys", typ: "Array(String)"},
		{name: "md_values", typ: "Array(String)"},
	}
	for _, f := range store.NavigationPhaseFields {
		cols = append(cols, column{name: navColumn(f), typ: "Nullable(Float64)"})
	}
	return append(cols, writeColumns...)
}()

// writeColumns tag each row with the write that stored it: see write.go.
var writeColumns = []column{
	{name: "spool_seq", typ: "UInt64"},
	{name: "writer_id", typ: "String", modernTyp: lowCard},
	{name: "write_id", typ: "UInt64"},
}

var segmentColumns = append([]column{
	{name: "trace_id", typ: "String"},
	{name: "id", typ: "String"},
	{name: "parent_id", typ: "String"},
	{name: "name", typ: "String", modernTyp: lowCard},
	{name: "origin", typ: "String", modernTyp: lowCard},
	{name: "doc_type", typ: "String", modernTyp: lowCard},
	{name: "namespace", typ: "String", modernTyp: lowCard},
	{name: "start_us", typ: "Int64", codec: "CODEC(Delta, ZSTD(1))"},
	{name: "end_us", typ: "Nullable(Int64)"},
	{name: "in_progress", typ: "UInt8"},
	{name: "http_method", typ: "String", modernTyp: lowCard},
	{name: "http_url", typ: "String", codec: "CODEC(ZSTD(1))"},
	{name: "http_status", typ: "Int32"},
	{name: "client_ip", typ: "String"},
	{name: "user_agent", typ: "String", codec: "CODEC(ZSTD(1))"},
	{name: "user_name", typ: "String"},
	{name: "error", typ: "UInt8"},
	{name: "fault", typ: "UInt8"},
	{name: "throttle", typ: "UInt8"},
	{name: "annotations", typ: "String", codec: "CODEC(ZSTD(1))"},
	{name: "is_root", typ: "UInt8"},
	{name: "app_monitor_id", typ: "String"},
	{name: "session_id", typ: "String"},
	{name: "page_id", typ: "String"},
	{name: "raw", typ: "String", codec: "CODEC(ZSTD(3))"},
	{name: "received_us", typ: "Int64"},
}, writeColumns...)

// segmentsByTraceColumns are what a trace lookup reads; the materialized
// view copies them into a table ordered by trace id.
var segmentsByTraceColumns = []string{"trace_id", "id", "start_us", "in_progress", "received_us",
	"app_monitor_id", "session_id", "page_id", "raw", "spool_seq", "writer_id", "write_id"}

func columnNames(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// ddl renders DDL for one configuration.
type ddl struct{ SchemaConfig }

// local is the name of the table that holds the rows.
func (d ddl) local(name string) string {
	if d.Cluster != "" {
		return name + "_local"
	}
	return name
}

func (d ddl) onCluster() string {
	if d.OnCluster && d.Cluster != "" {
		return " ON CLUSTER " + quoteIdent(d.Cluster)
	}
	return ""
}

func (d ddl) columns(cols []column, pick func(string) bool) string {
	var b strings.Builder
	for _, c := range cols {
		if pick != nil && !pick(c.name) {
			continue
		}
		typ := c.typ
		if d.Version.modern() && c.modernTyp != "" {
			typ = c.modernTyp
		}
		b.WriteString("\n    " + c.name + " " + typ)
		if d.Version.modern() && c.codec != "" {
			b.WriteString(" " + c.codec)
		}
		b.WriteString(",")
	}
	return strings.TrimSuffix(b.String(), ",")
}

// day is the partition expression: one partition per UTC day, so
// retention drops whole days.
func day(col string) string {
	return fmt.Sprintf("toYYYYMMDD(toDateTime(intDiv(%s, 1000000), 'UTC'))", col)
}

func (d ddl) ttl(col string) string {
	if !d.Version.modern() || d.RetentionDays <= 0 {
		return ""
	}
	return fmt.Sprintf("\nTTL toDateTime(intDiv(%s, 1000000)) + toIntervalDay(%d)", col, d.RetentionDays)
}

func (d ddl) index(name, expr string) string {
	if !d.Version.modern() {
		return ""
	}
	return fmt.Sprintf(",\n    INDEX %s %s TYPE bloom_filter(0.01) GRANULARITY 4", name, expr)
}

// distributed creates the Distributed table over a local one; shardKey
// places rows (a constant puts small tables on the first shard).
func (d ddl) distributed(name, shardKey string) string {
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s%s AS %s\nENGINE = Distributed(%s, currentDatabase(), %s, %s)",
		name, d.onCluster(), d.local(name), quoteString(d.Cluster), d.local(name), shardKey)
}

// Migration is one numbered step of the schema; its statements are
// idempotent so a step interrupted half way can run again.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

// migrationsTable records applied steps on each node.
func (d ddl) migrationsTable() string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    version UInt32,
    name String,
    applied_us Int64
) ENGINE = ReplacingMergeTree ORDER BY version`, tMigrations, d.onCluster())
}

// Migrations returns the schema steps for cfg, oldest first.
func Migrations(cfg SchemaConfig) []Migration {
	d := ddl{cfg}
	var initial []string
	add := func(s string) { initial = append(initial, s) }
	add(fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (%s%s%s
) ENGINE = MergeTree
PARTITION BY %s
ORDER BY (app_monitor_id, ts_us, event_id)%s
SETTINGS index_granularity = 8192`, d.local(tRumEvents), d.onCluster(), d.columns(rumColumns, nil),
		d.index("idx_trace_id", "trace_id"), d.index("idx_session_id", "session_id"), day("ts_us"), d.ttl("ts_us")))
	add(fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (%s%s
) ENGINE = MergeTree
PARTITION BY %s
ORDER BY (start_us, trace_id)%s
SETTINGS index_granularity = 8192`, d.local(tSegments), d.onCluster(), d.columns(segmentColumns, nil),
		d.index("idx_trace_id", "trace_id"), day("start_us"), d.ttl("start_us")))
	pick := func(n string) bool {
		for _, c := range segmentsByTraceColumns {
			if c == n {
				return true
			}
		}
		return false
	}
	add(fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (%s
) ENGINE = MergeTree
PARTITION BY %s
ORDER BY (trace_id, id)%s
SETTINGS index_granularity = 1024`, d.local(tSegmentsByTrace), d.onCluster(), d.columns(segmentColumns, pick), day("start_us"), d.ttl("start_us")))
	add(fmt.Sprintf("CREATE MATERIALIZED VIEW IF NOT EXISTS %s_mv%s TO %s AS\nSELECT %s FROM %s",
		d.local(tSegmentsByTrace), d.onCluster(), d.local(tSegmentsByTrace), strings.Join(segmentsByTraceColumns, ", "), d.local(tSegments)))
	add(fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    writer_id String,
    seq UInt64,
    write_id UInt64
) ENGINE = ReplacingMergeTree(write_id) ORDER BY writer_id`, d.local(tProgress), d.onCluster()))
	add(fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    name String,
    id String,
    definition String,
    created_us Int64,
    modified_us Int64,
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY name`, d.local(tAppMonitors), d.onCluster()))
	add(fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    name String,
    arn String,
    filter_expression String,
    insights_enabled UInt8,
    notify_enabled UInt8,
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY name`, d.local(tGroups), d.onCluster()))
	if cfg.Cluster != "" {
		// RUM events by session keep a session's events on one shard, so
		// per-session work (journeys, session lists) runs shard-locally;
		// segments by trace keep a trace's documents together.
		add(d.distributed(tRumEvents, "cityHash64(session_id)"))
		add(d.distributed(tSegments, "cityHash64(trace_id)"))
		add(d.distributed(tSegmentsByTrace, "cityHash64(trace_id)"))
		add(d.distributed(tProgress, "0"))
		add(d.distributed(tAppMonitors, "0"))
		add(d.distributed(tGroups, "0"))
	}
	return []Migration{{Version: 1, Name: "initial", Statements: initial}}
}
