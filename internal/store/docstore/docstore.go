// Package docstore keeps the raw X-Ray documents of the embedded store,
// grouped by trace, in a B+tree file (bbolt) beside the DuckDB file.
//
// DuckDB answers the analytical questions (filters, the service graph)
// but reads a handful of rows slowly: fetching the 50 documents of five
// traces cost 30–50 ms there, because every read decompresses whole
// column vectors. Here the documents of one trace from one Write are one
// value under the key trace_id NUL seq, so a trace is one short cursor
// scan. Values are S2-compressed (about 3x on JSON): zstd compresses
// better but builds its entropy tables per value, which cost the writer
// 13% of a CPU at 30,000 single-document traces per second.
//
// The file follows DuckDB's applied spool sequence: Put records which
// traces a Write stored under "pending" until the next Put, and Open's
// caller passes the applied sequence to Discard, which removes what a
// Write stored that DuckDB never committed. Replaying a Write rewrites the
// same keys, so a replay is harmless either way.
package docstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/s2"
	bolt "go.etcd.io/bbolt"

	"github.com/sightline/sightline/internal/model"
)

var (
	bucketDocs    = []byte("docs")
	bucketPending = []byte("pending")
	bucketMeta    = []byte("meta")
)

// Store is an open document file.
type Store struct {
	db      *bolt.DB
	tmpPath string // removed at Close: the file of an in-memory store
}

// Open opens (creating if needed) the file at path; an empty path makes a
// temporary file that Close removes, for in-memory stores.
func Open(path string) (*Store, error) {
	s := &Store{}
	if path == "" {
		f, err := os.CreateTemp("", "sightline-docs-*.db")
		if err != nil {
			return nil, fmt.Errorf("create temporary document file: %w", err)
		}
		path = f.Name()
		_ = f.Close()
		_ = os.Remove(path)
		s.tmpPath = path
	} else if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create document directory: %w", err)
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{
		Timeout: 5 * time.Second,
		// The free list is rebuilt at open instead of written at every
		// commit: commits are what the writer waits on.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("open document file %q: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketDocs, bucketPending, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("create document buckets: %w", err)
	}
	s.db = db
	return s, nil
}

// Close closes the file.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.tmpPath != "" {
		_ = os.Remove(s.tmpPath)
	}
	return err
}

// key is trace_id NUL seq (big-endian), so a trace's groups sort by Write.
func key(traceID string, seq uint64) []byte {
	k := make([]byte, 0, len(traceID)+9)
	k = append(k, traceID...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// Put stores the records of the Write with sequence seq, one value per
// trace. Pending entries of earlier Writes are dropped: the writer calls
// Put for seq only after DuckDB committed every earlier Write.
func (s *Store) Put(ctx context.Context, seq uint64, recs []model.SegmentRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	groups := map[string][]*model.SegmentRecord{}
	var order []string
	for i := range recs {
		r := &recs[i]
		if r.Segment == nil {
			continue
		}
		id := r.Segment.TraceID
		if _, ok := groups[id]; !ok {
			order = append(order, id)
		}
		groups[id] = append(groups[id], r)
	}
	if len(order) == 0 {
		return nil
	}
	values := make([][]byte, len(order))
	var buf []byte
	for i, id := range order {
		buf = encodeGroup(buf[:0], groups[id])
		values[i] = s2.Encode(nil, buf)
	}
	var traces []byte
	for _, id := range order {
		traces = binary.AppendUvarint(traces, uint64(len(id)))
		traces = append(traces, id...)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		pending := tx.Bucket(bucketPending)
		c := pending.Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) < seq; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		if err := pending.Put(seqKey(seq), traces); err != nil {
			return err
		}
		docs := tx.Bucket(bucketDocs)
		for i, id := range order {
			if err := docs.Put(key(id, seq), values[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store documents of write %d: %w", seq, err)
	}
	return nil
}

// Discard removes what Writes after applied stored (DuckDB did not commit
// them; the spool replays them) and forgets the pending lists of the rest.
// It returns the number of trace groups removed.
func (s *Store) Discard(ctx context.Context, applied uint64) (int, error) {
	removed := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		pending, docs := tx.Bucket(bucketPending), tx.Bucket(bucketDocs)
		c := pending.Cursor()
		for k, v := c.First(); k != nil; k, v = c.First() {
			if seq := binary.BigEndian.Uint64(k); seq > applied {
				ids, err := decodeTraceList(v)
				if err != nil {
					return err
				}
				for _, id := range ids {
					if err := docs.Delete(key(id, seq)); err != nil {
						return err
					}
					removed++
				}
			}
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return removed, fmt.Errorf("discard uncommitted documents: %w", err)
	}
	return removed, nil
}

// Record is a stored document with the Write that stored it; Pos orders
// the documents of one Write.
type Record struct {
	model.SegmentRecord
	TraceID string
	Seq     uint64
	Pos     int
	flags   uint64
}

// Get returns every stored record of the traces, by trace in the order
// given, then by Write and position. Segment is left nil: the caller
// decodes Raw (InProgress allows choosing among duplicates first).
func (s *Store) Get(ctx context.Context, traceIDs []string) ([]Record, error) {
	var out []Record
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDocs).Cursor()
		var plain []byte
		for _, id := range traceIDs {
			if err := ctx.Err(); err != nil {
				return err
			}
			prefix := append([]byte(id), 0)
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				if len(k) != len(prefix)+8 {
					continue
				}
				seq := binary.BigEndian.Uint64(k[len(prefix):])
				var err error
				if plain, err = s2.Decode(plain[:cap(plain)], v); err != nil {
					return fmt.Errorf("decompress documents of trace %s: %w", id, err)
				}
				if out, err = decodeGroup(out, plain, id, seq); err != nil {
					return fmt.Errorf("decode documents of trace %s: %w", id, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read documents: %w", err)
	}
	return out, nil
}

// Migrated reports whether the named one-time migration has run.
func (s *Store) Migrated(name string) (bool, error) {
	var done bool
	err := s.db.View(func(tx *bolt.Tx) error {
		done = tx.Bucket(bucketMeta).Get([]byte(name)) != nil
		return nil
	})
	return done, err
}

// MarkMigrated records that the named migration has run.
func (s *Store) MarkMigrated(name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put([]byte(name), []byte{1})
	})
}

// A group is a sequence of records: flags (bit 0: in progress), received
// time, app monitor, session and page ids, and the raw document, each
// string length-prefixed.
const flagInProgress = 1

func encodeGroup(b []byte, recs []*model.SegmentRecord) []byte {
	str := func(s []byte) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, r := range recs {
		var flags uint64
		if r.Segment.InProgress {
			flags |= flagInProgress
		}
		b = binary.AppendUvarint(b, flags)
		b = binary.AppendVarint(b, r.ReceivedAtMicros)
		str([]byte(r.AppMonitorID))
		str([]byte(r.SessionID))
		str([]byte(r.PageID))
		str(r.Raw)
	}
	return b
}

var errCorrupt = errors.New("corrupt document group")

// InProgress reports the in_progress flag stored with the record, known
// before Raw is decoded.
func (r *Record) InProgress() bool { return r.flags&flagInProgress != 0 }

func decodeGroup(out []Record, b []byte, traceID string, seq uint64) ([]Record, error) {
	pos := 0
	for len(b) > 0 {
		flags, n := binary.Uvarint(b)
		if n <= 0 {
			return out, errCorrupt
		}
		b = b[n:]
		received, n := binary.Varint(b)
		if n <= 0 {
			return out, errCorrupt
		}
		b = b[n:]
		var fields [4][]byte
		for i := range fields {
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return out, errCorrupt
			}
			fields[i] = b[n : n+int(l)]
			b = b[n+int(l):]
		}
		r := Record{Seq: seq, Pos: pos, flags: flags}
		r.ReceivedAtMicros = received
		r.AppMonitorID, r.SessionID, r.PageID = string(fields[0]), string(fields[1]), string(fields[2])
		r.Raw = append([]byte(nil), fields[3]...)
		r.TraceID = traceID
		out = append(out, r)
		pos++
	}
	return out, nil
}

func decodeTraceList(b []byte) ([]string, error) {
	var ids []string
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return nil, errCorrupt
		}
		ids = append(ids, string(b[n:n+int(l)]))
		b = b[n+int(l):]
	}
	return ids, nil
}

// DeleteTracesBefore removes the documents of every trace whose id carries
// an epoch (X-Ray ids: "1-" then 8 hex digits of seconds) before cutoff,
// in transactions of a bounded size. It returns the groups removed.
func (s *Store) DeleteTracesBefore(ctx context.Context, cutoff time.Time) (int, error) {
	end := []byte(fmt.Sprintf("1-%08x", cutoff.Unix()))
	const perTx = 10_000
	removed := 0
	for {
		n := 0
		err := s.db.Update(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketDocs).Cursor()
			for k, _ := c.Seek([]byte("1-")); k != nil && bytes.Compare(k, end) < 0 && n < perTx; k, _ = c.Seek([]byte("1-")) {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		removed += n
		if err != nil {
			return removed, fmt.Errorf("delete documents before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		if n < perTx {
			return removed, nil
		}
		if err := ctx.Err(); err != nil {
			return removed, err
		}
	}
}
