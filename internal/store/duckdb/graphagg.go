package duckdb

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sightline/sightline/internal/query/servicegraph"
)

// GraphAggregates computes the service graph's rows in SQL over segments
// and segment_calls (query/servicegraph documents the semantics).
//
// A trace is reduced in SQL when it is regular: no independent subsegment
// documents, no id repeated among its documents and calls, and every
// parent_id of a document naming one of them. Then the assembled trace's
// top-level segments are exactly the stored documents plus one inferred
// segment per call no document names as its parent, and a segment's
// caller is found by one join on (trace_id, parent_id). Other traces
// (independent subsegments, in-progress resends, parents that are local
// subsegments or unsent proxies, rows stored before the side tables) are
// returned in unaggregated for the caller to assemble and add with
// servicegraph.Aggregate.
//
// Rows come out per histogram bucket: one per (node, milliseconds) and
// (edge, milliseconds), which BuildFromAggregates merges.
func (s *Store) GraphAggregates(ctx context.Context, fromMicros, toMicros int64) (nodes []servicegraph.NodeAgg, edges []servicegraph.EdgeAgg, unaggregated []string, err error) {
	out, err := s.graphAggregates(ctx, fromMicros, toMicros)
	return out.nodes, out.edges, out.unaggregated, err
}

type graphRows struct {
	nodes        []servicegraph.NodeAgg
	edges        []servicegraph.EdgeAgg
	unaggregated []string
}

func (s *Store) graphAggregates(ctx context.Context, fromMicros, toMicros int64) (graphRows, error) {
	var out graphRows
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return out, fmt.Errorf("begin graph aggregates: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var legacy uint64
	if err := tx.QueryRowContext(ctx, "SELECT from_seq FROM xray_index_meta WHERE id = 1").Scan(&legacy); err != nil {
		return out, fmt.Errorf("read index meta: %w", err)
	}
	ctes := fmt.Sprintf(graphCTEs, fromMicros, toMicros, legacy)
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE graph_rows AS WITH "+ctes+" SELECT * FROM counted"); err != nil {
		return out, fmt.Errorf("graph rows: %w", err)
	}
	// The temporary table lives in this transaction: the rollback drops it.
	if out.nodes, err = graphNodes(ctx, tx); err != nil {
		return out, err
	}
	if out.edges, err = graphEdges(ctx, tx); err != nil {
		return out, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT DISTINCT trace_id FROM graph_rows WHERE irregular")
	if err != nil {
		return out, fmt.Errorf("irregular graph traces: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return out, fmt.Errorf("scan trace id: %w", err)
		}
		out.unaggregated = append(out.unaggregated, id)
	}
	return out, rows.Err()
}

// graphCTEs builds "counted": one row per counted segment of a regular
// trace (with its caller), plus one row flagged irregular per other trace.
// Arguments: from, to (µs), legacy sequence.
var graphCTEs = `
w AS (
	SELECT trace_id FROM segments WHERE end_us >= %[1]d AND end_us < %[2]d
	UNION SELECT trace_id FROM segment_calls WHERE end_us >= %[1]d AND end_us < %[2]d),
d AS (SELECT trace_id, id, parent_id, name, coalesce(origin, '') AS origin, doc_type, start_us, end_us, in_progress,
		error, fault, throttle, http_status, aws_account_id, spool_seq
	FROM segments WHERE trace_id IN (SELECT trace_id FROM w)),
c AS (SELECT trace_id, doc_id, sub_id, name, type, start_us, end_us, in_progress, error, fault, throttle, http_status, aws_account_id
	FROM segment_calls WHERE trace_id IN (SELECT trace_id FROM w)),
ent AS (SELECT trace_id, id AS eid, id AS owner FROM d UNION ALL SELECT trace_id, sub_id, doc_id FROM c),
irr AS (
	SELECT trace_id FROM d WHERE doc_type = 'subsegment' OR spool_seq <= %[3]d
	UNION SELECT trace_id FROM ent GROUP BY trace_id, eid HAVING count(*) > 1
	UNION SELECT d.trace_id FROM d ANTI JOIN ent ON ent.trace_id = d.trace_id AND ent.eid = d.parent_id WHERE d.parent_id IS NOT NULL),
answered AS (SELECT DISTINCT trace_id, parent_id FROM d WHERE parent_id IS NOT NULL),
docs AS (
	SELECT trace_id, name, type, start_us, end_us, health, account, inferred,
		CASE WHEN self THEN NULL ELSE caller_name END AS caller_name,
		CASE WHEN self THEN NULL ELSE caller_type END AS caller_type, rum,
		via_start, via_end, via_in_progress, via_health
	FROM (SELECT d.trace_id, d.name, d.origin AS type, d.start_us, d.end_us,
		` + healthSQL("d") + ` AS health, d.aws_account_id AS account, false AS inferred,
		coalesce(e.owner = d.id, false) AS self,
		o.name AS caller_name, o.origin AS caller_type, d.origin = 'AWS::RUM::AppMonitor' AS rum,
		CASE WHEN v.sub_id IS NOT NULL THEN v.start_us ELSE o.start_us END AS via_start,
		CASE WHEN v.sub_id IS NOT NULL THEN v.end_us ELSE o.end_us END AS via_end,
		CASE WHEN v.sub_id IS NOT NULL THEN v.in_progress ELSE o.in_progress END AS via_in_progress,
		CASE WHEN v.sub_id IS NOT NULL THEN ` + healthSQL("v") + ` ELSE ` + healthSQL("o") + ` END AS via_health
	FROM d
	LEFT JOIN ent e ON e.trace_id = d.trace_id AND e.eid = d.parent_id
	LEFT JOIN d o ON o.trace_id = e.trace_id AND o.id = e.owner
	LEFT JOIN c v ON v.trace_id = e.trace_id AND v.sub_id = e.eid
	WHERE NOT d.in_progress AND d.end_us > 0 AND d.end_us >= %[1]d AND d.end_us < %[2]d
		AND d.trace_id NOT IN (SELECT trace_id FROM irr))),
inferred AS (
	SELECT c.trace_id, c.name, c.type, c.start_us, c.end_us, ` + healthSQL("c") + ` AS health, c.aws_account_id AS account, true AS inferred,
		o.name AS caller_name, o.origin AS caller_type, false AS rum,
		c.start_us AS via_start, c.end_us AS via_end, c.in_progress AS via_in_progress, ` + healthSQL("c") + ` AS via_health
	FROM c ANTI JOIN answered a ON a.trace_id = c.trace_id AND a.parent_id = c.sub_id
	JOIN d o ON o.trace_id = c.trace_id AND o.id = c.doc_id
	WHERE NOT c.in_progress AND c.end_us > 0 AND c.end_us >= %[1]d AND c.end_us < %[2]d
		AND c.trace_id NOT IN (SELECT trace_id FROM irr)),
counted AS (
	SELECT *, false AS irregular FROM (SELECT * FROM docs UNION ALL SELECT * FROM inferred)
	UNION ALL
	SELECT trace_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true FROM (SELECT DISTINCT trace_id FROM irr))`

// healthSQL classifies a row like servicegraph's healthOf: 3 fault, 2
// throttle, 1 error, 0 ok.
func healthSQL(t string) string {
	return fmt.Sprintf(`CASE WHEN coalesce(%[1]s.fault, false) OR coalesce(%[1]s.http_status, 0) >= 500 THEN 3
		WHEN coalesce(%[1]s.throttle, false) OR %[1]s.http_status = 429 THEN 2
		WHEN coalesce(%[1]s.error, false) OR (%[1]s.http_status >= 400 AND %[1]s.http_status < 500) THEN 1 ELSE 0 END`, t)
}

// secondsSQL is a duration in seconds computed as Go computes it from the
// float times (end - start, at least 0), so histogram buckets agree.
func secondsSQL(start, end string) string {
	return fmt.Sprintf("greatest(0, %[2]s / 1e6 - %[1]s / 1e6)", start, end)
}

func bucketSQL(secs string) string {
	return fmt.Sprintf("CASE WHEN %[1]s > 0 THEN CAST(round(%[1]s * 1000) AS BIGINT) ELSE 0 END", secs)
}

const countsSQL = `count(*) FILTER (WHERE h = 0), count(*) FILTER (WHERE h = 1), count(*) FILTER (WHERE h = 2), count(*) FILTER (WHERE h = 3), sum(secs)`

func graphNodes(ctx context.Context, tx *sql.Tx) ([]servicegraph.NodeAgg, error) {
	secs := secondsSQL("start_us", "end_us")
	rows, err := tx.QueryContext(ctx, `SELECT name, type, min(account), bool_or(caller_name IS NULL), bool_and(inferred),
			min(start_us) / 1e6, max(end_us) / 1e6, `+countsSQL+`, ms, count(*)
		FROM (SELECT *, health AS h, `+secs+` AS secs, `+bucketSQL(secs)+` AS ms FROM graph_rows WHERE NOT irregular)
		GROUP BY name, type, ms`)
	if err != nil {
		return nil, fmt.Errorf("graph nodes: %w", err)
	}
	defer rows.Close()
	var out []servicegraph.NodeAgg
	for rows.Next() {
		var n servicegraph.NodeAgg
		var acct sql.NullString
		var b servicegraph.Bucket
		if err := rows.Scan(&n.Name, &n.Type, &acct, &n.Root, &n.Inferred, &n.StartTime, &n.EndTime,
			&n.Counts.Ok, &n.Counts.Error, &n.Counts.Throttle, &n.Counts.Fault, &n.Counts.TotalResponseTime, &b.Millis, &b.Count); err != nil {
			return nil, fmt.Errorf("scan graph node: %w", err)
		}
		n.AccountID = acct.String
		n.Histogram = []servicegraph.Bucket{b}
		out = append(out, n)
	}
	return out, rows.Err()
}

func graphEdges(ctx context.Context, tx *sql.Tx) ([]servicegraph.EdgeAgg, error) {
	// A caller still in progress: the callee's own times.
	viaDone := "(NOT coalesce(via_in_progress, true) AND via_end > 0)"
	es := "CASE WHEN " + viaDone + " THEN via_start ELSE start_us END"
	ee := "CASE WHEN " + viaDone + " THEN via_end ELSE end_us END"
	secs := secondsSQL("es", "ee")
	rows, err := tx.QueryContext(ctx, `SELECT cn, ct, name, type, min(es) / 1e6, max(ee) / 1e6, `+countsSQL+`, ms, count(*)
		FROM (SELECT *, `+secs+` AS secs, `+bucketSQL(secs)+` AS ms FROM (
			SELECT name, type,
				coalesce(caller_name, name) AS cn, coalesce(caller_type, '`+servicegraph.ClientType+`') AS ct,
				CASE WHEN caller_name IS NULL THEN start_us ELSE `+es+` END AS es,
				CASE WHEN caller_name IS NULL THEN end_us ELSE `+ee+` END AS ee,
				CASE WHEN caller_name IS NULL THEN health ELSE via_health END AS h
			FROM graph_rows WHERE NOT irregular AND NOT (caller_name IS NULL AND rum)))
		GROUP BY cn, ct, name, type, ms`)
	if err != nil {
		return nil, fmt.Errorf("graph edges: %w", err)
	}
	defer rows.Close()
	var out []servicegraph.EdgeAgg
	for rows.Next() {
		var e servicegraph.EdgeAgg
		var b servicegraph.Bucket
		if err := rows.Scan(&e.CallerName, &e.CallerType, &e.CalleeName, &e.CalleeType, &e.StartTime, &e.EndTime,
			&e.Counts.Ok, &e.Counts.Error, &e.Counts.Throttle, &e.Counts.Fault, &e.Counts.TotalResponseTime, &b.Millis, &b.Count); err != nil {
			return nil, fmt.Errorf("scan graph edge: %w", err)
		}
		e.Histogram = []servicegraph.Bucket{b}
		out = append(out, e)
	}
	return out, rows.Err()
}
