package duckdb

import (
	"context"
	"fmt"
	"time"
)

// DeleteBefore applies retention: it removes RUM events older than cutoff,
// X-Ray traces whose id carries an earlier epoch (whole traces: every
// row and document, so no trace is left half), and the service graph
// rollups of earlier minutes. It returns the number of rows and document
// groups removed. DuckDB reuses the freed space; the file does not shrink.
func (s *Store) DeleteBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	us := cutoff.UnixMicro()
	// Fixed-width lower-case hex sorts like the number it spells.
	oldTrace := fmt.Sprintf("trace_id LIKE '1-%%' AND substr(trace_id, 3, 8) < '%08x'", cutoff.Unix())
	stmts := []string{
		fmt.Sprintf("DELETE FROM rum_events WHERE ts_us < %d", us),
		"DELETE FROM segments WHERE " + oldTrace,
		"DELETE FROM trace_index WHERE " + oldTrace,
		"DELETE FROM segment_calls WHERE " + oldTrace,
		"DELETE FROM segment_annotations WHERE " + oldTrace,
		"DELETE FROM segment_users WHERE " + oldTrace,
		// By minute, and by trace for the rows a long trace left in later
		// minutes; the minutes stay rolled up (now with fewer facts).
		fmt.Sprintf("DELETE FROM graph_facts WHERE minute_us < %d OR (%s)", floorMinute(us), oldTrace),
		fmt.Sprintf("DELETE FROM graph_rollup_traces WHERE minute_us < %d OR (%s)", floorMinute(us), oldTrace),
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin retention: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var removed int64
	for _, stmt := range stmts {
		res, err := tx.ExecContext(ctx, stmt)
		if err != nil {
			return 0, fmt.Errorf("retention %q: %w", firstLine(stmt), err)
		}
		n, _ := res.RowsAffected()
		removed += n
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit retention: %w", err)
	}
	// After the rows: a document left by an interruption here is
	// invisible (no row lists its trace) and goes at the next run.
	groups, err := s.docs.DeleteTracesBefore(ctx, cutoff)
	return removed + int64(groups), err
}
