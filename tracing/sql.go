package tracing

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
)

// DB wraps a *sql.DB so that queries made with a traced context record a subsegment
// (namespace "remote") with an sql block: url without credentials, database type and
// the query as written, with placeholders and never the argument values.
type DB struct {
	*sql.DB
	info SQLInfo
	name string
}

// WrapDB returns a traced DB. dataSource is the connection URL or DSN; its password is
// removed before it is recorded. databaseType is e.g. "PostgreSQL" or "MySQL".
func WrapDB(db *sql.DB, databaseType, dataSource string) *DB {
	u, user, host := sanitizeDSN(dataSource)
	name := databaseType
	if host != "" {
		name = databaseType + "@" + host
	}
	return &DB{DB: db, name: name, info: SQLInfo{URL: u, User: user, DatabaseType: databaseType}}
}

// QueryContext runs a query and records it.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	_, sub := d.begin(ctx, query)
	rows, err := d.DB.QueryContext(ctx, query, args...)
	d.end(sub, err)
	return rows, err
}

// ExecContext runs a statement and records it.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	_, sub := d.begin(ctx, query)
	res, err := d.DB.ExecContext(ctx, query, args...)
	d.end(sub, err)
	return res, err
}

// QueryRowContext runs a single-row query and records it. Errors surface only at Scan,
// so the subsegment records the query, not its outcome.
func (d *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	_, sub := d.begin(ctx, query)
	row := d.DB.QueryRowContext(ctx, query, args...)
	d.end(sub, row.Err())
	return row
}

func (d *DB) begin(ctx context.Context, query string) (context.Context, *Span) {
	parent := FromContext(ctx)
	if parent == nil || !parent.sampled {
		return ctx, nil
	}
	sub := parent.newChild(d.name)
	info := d.info
	info.SanitizedQuery = query
	sub.tree.mu.Lock()
	sub.namespace = "remote"
	sub.sql = &info
	sub.tree.mu.Unlock()
	return ContextWithSpan(ctx, sub), sub
}

func (d *DB) end(sub *Span, err error) {
	if sub == nil {
		return
	}
	if err != nil && err != sql.ErrNoRows {
		sub.addException(exceptionDoc{ID: newID(), Type: "SQLError", Message: err.Error(), Remote: true}, true)
	}
	sub.End()
}

// sanitizeDSN returns the data source without password, the user and the host.
// URL-form DSNs (postgres://u:p@h/db) are parsed; key=value and driver-specific DSNs
// are reduced to what is safe: everything after an '@' for user:pass@tcp(...) forms,
// and password=... pairs removed.
func sanitizeDSN(dsn string) (clean, user, host string) {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.Host != "" {
		if u.User != nil {
			user = u.User.Username()
			u.User = url.User(user)
		}
		q := u.Query()
		for k := range q {
			if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
				q.Del(k)
			}
		}
		u.RawQuery = q.Encode()
		return u.String(), user, u.Hostname()
	}
	if at := strings.LastIndexByte(dsn, '@'); at >= 0 {
		// MySQL style: user:password@tcp(host:port)/db
		cred := dsn[:at]
		user, _, _ = strings.Cut(cred, ":")
		rest := dsn[at+1:]
		h := rest
		if i := strings.IndexByte(h, '('); i >= 0 {
			h = h[i+1:]
			if j := strings.IndexByte(h, ')'); j >= 0 {
				h = h[:j]
			}
		}
		if i := strings.IndexByte(h, '/'); i >= 0 {
			h = h[:i]
		}
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			h = h[:i]
		}
		return user + "@" + rest, user, h
	}
	// key=value form: drop password pairs.
	var kept []string
	for _, f := range strings.Fields(dsn) {
		k, v, _ := strings.Cut(f, "=")
		switch strings.ToLower(k) {
		case "password", "sslpassword":
			continue
		case "user":
			user = v
		case "host":
			host = v
		}
		kept = append(kept, f)
	}
	return strings.Join(kept, " "), user, host
}
