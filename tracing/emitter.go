package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
)

// DaemonAddress is where segments (UDP) and sampling requests (TCP) go.
type DaemonAddress struct {
	UDP string // host:port
	TCP string // host:port
}

// ParseDaemonAddress parses AWS_XRAY_DAEMON_ADDRESS syntax: "host:port" for both
// protocols, or "tcp:host:port udp:host:port" in either order.
func ParseDaemonAddress(s string) (DaemonAddress, error) {
	s = strings.TrimSpace(s)
	fields := strings.Fields(s)
	switch len(fields) {
	case 1:
		if _, _, err := net.SplitHostPort(fields[0]); err != nil {
			return DaemonAddress{}, fmt.Errorf("daemon address %q: %w", s, err)
		}
		return DaemonAddress{UDP: fields[0], TCP: fields[0]}, nil
	case 2:
		var a DaemonAddress
		for _, f := range fields {
			proto, addr, ok := strings.Cut(f, ":")
			if !ok {
				return DaemonAddress{}, fmt.Errorf("daemon address %q: want tcp:host:port udp:host:port", s)
			}
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return DaemonAddress{}, fmt.Errorf("daemon address %q: %w", s, err)
			}
			switch strings.ToLower(proto) {
			case "tcp":
				a.TCP = addr
			case "udp":
				a.UDP = addr
			default:
				return DaemonAddress{}, fmt.Errorf("daemon address %q: unknown protocol %q", s, proto)
			}
		}
		if a.TCP == "" || a.UDP == "" {
			return DaemonAddress{}, fmt.Errorf("daemon address %q: want both tcp: and udp:", s)
		}
		return a, nil
	}
	return DaemonAddress{}, fmt.Errorf("daemon address %q: want host:port or tcp:host:port udp:host:port", s)
}

// emitter owns one goroutine that writes queued datagrams to the daemon. enqueue never
// blocks: when the queue is full the datagram is dropped and counted, because a slow
// tracing backend must not slow down requests.
type emitter struct {
	conn    net.Conn
	queue   chan []byte
	logger  *slog.Logger
	dropped atomic.Uint64
	sent    atomic.Uint64
	closed  atomic.Bool
	done    chan struct{}
}

func newEmitter(udpAddr string, queueSize int, logger *slog.Logger) (*emitter, error) {
	conn, err := net.Dial("udp", udpAddr)
	if err != nil {
		return nil, fmt.Errorf("dial daemon %s: %w", udpAddr, err)
	}
	return &emitter{
		conn:   conn,
		queue:  make(chan []byte, queueSize),
		logger: logger,
		done:   make(chan struct{}),
	}, nil
}

func (e *emitter) enqueue(b []byte) {
	if e.closed.Load() {
		e.dropped.Add(1)
		return
	}
	select {
	case e.queue <- b:
	default:
		e.dropped.Add(1)
	}
}

func (e *emitter) countDrop() { e.dropped.Add(1) }

// run sends until ctx ends, then flushes what is already queued.
func (e *emitter) run(ctx context.Context) {
	defer close(e.done)
	for {
		select {
		case b := <-e.queue:
			e.write(b)
		case <-ctx.Done():
			for {
				select {
				case b := <-e.queue:
					e.write(b)
				default:
					return
				}
			}
		}
	}
}

func (e *emitter) write(b []byte) {
	if _, err := e.conn.Write(b); err != nil {
		// UDP reports an absent daemon (ICMP refused) on a later write; count and go on.
		e.dropped.Add(1)
		e.logger.Debug("tracing: send segment", "err", err)
		return
	}
	e.sent.Add(1)
}
