package xraydaemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// MaxSamplingRequestBytes bounds a sampling request body on the TCP port.
const MaxSamplingRequestBytes = 1 << 20

// TCPHandler serves the daemon's TCP port: the SDKs' sampling calls
// (POST /GetSamplingRules, POST /SamplingTargets), passed to sampling
// unchanged. SDKs send them unsigned.
func TCPHandler(sampling http.Handler) http.Handler {
	mux := http.NewServeMux()
	pass := http.MaxBytesHandler(sampling, MaxSamplingRequestBytes)
	mux.Handle("POST /GetSamplingRules", pass)
	mux.Handle("POST /SamplingTargets", pass)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "UnknownOperationException")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"__type":"UnknownOperationException","message":"the daemon port serves POST /GetSamplingRules and POST /SamplingTargets"}`)
	})
	return mux
}

// Serve runs the whole daemon address: UDP datagrams on udp, the sampling
// handler on tcp. It returns when ctx is done (after flushing what UDP
// already read) or when either side fails. It closes neither socket's
// owner-side resources except by shutting down the HTTP server on tcp.
func (r *Receiver) Serve(ctx context.Context, udp net.PacketConn, tcp net.Listener, sampling http.Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{
		Handler:           TCPHandler(sampling),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(tcp); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("xray tcp: %w", err)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		if err := r.ServeUDP(ctx, udp); err != nil {
			errs <- fmt.Errorf("xray udp: %w", err)
			cancel()
		}
	}()
	<-ctx.Done()
	shutdownCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer stop()
	_ = srv.Shutdown(shutdownCtx)
	wg.Wait()
	close(errs)
	return <-errs
}
