package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/tracing"
)

// product is one row of the shop's catalog.
type product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	Category   string `json:"category"`
	PriceCents int    `json:"priceCents"`
	Stock      int    `json:"stock"`
}

// catalog seeds the inventory database. Few products keep the page labels
// of the RUM views readable.
var catalog = []product{
	{"espresso-cup", "Espresso cup", "kitchen", 1200, 40},
	{"pour-over-kit", "Pour-over kit", "kitchen", 3900, 25},
	{"linen-apron", "Linen apron", "textile", 2900, 30},
	{"oak-tray", "Oak serving tray", "home", 4500, 12},
	{"ceramic-vase", "Ceramic vase", "home", 5400, 8},
	{"wool-throw", "Wool throw", "textile", 8900, 15},
	{"tea-tin", "Loose-leaf tea tin", "pantry", 1500, 60},
	{"candle-set", "Beeswax candle set", "home", 2200, 20},
}

// discontinuedSKU is linked from old pages; the inventory answers 404.
const discontinuedSKU = "retro-kettle"

// Faults sets how often the services misbehave, each a probability per call.
type Faults struct {
	// PaymentFailure: the checkout's payment step times out (502, a fault).
	PaymentFailure float64
	// DBError: the inventory writes to an audit table that does not exist
	// (a real SQL error, 500).
	DBError float64
	// SlowRecommendations: ranking takes 1.2 to 2.5 s.
	SlowRecommendations float64
	// SlowReserve: the reservation waits 0.6 to 1.5 s for a lock.
	SlowReserve float64
}

// DefaultFaults makes a few percent of the calls interesting.
var DefaultFaults = Faults{PaymentFailure: 0.06, DBError: 0.02, SlowRecommendations: 0.06, SlowReserve: 0.05}

// faultDice rolls the faults from many handler goroutines.
type faultDice struct {
	Faults
	mu  sync.Mutex
	rnd *rand.Rand
}

func newFaultDice(f Faults, seed uint64) *faultDice {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &faultDice{Faults: f, rnd: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// roll reports true with probability p.
func (d *faultDice) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rnd.Float64() < p
}

// between returns a duration uniformly in [lo, hi).
func (d *faultDice) between(lo, hi time.Duration) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return lo + time.Duration(d.rnd.Int64N(int64(hi-lo)))
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func dbTypeName(driver string) string {
	switch driver {
	case "duckdb":
		return "DuckDB"
	case "sqlite", "sqlite3":
		return "SQLite"
	}
	return driver
}

// dbTraceSource is the data source the SQL subsegments record; its host
// part names the database node of the service map ("DuckDB@inventory").
func dbTraceSource(driver string) string {
	return strings.ToLower(dbTypeName(driver)) + "://inventory/shop"
}

// openInventoryDB opens the database and loads the catalog.
func openInventoryDB(ctx context.Context, driver, source string) (*sql.DB, error) {
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("demo: open %s database: %w", driver, err)
	}
	// A handful of connections is plenty for a few requests per second and
	// keeps an embedded engine small next to the collector's own store.
	db.SetMaxOpenConns(4)
	stmts := []string{}
	if driver == "duckdb" {
		stmts = append(stmts, "SET threads = 1", "SET memory_limit = '128MB'")
	}
	stmts = append(stmts,
		"CREATE TABLE products (sku VARCHAR, name VARCHAR, category VARCHAR, price_cents INTEGER, stock INTEGER)")
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			db.Close()
			return nil, fmt.Errorf("demo: prepare inventory database (%s): %w", s, err)
		}
	}
	for _, p := range catalog {
		if _, err := db.ExecContext(ctx, "INSERT INTO products VALUES (?, ?, ?, ?, ?)", p.SKU, p.Name, p.Category, p.PriceCents, p.Stock); err != nil {
			db.Close()
			return nil, fmt.Errorf("demo: load catalog: %w", err)
		}
	}
	return db, nil
}

// inventory is the downstream service: it owns the database.
type inventory struct {
	db     *tracing.DB
	faults *faultDice
	log    *slog.Logger
	// reserveMu serialises stock updates: concurrent updates of one row
	// conflict in an embedded engine, and the demo wants its faults on purpose.
	reserveMu sync.Mutex
}

func (inv *inventory) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /inventory/products", inv.list)
	mux.HandleFunc("GET /inventory/products/{sku}", inv.get)
	mux.HandleFunc("POST /inventory/reserve", inv.reserve)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

const productColumns = "sku, name, category, price_cents, stock"

func scanProduct(row interface{ Scan(...any) error }) (product, error) {
	var p product
	err := row.Scan(&p.SKU, &p.Name, &p.Category, &p.PriceCents, &p.Stock)
	return p, err
}

func (inv *inventory) list(w http.ResponseWriter, r *http.Request) {
	rows, err := inv.db.QueryContext(r.Context(), "SELECT "+productColumns+" FROM products ORDER BY sku")
	if err != nil {
		inv.fail(w, r, "list products", err)
		return
	}
	defer rows.Close()
	out := []product{}
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			inv.fail(w, r, "scan product", err)
			return
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		inv.fail(w, r, "list products", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (inv *inventory) lookup(ctx context.Context, sku string) (product, error) {
	return scanProduct(inv.db.QueryRowContext(ctx, "SELECT "+productColumns+" FROM products WHERE sku = ?", sku))
}

func (inv *inventory) get(w http.ResponseWriter, r *http.Request) {
	p, err := inv.lookup(r.Context(), r.PathValue("sku"))
	if errors.Is(err, sql.ErrNoRows) {
		writeError(w, http.StatusNotFound, "no such product: "+r.PathValue("sku"))
		return
	}
	if err != nil {
		inv.fail(w, r, "look up product", err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

type lineItem struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// validItems: a negative quantity would add stock, a huge list would hold
// the reservation lock.
func validItems(items []lineItem) bool {
	if len(items) == 0 || len(items) > 20 {
		return false
	}
	for _, it := range items {
		if it.Qty < 1 || it.Qty > 20 || it.SKU == "" {
			return false
		}
	}
	return true
}

type reserveRequest struct {
	Order string     `json:"order"`
	Items []lineItem `json:"items"`
}

func (inv *inventory) reserve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req reserveRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil || !validItems(req.Items) {
		writeError(w, http.StatusBadRequest, "body must be {order, items:[{sku, qty 1 to 20}]} with 1 to 20 items")
		return
	}
	if inv.faults.roll(inv.faults.SlowReserve) {
		_, sub := tracing.Start(ctx, "lock-wait")
		err := sleepCtx(ctx, inv.faults.between(600*time.Millisecond, 1500*time.Millisecond))
		sub.End()
		if err != nil {
			return
		}
	}
	inv.reserveMu.Lock()
	defer inv.reserveMu.Unlock()
	var done []lineItem
	undo := func() {
		for _, it := range done {
			_, _ = inv.db.ExecContext(ctx, "UPDATE products SET stock = stock + ? WHERE sku = ?", it.Qty, it.SKU)
		}
	}
	for _, it := range req.Items {
		res, err := inv.db.ExecContext(ctx, "UPDATE products SET stock = stock - ? WHERE sku = ? AND stock >= ?", it.Qty, it.SKU, it.Qty)
		if err != nil {
			undo()
			inv.fail(w, r, "reserve stock", err)
			return
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			undo()
			writeError(w, http.StatusConflict, "not enough stock for "+it.SKU)
			return
		}
		done = append(done, it)
	}
	if inv.faults.roll(inv.faults.DBError) {
		// A real failing statement, so the trace shows the database's own error.
		if _, err := inv.db.ExecContext(ctx, "INSERT INTO reservation_audit (order_id, at) VALUES (?, ?)", req.Order, time.Now().UTC()); err != nil {
			undo()
			inv.fail(w, r, "audit reservation", err)
			return
		}
	}
	// Restock what runs low so that the demo shop never sells out for good.
	_, _ = inv.db.ExecContext(ctx, "UPDATE products SET stock = stock + 50 WHERE stock < 5")
	writeJSON(w, http.StatusOK, map[string]any{"order": req.Order, "reserved": len(done)})
}

func (inv *inventory) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	inv.log.DebugContext(r.Context(), "inventory error", "op", what, "err", err)
	writeError(w, http.StatusInternalServerError, what+": "+err.Error())
}
