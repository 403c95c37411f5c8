package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sightline/sightline/internal/query/servicegraph"
)

// The service graph's rows are computed in SQL over segments and
// segment_calls (query/servicegraph documents the semantics), by liveGraph
// for the spans GraphAggregates cannot read from the per-minute rollups.
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

type graphRows struct {
	nodes        []servicegraph.NodeAgg
	edges        []servicegraph.EdgeAgg
	unaggregated []string
}

// buildGraphRows fills the temporary table graph_rows (see graphCTEs) for
// segments that ended in the spans ([from, to) pairs of microseconds), one
// query per span: an OR of ranges would keep DuckDB from pruning the scans
// by zone map. The table lives on the transaction's connection until
// dropped; a rollback drops it too.
func buildGraphRows(ctx context.Context, tx *sql.Tx, spans [][2]int64, legacy uint64) error {
	for i, sp := range spans {
		one := [][2]int64{sp}
		lo, hi, err := seqBounds(ctx, tx, one, legacy)
		if err != nil {
			return err
		}
		ctes := fmt.Sprintf(graphCTEs, inSpans("end_us", one), inSpans("d.end_us", one), legacy, lo, hi, inSpans("c.end_us", one))
		stmt := "CREATE OR REPLACE TEMP TABLE graph_rows AS WITH " + ctes + " SELECT * FROM counted"
		if i > 0 {
			stmt = "INSERT INTO graph_rows BY NAME WITH " + ctes + " SELECT * FROM counted"
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("graph rows: %w", err)
		}
	}
	return nil
}

// inSpans is a SQL condition: column in one of the [from, to) spans.
func inSpans(column string, spans [][2]int64) string {
	if len(spans) == 0 {
		return "FALSE"
	}
	parts := make([]string, len(spans))
	for i, sp := range spans {
		parts[i] = fmt.Sprintf("(%[1]s >= %[2]d AND %[1]s < %[3]d)", column, sp[0], sp[1])
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// writeBounds returns the smallest and largest spool sequence of the
// Writes that stored the traces the query traceIDs selects, from
// trace_index (lo > hi when there are none). Inlined into scans of
// segments and the side tables, they let the zone maps skip the row
// groups of every other Write: an hour's query reads that hour's rows,
// not the whole table. Rows from before trace_index (legacy) are not
// listed there, so then the range starts at 0.
func writeBounds(ctx context.Context, tx *sql.Tx, traceIDs string, legacy uint64) (lo, hi uint64, err error) {
	var minSeq, maxSeq sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT min(spool_seq)::BIGINT, max(spool_seq)::BIGINT FROM trace_index WHERE trace_id IN (`+traceIDs+`)`).Scan(&minSeq, &maxSeq)
	if err != nil {
		return 0, 0, fmt.Errorf("write bounds: %w", err)
	}
	lo, hi = uint64(minSeq.Int64), uint64(maxSeq.Int64)
	if !minSeq.Valid {
		lo, hi = 1, 0
	}
	if legacy > 0 {
		lo = 0
		hi = max(hi, legacy)
	}
	return lo, hi, nil
}

// seqBounds is writeBounds of the traces with a segment or call ending in
// the spans.
func seqBounds(ctx context.Context, tx *sql.Tx, spans [][2]int64, legacy uint64) (lo, hi uint64, err error) {
	return writeBounds(ctx, tx, fmt.Sprintf(`SELECT trace_id FROM segments WHERE %[1]s
		UNION SELECT trace_id FROM segment_calls WHERE %[1]s`, inSpans("end_us", spans)), legacy)
}

// liveGraph computes the graph rows of the spans from the segments.
func liveGraph(ctx context.Context, tx *sql.Tx, spans [][2]int64, legacy uint64) (graphRows, error) {
	if err := buildGraphRows(ctx, tx, spans, legacy); err != nil {
		return graphRows{}, err
	}
	return aggregateGraphRows(ctx, tx, "graph_rows")
}

// aggregateGraphRows reduces rows shaped like graph_rows, from the table
// or subquery src, to node and edge rows and lists the irregular traces.
func aggregateGraphRows(ctx context.Context, tx *sql.Tx, src string) (graphRows, error) {
	var out graphRows
	var err error
	if out.nodes, err = graphNodes(ctx, tx, src); err != nil {
		return out, err
	}
	if out.edges, err = graphEdges(ctx, tx, src); err != nil {
		return out, err
	}
	out.unaggregated, err = irregularTraces(ctx, tx, "SELECT DISTINCT trace_id FROM "+src+" WHERE irregular")
	return out, err
}

func irregularTraces(ctx context.Context, tx *sql.Tx, query string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("irregular graph traces: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan trace id: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// graphCTEs builds "counted": one row per counted segment of a regular
// trace (with its caller), plus one row flagged irregular per other trace.
// Arguments: the time spans on end_us and d.end_us (inSpans), the legacy
// sequence, the range of spool sequences that stored the traces
// (seqBounds), and the spans on c.end_us.
var graphCTEs = `
w AS MATERIALIZED (
	SELECT trace_id FROM segments WHERE %[1]s
	UNION SELECT trace_id FROM segment_calls WHERE %[1]s),
d AS MATERIALIZED (SELECT trace_id, id, parent_id, name, coalesce(origin, '') AS origin, doc_type, start_us, end_us, in_progress,
		error, fault, throttle, http_status, aws_account_id, spool_seq
	FROM segments WHERE spool_seq BETWEEN %[4]d AND %[5]d AND trace_id IN (SELECT trace_id FROM w)),
c AS MATERIALIZED (SELECT trace_id, doc_id, sub_id, name, type, start_us, end_us, in_progress, error, fault, throttle, http_status, aws_account_id
	FROM segment_calls WHERE spool_seq BETWEEN %[4]d AND %[5]d AND trace_id IN (SELECT trace_id FROM w)),
ent AS MATERIALIZED (SELECT trace_id, id AS eid, id AS owner FROM d UNION ALL SELECT trace_id, sub_id, doc_id FROM c),
irr AS MATERIALIZED (
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
	WHERE NOT d.in_progress AND d.end_us > 0 AND %[2]s
		AND d.trace_id NOT IN (SELECT trace_id FROM irr))),
inferred AS (
	SELECT c.trace_id, c.name, c.type, c.start_us, c.end_us, ` + healthSQL("c") + ` AS health, c.aws_account_id AS account, true AS inferred,
		o.name AS caller_name, o.origin AS caller_type, false AS rum,
		c.start_us AS via_start, c.end_us AS via_end, c.in_progress AS via_in_progress, ` + healthSQL("c") + ` AS via_health
	FROM c ANTI JOIN answered a ON a.trace_id = c.trace_id AND a.parent_id = c.sub_id
	JOIN d o ON o.trace_id = c.trace_id AND o.id = c.doc_id
	WHERE NOT c.in_progress AND c.end_us > 0 AND %[6]s
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

// minuteSQL is the start of the minute holding a microsecond time.
func minuteSQL(us string) string { return fmt.Sprintf("(%s // 60000000) * 60000000", us) }

// The node and edge queries aggregate per histogram bucket (milliseconds),
// then per node or edge, with the buckets as "ms:count,..." text: a dozen
// rows cross into Go instead of thousands.
const (
	bucketCountsSQL = `count(*) FILTER (WHERE h = 0) AS c0, count(*) FILTER (WHERE h = 1) AS c1,
		count(*) FILTER (WHERE h = 2) AS c2, count(*) FILTER (WHERE h = 3) AS c3, sum(secs) AS rt, ms, count(*) AS n`
	mergedCountsSQL = `sum(c0)::BIGINT, sum(c1)::BIGINT, sum(c2)::BIGINT, sum(c3)::BIGINT, sum(rt), string_agg(ms || ':' || n, ',')`
)

// nodeRowsSQL aggregates rows shaped like graph_rows, from the table or
// subquery src, into node rows (the columns scanNodes reads).
func nodeRowsSQL(src string) string {
	secs := secondsSQL("start_us", "end_us")
	return `SELECT name, type, min(a), bool_or(r), bool_and(i), min(s), max(e), ` + mergedCountsSQL + `
		FROM (SELECT name, type, min(account) AS a, bool_or(caller_name IS NULL) AS r, bool_and(inferred) AS i,
			min(start_us) / 1e6 AS s, max(end_us) / 1e6 AS e, ` + bucketCountsSQL + `
			FROM (SELECT *, health AS h, ` + secs + ` AS secs, ` + bucketSQL(secs) + ` AS ms FROM ` + src + ` WHERE NOT irregular)
			GROUP BY name, type, ms)
		GROUP BY name, type`
}

// edgeRowsSQL aggregates rows shaped like graph_rows, from the table or
// subquery src, into edge rows (the columns scanEdges reads).
func edgeRowsSQL(src string) string {
	// A caller still in progress: the callee's own times.
	viaDone := "(NOT coalesce(via_in_progress, true) AND via_end > 0)"
	es := "CASE WHEN " + viaDone + " THEN via_start ELSE start_us END"
	ee := "CASE WHEN " + viaDone + " THEN via_end ELSE end_us END"
	secs := secondsSQL("es", "ee")
	return `SELECT cn, ct, name, type, min(s), max(e), ` + mergedCountsSQL + `
		FROM (SELECT cn, ct, name, type, min(es) / 1e6 AS s, max(ee) / 1e6 AS e, ` + bucketCountsSQL + `
			FROM (SELECT *, ` + secs + ` AS secs, ` + bucketSQL(secs) + ` AS ms FROM (
				SELECT name, type,
					coalesce(caller_name, name) AS cn, coalesce(caller_type, '` + servicegraph.ClientType + `') AS ct,
					CASE WHEN caller_name IS NULL THEN start_us ELSE ` + es + ` END AS es,
					CASE WHEN caller_name IS NULL THEN end_us ELSE ` + ee + ` END AS ee,
					CASE WHEN caller_name IS NULL THEN health ELSE via_health END AS h
				FROM ` + src + ` WHERE NOT irregular AND NOT (caller_name IS NULL AND rum)))
			GROUP BY cn, ct, name, type, ms)
		GROUP BY cn, ct, name, type`
}

// parseHistogram reads the "ms:count,..." text of the row queries.
func parseHistogram(s string) ([]servicegraph.Bucket, error) {
	var out []servicegraph.Bucket
	for _, part := range strings.Split(s, ",") {
		ms, n, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("histogram bucket %q", part)
		}
		var b servicegraph.Bucket
		var err1, err2 error
		b.Millis, err1 = strconv.ParseInt(ms, 10, 64)
		b.Count, err2 = strconv.ParseInt(n, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("histogram bucket %q: %w", part, err)
		}
		out = append(out, b)
	}
	return out, nil
}

func graphNodes(ctx context.Context, tx *sql.Tx, src string) ([]servicegraph.NodeAgg, error) {
	rows, err := tx.QueryContext(ctx, nodeRowsSQL(src))
	if err != nil {
		return nil, fmt.Errorf("graph nodes: %w", err)
	}
	return scanNodes(rows)
}

func scanNodes(rows *sql.Rows) ([]servicegraph.NodeAgg, error) {
	defer rows.Close()
	var out []servicegraph.NodeAgg
	for rows.Next() {
		var n servicegraph.NodeAgg
		var acct sql.NullString
		var hist string
		if err := rows.Scan(&n.Name, &n.Type, &acct, &n.Root, &n.Inferred, &n.StartTime, &n.EndTime,
			&n.Counts.Ok, &n.Counts.Error, &n.Counts.Throttle, &n.Counts.Fault, &n.Counts.TotalResponseTime, &hist); err != nil {
			return nil, fmt.Errorf("scan graph node: %w", err)
		}
		n.AccountID = acct.String
		var err error
		if n.Histogram, err = parseHistogram(hist); err != nil {
			return nil, fmt.Errorf("graph node %s: %w", n.Name, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func graphEdges(ctx context.Context, tx *sql.Tx, src string) ([]servicegraph.EdgeAgg, error) {
	rows, err := tx.QueryContext(ctx, edgeRowsSQL(src))
	if err != nil {
		return nil, fmt.Errorf("graph edges: %w", err)
	}
	return scanEdges(rows)
}

func scanEdges(rows *sql.Rows) ([]servicegraph.EdgeAgg, error) {
	defer rows.Close()
	var out []servicegraph.EdgeAgg
	for rows.Next() {
		var e servicegraph.EdgeAgg
		var hist string
		if err := rows.Scan(&e.CallerName, &e.CallerType, &e.CalleeName, &e.CalleeType, &e.StartTime, &e.EndTime,
			&e.Counts.Ok, &e.Counts.Error, &e.Counts.Throttle, &e.Counts.Fault, &e.Counts.TotalResponseTime, &hist); err != nil {
			return nil, fmt.Errorf("scan graph edge: %w", err)
		}
		var err error
		if e.Histogram, err = parseHistogram(hist); err != nil {
			return nil, fmt.Errorf("graph edge %s->%s: %w", e.CallerName, e.CalleeName, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
