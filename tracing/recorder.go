package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

const sdkName = "Sightline Go tracing"

// Config configures a Recorder. The zero value of every field has a working default.
type Config struct {
	// ServiceName names the segments (default: AWS_XRAY_TRACING_NAME, else the executable name).
	ServiceName string
	// DaemonAddress is "host:port" or "tcp:host:port udp:host:port"
	// (default: AWS_XRAY_DAEMON_ADDRESS, else 127.0.0.1:2000).
	DaemonAddress string
	// Sampler decides for requests that arrive without a decision. Default: centralized
	// sampling rules from the daemon's TCP address with the 1/s + 5% local fallback.
	Sampler Sampler
	// QueueSize bounds the datagrams waiting to be sent (default 1024); more are dropped.
	QueueSize int
	// MaxSubsegments is how many subsegments a segment holds before completed ones are
	// streamed as independent subsegments (default 20, as aws-xray-sdk-go).
	MaxSubsegments int
	// RecoverPanics makes the middleware answer 500 after recording a panic instead of
	// panicking again (default: re-panic, so net/http's own handling still applies).
	RecoverPanics bool
	// Origin sets the segment origin, e.g. "AWS::EC2::Instance".
	Origin string
	// ServiceVersion is recorded as service.version.
	ServiceVersion string
	// Logger receives operational messages (default slog.Default()).
	Logger *slog.Logger
	// Clock replaces time.Now, for tests.
	Clock func() time.Time
}

// Recorder records segments and sends them to an X-Ray daemon (or Sightline). It owns a
// sender goroutine and, with centralized sampling, a poller; Close stops both.
type Recorder struct {
	serviceName    string
	origin         string
	serviceVersion string
	maxSubsegments int
	recoverPanics  bool
	workingDir     string
	sampler        Sampler
	logger         *slog.Logger
	clock          func() time.Time
	emitter        *emitter

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	connOnce sync.Once
	connErr  error
}

// runner is implemented by samplers that poll a server (CentralizedSampler).
type runner interface {
	Run(ctx context.Context)
}

// New creates a Recorder and starts its goroutines; they stop when ctx ends or Close
// is called.
func New(ctx context.Context, cfg Config) (*Recorder, error) {
	r := &Recorder{
		serviceName:    cfg.ServiceName,
		origin:         cfg.Origin,
		serviceVersion: cfg.ServiceVersion,
		maxSubsegments: cfg.MaxSubsegments,
		recoverPanics:  cfg.RecoverPanics,
		sampler:        cfg.Sampler,
		logger:         cfg.Logger,
		clock:          cfg.Clock,
	}
	if r.serviceName == "" {
		r.serviceName = os.Getenv("AWS_XRAY_TRACING_NAME")
	}
	if r.serviceName == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("tracing: no ServiceName and no executable name: %w", err)
		}
		r.serviceName = baseName(exe)
	}
	r.serviceName = truncateName(r.serviceName)
	if r.maxSubsegments <= 0 {
		r.maxSubsegments = 20
	}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	if r.clock == nil {
		r.clock = time.Now
	}
	r.workingDir, _ = os.Getwd()
	addrText := cfg.DaemonAddress
	if addrText == "" {
		addrText = os.Getenv("AWS_XRAY_DAEMON_ADDRESS")
	}
	if addrText == "" {
		addrText = "127.0.0.1:2000"
	}
	addr, err := ParseDaemonAddress(addrText)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	queue := cfg.QueueSize
	if queue <= 0 {
		queue = 1024
	}
	r.emitter, err = newEmitter(addr.UDP, queue, r.logger)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	if r.sampler == nil {
		r.sampler = NewCentralizedSampler(CentralizedConfig{
			Endpoint:    "http://" + addr.TCP,
			ServiceName: r.serviceName,
			Logger:      r.logger,
		})
	}
	runCtx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.emitter.run(runCtx)
	}()
	if p, ok := r.sampler.(runner); ok {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			p.Run(runCtx)
		}()
	}
	return r, nil
}

// Close stops the goroutines after sending what is queued. It returns ctx's error if
// ctx ends first; the goroutines still stop.
func (r *Recorder) Close(ctx context.Context) error {
	r.once.Do(func() {
		r.emitter.closed.Store(true)
		r.cancel()
	})
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		r.connOnce.Do(func() { r.connErr = r.emitter.conn.Close() })
		return r.connErr
	case <-ctx.Done():
		return fmt.Errorf("tracing: close: %w", ctx.Err())
	}
}

// Dropped returns how many documents were not sent: queue full, closed, send errors
// or too large for a datagram.
func (r *Recorder) Dropped() uint64 { return r.emitter.dropped.Load() }

// Sent returns how many datagrams were written to the daemon socket.
func (r *Recorder) Sent() uint64 { return r.emitter.sent.Load() }

// ServiceName returns the name given to segments.
func (r *Recorder) ServiceName() string { return r.serviceName }

func (r *Recorder) now() time.Time { return r.clock() }

// BeginSegment starts a segment outside of an HTTP request (a job, a queue consumer).
// The caller must End it. A zero header starts a new trace and asks the sampler.
func (r *Recorder) BeginSegment(ctx context.Context, name string, h TraceHeader) (context.Context, *Span) {
	if name == "" {
		name = r.serviceName
	}
	s := r.newSegment(name, h, SamplingRequest{ServiceName: r.serviceName})
	return ContextWithSpan(ctx, s), s
}

func (r *Recorder) newSegment(name string, h TraceHeader, req SamplingRequest) *Span {
	sampled := h.Decision == DecisionSampled
	if h.Decision == DecisionUnknown || h.Decision == DecisionRequested || h.TraceID == "" {
		sampled = r.sampler.Sample(req).Sampled
	}
	var now time.Time
	if sampled || h.TraceID == "" {
		now = r.now()
	}
	traceID := h.TraceID
	if traceID == "" {
		traceID = newTraceID(now)
	}
	if !sampled {
		return &Span{rec: r, traceID: traceID, extra: h.Extra}
	}
	parentID := h.ParentID
	if parentID == zeroParentID {
		parentID = ""
	}
	return &Span{
		rec:      r,
		tree:     &tree{},
		sampled:  true,
		traceID:  traceID,
		id:       newID(),
		parentID: parentID,
		extra:    h.Extra,
		spanData: &spanData{name: truncateName(name), start: now},
	}
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' || p[i] == '\\' {
			return p[i+1:]
		}
	}
	return p
}
