// Package writer drains the spool into the store: the one goroutine that
// turns acknowledged batches into stored rows, exactly once.
package writer

import (
	"context"

	"errors"
	"fmt"
	jsonv2 "github.com/go-json-experiment/json"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/receiver/xraydoc"
	"github.com/sightline/sightline/internal/spool"
	"github.com/sightline/sightline/internal/store"
)

// Encode is the spool payload of a batch. JSON keeps the spool readable
// with standard tools; the v2 codec keeps it off the hot path's profile.
func Encode(b *model.Batch) ([]byte, error) {
	p, err := jsonv2.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	return p, nil
}

// Decode reverses Encode.
func Decode(p []byte) (*model.Batch, error) {
	var b model.Batch
	if err := jsonv2.Unmarshal(p, &b); err != nil {
		return nil, fmt.Errorf("decode spooled batch: %w", err)
	}
	return &b, nil
}

// Sink is what receivers call: it appends a batch to the spool and returns
// once it is durable.
type Sink struct{ Spool *spool.Spool }

// Accept implements the receivers' sink interfaces.
func (s Sink) Accept(ctx context.Context, b *model.Batch) error {
	p, err := Encode(b)
	if err != nil {
		return err
	}
	if _, err := s.Spool.Append(ctx, p); err != nil {
		return fmt.Errorf("spool batch: %w", err)
	}
	return nil
}

// AcceptSegments adapts X-Ray receivers, which hand over segments only.
// A full spool is reported as xraydoc.ErrSinkFull so PutTraceSegments
// answers 429 and the daemon receiver counts it as such.
func (s Sink) AcceptSegments(ctx context.Context, recs []model.SegmentRecord) error {
	err := s.Accept(ctx, &model.Batch{Segments: recs})
	if errors.Is(err, spool.ErrFull) {
		return fmt.Errorf("%w: %w", xraydoc.ErrSinkFull, err)
	}
	return err
}

// Options tunes batching into the store.
type Options struct {
	MaxRows       int
	FlushInterval time.Duration
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
	// OnReplay is told about every RUM batch id replayed from the spool
	// that the store did not have yet, so dedup survives restarts.
	OnReplay func(appMonitorID, batchID string)
}

// Writer moves spool records into the store.
type Writer struct {
	sp      *spool.Spool
	st      store.Writer
	opts    Options
	log     *slog.Logger
	healthy atomic.Bool
	lastErr atomic.Value // string
	rows    *prometheus.CounterVec
	writes  *prometheus.CounterVec
	lag     prometheus.GaugeFunc
}

// New builds a writer; call Run to start it.
func New(sp *spool.Spool, st store.Writer, opts Options) *Writer {
	if opts.MaxRows <= 0 {
		opts.MaxRows = 20000
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 200 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Writer{sp: sp, st: st, opts: opts, log: opts.Logger,
		rows:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sightline_store_rows_written_total", Help: "Rows written to the store by kind."}, []string{"kind"}),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sightline_store_writes_total", Help: "Store write transactions by outcome."}, []string{"outcome"}),
	}
	w.lag = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sightline_spool_pending_bytes", Help: "Acknowledged bytes not yet in the store."},
		func() float64 { return float64(sp.Stats().PendingBytes) })
	w.healthy.Store(true)
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(w.rows, w.writes, w.lag,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sightline_spool_pending_records", Help: "Acknowledged batches not yet in the store."},
				func() float64 { return float64(sp.Stats().PendingRecords) }))
	}
	return w
}

// Healthy reports whether the last store write succeeded, and why not.
func (w *Writer) Healthy() (bool, string) {
	if w.healthy.Load() {
		return true, ""
	}
	msg, _ := w.lastErr.Load().(string)
	return false, msg
}

// chunk is a run of decoded spool records, in seq order.
type chunk struct {
	lastSeq uint64
	batches []*model.Batch
	rows    int
}

// Run drains the spool until ctx ends; then it keeps draining what is
// already durable for up to drainTimeout, so a graceful shutdown stores
// everything that was acknowledged. Decoding runs in its own goroutine so
// it overlaps with the store's appends.
func (w *Writer) Run(ctx context.Context, drainTimeout time.Duration) error {
	applied, err := w.st.AppliedSeq(ctx)
	if err != nil {
		return fmt.Errorf("read applied seq: %w", err)
	}
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go func() {
		<-ctx.Done()
		t := time.NewTimer(drainTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-dctx.Done():
		}
	}()
	chunks := make(chan chunk, 4)
	go w.read(ctx, dctx, applied, chunks)

	var pending chunk
	flush := func() bool {
		if pending.lastSeq == 0 {
			return true
		}
		ok := w.store(dctx, &pending)
		if ok {
			applied = pending.lastSeq
			pending = chunk{}
		}
		return ok
	}
	ticker := time.NewTicker(w.opts.FlushInterval)
	defer ticker.Stop()
	for {
		select {
		case c, open := <-chunks:
			if !open {
				if !flush() {
					w.log.Warn("shutdown with batches not stored; they stay in the spool for the next start")
				}
				if n := w.sp.Stats().PendingRecords; n > 0 {
					w.log.Warn("shutdown left batches in the spool; they are stored at next start", "records", n)
				}
				return nil
			}
			pending.lastSeq = c.lastSeq
			pending.batches = append(pending.batches, c.batches...)
			pending.rows += c.rows
			if pending.rows >= w.opts.MaxRows {
				if !flush() {
					return nil
				}
			}
		case <-ticker.C:
			if !flush() {
				return nil
			}
		}
	}
}

// read hands decoded records to the store loop until ctx ends, then until
// the spool has nothing durable left (or dctx ends), then closes out.
func (w *Writer) read(ctx, dctx context.Context, applied uint64, out chan<- chunk) {
	defer close(out)
	for dctx.Err() == nil {
		nctx, cancel := ctx, context.CancelFunc(func() {})
		if ctx.Err() != nil {
			// Draining: stop once everything durable is stored.
			if w.sp.Stats().PendingRecords == 0 {
				return
			}
			nctx, cancel = context.WithTimeout(dctx, 50*time.Millisecond)
		}
		recs, err := w.sp.Next(nctx, 0, 16<<20)
		cancel()
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			continue
		case errors.Is(err, spool.ErrClosed):
			return
		default:
			w.log.Error("read spool", "err", err)
			if !sleep(dctx, time.Second) {
				return
			}
			continue
		}
		c := chunk{}
		for _, r := range recs {
			c.lastSeq = r.Seq
			if r.Seq <= applied {
				continue // stored before a crash; the spool commit lagged
			}
			b, err := Decode(r.Payload)
			if err != nil {
				// A record that cannot be decoded can never be stored;
				// skipping it beats blocking every later batch.
				w.log.Error("skip undecodable spool record", "seq", r.Seq, "err", err)
				continue
			}
			if b.RumBatchID != "" && w.opts.OnReplay != nil {
				w.opts.OnReplay(b.AppMonitorID, b.RumBatchID)
			}
			c.rows += len(b.Rum) + len(b.Segments)
			c.batches = append(c.batches, b)
		}
		if c.lastSeq <= applied {
			// Only records the store already had (a replay after a crash
			// between store write and spool commit): release them.
			if err := w.sp.Commit(c.lastSeq); err != nil {
				w.log.Error("commit replayed spool records", "seq", c.lastSeq, "err", err)
			}
			continue
		}
		select {
		case out <- c:
		case <-dctx.Done():
			return
		}
	}
}

// store writes a pending chunk, retrying while the store fails; it gives
// up only when dctx ends, leaving the records in the spool.
func (w *Writer) store(dctx context.Context, c *chunk) bool {
	for {
		err := w.st.Write(dctx, c.lastSeq, c.batches)
		if err == nil {
			break
		}
		w.writes.WithLabelValues("error").Inc()
		w.healthy.Store(false)
		w.lastErr.Store(err.Error())
		w.log.Error("store write failed; keeping batches in the spool and retrying", "err", err, "batches", len(c.batches))
		if !sleep(dctx, time.Second) {
			return false
		}
	}
	w.healthy.Store(true)
	w.writes.WithLabelValues("ok").Inc()
	for _, b := range c.batches {
		w.rows.WithLabelValues("rum_event").Add(float64(len(b.Rum)))
		w.rows.WithLabelValues("segment").Add(float64(len(b.Segments)))
	}
	if err := w.sp.Commit(c.lastSeq); err != nil {
		w.log.Error("commit spool", "seq", c.lastSeq, "err", err)
	}
	return true
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Prime tells OnReplay about every RUM batch still in the spool, before
// ingest opens: a client retry of a batch acknowledged just before a crash
// may arrive before the writer has replayed that batch, and must still be
// recognised as a duplicate.
func (w *Writer) Prime(ctx context.Context) error {
	if w.opts.OnReplay == nil {
		return nil
	}
	defer w.sp.Rewind()
	for w.sp.Stats().PendingRecords > 0 {
		nctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		recs, err := w.sp.Next(nctx, 1000, 64<<20)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("prime dedup from spool: %w", err)
		}
		for _, r := range recs {
			b, err := Decode(r.Payload)
			if err != nil || b.RumBatchID == "" {
				continue
			}
			w.opts.OnReplay(b.AppMonitorID, b.RumBatchID)
		}
	}
	return nil
}
