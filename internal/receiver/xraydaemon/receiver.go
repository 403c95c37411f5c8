// Package xraydaemon speaks the X-Ray daemon protocol: segment documents in
// UDP datagrams, and the SDKs' sampling calls over TCP on the same address.
package xraydaemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/receiver/xraydoc"
)

// Sink is where accepted documents go; see xraydoc.Sink.
type Sink = xraydoc.Sink

// Defaults for Options.
const (
	DefaultQueueSize       = 32768
	DefaultBatchSize       = 1000
	DefaultBatchWait       = 20 * time.Millisecond
	DefaultReadBufferBytes = 8 << 20
	DefaultFlushTimeout    = 5 * time.Second
)

// Options configure a Receiver. Only Sink is required.
type Options struct {
	Sink Sink
	// Registerer gets the receiver's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// QueueSize bounds the datagrams read but not yet decoded; past it
	// datagrams are dropped (queue_full) so the socket reader never waits.
	QueueSize int
	// BatchSize and BatchWait bound how many documents, and for how long,
	// a batch gathers before it goes to the Sink.
	BatchSize int
	BatchWait time.Duration
	// Readers is the number of goroutines reading the socket (default 1).
	Readers int
	// Decoders is the number of goroutines decoding and batching (default 1).
	Decoders int
	// FlushTimeout bounds the last Sink call at shutdown.
	FlushTimeout time.Duration
	// Now is the clock for ReceivedAtMicros (default time.Now).
	Now func() time.Time
}

// Stats are the receiver's counters since it was made.
type Stats struct {
	Datagrams uint64 // datagrams read from the socket
	Accepted  uint64 // documents the Sink took
	Batches   uint64 // successful Sink calls
	Dropped   map[Reason]uint64
	QueueLen  int
}

// TotalDropped sums Dropped.
func (s Stats) TotalDropped() uint64 {
	var n uint64
	for _, v := range s.Dropped {
		n += v
	}
	return n
}

// Receiver reads daemon-protocol datagrams and hands valid documents to the
// Sink in batches.
type Receiver struct {
	opts      Options
	log       *slog.Logger
	queue     chan datagram
	datagrams atomic.Uint64
	accepted  atomic.Uint64
	batches   atomic.Uint64
	decoded   atomic.Uint64    // datagrams taken off the queue (benchmark flow control)
	dropped   [6]atomic.Uint64 // indexed like Reasons
	lastWarn  atomic.Int64
}

type datagram struct {
	b  []byte
	at int64 // receive time, µs since epoch
}

// New checks the options and makes a Receiver.
func New(opts Options) (*Receiver, error) {
	if opts.Sink == nil {
		return nil, errors.New("xraydaemon: Options.Sink is required")
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.BatchWait <= 0 {
		opts.BatchWait = DefaultBatchWait
	}
	if opts.Readers <= 0 {
		opts.Readers = 1
	}
	if opts.Decoders <= 0 {
		opts.Decoders = 1
	}
	if opts.FlushTimeout <= 0 {
		opts.FlushTimeout = DefaultFlushTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Receiver{opts: opts, log: opts.Logger.With("component", "xraydaemon"),
		queue: make(chan datagram, opts.QueueSize)}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(&collector{r: r}); err != nil {
			return nil, fmt.Errorf("xraydaemon: register metrics: %w", err)
		}
	}
	return r, nil
}

// ListenUDP opens the UDP socket with a receive buffer of readBuffer bytes
// (DefaultReadBufferBytes when 0) and returns the size the kernel granted:
// bursts beyond it are lost in the kernel before the receiver sees them.
func ListenUDP(addr string, readBuffer int) (*net.UDPConn, int, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, 0, fmt.Errorf("resolve %s: %w", addr, err)
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, 0, fmt.Errorf("listen udp %s: %w", addr, err)
	}
	if readBuffer <= 0 {
		readBuffer = DefaultReadBufferBytes
	}
	got, err := setReadBuffer(c, readBuffer)
	if err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("set receive buffer on %s: %w", addr, err)
	}
	return c, got, nil
}

// ServeUDP reads datagrams from conn until ctx is done, then stops reading,
// hands what it already read to the Sink and returns. It does not close
// conn. It may be called once per Receiver.
func (r *Receiver) ServeUDP(ctx context.Context, conn net.PacketConn) error {
	stop := context.AfterFunc(ctx, func() {
		// Unblocks ReadFrom; the readers then see ctx is done.
		_ = conn.SetReadDeadline(time.Unix(1, 0))
	})
	defer stop()

	var decoders sync.WaitGroup
	for range r.opts.Decoders {
		decoders.Add(1)
		go func() {
			defer decoders.Done()
			r.decodeLoop(ctx)
		}()
	}
	var readers sync.WaitGroup
	errs := make(chan error, r.opts.Readers)
	for range r.opts.Readers {
		readers.Add(1)
		go func() {
			defer readers.Done()
			if err := r.readLoop(ctx, conn); err != nil {
				errs <- err
			}
		}()
	}
	readers.Wait()
	close(r.queue)
	decoders.Wait()
	close(errs)
	return <-errs
}

func (r *Receiver) readLoop(ctx context.Context, conn net.PacketConn) error {
	// One byte more than the largest legal datagram tells truncation apart.
	buf := make([]byte, MaxDatagramBytes+1)
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return fmt.Errorf("read udp: %w", err)
		}
		r.datagrams.Add(1)
		if n > MaxDatagramBytes {
			r.drop(ReasonTooLarge, 1)
			continue
		}
		d := datagram{b: make([]byte, n), at: r.opts.Now().UnixMicro()}
		copy(d.b, buf[:n])
		select {
		case r.queue <- d:
		default:
			r.drop(ReasonQueueFull, 1)
		}
	}
}

func (r *Receiver) decodeLoop(ctx context.Context) {
	batch := make([]model.SegmentRecord, 0, r.opts.BatchSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func(fctx context.Context) {
		if len(batch) == 0 {
			return
		}
		r.send(fctx, batch)
		// The Sink may keep the slice: start a new one.
		batch = make([]model.SegmentRecord, 0, r.opts.BatchSize)
	}
	for {
		select {
		case d, ok := <-r.queue:
			if !ok {
				timer.Stop()
				fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.FlushTimeout)
				flush(fctx)
				cancel()
				return
			}
			seg, body, err := DecodeDatagram(d.b)
			r.decoded.Add(1)
			if err != nil {
				var de *DatagramError
				reason := ReasonBadJSON
				if errors.As(err, &de) {
					reason = de.Reason
				}
				r.drop(reason, 1)
				r.log.Debug("dropped datagram", "reason", reason, "err", err)
				continue
			}
			if len(batch) == 0 {
				timer.Reset(r.opts.BatchWait)
			}
			batch = append(batch, model.SegmentRecord{Segment: seg, Raw: body, ReceivedAtMicros: d.at})
			if len(batch) >= r.opts.BatchSize {
				timer.Stop()
				flush(ctx)
			}
		case <-timer.C:
			flush(ctx)
		}
	}
}

func (r *Receiver) send(ctx context.Context, batch []model.SegmentRecord) {
	if err := r.opts.Sink.AcceptSegments(ctx, batch); err != nil {
		r.drop(ReasonSinkError, len(batch))
		// Rate-limited: a full spool would otherwise log once per batch.
		now := time.Now().Unix()
		if last := r.lastWarn.Load(); now > last && r.lastWarn.CompareAndSwap(last, now) {
			r.log.Warn("segment sink refused a batch; documents dropped", "docs", len(batch), "err", err)
		}
		return
	}
	r.accepted.Add(uint64(len(batch)))
	r.batches.Add(1)
}

func (r *Receiver) drop(reason Reason, n int) {
	for i, rr := range Reasons {
		if rr == reason {
			r.dropped[i].Add(uint64(n))
			return
		}
	}
}

// Stats returns the counters.
func (r *Receiver) Stats() Stats {
	s := Stats{
		Datagrams: r.datagrams.Load(),
		Accepted:  r.accepted.Load(),
		Batches:   r.batches.Load(),
		Dropped:   make(map[Reason]uint64, len(Reasons)),
		QueueLen:  len(r.queue),
	}
	for i, reason := range Reasons {
		s.Dropped[reason] = r.dropped[i].Load()
	}
	return s
}

// collector exports the counters; it reads the same atomics as Stats, so
// the two never disagree.
type collector struct{ r *Receiver }

var (
	descDatagrams = prometheus.NewDesc("sightline_xray_udp_datagrams_total",
		"Datagrams read from the X-Ray UDP socket.", nil, nil)
	descAccepted = prometheus.NewDesc("sightline_xray_udp_segments_accepted_total",
		"Segment documents from UDP handed to the sink.", nil, nil)
	descBatches = prometheus.NewDesc("sightline_xray_udp_batches_total",
		"Batches of UDP segment documents the sink took.", nil, nil)
	descDropped = prometheus.NewDesc("sightline_xray_udp_dropped_total",
		"UDP segment documents dropped, by reason.", []string{"reason"}, nil)
	descQueue = prometheus.NewDesc("sightline_xray_udp_queue_length",
		"Datagrams read but not yet decoded.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descDatagrams
	ch <- descAccepted
	ch <- descBatches
	ch <- descDropped
	ch <- descQueue
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.Stats()
	ch <- prometheus.MustNewConstMetric(descDatagrams, prometheus.CounterValue, float64(s.Datagrams))
	ch <- prometheus.MustNewConstMetric(descAccepted, prometheus.CounterValue, float64(s.Accepted))
	ch <- prometheus.MustNewConstMetric(descBatches, prometheus.CounterValue, float64(s.Batches))
	for _, reason := range Reasons {
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(s.Dropped[reason]), string(reason))
	}
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(s.QueueLen))
}
