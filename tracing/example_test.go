package tracing_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/sightline/sightline/tracing"
)

// A service that a browser calls cross-origin with X-Amzn-Trace-Id, and that calls
// another service in the same trace.
func Example() {
	ctx := context.Background()
	rec, err := tracing.New(ctx, tracing.Config{
		ServiceName:   "orders-api",
		DaemonAddress: "127.0.0.1:2000", // or leave empty to read AWS_XRAY_DAEMON_ADDRESS
		// Sampler: tracing.NewLocalSampler(1, 0.05), // instead of centralized rules
	})
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		rec.Close(ctx) // sends what is still queued
	}()

	// Outbound calls made with the request's context join the trace.
	client := &http.Client{Transport: &tracing.Transport{Traceparent: true}}

	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seg := tracing.FromContext(r.Context())
		seg.AddAnnotation("customer", "acme")

		ctx, sub := tracing.Start(r.Context(), "price")
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://pricing.internal/quote", nil)
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		} else {
			sub.SetError(err)
		}
		sub.End()
		io.WriteString(w, `{"ok":true}`)
	})

	// CORS outermost, so preflights are answered before tracing starts.
	handler := tracing.CORS(tracing.CORSConfig{
		AllowedOrigins: []string{"https://shop.example.com", "https://*.shop.example.com"},
		AllowedHeaders: []string{"content-type"},
	}, rec.Middleware(api))

	http.Handle("/orders", handler)
	// http.ListenAndServe(":8080", nil)
}

// With a CORS middleware already in place, wrap it so that it also allows the trace headers.
func ExampleAllowTraceHeaders() {
	var existingCORS func(http.Handler) http.Handler // e.g. cors.New(...).Handler from rs/cors
	existingCORS = func(h http.Handler) http.Handler { return h }
	var app http.Handler = http.NotFoundHandler()
	http.Handle("/api/", tracing.AllowTraceHeaders(existingCORS(app)))
}
