package demo

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeDriver is a database/sql driver that understands exactly the
// inventory's statements, so the package's tests do not link DuckDB (a cgo
// static library). The e2e test runs the same code on DuckDB.
const fakeDriver = "demo-fake"

// fakeDrv is registered once: database/sql's driver registry is global.
var fakeDrv = &fakeSQL{dbs: map[string]*fakeTables{}}

func init() { sql.Register(fakeDriver, fakeDrv) }

type fakeSQL struct {
	mu  sync.Mutex
	dbs map[string]*fakeTables // by DSN, so each test gets its own database
}

type fakeTables struct {
	mu       sync.Mutex
	created  bool
	products map[string]*product
	// statements records every statement text, for assertions.
	statements []string
}

func (f *fakeSQL) Open(dsn string) (driver.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.dbs[dsn]
	if t == nil {
		t = &fakeTables{products: map[string]*product{}}
		f.dbs[dsn] = t
	}
	return &fakeConn{t: t}, nil
}

var dsnSeq atomic.Int64

// freshDSN names a new, empty fake database.
func freshDSN(t testing.TB) string {
	return fmt.Sprintf("%s#%d", t.Name(), dsnSeq.Add(1))
}

func fakeDB(dsn string) *fakeTables {
	fakeDrv.mu.Lock()
	defer fakeDrv.mu.Unlock()
	return fakeDrv.dbs[dsn]
}

type fakeConn struct{ t *fakeTables }

func (c *fakeConn) Prepare(query string) (driver.Stmt, error) { return &fakeStmt{c: c, q: query}, nil }
func (c *fakeConn) Close() error                              { return nil }
func (c *fakeConn) Begin() (driver.Tx, error)                 { return nil, fmt.Errorf("fake: no transactions") }

type fakeStmt struct {
	c *fakeConn
	q string
}

func (s *fakeStmt) Close() error  { return nil }
func (s *fakeStmt) NumInput() int { return strings.Count(s.q, "?") }

func (s *fakeStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.c.t.exec(s.q, args)
}

func (s *fakeStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.c.t.query(s.q, args)
}

var _ driver.ExecerContext = (*fakeConn)(nil)

func (c *fakeConn) ExecContext(_ context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.t.exec(q, values(args))
}

func values(nv []driver.NamedValue) []driver.Value {
	out := make([]driver.Value, len(nv))
	for i, v := range nv {
		out[i] = v.Value
	}
	return out
}

func (t *fakeTables) exec(q string, a []driver.Value) (driver.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.statements = append(t.statements, q)
	switch {
	case strings.HasPrefix(q, "SET "):
		return driver.RowsAffected(0), nil
	case strings.HasPrefix(q, "CREATE TABLE products"):
		if t.created {
			return nil, fmt.Errorf("Catalog Error: Table with name products already exists!")
		}
		t.created = true
		return driver.RowsAffected(0), nil
	case q == "INSERT INTO products VALUES (?, ?, ?, ?, ?)":
		p := &product{SKU: a[0].(string), Name: a[1].(string), Category: a[2].(string), PriceCents: toInt(a[3]), Stock: toInt(a[4])}
		t.products[p.SKU] = p
		return driver.RowsAffected(1), nil
	case q == "UPDATE products SET stock = stock - ? WHERE sku = ? AND stock >= ?":
		p := t.products[a[1].(string)]
		if p == nil || p.Stock < toInt(a[2]) {
			return driver.RowsAffected(0), nil
		}
		p.Stock -= toInt(a[0])
		return driver.RowsAffected(1), nil
	case q == "UPDATE products SET stock = stock + ? WHERE sku = ?":
		if p := t.products[a[1].(string)]; p != nil {
			p.Stock += toInt(a[0])
			return driver.RowsAffected(1), nil
		}
		return driver.RowsAffected(0), nil
	case q == "UPDATE products SET stock = stock + 50 WHERE stock < 5":
		n := 0
		for _, p := range t.products {
			if p.Stock < 5 {
				p.Stock += 50
				n++
			}
		}
		return driver.RowsAffected(n), nil
	}
	return nil, fmt.Errorf("Catalog Error: fake database does not know %q", q)
}

func toInt(v driver.Value) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case int:
		return x
	}
	panic(fmt.Sprintf("fake: %T is not an integer", v))
}

func (t *fakeTables) query(q string, a []driver.Value) (driver.Rows, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.statements = append(t.statements, q)
	var out []product
	switch q {
	case "SELECT " + productColumns + " FROM products ORDER BY sku":
		for _, p := range t.products {
			out = append(out, *p)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].SKU < out[j].SKU })
	case "SELECT " + productColumns + " FROM products WHERE sku = ?":
		if p := t.products[a[0].(string)]; p != nil {
			out = append(out, *p)
		}
	default:
		return nil, fmt.Errorf("Catalog Error: fake database does not know %q", q)
	}
	return &fakeRows{rows: out}, nil
}

type fakeRows struct {
	rows []product
	i    int
}

func (r *fakeRows) Columns() []string {
	return []string{"sku", "name", "category", "price_cents", "stock"}
}
func (r *fakeRows) Close() error { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if r.i >= len(r.rows) {
		return io.EOF
	}
	p := r.rows[r.i]
	r.i++
	dest[0], dest[1], dest[2], dest[3], dest[4] = p.SKU, p.Name, p.Category, int64(p.PriceCents), int64(p.Stock)
	return nil
}
