package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/sightline/sightline/internal/query/servicegraph"
)

// The service graph of an hour joins every segment of the hour with its
// caller: over a second on 250,000 segments. So a background refresh
// (RefreshGraphRollups) stores the result of that join, one row per
// counted segment with its caller (graph_facts), by minute of segment end
// time, and GraphAggregates aggregates those rows for the minutes they
// cover, joining live only for the minutes not rolled up or changed since.
//
// The rows of minute M depend on the whole traces that have a segment or
// call ending in M (a late parent changes its children's edges), and on
// nothing else. graph_rollup_traces lists those traces per minute, so a
// rolled-up minute is stale exactly when a row stored after the last
// refresh (spool_seq > graph_rollup_meta.checked_seq) ends in M or
// belongs to one of M's traces. Each refresh recomputes the stale minutes
// and the new ones up to its horizon, in one transaction whose snapshot
// holds the applied spool sequence it records as checked_seq: every
// minute in graph_rollup_state is then valid as of checked_seq.
//
// A fact depends only on its own trace, so facts of any minutes and live
// rows of others aggregate together exactly; traces the SQL leaves to the
// caller (irregular ones) are listed per minute and deduplicated.

const minuteMicros = 60_000_000

func floorMinute(us int64) int64 {
	m := us / minuteMicros * minuteMicros
	if m > us {
		m -= minuteMicros
	}
	return m
}

func ceilMinute(us int64) int64 {
	m := floorMinute(us)
	if m < us {
		m += minuteMicros
	}
	return m
}

// rollupMeta is graph_rollup_meta: minutes before horizon all have a state
// row (empty minutes too), valid as of checked_seq.
type rollupMeta struct {
	horizon    int64
	checkedSeq uint64
	ok         bool // a refresh has run
}

func readRollupMeta(ctx context.Context, tx *sql.Tx) (rollupMeta, error) {
	var m rollupMeta
	err := tx.QueryRowContext(ctx, "SELECT horizon_us, checked_seq FROM graph_rollup_meta WHERE id = 1").Scan(&m.horizon, &m.checkedSeq)
	switch {
	case err == sql.ErrNoRows:
		return m, nil
	case err != nil:
		return m, fmt.Errorf("read graph rollup meta: %w", err)
	}
	m.ok = true
	return m, nil
}

// freshCTE names the rows stored after a sequence number. The constant is
// inlined so that the spool_seq zone maps skip every older row group.
func freshCTE(after uint64) string {
	return fmt.Sprintf(`fresh AS (SELECT trace_id, spool_seq, end_us FROM segments WHERE spool_seq > %[1]d
		UNION ALL SELECT trace_id, spool_seq, end_us FROM segment_calls WHERE spool_seq > %[1]d)`, after)
}

// staleMinutes returns the rolled-up minutes in [from, to) that rows stored
// after checkedSeq change.
func staleMinutes(ctx context.Context, tx *sql.Tx, from, to int64, checkedSeq uint64) (map[int64]bool, error) {
	return queryMinutes(ctx, tx, "stale graph minutes", fmt.Sprintf(`WITH st AS (SELECT minute_us FROM graph_rollup_state WHERE minute_us >= %[1]d AND minute_us < %[2]d),
		%[3]s
		SELECT st.minute_us FROM st JOIN fresh ON %[4]s = st.minute_us
		UNION
		SELECT t.minute_us FROM graph_rollup_traces t JOIN fresh ON fresh.trace_id = t.trace_id
		WHERE t.minute_us >= %[1]d AND t.minute_us < %[2]d`, from, to, freshCTE(checkedSeq), minuteSQL("fresh.end_us")))
}

// queryMinutes runs a query of one column of minutes; what names them in
// errors.
func queryMinutes(ctx context.Context, tx *sql.Tx, what, query string) (map[int64]bool, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var m int64
		if err := rows.Scan(&m); err != nil {
			return nil, fmt.Errorf("scan minute: %w", err)
		}
		out[m] = true
	}
	return out, rows.Err()
}

// maxNewMinutes bounds the new minutes one refresh computes, so that the
// first refresh of a long history commits in steps instead of one long
// transaction.
const maxNewMinutes = 120

// RefreshGraphRollups brings the per-minute service graph rollups up to
// date for minutes that end at or before horizonMicros (callers leave the
// last minute or two to the live path, where rows still arrive). It
// returns the number of minutes recomputed, and more when new minutes
// were left for the next call.
func (s *Store) RefreshGraphRollups(ctx context.Context, horizonMicros int64) (minutes int, more bool, err error) {
	horizon := floorMinute(horizonMicros)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("begin graph rollup: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var applied uint64
	if err := tx.QueryRowContext(ctx, "SELECT seq FROM ingest_progress WHERE id = 1").Scan(&applied); err != nil {
		return 0, false, fmt.Errorf("read ingest progress: %w", err)
	}
	legacy := s.legacySeq
	meta, err := readRollupMeta(ctx, tx)
	if err != nil {
		return 0, false, err
	}
	todo := map[int64]bool{}
	oldHorizon := meta.horizon
	if !meta.ok {
		var first sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT min(end_us) FROM (SELECT min(end_us) AS end_us FROM segments UNION ALL SELECT min(end_us) FROM segment_calls)`).Scan(&first); err != nil {
			return 0, false, fmt.Errorf("first segment end: %w", err)
		}
		oldHorizon = horizon
		if first.Valid {
			oldHorizon = min(horizon, floorMinute(first.Int64))
		}
	} else {
		stale, err := staleMinutes(ctx, tx, math.MinInt64, oldHorizon, meta.checkedSeq)
		if err != nil {
			return 0, false, err
		}
		// Rows that ended before the horizon in a minute with no state: a
		// clock behind, or a replay of old data.
		orphans, err := queryMinutes(ctx, tx, "orphan graph minutes", fmt.Sprintf(`WITH %s SELECT DISTINCT %s AS m FROM fresh
			WHERE end_us < %d AND m NOT IN (SELECT minute_us FROM graph_rollup_state)`, freshCTE(meta.checkedSeq), minuteSQL("end_us"), oldHorizon))
		if err != nil {
			return 0, false, err
		}
		for m := range stale {
			todo[m] = true
		}
		for m := range orphans {
			todo[m] = true
		}
	}
	if oldHorizon < horizon {
		// New minutes: only those with rows are computed; the others get
		// an empty state row below.
		added, err := queryMinutes(ctx, tx, "new graph minutes", fmt.Sprintf(`SELECT DISTINCT %[3]s FROM (
			SELECT end_us FROM segments WHERE end_us >= %[1]d AND end_us < %[2]d
			UNION ALL SELECT end_us FROM segment_calls WHERE end_us >= %[1]d AND end_us < %[2]d)`, oldHorizon, horizon, minuteSQL("end_us")))
		if err != nil {
			return 0, false, err
		}
		newMinutes := slices.Sorted(maps.Keys(added))
		step := cmp.Or(s.rollupStep, maxNewMinutes)
		if len(newMinutes) > step {
			newMinutes = newMinutes[:step]
			horizon = newMinutes[len(newMinutes)-1] + minuteMicros
			more = true
		}
		for _, m := range newMinutes {
			todo[m] = true
		}
	}
	sorted := slices.Sorted(maps.Keys(todo))
	for _, r := range minuteRuns(sorted, 60) {
		if err := rollUp(ctx, tx, r[0], r[1], legacy); err != nil {
			return 0, false, err
		}
	}
	if oldHorizon < horizon {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO graph_rollup_state SELECT range FROM range(%[1]d, %[2]d, %[3]d)
			WHERE range NOT IN (SELECT minute_us FROM graph_rollup_state WHERE minute_us >= %[1]d AND minute_us < %[2]d)`, oldHorizon, horizon, minuteMicros)); err != nil {
			return 0, false, fmt.Errorf("record empty graph minutes: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS graph_rows"); err != nil {
		return 0, false, fmt.Errorf("drop graph rows: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO graph_rollup_meta VALUES (1, %d, %d)
		ON CONFLICT (id) DO UPDATE SET horizon_us = excluded.horizon_us, checked_seq = excluded.checked_seq`, max(oldHorizon, horizon), applied)); err != nil {
		return 0, false, fmt.Errorf("record graph rollup meta: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("commit graph rollup: %w", err)
	}
	return len(sorted), more, nil
}

// minuteRuns groups sorted minutes into [start, end) runs of consecutive
// minutes, at most maxLen minutes each.
func minuteRuns(minutes []int64, maxLen int) [][2]int64 {
	var out [][2]int64
	for i := 0; i < len(minutes); {
		j := i
		for j+1 < len(minutes) && minutes[j+1] == minutes[j]+minuteMicros && j+1-i < maxLen {
			j++
		}
		out = append(out, [2]int64{minutes[i], minutes[j] + minuteMicros})
		i = j + 1
	}
	return out
}

// rollUp recomputes the minutes of [from, to).
func rollUp(ctx context.Context, tx *sql.Tx, from, to int64, legacy uint64) error {
	in := fmt.Sprintf("minute_us >= %d AND minute_us < %d", from, to)
	for _, t := range []string{"graph_facts", "graph_rollup_traces", "graph_rollup_state"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE "+in); err != nil {
			return fmt.Errorf("clear %s: %w", t, err)
		}
	}
	if err := buildGraphRows(ctx, tx, [][2]int64{{from, to}}, legacy); err != nil {
		return err
	}
	for _, stmt := range []string{
		"INSERT INTO graph_facts BY NAME SELECT " + minuteSQL("end_us") + " AS minute_us, * FROM graph_rows WHERE NOT irregular",
		fmt.Sprintf(`INSERT INTO graph_rollup_traces SELECT DISTINCT %[3]s, trace_id, trace_id IN (SELECT trace_id FROM graph_rows WHERE irregular)
			FROM (SELECT trace_id, end_us FROM segments WHERE end_us >= %[1]d AND end_us < %[2]d
				UNION ALL SELECT trace_id, end_us FROM segment_calls WHERE end_us >= %[1]d AND end_us < %[2]d)`, from, to, minuteSQL("end_us")),
		fmt.Sprintf("INSERT INTO graph_rollup_state SELECT range FROM range(%d, %d, %d)", from, to, minuteMicros),
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("roll up graph minutes %d-%d: %w", from, to, err)
		}
	}
	return nil
}

// GraphAggregates returns the service graph's rows for segments that
// ended in [from, to): rolled-up minutes where valid, the rest computed
// live (see liveGraphAggregates for what "unaggregated" holds).
func (s *Store) GraphAggregates(ctx context.Context, fromMicros, toMicros int64) (nodes []servicegraph.NodeAgg, edges []servicegraph.EdgeAgg, unaggregated []string, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("begin graph aggregates: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	legacy := s.legacySeq
	if fromMicros >= toMicros {
		return nil, nil, nil, nil
	}
	// Minutes cut by the range's ends count too: their facts are filtered
	// by end time.
	good, err := validMinutes(ctx, tx, floorMinute(fromMicros), ceilMinute(toMicros))
	if err != nil {
		return nil, nil, nil, err
	}
	runs := minuteRuns(good, math.MaxInt)
	// Everything not rolled up is joined live.
	var spans [][2]int64
	cur := fromMicros
	for _, r := range runs {
		if cur < r[0] {
			spans = append(spans, [2]int64{cur, r[0]})
		}
		cur = max(cur, r[1])
	}
	if cur < toMicros {
		spans = append(spans, [2]int64{cur, toMicros})
	}
	var irregular []string
	src := "graph_rows"
	if len(spans) > 0 {
		if err := buildGraphRows(ctx, tx, spans, legacy); err != nil {
			return nil, nil, nil, err
		}
	}
	if len(runs) > 0 {
		var conds []string
		for _, r := range runs {
			conds = append(conds, fmt.Sprintf("(minute_us >= %d AND minute_us < %d)", r[0], r[1]))
		}
		inRuns := "(" + strings.Join(conds, " OR ") + ")"
		// Read in place: copying the facts into graph_rows costs as much
		// as aggregating them.
		facts := fmt.Sprintf("SELECT * EXCLUDE (minute_us) FROM graph_facts WHERE %s AND end_us >= %d AND end_us < %d", inRuns, fromMicros, toMicros)
		src = "(" + facts + ")"
		if len(spans) > 0 {
			src = "(SELECT * FROM graph_rows UNION ALL BY NAME " + facts + ")"
		}
		if irregular, err = irregularTraces(ctx, tx, "SELECT DISTINCT trace_id FROM graph_rollup_traces WHERE irregular AND "+inRuns); err != nil {
			return nil, nil, nil, err
		}
	}
	out, err := aggregateGraphRows(ctx, tx, src)
	if err != nil {
		return nil, nil, nil, err
	}
	unaggregated = append(out.unaggregated, irregular...)
	slices.Sort(unaggregated)
	return out.nodes, out.edges, slices.Compact(unaggregated), nil
}

// validMinutes lists, sorted, the rolled-up minutes in [from, to) that are
// still valid.
func validMinutes(ctx context.Context, tx *sql.Tx, from, to int64) ([]int64, error) {
	if from >= to {
		return nil, nil
	}
	meta, err := readRollupMeta(ctx, tx)
	if err != nil || !meta.ok {
		return nil, err
	}
	have, err := queryMinutes(ctx, tx, "graph rollup minutes", fmt.Sprintf("SELECT minute_us FROM graph_rollup_state WHERE minute_us >= %d AND minute_us < %d", from, to))
	if err != nil || len(have) == 0 {
		return nil, err
	}
	stale, err := staleMinutes(ctx, tx, from, to, meta.checkedSeq)
	if err != nil {
		return nil, err
	}
	var out []int64
	for m := range have {
		if !stale[m] {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out, nil
}
