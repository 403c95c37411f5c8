package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store/docstore"
)

// SegmentsByTraceIDs returns the documents of the traces, one per id, from
// the document file (see docstore for why not from DuckDB). Of several
// documents with one id (in progress, then complete; or a resend) it keeps
// the complete one, then the latest received, then the latest stored.
// They come ordered by trace, then start time.
func (s *Store) SegmentsByTraceIDs(ctx context.Context, traceIDs []string) ([]model.SegmentRecord, error) {
	if len(traceIDs) == 0 {
		return nil, nil
	}
	recs, err := s.docs.Get(ctx, traceIDs)
	if err != nil {
		return nil, err
	}
	if err := decodeRecords(recs); err != nil {
		return nil, err
	}
	type docKey struct{ trace, id string }
	best := make(map[docKey]int, len(recs))
	var order []docKey
	for i := range recs {
		r := &recs[i]
		k := docKey{r.TraceID, r.Segment.ID}
		cur, seen := best[k]
		if !seen {
			best[k] = i
			order = append(order, k)
			continue
		}
		c := &recs[cur]
		// Records come in storage order, so a tie goes to the later one.
		if cmp.Or(cmpBool(c.InProgress(), r.InProgress()), cmp.Compare(r.ReceivedAtMicros, c.ReceivedAtMicros)) >= 0 {
			best[k] = i
		}
	}
	out := make([]model.SegmentRecord, len(order))
	for i, k := range order {
		out[i] = recs[best[k]].SegmentRecord
	}
	slices.SortStableFunc(out, func(a, b model.SegmentRecord) int {
		return cmp.Or(strings.Compare(a.Segment.TraceID, b.Segment.TraceID), cmp.Compare(a.Segment.StartTime, b.Segment.StartTime))
	})
	return out, nil
}

// decodeRecords parses the records' raw documents, on every core: JSON
// decoding is most of the time of loading a hundred traces.
func decodeRecords(recs []docstore.Record) error {
	workers := min(runtime.GOMAXPROCS(0), (len(recs)+63)/64)
	if workers <= 1 {
		return decodeRange(recs)
	}
	var g errgroup.Group
	per := (len(recs) + workers - 1) / workers
	for lo := 0; lo < len(recs); lo += per {
		part := recs[lo:min(lo+per, len(recs))]
		g.Go(func() error { return decodeRange(part) })
	}
	return g.Wait()
}

func decodeRange(recs []docstore.Record) error {
	for i := range recs {
		r := &recs[i]
		var seg model.Segment
		if err := json.Unmarshal(r.Raw, &seg); err != nil {
			return fmt.Errorf("decode stored segment of trace %s: %w", r.TraceID, err)
		}
		r.Segment = &seg
	}
	return nil
}

// cmpBool orders true before false: an in-progress document loses.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// rawMigration names the one-time copy of documents stored in DuckDB's
// segments.raw (databases from before the document file) into the file.
const rawMigration = "duckdb-segments-raw"

// migrateRawDocuments copies the documents still held in segments.raw
// into the document file, Write by Write, once.
func (s *Store) migrateRawDocuments(ctx context.Context) error {
	done, err := s.docs.Migrated(rawMigration)
	if err != nil {
		return fmt.Errorf("read document migration state: %w", err)
	}
	if done {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT trace_id, in_progress, received_us, app_monitor_id, session_id, page_id, raw, spool_seq
		FROM segments WHERE raw IS NOT NULL ORDER BY spool_seq, rowid`)
	if err != nil {
		return fmt.Errorf("read documents to migrate: %w", err)
	}
	defer rows.Close()
	var batch []model.SegmentRecord
	var batchSeq uint64
	moved := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		moved += len(batch)
		err := s.docs.Put(ctx, batchSeq, batch)
		batch = batch[:0]
		return err
	}
	for rows.Next() {
		var r model.SegmentRecord
		var traceID, raw string
		var inProgress sql.NullBool
		var received sql.NullInt64
		var app, sess, page sql.NullString
		var seq uint64
		if err := rows.Scan(&traceID, &inProgress, &received, &app, &sess, &page, &raw, &seq); err != nil {
			return fmt.Errorf("scan document to migrate: %w", err)
		}
		if seq != batchSeq {
			if err := flush(); err != nil {
				return err
			}
			batchSeq = seq
		}
		r.Segment = &model.Segment{TraceID: traceID, InProgress: inProgress.Bool}
		r.Raw = json.RawMessage(raw)
		r.ReceivedAtMicros = received.Int64
		r.AppMonitorID, r.SessionID, r.PageID = app.String, sess.String, page.String
		batch = append(batch, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read documents to migrate: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	if moved > 0 {
		s.log.InfoContext(ctx, "copied stored X-Ray documents into the document file", "documents", moved)
	}
	return s.docs.MarkMigrated(rawMigration)
}
