// Package spool is Sightline's durable ingest queue.
//
// Receivers acknowledge a batch only once Append has returned, and Append
// returns only after the batch is fsynced. Appends are group-committed: every
// Append that arrives while the flusher is busy rides on the next single
// write+fsync. One reader (the store writer) drains records with Next and
// releases them with Commit once the store has them; after a restart every
// record after the persisted commit point is handed out again.
//
// On disk the spool is a directory of segment files named after the first
// seq they hold (NNNNNNNNNNNNNNNNNNNN.seg), an atomically replaced "commit"
// file, and a LOCK file that keeps a second process out.
package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Defaults and hard limits for Options.
const (
	DefaultMaxBytes       int64 = 1 << 30
	DefaultSegmentBytes   int64 = 64 << 20
	DefaultMaxRecordBytes       = 16 << 20

	// Record offsets inside a segment are kept as uint32, so a segment must
	// stay below 4 GiB: at most one SegmentBytes plus one oversized record.
	maxSegmentBytes int64 = 1 << 30

	// maxSpareBuffer caps the group buffer kept for reuse between flushes:
	// big enough for typical groups, small enough not to pin memory after a
	// burst of large records.
	maxSpareBuffer = 8 << 20
)

// Options configure a Spool. Zero values select the defaults.
type Options struct {
	Dir            string // created if missing
	MaxBytes       int64  // bound on un-committed framed bytes; default 1 GiB
	SegmentBytes   int64  // a new segment file starts past this size; default 64 MiB, at most 1 GiB
	MaxRecordBytes int    // larger Appends fail with ErrTooLarge; default 16 MiB, at most 1 GiB
	Logger         *slog.Logger
}

var (
	// ErrFull is transient: callers answer 503/429 with Retry-After.
	ErrFull = errors.New("spool: full")
	// ErrClosed is returned by every method once Close has been called.
	ErrClosed = errors.New("spool: closed")
	// ErrTooLarge rejects a payload above Options.MaxRecordBytes.
	ErrTooLarge = errors.New("spool: record too large")
)

// Record is one appended payload with its sequence number.
type Record struct {
	Seq     uint64
	Payload []byte
}

// Stats is a point-in-time snapshot for metrics and health checks.
type Stats struct {
	PendingBytes   int64  // framed bytes appended (queued or durable) and not yet committed; bounded by MaxBytes
	PendingRecords int64  // records appended and not yet committed
	Appended       uint64 // records made durable by this process
	Committed      uint64 // records released by Commit in this process
	LastSeq        uint64 // highest durable seq
	CommittedSeq   uint64 // persisted commit point
	DiskBytes      int64  // bytes in segment files
	Segments       int    // segment files on disk
	Flushes        uint64 // write+fsync cycles; Appended/Flushes is the group-commit factor
	CorruptRecords uint64 // undecodable regions found at Open plus records failing their checksum on read
	TruncatedBytes int64  // torn-tail bytes cut off at Open
}

// segment is one segment file. recs lists its durable records in seq order;
// only the flusher appends to it (under Spool.mu).
type segment struct {
	firstSeq uint64
	path     string
	recs     []recRef
	size     int64    // bytes on disk
	f        *os.File // read handle (also the write handle while active); opened lazily for replayed segments
	sealed   bool     // no more writes; deletable once fully committed
}

func (sg *segment) lastSeq() uint64 {
	if len(sg.recs) == 0 {
		return sg.firstSeq - 1
	}
	return sg.recs[len(sg.recs)-1].seq
}

// group is one group commit: all Appends that queued up while the flusher
// was busy. Their seqs are consecutive from firstSeq.
type group struct {
	buf      []byte   // framed records, ready to write
	firstSeq uint64   // seq of the first record in buf
	sizes    []uint32 // payload length of each record
	done     chan struct{}
	err      error // valid once done is closed
}

// Spool is a durable FIFO of byte records. All methods are safe for
// concurrent use; Next, Rewind and Commit are meant for a single consumer.
type Spool struct {
	opts Options
	log  *slog.Logger
	lock *os.File

	// mu guards everything below; disk I/O happens outside it so appenders
	// can keep queueing while the flusher writes and fsyncs.
	mu             sync.Mutex
	segments       []*segment // ascending firstSeq; the last one may be active
	active         *segment   // segment the flusher writes to; nil until the first write
	queue          *group     // records waiting for the flusher
	spare          []byte     // recycled group buffer
	nextSeq        uint64
	durableSeq     uint64
	committed      uint64
	readSeq        uint64        // read cursor: Next hands out records with seq >= readSeq
	handedOut      uint64        // highest seq Next ever returned
	dataReady      chan struct{} // closed (and replaced) when records become durable
	closed         bool
	pendingBytes   int64
	pendingRecords int64
	appended       uint64
	committedCount uint64
	flushes        uint64
	corrupt        uint64
	truncated      int64

	readMu   sync.Mutex // serialises the consumer side: Next's reads, Rewind, Commit's deletions
	commitMu sync.Mutex // serialises Commit's commit-point writes

	kick        chan struct{} // wakes the flusher; capacity 1
	stop        chan struct{} // closed by Close
	flusherDone chan struct{}
}

func (o Options) withDefaults() (Options, error) {
	if o.Dir == "" {
		return o, errors.New("spool: Options.Dir is required")
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.SegmentBytes > maxSegmentBytes {
		return o, fmt.Errorf("spool: SegmentBytes %d above limit %d", o.SegmentBytes, maxSegmentBytes)
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.MaxRecordBytes > maxDecodePayload {
		return o, fmt.Errorf("spool: MaxRecordBytes %d above limit %d", o.MaxRecordBytes, maxDecodePayload)
	}
	if int64(frameSize(o.MaxRecordBytes)) > o.MaxBytes {
		// Such a record could never be accepted, and ErrFull would lie
		// about being transient.
		return o, fmt.Errorf("spool: MaxRecordBytes %d does not fit in MaxBytes %d", o.MaxRecordBytes, o.MaxBytes)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

const segmentSuffix = ".seg"

func segmentName(firstSeq uint64) string { return fmt.Sprintf("%020d%s", firstSeq, segmentSuffix) }

func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || seq == 0 {
		return 0, false
	}
	return seq, true
}

// Open opens or creates the spool in opts.Dir and replays it: every record
// after the persisted commit point is handed out again by Next. A torn tail
// on the newest segment is truncated; corrupt records elsewhere are logged,
// counted in Stats.CorruptRecords and skipped. ctx bounds the replay only;
// the spool lives until Close.
func Open(ctx context.Context, opts Options) (*Spool, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("spool: create dir: %w", err)
	}
	lock, err := lockDir(filepath.Join(opts.Dir, "LOCK"))
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{
		opts:        opts,
		log:         opts.Logger,
		lock:        lock,
		dataReady:   make(chan struct{}),
		kick:        make(chan struct{}, 1),
		stop:        make(chan struct{}),
		flusherDone: make(chan struct{}),
	}
	if err := s.replay(ctx); err != nil {
		s.closeFiles()
		lock.Close()
		return nil, fmt.Errorf("spool: open %s: %w", opts.Dir, err)
	}
	go s.flushLoop()
	return s, nil
}

func (s *Spool) replay(ctx context.Context) error {
	dir := s.opts.Dir
	cp, err := readCommitPoint(dir)
	if errors.Is(err, errBadCommitFile) {
		// Replaying from the start is safe: the writer skips what the store
		// already has. Refusing to start would stop ingest instead.
		s.log.Error("spool: commit point unreadable, replaying every segment", "err", err)
		cp = commitPoint{}
	} else if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, commitFileName+".tmp")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale temp file: %w", err)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list segments: %w", err)
	}
	var firstSeqs []uint64
	for _, e := range entries {
		if seq, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			firstSeqs = append(firstSeqs, seq)
		}
	}
	sort.Slice(firstSeqs, func(i, j int) bool { return firstSeqs[i] < firstSeqs[j] })

	highWater := max(cp.highWater, cp.committed)
	for k, first := range firstSeqs {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(dir, segmentName(first))
		// A file name is a seq that was once assigned, even if the file
		// turns out empty: counting it keeps seqs from being reused.
		highWater = max(highWater, first)
		if k+1 < len(firstSeqs) && firstSeqs[k+1] <= cp.committed+1 {
			if err := removeFile(path); err != nil {
				return err
			}
			continue
		}
		sg, err := s.replaySegment(path, first, k == len(firstSeqs)-1)
		if err != nil {
			return err
		}
		highWater = max(highWater, sg.lastSeq())
		if len(sg.recs) == 0 || sg.lastSeq() <= cp.committed {
			if err := removeFile(path); err != nil {
				return err
			}
			continue
		}
		s.segments = append(s.segments, sg)
		s.durableSeq = sg.lastSeq()
		for _, r := range sg.recs {
			if r.seq > cp.committed {
				s.pendingBytes += int64(frameSize(int(r.n)))
				s.pendingRecords++
			}
		}
	}
	s.nextSeq = highWater + 1
	s.committed = cp.committed
	s.readSeq = cp.committed + 1
	s.handedOut = cp.committed
	s.log.Info("spool: opened", "dir", dir, "segments", len(s.segments),
		"pending_records", s.pendingRecords, "pending_bytes", s.pendingBytes,
		"committed_seq", s.committed, "next_seq", s.nextSeq,
		"corrupt_records", s.corrupt, "truncated_bytes", s.truncated)
	return nil
}

// replaySegment scans one segment file. The newest segment is the only one
// a crash can leave torn, so only there are trailing undecodable bytes cut
// off rather than reported as corruption.
func (s *Spool) replaySegment(path string, first uint64, newest bool) (*segment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read segment: %w", err)
	}
	res := scanSegment(data, first)
	for _, g := range res.gaps {
		s.corrupt++
		s.log.Error("spool: corrupt record skipped", "segment", path, "from", g.from, "to", g.to)
	}
	size := int64(len(data))
	if res.tail > 0 {
		if newest {
			s.truncated += res.tail
			s.log.Warn("spool: truncating torn tail", "segment", path, "offset", res.validEnd, "bytes", res.tail)
			if err := truncateAndSync(path, res.validEnd); err != nil {
				return nil, err
			}
			size = res.validEnd
		} else {
			s.corrupt++
			s.log.Error("spool: corrupt tail skipped", "segment", path, "offset", res.validEnd, "bytes", res.tail)
		}
	}
	return &segment{firstSeq: first, path: path, recs: res.recs, size: size, sealed: true}, nil
}

func truncateAndSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("truncate segment: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate segment: %w", err)
	}
	if err := syncData(f); err != nil {
		return fmt.Errorf("sync truncated segment: %w", err)
	}
	return nil
}

func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove segment: %w", err)
	}
	return nil
}

// Append stores payload durably and returns its seq once it is fsynced. The
// payload is copied; the caller may reuse it. If ctx ends first, Append
// returns ctx.Err() and the record may or may not become durable: treat it
// as not acknowledged. Never blocks for space: ErrFull when the pending
// bytes would exceed MaxBytes.
func (s *Spool) Append(ctx context.Context, payload []byte) (uint64, error) {
	if len(payload) > s.opts.MaxRecordBytes {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(payload), s.opts.MaxRecordBytes)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	sum := payloadChecksum(payload)
	fs := int64(frameSize(len(payload)))

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	if s.pendingBytes+fs > s.opts.MaxBytes {
		pending := s.pendingBytes
		s.mu.Unlock()
		return 0, fmt.Errorf("%w: %d bytes pending, limit %d", ErrFull, pending, s.opts.MaxBytes)
	}
	g := s.queue
	fresh := g == nil
	if fresh {
		g = &group{buf: s.spare, firstSeq: s.nextSeq, done: make(chan struct{})}
		s.spare = nil
		s.queue = g
	}
	seq := s.nextSeq
	s.nextSeq++
	g.buf = appendFrame(g.buf, seq, payload, sum)
	g.sizes = append(g.sizes, uint32(len(payload)))
	s.pendingBytes += fs
	s.pendingRecords++
	s.mu.Unlock()

	if fresh {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	select {
	case <-g.done:
		if g.err != nil {
			return 0, g.err
		}
		return seq, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (s *Spool) flushLoop() {
	defer close(s.flusherDone)
	for {
		select {
		case <-s.stop:
			s.mu.Lock()
			g := s.queue
			s.queue = nil
			s.mu.Unlock()
			if g != nil {
				s.failGroup(g, 0, ErrClosed)
			}
			return
		case <-s.kick:
		}
		s.mu.Lock()
		g := s.queue
		s.queue = nil
		s.mu.Unlock()
		if g != nil {
			s.flushGroup(g)
		}
	}
}

// flushGroup writes a group to the active segment with one write and one
// fsync, splitting it only where a segment fills up.
func (s *Spool) flushGroup(g *group) {
	pos := 0 // byte offset in g.buf
	for i := 0; i < len(g.sizes); {
		if err := s.rotateIfNeeded(g.firstSeq+uint64(i), frameSize(int(g.sizes[i]))); err != nil {
			s.failGroup(g, i, err)
			return
		}
		sg := s.active
		room := s.opts.SegmentBytes - sg.size
		j, chunk := i, 0
		for j < len(g.sizes) {
			fs := frameSize(int(g.sizes[j]))
			if j > i && int64(chunk+fs) > room {
				break
			}
			chunk += fs
			j++
		}
		if err := writeAndSync(sg.f, g.buf[pos:pos+chunk], sg.size); err != nil {
			s.abandonActive(err)
			s.failGroup(g, i, err)
			return
		}

		s.mu.Lock()
		off := sg.size
		for k := i; k < j; k++ {
			sg.recs = append(sg.recs, recRef{seq: g.firstSeq + uint64(k), off: uint32(off), n: g.sizes[k]})
			off += int64(frameSize(int(g.sizes[k])))
		}
		sg.size = off
		s.durableSeq = g.firstSeq + uint64(j-1)
		s.appended += uint64(j - i)
		s.flushes++
		close(s.dataReady)
		s.dataReady = make(chan struct{})
		s.mu.Unlock()

		pos += chunk
		i = j
	}
	s.mu.Lock()
	if cap(g.buf) <= maxSpareBuffer {
		s.spare = g.buf[:0]
	}
	s.mu.Unlock()
	close(g.done)
}

func writeAndSync(f *os.File, b []byte, off int64) error {
	if _, err := f.WriteAt(b, off); err != nil {
		return fmt.Errorf("write segment: %w", err)
	}
	if err := syncData(f); err != nil {
		return fmt.Errorf("sync segment: %w", err)
	}
	return nil
}

// rotateIfNeeded makes sure there is an active segment with room for a
// frame of size fs (an empty segment always has room).
func (s *Spool) rotateIfNeeded(seq uint64, fs int) error {
	if sg := s.active; sg != nil && (sg.size == 0 || sg.size+int64(fs) <= s.opts.SegmentBytes) {
		return nil
	}
	path := filepath.Join(s.opts.Dir, segmentName(seq))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	// The new file's directory entry must be durable before any Append
	// that lands in it is acknowledged.
	if err := syncDir(s.opts.Dir); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	sg := &segment{firstSeq: seq, path: path, f: f}
	s.mu.Lock()
	if s.active != nil {
		s.active.sealed = true
	}
	s.active = sg
	s.segments = append(s.segments, sg)
	s.mu.Unlock()
	return nil
}

// abandonActive seals the active segment after a failed write or fsync.
// After a failed fsync the kernel may have dropped the dirty pages, so the
// file's tail is unknowable; cutting it back to the last durable size and
// moving on to a fresh file keeps every segment a clean run of seqs.
func (s *Spool) abandonActive(cause error) {
	sg := s.active
	if sg == nil {
		return
	}
	s.log.Error("spool: segment write failed, starting a new segment", "segment", sg.path, "err", cause)
	if err := sg.f.Truncate(sg.size); err != nil {
		s.log.Error("spool: truncate after failed write", "segment", sg.path, "err", err)
	}
	s.mu.Lock()
	sg.sealed = true
	s.active = nil
	s.mu.Unlock()
}

// failGroup releases the appenders of g with err; records from index i on
// were not written and no longer count as pending.
func (s *Spool) failGroup(g *group, i int, err error) {
	var bytes int64
	for _, n := range g.sizes[i:] {
		bytes += int64(frameSize(int(n)))
	}
	s.mu.Lock()
	s.pendingBytes -= bytes
	s.pendingRecords -= int64(len(g.sizes) - i)
	s.mu.Unlock()
	g.err = err
	close(g.done)
}

// Next returns up to maxRecords records (and up to maxBytes of payload,
// but always at least one record) after the read cursor, blocking until at
// least one is durable or ctx ends. maxRecords or maxBytes <= 0 means no
// limit. The returned payloads are owned by the caller.
func (s *Spool) Next(ctx context.Context, maxRecords int, maxBytes int) ([]Record, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.readMu.Lock()
		recs, wait, err := s.readBatch(maxRecords, maxBytes)
		s.readMu.Unlock()
		if err != nil || len(recs) > 0 {
			return recs, err
		}
		if wait == nil {
			continue // only corrupt records were found; look further
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.stop:
			return nil, ErrClosed
		}
	}
}

// readBatch reads the next batch from one segment. With nothing to read it
// returns a channel that is closed when more records become durable.
// Callers hold readMu.
func (s *Spool) readBatch(maxRecords, maxBytes int) ([]Record, <-chan struct{}, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, nil, ErrClosed
	}
	sg, i := s.locate(s.readSeq)
	if sg == nil {
		wait := s.dataReady
		s.mu.Unlock()
		return nil, wait, nil
	}
	j, bytes := i, 0
	for j < len(sg.recs) {
		n := int(sg.recs[j].n)
		if j > i && ((maxRecords > 0 && j-i >= maxRecords) || (maxBytes > 0 && bytes+n > maxBytes)) {
			break
		}
		bytes += n
		j++
	}
	// The flusher only ever appends to sg.recs, so this window stays valid
	// after unlocking.
	refs := sg.recs[i:j]
	f := sg.f
	s.mu.Unlock()

	if f == nil {
		var err error
		if f, err = s.openForRead(sg); err != nil {
			return nil, nil, err
		}
	}
	start := int64(refs[0].off)
	buf := make([]byte, refs[len(refs)-1].frameEnd()-start)
	if _, err := f.ReadAt(buf, start); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("spool: read segment %s: %w", sg.path, err)
	}
	out := make([]Record, 0, len(refs))
	var corrupt uint64
	for _, r := range refs {
		seq, payload, _, err := decodeFrame(buf[int64(r.off)-start:])
		if err == nil && (seq != r.seq || len(payload) != int(r.n)) {
			err = fmt.Errorf("header changed on disk: seq %d, %d bytes", seq, len(payload))
		}
		if err != nil {
			corrupt++
			s.log.Error("spool: record failed its check on read, skipped", "segment", sg.path, "seq", r.seq, "offset", r.off, "err", err)
			continue
		}
		out = append(out, Record{Seq: seq, Payload: payload[:len(payload):len(payload)]})
	}

	last := refs[len(refs)-1].seq
	s.mu.Lock()
	s.corrupt += corrupt
	s.readSeq = last + 1
	s.handedOut = max(s.handedOut, last)
	s.mu.Unlock()
	return out, nil, nil
}

func (s *Spool) openForRead(sg *segment) (*os.File, error) {
	f, err := os.Open(sg.path)
	if err != nil {
		return nil, fmt.Errorf("spool: open segment for read: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sg.f != nil {
		f.Close()
		return sg.f, nil
	}
	sg.f = f
	return f, nil
}

// locate finds the first durable record with seq >= seq. Callers hold mu.
func (s *Spool) locate(seq uint64) (*segment, int) {
	segs := s.segments
	k := sort.Search(len(segs), func(k int) bool { return segs[k].firstSeq > seq }) - 1
	for k = max(k, 0); k < len(segs); k++ {
		recs := segs[k].recs
		i := sort.Search(len(recs), func(i int) bool { return recs[i].seq >= seq })
		if i < len(recs) {
			return segs[k], i
		}
	}
	return nil, 0
}

// Rewind moves the read cursor back to the first un-committed record, so a
// writer whose store write failed can read the same records again.
func (s *Spool) Rewind() {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readSeq = s.committed + 1
}

// Commit records that every seq <= seq is stored downstream: it persists the
// commit point (fsync), frees the space counted against MaxBytes and deletes
// segment files that hold only committed records. Committing a seq that Next
// has not handed out yet is an error; committing an older one is a no-op.
func (s *Spool) Commit(seq uint64) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if seq <= s.committed {
		s.mu.Unlock()
		return nil
	}
	if seq > s.handedOut {
		handed := s.handedOut
		s.mu.Unlock()
		return fmt.Errorf("spool: commit %d beyond last handed-out seq %d", seq, handed)
	}
	cp := commitPoint{committed: seq, highWater: s.nextSeq - 1}
	s.mu.Unlock()

	if err := writeCommitPoint(s.opts.Dir, cp); err != nil {
		return fmt.Errorf("spool: commit %d: %w", seq, err)
	}

	s.readMu.Lock()
	defer s.readMu.Unlock()
	s.mu.Lock()
	var bytes, records int64
	if sg, i := s.locate(s.committed + 1); sg != nil {
		k := sort.Search(len(s.segments), func(k int) bool { return s.segments[k].firstSeq >= sg.firstSeq })
	count:
		for ; k < len(s.segments); k, i = k+1, 0 {
			for _, r := range s.segments[k].recs[i:] {
				if r.seq > seq {
					break count
				}
				bytes += int64(frameSize(int(r.n)))
				records++
			}
		}
	}
	s.committed = seq
	s.pendingBytes -= bytes
	s.pendingRecords -= records
	s.committedCount += uint64(records)
	s.readSeq = max(s.readSeq, seq+1)
	var dead []*segment
	for len(s.segments) > 0 && s.segments[0].sealed && s.segments[0].lastSeq() <= seq {
		dead = append(dead, s.segments[0])
		s.segments = s.segments[1:]
	}
	s.mu.Unlock()

	var errs []error
	for _, sg := range dead {
		if sg.f != nil {
			sg.f.Close()
		}
		if err := removeFile(sg.path); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("spool: commit %d: %w", seq, err)
	}
	return nil
}

// Stats returns a snapshot of the spool's counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		PendingBytes:   s.pendingBytes,
		PendingRecords: s.pendingRecords,
		Appended:       s.appended,
		Committed:      s.committedCount,
		LastSeq:        s.durableSeq,
		CommittedSeq:   s.committed,
		Segments:       len(s.segments),
		Flushes:        s.flushes,
		CorruptRecords: s.corrupt,
		TruncatedBytes: s.truncated,
	}
	for _, sg := range s.segments {
		st.DiskBytes += sg.size
	}
	return st
}

// Close stops the flusher and releases the directory. Appends not yet
// picked up by the flusher fail with ErrClosed; blocked Next calls return
// ErrClosed. Calling Close again returns nil.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	close(s.stop)
	<-s.flusherDone

	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.readMu.Lock()
	defer s.readMu.Unlock()
	err := s.closeFiles()
	if lerr := s.lock.Close(); lerr != nil {
		err = errors.Join(err, fmt.Errorf("spool: release lock: %w", lerr))
	}
	return err
}

func (s *Spool) closeFiles() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, sg := range s.segments {
		if sg.f != nil {
			if err := sg.f.Close(); err != nil {
				errs = append(errs, fmt.Errorf("spool: close segment: %w", err))
			}
			sg.f = nil
		}
	}
	return errors.Join(errs...)
}
