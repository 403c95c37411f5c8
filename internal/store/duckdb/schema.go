package duckdb

// schema is applied at every open; statements are idempotent. Columns
// queries filter or aggregate on are typed; the rest stays as JSON text.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS ingest_progress (id INTEGER PRIMARY KEY, seq UBIGINT NOT NULL)`,
	`INSERT INTO ingest_progress VALUES (1, 0) ON CONFLICT DO NOTHING`,
	`CREATE TABLE IF NOT EXISTS app_monitors (
		name VARCHAR PRIMARY KEY,
		id VARCHAR NOT NULL UNIQUE,
		definition VARCHAR NOT NULL,
		created_us BIGINT NOT NULL,
		modified_us BIGINT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS rum_events (
		app_monitor_id VARCHAR, ts_us BIGINT, event_id VARCHAR, event_type VARCHAR, batch_id VARCHAR,
		session_id VARCHAR, user_id VARCHAR, page_id VARCHAR, app_version VARCHAR,
		browser VARCHAR, browser_version VARCHAR, os VARCHAR, os_version VARCHAR, device_type VARCHAR,
		country VARCHAR, language VARCHAR, domain VARCHAR, client_ip VARCHAR, user_agent VARCHAR,
		value DOUBLE, duration_ms DOUBLE, http_method VARCHAR, http_url VARCHAR, http_status INTEGER,
		trace_id VARCHAR, segment_id VARCHAR, error_type VARCHAR, error_message VARCHAR,
		metadata VARCHAR, details VARCHAR, received_us BIGINT, spool_seq UBIGINT,
		error_message_norm VARCHAR, error_frame VARCHAR, http_url_pattern VARCHAR)`,
	// Databases created before the grouping keys existed get them added;
	// old rows keep NULL and the queries fall back to computing them.
	`ALTER TABLE rum_events ADD COLUMN IF NOT EXISTS error_message_norm VARCHAR`,
	`ALTER TABLE rum_events ADD COLUMN IF NOT EXISTS error_frame VARCHAR`,
	`ALTER TABLE rum_events ADD COLUMN IF NOT EXISTS http_url_pattern VARCHAR`,
	`CREATE TABLE IF NOT EXISTS segments (
		trace_id VARCHAR, id VARCHAR, parent_id VARCHAR, name VARCHAR, origin VARCHAR, doc_type VARCHAR,
		namespace VARCHAR, start_us BIGINT, end_us BIGINT, in_progress BOOLEAN,
		http_method VARCHAR, http_url VARCHAR, http_status INTEGER, client_ip VARCHAR, user_agent VARCHAR,
		user_name VARCHAR, error BOOLEAN, fault BOOLEAN, throttle BOOLEAN, annotations VARCHAR,
		is_root BOOLEAN, app_monitor_id VARCHAR, session_id VARCHAR, page_id VARCHAR,
		raw VARCHAR, received_us BIGINT, spool_seq UBIGINT)`,
}

func init() {
	schema = append(schema,
		`CREATE TABLE IF NOT EXISTS xray_groups (
			name VARCHAR PRIMARY KEY, arn VARCHAR NOT NULL, filter_expression VARCHAR NOT NULL,
			insights_enabled BOOLEAN NOT NULL, notify_enabled BOOLEAN NOT NULL)`)
	schema = append(schema, xraySchema...)
	schema = append(schema, graphRollupSchema...)
}

// graphRollupSchema holds the service graph rolled up per minute (see
// graphrollup.go).
var graphRollupSchema = []string{
	`CREATE TABLE IF NOT EXISTS graph_rollup_meta (id INTEGER PRIMARY KEY, horizon_us BIGINT NOT NULL, checked_seq UBIGINT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS graph_rollup_state (minute_us BIGINT)`,
	// graph_facts: the counted rows of graphCTEs ("counted", regular
	// traces only) of the rolled-up minutes, by minute of end time.
	`CREATE TABLE IF NOT EXISTS graph_facts (minute_us BIGINT, trace_id VARCHAR, name VARCHAR, type VARCHAR, start_us BIGINT, end_us BIGINT,
		health INTEGER, account VARCHAR, inferred BOOLEAN, caller_name VARCHAR, caller_type VARCHAR, rum BOOLEAN,
		via_start BIGINT, via_end BIGINT, via_in_progress BOOLEAN, via_health INTEGER, irregular BOOLEAN)`,
	`CREATE TABLE IF NOT EXISTS graph_rollup_traces (minute_us BIGINT, trace_id VARCHAR, irregular BOOLEAN)`,
}

// xraySchema adds the X-Ray side tables (see filtersql_write.go). from_seq
// is the applied spool sequence when the tables were created: segments
// stored up to it have no side rows, so filters pass their traces through.
var xraySchema = []string{
	`ALTER TABLE segments ADD COLUMN IF NOT EXISTS sub_throttle BOOLEAN`,
	`ALTER TABLE segments ADD COLUMN IF NOT EXISTS sub_in_progress BOOLEAN`,
	`CREATE TABLE IF NOT EXISTS xray_index_meta (id INTEGER PRIMARY KEY, from_seq UBIGINT NOT NULL)`,
	`INSERT INTO xray_index_meta SELECT 1, CASE WHEN EXISTS (SELECT 1 FROM segments) THEN (SELECT seq FROM ingest_progress WHERE id = 1) ELSE 0 END
		ON CONFLICT DO NOTHING`,
	`CREATE TABLE IF NOT EXISTS trace_index (trace_id VARCHAR, spool_seq UBIGINT)`,
	// One row per trace per Write (a tenth of the segments): indexing it
	// costs ingest little, unlike an index on segments (see traces.go).
	`CREATE INDEX IF NOT EXISTS trace_index_trace_id ON trace_index (trace_id)`,
	`CREATE TABLE IF NOT EXISTS segment_calls (
		trace_id VARCHAR, doc_id VARCHAR, sub_id VARCHAR, name VARCHAR, type VARCHAR,
		start_us BIGINT, end_us BIGINT, in_progress BOOLEAN, error BOOLEAN, fault BOOLEAN, throttle BOOLEAN,
		http_status INTEGER, http_method VARCHAR, http_url VARCHAR, user_agent VARCHAR, client_ip VARCHAR,
		spool_seq UBIGINT)`,
	// aws.account_id of documents and calls, for the service graph's
	// AccountId; rows stored before the column have none.
	`ALTER TABLE segments ADD COLUMN IF NOT EXISTS aws_account_id VARCHAR`,
	`ALTER TABLE segment_calls ADD COLUMN IF NOT EXISTS aws_account_id VARCHAR`,
	`CREATE TABLE IF NOT EXISTS segment_annotations (
		trace_id VARCHAR, doc_id VARCHAR, key VARCHAR, str_value VARCHAR, num_value DOUBLE, bool_value BOOLEAN,
		spool_seq UBIGINT)`,
	`CREATE TABLE IF NOT EXISTS segment_users (trace_id VARCHAR, doc_id VARCHAR, user_name VARCHAR, spool_seq UBIGINT)`,
}

// seqTables hold rows tagged with the spool sequence of their Write.
var seqTables = []string{"rum_events", "segments", "trace_index", "segment_calls", "segment_annotations", "segment_users"}

var rumColumns = []string{"app_monitor_id", "ts_us", "event_id", "event_type", "batch_id",
	"session_id", "user_id", "page_id", "app_version",
	"browser", "browser_version", "os", "os_version", "device_type",
	"country", "language", "domain", "client_ip", "user_agent",
	"value", "duration_ms", "http_method", "http_url", "http_status",
	"trace_id", "segment_id", "error_type", "error_message",
	"metadata", "details", "received_us"}
