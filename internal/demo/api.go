package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/sightline/sightline/tracing"
)

// validCoupons are the codes the coupon endpoint accepts.
var validCoupons = map[string]int{"WELCOME10": 10, "SPRING15": 15}

// couponLimit is how many coupon attempts a session gets per couponWindow
// before the API answers 429.
const (
	couponLimit  = 3
	couponWindow = time.Minute
)

// shopAPI is the service the shop's pages call cross-origin. It calls the
// inventory through tracing.Transport, so both land in one trace.
type shopAPI struct {
	inventoryURL string
	client       *http.Client
	faults       *faultDice
	log          *slog.Logger

	mu       sync.Mutex
	attempts map[string][]time.Time // coupon attempts per session, pruned
}

func newAPI(inventoryURL string, faults *faultDice, log *slog.Logger) *shopAPI {
	return &shopAPI{
		inventoryURL: inventoryURL,
		client:       &http.Client{Transport: &tracing.Transport{}, Timeout: 5 * time.Second},
		faults:       faults,
		log:          log,
		attempts:     map[string][]time.Time{},
	}
}

func (a *shopAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/products", a.products)
	mux.HandleFunc("GET /api/products/{sku}", a.product)
	mux.HandleFunc("GET /api/recommendations", a.recommendations)
	mux.HandleFunc("POST /api/cart", a.addToCart)
	mux.HandleFunc("POST /api/coupon", a.coupon)
	mux.HandleFunc("POST /api/checkout", a.checkout)
	return mux
}

// callInventory makes a traced call and decodes a 2xx JSON answer into out.
// It returns the inventory's status (0 when it could not be reached).
func (a *shopAPI) callInventory(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.inventoryURL+path, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("inventory %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("inventory %s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("inventory %s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// upstreamFailed answers for an inventory failure: its 4xx are the
// client's problem and pass through, anything else is a 502.
func upstreamFailed(w http.ResponseWriter, status int, err error) {
	if status >= 400 && status < 500 {
		writeError(w, status, err.Error())
		return
	}
	writeError(w, http.StatusBadGateway, err.Error())
}

func (a *shopAPI) products(w http.ResponseWriter, r *http.Request) {
	var out []product
	if status, err := a.callInventory(r.Context(), http.MethodGet, "/inventory/products", nil, &out); err != nil {
		upstreamFailed(w, status, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *shopAPI) product(w http.ResponseWriter, r *http.Request) {
	var p product
	if status, err := a.callInventory(r.Context(), http.MethodGet, "/inventory/products/"+url.PathEscape(r.PathValue("sku")), nil, &p); err != nil {
		upstreamFailed(w, status, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *shopAPI) recommendations(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sku := r.URL.Query().Get("sku")
	_, sub := tracing.Start(ctx, "rank")
	wait := a.faults.between(15*time.Millisecond, 60*time.Millisecond)
	if a.faults.roll(a.faults.SlowRecommendations) {
		// A cold model cache: the kind of slowness a service map shows as a
		// fat tail on one node.
		wait = a.faults.between(1200*time.Millisecond, 2500*time.Millisecond)
		sub.AddAnnotation("cache_miss", true)
	}
	err := sleepCtx(ctx, wait)
	sub.End()
	if err != nil {
		return
	}
	var recs []string
	for _, p := range catalog {
		if p.SKU != sku && len(recs) < 3 {
			recs = append(recs, p.SKU)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sku": sku, "recommended": recs})
}

type cartRequest struct {
	Session string `json:"session"`
	SKU     string `json:"sku"`
	Qty     int    `json:"qty"`
}

func (a *shopAPI) addToCart(w http.ResponseWriter, r *http.Request) {
	var req cartRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "body must be {session, sku, qty}")
		return
	}
	if req.Qty < 1 || req.Qty > 20 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("qty %d: must be 1 to 20", req.Qty))
		return
	}
	var p product
	if status, err := a.callInventory(r.Context(), http.MethodGet, "/inventory/products/"+url.PathEscape(req.SKU), nil, &p); err != nil {
		upstreamFailed(w, status, err)
		return
	}
	if p.Stock < req.Qty {
		writeError(w, http.StatusConflict, fmt.Sprintf("only %d %s left", p.Stock, p.Name))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sku": p.SKU, "qty": req.Qty, "priceCents": p.PriceCents})
}

type couponRequest struct {
	Session string `json:"session"`
	Code    string `json:"code"`
}

// allowCoupon counts an attempt; false once the session exceeded the limit.
func (a *shopAPI) allowCoupon(session string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.attempts) > 4096 {
		for k, ts := range a.attempts {
			if now.Sub(ts[len(ts)-1]) > couponWindow {
				delete(a.attempts, k)
			}
		}
	}
	kept := a.attempts[session][:0]
	for _, t := range a.attempts[session] {
		if now.Sub(t) < couponWindow {
			kept = append(kept, t)
		}
	}
	kept = append(kept, now)
	a.attempts[session] = kept
	return len(kept) <= couponLimit
}

func (a *shopAPI) coupon(w http.ResponseWriter, r *http.Request) {
	var req couponRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil || req.Session == "" {
		writeError(w, http.StatusBadRequest, "body must be {session, code}")
		return
	}
	if !a.allowCoupon(req.Session, time.Now()) {
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusTooManyRequests, "too many coupon attempts; wait a little")
		return
	}
	pct, ok := validCoupons[req.Code]
	if !ok {
		writeError(w, http.StatusNotFound, "unknown coupon "+req.Code)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"code": req.Code, "percentOff": pct})
}

type checkoutRequest struct {
	Session string     `json:"session"`
	Order   string     `json:"order"`
	Items   []lineItem `json:"items"`
}

func (a *shopAPI) checkout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req checkoutRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil || !validItems(req.Items) {
		writeError(w, http.StatusBadRequest, "body must be {session, order, items:[{sku, qty 1 to 20}]} with 1 to 20 items")
		return
	}
	seg := tracing.FromContext(ctx)
	seg.AddAnnotation("order", req.Order)
	seg.AddAnnotation("items", len(req.Items))
	if status, err := a.callInventory(ctx, http.MethodPost, "/inventory/reserve", reserveRequest{Order: req.Order, Items: req.Items}, nil); err != nil {
		upstreamFailed(w, status, err)
		return
	}
	_, pay := tracing.Start(ctx, "payment")
	if a.faults.roll(a.faults.PaymentFailure) {
		wait := a.faults.between(800*time.Millisecond, 1500*time.Millisecond)
		err := sleepCtx(ctx, wait)
		pay.SetError(fmt.Errorf("payment gateway timeout after %s", wait.Round(time.Millisecond)))
		pay.End()
		if err != nil {
			return
		}
		writeError(w, http.StatusBadGateway, "payment gateway timeout")
		return
	}
	err := sleepCtx(ctx, a.faults.between(40*time.Millisecond, 150*time.Millisecond))
	pay.End()
	if err != nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"order": req.Order, "status": "paid"})
}
