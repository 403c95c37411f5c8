// Package writer drains the spool into the store: the one goroutine that
// turns acknowledged batches into stored rows, exactly once.
package writer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/receiver/xraydoc"
	"github.com/sightline/sightline/internal/spool"
	"github.com/sightline/sightline/internal/store"
)

// Encode is the spool payload of a batch.
func Encode(b *model.Batch) ([]byte, error) {
	p, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	return p, nil
}

// Decode reverses Encode.
func Decode(p []byte) (*model.Batch, error) {
	var b model.Batch
	if err := json.Unmarshal(p, &b); err != nil {
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

// Run drains the spool until ctx ends; then it keeps draining what is
// already durable for up to drainTimeout, so a graceful shutdown stores
// everything that was acknowledged.
func (w *Writer) Run(ctx context.Context, drainTimeout time.Duration) error {
	applied, err := w.st.AppliedSeq(ctx)
	if err != nil {
		return fmt.Errorf("read applied seq: %w", err)
	}
	for ctx.Err() == nil {
		applied = w.step(ctx, applied, true)
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	for dctx.Err() == nil && w.sp.Stats().PendingRecords > 0 {
		before := applied
		applied = w.step(dctx, applied, false)
		if applied == before && !w.healthy.Load() {
			break
		}
	}
	if n := w.sp.Stats().PendingRecords; n > 0 {
		w.log.Warn("shutdown left batches in the spool; they are stored at next start", "records", n)
	}
	return nil
}

// step reads one round of records and stores them; it returns the new
// applied seq.
func (w *Writer) step(ctx context.Context, applied uint64, wait bool) uint64 {
	nctx := ctx
	if !wait {
		var cancel context.CancelFunc
		nctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
	}
	recs, err := w.sp.Next(nctx, 0, 64<<20)
	if err != nil {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			w.log.Error("read spool", "err", err)
			sleep(ctx, time.Second)
		}
		return applied
	}
	rows := 0
	var batches []*model.Batch
	lastSeq := applied
	deadline := time.Now().Add(w.opts.FlushInterval)
	for {
		for _, r := range recs {
			lastSeq = r.Seq
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
			rows += len(b.Rum) + len(b.Segments)
			batches = append(batches, b)
		}
		if rows >= w.opts.MaxRows || time.Now().After(deadline) {
			break
		}
		gctx, cancel := context.WithDeadline(ctx, deadline)
		recs, err = w.sp.Next(gctx, 0, 64<<20)
		cancel()
		if err != nil {
			break
		}
	}
	if lastSeq <= applied {
		// Only records the store already had (a replay after a crash
		// between store write and spool commit): release them.
		if err := w.sp.Commit(lastSeq); err != nil {
			w.log.Error("commit replayed spool records", "seq", lastSeq, "err", err)
		}
		return applied
	}
	for {
		err := w.st.Write(ctx, lastSeq, batches)
		if err == nil {
			break
		}
		w.writes.WithLabelValues("error").Inc()
		w.healthy.Store(false)
		w.lastErr.Store(err.Error())
		w.log.Error("store write failed; keeping batches in the spool and retrying", "err", err, "batches", len(batches))
		if !sleep(ctx, time.Second) {
			w.sp.Rewind()
			return applied
		}
	}
	w.healthy.Store(true)
	w.writes.WithLabelValues("ok").Inc()
	for _, b := range batches {
		w.rows.WithLabelValues("rum_event").Add(float64(len(b.Rum)))
		w.rows.WithLabelValues("segment").Add(float64(len(b.Segments)))
	}
	if err := w.sp.Commit(lastSeq); err != nil {
		w.log.Error("commit spool", "seq", lastSeq, "err", err)
	}
	return lastSeq
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
