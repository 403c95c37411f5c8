// Command xraysdkapp is a two-service shop instrumented with the official
// aws-xray-sdk-go, used by the end-to-end tests: "front" calls "inventory"
// through xray.Client. It sends to AWS_XRAY_DAEMON_ADDRESS like any real
// service, serves until stdin closes or -requests are done, and prints the
// trace ids it produced, one per line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-xray-sdk-go/v2/xray"
)

func main() {
	requests := flag.Int("requests", 5, "requests to send to front before exiting; 0 serves until stdin closes")
	flag.Parse()
	if err := run(*requests); err != nil {
		fmt.Fprintln(os.Stderr, "xraysdkapp:", err)
		os.Exit(1)
	}
}

func listen() (net.Listener, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	return ln, ln.Addr().String(), nil
}

func run(requests int) error {
	if err := xray.Configure(xray.Config{ServiceVersion: "1.2.3"}); err != nil {
		return err
	}
	invLn, invAddr, err := listen()
	if err != nil {
		return err
	}
	inventory := xray.Handler(xray.NewFixedSegmentNamer("inventory"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = xray.AddAnnotation(r.Context(), "warehouse", "north")
		if r.URL.Query().Get("sku") == "missing" {
			http.Error(w, "no such sku", http.StatusNotFound)
			return
		}
		fmt.Fprint(w, `{"stock":3}`)
	}))
	go func() { _ = http.Serve(invLn, inventory) }()

	client := xray.Client(nil)
	frontLn, frontAddr, err := listen()
	if err != nil {
		return err
	}
	front := xray.Handler(xray.NewFixedSegmentNamer("front"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		_ = xray.AddAnnotation(ctx, "customer", "acme")
		_ = xray.AddAnnotation(ctx, "cart_items", 3)
		_ = xray.AddMetadata(ctx, "cart", map[string]any{"skus": []string{"a", "b"}})
		if seg := xray.GetSegment(ctx); seg != nil {
			seg.User = "user-42"
		}
		// More than 20 subsegments make the SDK stream independent ones.
		for i := 0; i < 22; i++ {
			_ = xray.Capture(ctx, fmt.Sprintf("step-%02d", i), func(context.Context) error { return nil })
		}
		sku := r.URL.Query().Get("sku")
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+invAddr+"/stock?sku="+sku, nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if r.URL.Query().Get("fail") == "1" {
			_ = xray.Capture(ctx, "charge-card", func(context.Context) error { return errors.New("card declined") })
			http.Error(w, "payment failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	}))
	// CORS so a browser page on another origin may send the trace header.
	withCORS := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Allow-Headers", "content-type, x-amzn-trace-id")
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		front.ServeHTTP(w, r)
	})
	go func() { _ = http.Serve(frontLn, withCORS) }()
	fmt.Println("front", frontAddr)

	if requests == 0 {
		_, _ = io.Copy(io.Discard, os.Stdin)
		time.Sleep(time.Second) // let the emitter send the last segments
		return nil
	}
	for i := 0; i < requests; i++ {
		path := "/checkout?sku=a"
		switch {
		case i%5 == 3:
			path = "/checkout?sku=missing"
		case i%5 == 4:
			path = "/pay?sku=a&fail=1"
		}
		resp, err := http.Get("http://" + frontAddr + path)
		if err != nil {
			return err
		}
		resp.Body.Close()
		h := resp.Header.Get("X-Amzn-Trace-Id")
		root := ""
		for _, part := range strings.Split(h, ";") {
			if strings.HasPrefix(part, "Root=") {
				root = strings.TrimPrefix(part, "Root=")
			}
		}
		fmt.Printf("trace %s %d\n", root, resp.StatusCode)
	}
	time.Sleep(time.Second)
	return nil
}
