package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// Exactly-once without transactions.
//
// ClickHouse cannot make "insert rows + record the spool position" atomic,
// so every row carries the id of the write that stored it (write_id, a
// per-writer increasing number) besides its spool_seq, and Write records
// (writer_id, seq, write_id) in ingest_progress only after every insert
// returned. A write therefore counts when its progress row exists; rows
// with a write_id above the last recorded one are leftovers of a write
// that failed part way, and are deleted (an ALTER ... DELETE mutation,
// awaited) before anything else is written: at Open, and by the next Write
// after a failure. Keying leftovers on write_id rather than spool_seq
// stays exact when a spool's sequence restarts.
//
// A write whose progress insert failed on the client side but landed on
// the server is recognised by its write_id in ingest_progress; the retry
// of that same spool position is then acknowledged without writing again.
//
// Alternatives rejected: filtering every read on spool_seq <= progress
// costs a lookup per query and cannot tell a replayed batch with a
// different boundary from a leftover; ReplacingMergeTree keyed on event id
// with FINAL or argMax at read time makes every statistic pay for
// deduplication. Inside one insert a block is atomic, and rows are
// validated and encoded before anything is sent, so a bad batch leaves
// nothing behind.

// AppliedSeq returns the spool sequence number of the last recorded write.
func (s *Store) AppliedSeq(ctx context.Context) (uint64, error) {
	seq, _, err := s.progress(ctx)
	return seq, err
}

// progress reads this writer's last recorded (seq, write_id).
func (s *Store) progress(ctx context.Context) (seq, writeID uint64, err error) {
	rows, err := s.conn.query(ctx, fmt.Sprintf("SELECT argMax(seq, write_id), max(write_id) FROM %s WHERE writer_id = %s",
		tProgress, quoteString(s.opts.WriterID)))
	if err != nil {
		return 0, 0, fmt.Errorf("read ingest progress: %w", err)
	}
	if len(rows) != 1 {
		return 0, 0, nil
	}
	sc := scanner{row: rows[0]}
	seq, writeID = sc.u64(), sc.u64()
	if sc.err != nil {
		return 0, 0, fmt.Errorf("read ingest progress: %w", sc.err)
	}
	return seq, writeID, nil
}

// dataTables are the tables whose rows carry write ids.
var dataTables = []string{tRumEvents, tSegments, tSegmentsByTrace}

// repair removes rows of writes that were not recorded.
func (s *Store) repair(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.repairLocked(ctx)
}

func (s *Store) repairLocked(ctx context.Context) error {
	_, recorded, err := s.progress(ctx)
	if err != nil {
		return err
	}
	s.lastWriteID = recorded
	cond := fmt.Sprintf("writer_id = %s AND write_id > %d", quoteString(s.opts.WriterID), recorded)
	var n uint64
	for _, t := range dataTables {
		rows, err := s.conn.query(ctx, "SELECT count() FROM "+t+" WHERE "+cond)
		if err != nil {
			return fmt.Errorf("look for unrecorded rows in %s: %w", t, err)
		}
		if len(rows) == 1 {
			c, err := u64(rows[0][0])
			if err != nil {
				return err
			}
			n += c
		}
	}
	if n > 0 {
		s.log.WarnContext(ctx, "removing rows of an interrupted write; the spool replays them", "rows", n, "writer", s.opts.WriterID)
		if err := s.deleteWhere(ctx, cond); err != nil {
			return err
		}
	}
	s.unsure = false
	return nil
}

// deleteWhere runs an ALTER ... DELETE on every data table of every node
// and waits until the mutations are done: on 18.16 they are asynchronous
// and there is no mutations_sync.
func (s *Store) deleteWhere(ctx context.Context, cond string) error {
	d := ddl{s.schemaConfig()}
	for _, n := range s.nodes {
		for _, t := range dataTables {
			local := d.local(t)
			if err := n.exec(ctx, fmt.Sprintf("ALTER TABLE %s%s DELETE WHERE %s", local, d.onCluster(), cond)); err != nil {
				return fmt.Errorf("delete unrecorded rows of %s on %s: %w", local, n, err)
			}
		}
	}
	for _, n := range s.nodes {
		if err := waitMutations(ctx, n, s.opts.Database); err != nil {
			return err
		}
	}
	return nil
}

func waitMutations(ctx context.Context, n *conn, database string) error {
	delay := 20 * time.Millisecond
	for {
		rows, err := n.query(ctx, "SELECT count() FROM system.mutations WHERE database = "+quoteString(database)+" AND is_done = 0")
		if err != nil {
			return fmt.Errorf("wait for mutations on %s: %w", n, err)
		}
		if len(rows) == 1 && string(rows[0][0]) == "0" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for mutations on %s: %w", n, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// Write inserts every row of the batches, then records lastSeq.
func (s *Store) Write(ctx context.Context, lastSeq uint64, batches []*model.Batch) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.unsure {
		landed, err := s.resolveUnsure(ctx)
		if err != nil {
			return err
		}
		if landed == lastSeq {
			return nil // the retry of a write that had landed after all
		}
	}
	writeID := max(uint64(time.Now().UnixNano()), s.lastWriteID+1)
	// The encode buffers are kept between writes: growing a fresh one
	// to ~10 MB per write cost more than the encoding.
	rum, seg := rowBinary{b: s.rumBuf[:0]}, rowBinary{b: s.segBuf[:0]}
	defer func() { s.rumBuf, s.segBuf = rum.b, seg.b }()
	nRum, nSeg := 0, 0
	for _, b := range batches {
		for i := range b.Rum {
			encodeRum(&rum, &b.Rum[i], lastSeq, s.opts.WriterID, writeID)
			nRum++
		}
		for i := range b.Segments {
			if err := encodeSegment(&seg, &b.Segments[i], lastSeq, s.opts.WriterID, writeID); err != nil {
				return err
			}
			nSeg++
		}
	}
	sent := false
	fail := func(err error) error {
		if sent {
			s.unsure, s.unsureAt = true, lastSeq
		}
		return err
	}
	if nRum > 0 {
		sent = true
		if err := s.conn.insert(ctx, tRumEvents, columnNames(rumColumns), "RowBinary", rum.b, nil); err != nil {
			return fail(fmt.Errorf("insert %d rum events: %w", nRum, err))
		}
	}
	if nSeg > 0 {
		sent = true
		if err := s.conn.insert(ctx, tSegments, columnNames(segmentColumns), "RowBinary", seg.b, nil); err != nil {
			return fail(fmt.Errorf("insert %d segments: %w", nSeg, err))
		}
	}
	var p rowBinary
	p.str(s.opts.WriterID)
	p.u64(lastSeq)
	p.u64(writeID)
	sent = true
	if err := s.conn.insert(ctx, tProgress, []string{"writer_id", "seq", "write_id"}, "RowBinary", p.b, nil); err != nil {
		return fail(fmt.Errorf("record ingest progress: %w", err))
	}
	s.lastWriteID = writeID
	return nil
}

// resolveUnsure settles a failed write: when its progress row landed it
// counts, and its spool seq is returned; otherwise its rows are deleted.
func (s *Store) resolveUnsure(ctx context.Context) (landedSeq uint64, err error) {
	_, recorded, err := s.progress(ctx)
	if err != nil {
		return 0, err
	}
	if recorded > s.lastWriteID {
		s.lastWriteID, s.unsure = recorded, false
		return s.unsureAt, nil
	}
	if err := s.repairLocked(ctx); err != nil {
		return 0, err
	}
	return math.MaxUint64, nil
}

func encodeRum(w *rowBinary, e *model.RumEvent, seq uint64, writer string, writeID uint64) {
	msg, frame, pattern := groupKeys(e)
	keys, vals := metadataStrings(e.Metadata)
	w.str(e.AppMonitorID)
	w.i64(e.TimestampMicros)
	w.str(e.EventID)
	w.str(e.Type)
	w.str(e.BatchID)
	w.str(e.SessionID)
	w.str(e.UserID)
	w.str(e.PageID)
	w.str(e.AppVersion)
	w.str(e.Browser)
	w.str(e.BrowserVersion)
	w.str(e.OS)
	w.str(e.OSVersion)
	w.str(e.DeviceType)
	w.str(e.Country)
	w.str(e.Language)
	w.str(e.Domain)
	w.str(e.ClientIP)
	w.str(e.UserAgent)
	w.nf64(e.Value)
	w.nf64(e.DurationMillis)
	w.str(e.HTTPMethod)
	w.str(e.HTTPURL)
	w.i32(int32(e.HTTPStatus))
	w.str(e.TraceID)
	w.str(e.SegmentID)
	w.str(e.ErrorType)
	w.str(e.ErrorMessage)
	w.bytes(e.Metadata)
	w.bytes(e.Details)
	w.i64(e.ReceivedAtMicros)
	w.str(msg)
	w.str(frame)
	w.str(pattern)
	w.strs(keys)
	w.strs(vals)
	if e.Type == model.EventNavigation {
		for _, v := range navigationPhases(e.Details) {
			w.nf64(v)
		}
	} else {
		for range navColumnCount {
			w.nf64(nil)
		}
	}
	w.u64(seq)
	w.str(writer)
	w.u64(writeID)
}

var navColumnCount = len(store.NavigationPhaseFields)

func micros(sec float64) int64 { return int64(sec*1e6 + 0.5) }

func encodeSegment(w *rowBinary, r *model.SegmentRecord, seq uint64, writer string, writeID uint64) error {
	s := r.Segment
	if s == nil {
		return errors.New("segment record without a parsed segment")
	}
	var method, url, ip, ua string
	var status int32
	if s.HTTP != nil {
		if q := s.HTTP.Request; q != nil {
			method, url, ip, ua = q.Method, q.URL, q.ClientIP, q.UserAgent
		}
		if p := s.HTTP.Response; p != nil {
			status = int32(p.Status)
		}
	}
	var ann []byte
	if len(s.Annotations) > 0 {
		var err error
		if ann, err = json.Marshal(s.Annotations); err != nil {
			return fmt.Errorf("encode annotations: %w", err)
		}
	}
	w.str(s.TraceID)
	w.str(s.ID)
	w.str(s.ParentID)
	w.str(s.Name)
	w.str(s.Origin)
	w.str(s.Type)
	w.str(s.Namespace)
	w.i64(micros(s.StartTime))
	w.ni64(micros(s.EndTime), s.EndTime > 0)
	w.boolean(s.InProgress)
	w.str(method)
	w.str(url)
	w.i32(status)
	w.str(ip)
	w.str(ua)
	w.str(s.User)
	w.boolean(s.Error)
	w.boolean(s.Fault)
	w.boolean(s.Throttle)
	w.bytes(ann)
	w.boolean(s.ParentID == "" && s.Type != "subsegment")
	w.str(r.AppMonitorID)
	w.str(r.SessionID)
	w.str(r.PageID)
	w.bytes(r.Raw)
	w.i64(r.ReceivedAtMicros)
	w.u64(seq)
	w.str(writer)
	w.u64(writeID)
	return nil
}
