package clickhouse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// conn talks to one ClickHouse server over its HTTP interface. Plain HTTP
// is used rather than a driver because it works alike on 18.16 and current
// releases (clickhouse-go's HTTP mode fails on 18.16) and RowBinary inserts
// through it are the fastest path measured.
type conn struct {
	base     *url.URL // scheme://host:port/ without query
	user     string
	password string
	database string
	settings url.Values // sent with every request
	client   *http.Client
}

func newConn(rawURL, database string, client *http.Client) (*conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse clickhouse url %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "http", "https":
	case "clickhouse", "tcp", "native":
		return nil, fmt.Errorf("clickhouse url %q: the native protocol is not supported; use the HTTP interface, e.g. http://%s:8123", redact(u), u.Hostname())
	default:
		return nil, fmt.Errorf("clickhouse url %q: scheme must be http or https", redact(u))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("clickhouse url %q: no host", redact(u))
	}
	c := &conn{database: database, client: client, settings: url.Values{}}
	if u.User != nil {
		c.user = u.User.Username()
		c.password, _ = u.User.Password()
	}
	for k, vs := range u.Query() {
		c.settings[k] = vs
	}
	c.base = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if c.base.Path == "" {
		c.base.Path = "/"
	}
	return c, nil
}

// redact drops the password from a URL for messages.
func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	return c.String()
}

func (c *conn) String() string { return c.base.Host }

// request sends one statement; extra settings override the defaults.
func (c *conn) request(ctx context.Context, params url.Values, body io.Reader) (*http.Response, error) {
	q := url.Values{}
	for k, vs := range c.settings {
		q[k] = vs
	}
	if c.database != "" && q.Get("database") == "" {
		q.Set("database", c.database)
	}
	for k, vs := range params {
		q[k] = vs
	}
	u := *c.base
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
	if err != nil {
		return nil, err
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w", c.base.Host, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, &ServerError{Status: resp.StatusCode, Message: strings.TrimSpace(string(msg))}
	}
	return resp, nil
}

// ServerError is an error ClickHouse answered with.
type ServerError struct {
	Status  int
	Message string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("clickhouse answered %d: %s", e.Status, e.Message)
}

// Code is ClickHouse's numeric error code ("Code: 57, e.displayText() ..."),
// or 0 when the message has none.
func (e *ServerError) Code() int {
	rest, ok := strings.CutPrefix(e.Message, "Code: ")
	if !ok {
		return 0
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	n, _ := strconv.Atoi(rest[:end])
	return n
}

// exec runs a statement that returns no rows.
func (c *conn) exec(ctx context.Context, stmt string) error {
	resp, err := c.request(ctx, nil, strings.NewReader(stmt))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// insert streams data in the given format into table (with its columns),
// with extra settings (e.g. insert_distributed_sync).
func (c *conn) insert(ctx context.Context, table string, columns []string, format string, data []byte, settings url.Values) error {
	params := url.Values{}
	for k, vs := range settings {
		params[k] = vs
	}
	params.Set("query", fmt.Sprintf("INSERT INTO %s (%s) FORMAT %s", table, strings.Join(columns, ", "), format))
	resp, err := c.request(ctx, params, bytes.NewReader(data))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// rows is a JSONCompact result.
type rows [][]json.RawMessage

// query runs a SELECT and returns its rows. wait_end_of_query makes the
// server buffer the result, so an error that happens mid-query becomes an
// HTTP error instead of a truncated 200 body.
func (c *conn) query(ctx context.Context, stmt string) (rows, error) {
	params := url.Values{
		"wait_end_of_query":                       {"1"},
		"output_format_json_quote_64bit_integers": {"0"},
		"output_format_json_quote_denormals":      {"0"},
	}
	resp, err := c.request(ctx, params, strings.NewReader(stmt+"\nFORMAT JSONCompact"))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Data rows `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode clickhouse result: %w", err)
	}
	return out.Data, nil
}

// cell decoders: JSONCompact gives numbers bare (with the settings above),
// strings quoted, NULL and NaN as null, arrays and tuples as JSON arrays.

func str(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("decode string %s: %w", clip(v), err)
	}
	return s, nil
}

func i64(v json.RawMessage) (int64, error) {
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("decode integer %s: %w", clip(v), err)
	}
	return n, nil
}

func u64(v json.RawMessage) (uint64, error) {
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("decode integer %s: %w", clip(v), err)
	}
	return n, nil
}

// f64 decodes a float; null (NULL, or NaN as ClickHouse writes it) is 0.
func f64(v json.RawMessage) (float64, error) {
	p, err := nf64(v)
	if err != nil || p == nil {
		return 0, err
	}
	return *p, nil
}

func nf64(v json.RawMessage) (*float64, error) {
	if string(v) == "null" {
		return nil, nil
	}
	s := string(v)
	if len(s) > 0 && s[0] == '"' { // inf and nan may come quoted
		s = strings.Trim(s, `"`)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("decode float %s: %w", clip(v), err)
	}
	return &f, nil
}

func strList(v json.RawMessage) ([]string, error) {
	var out []string
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, fmt.Errorf("decode string array %s: %w", clip(v), err)
	}
	return out, nil
}

func clip(v json.RawMessage) string {
	if len(v) > 64 {
		return string(v[:64]) + "…"
	}
	return string(v)
}

// scanner decodes the cells of one row in order, keeping the first error.
type scanner struct {
	row []json.RawMessage
	i   int
	err error
}

func (s *scanner) next() json.RawMessage {
	if s.i >= len(s.row) {
		if s.err == nil {
			s.err = fmt.Errorf("row has %d columns, wanted more", len(s.row))
		}
		return json.RawMessage("null")
	}
	s.i++
	return s.row[s.i-1]
}

func scanWith[T any](s *scanner, f func(json.RawMessage) (T, error)) T {
	v, err := f(s.next())
	if err != nil && s.err == nil {
		s.err = err
	}
	return v
}

func (s *scanner) str() string    { return scanWith(s, str) }
func (s *scanner) i64() int64     { return scanWith(s, i64) }
func (s *scanner) u64() uint64    { return scanWith(s, u64) }
func (s *scanner) f64() float64   { return scanWith(s, f64) }
func (s *scanner) nf64() *float64 { return scanWith(s, nf64) }
func (s *scanner) strs() []string { return scanWith(s, strList) }
func (s *scanner) bool() bool     { return s.u64() != 0 }

func defaultHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}}
}
