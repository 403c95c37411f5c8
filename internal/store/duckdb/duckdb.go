// Package duckdb is Sightline's embedded store: one DuckDB file in the data
// directory, no server to run. DuckDB allows one process per database file,
// so everything else talks to the running server's API.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	duckdbdrv "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/docstore"
)

// Options tunes the engine; the defaults are the measured good values.
type Options struct {
	// Path of the database file; ":memory:" or "" for an in-memory store.
	Path                string
	MemoryLimit         string // e.g. "1GB"
	CheckpointThreshold string // e.g. "256MB"; the 16MB default fragments the file
	Threads             int
	Logger              *slog.Logger
}

// Store is the DuckDB backend.
type Store struct {
	db  *sql.DB
	log *slog.Logger
	// writeConn is the one connection the spool writer appends through.
	writeConn *sql.Conn
	// docs holds the raw X-Ray documents, beside the database file.
	docs *docstore.Store
	// rollupStep overrides maxNewMinutes (tests).
	rollupStep int
	// legacySeq is xray_index_meta.from_seq, fixed when the X-Ray side
	// tables were created: rows stored up to it have no side rows.
	legacySeq uint64
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database and applies the schema.
// Rows of a batch whose progress was not recorded are removed so the spool
// replay stores them exactly once.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	path := opts.Path
	if path == ":memory:" {
		path = ""
	}
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create store directory: %w", err)
		}
	}
	connector, err := duckdbdrv.NewConnector(path, func(execer driver.ExecerContext) error {
		var stmts []string
		if opts.MemoryLimit != "" {
			stmts = append(stmts, fmt.Sprintf("SET memory_limit = '%s'", sqlQuote(opts.MemoryLimit)))
		}
		if opts.CheckpointThreshold != "" {
			stmts = append(stmts, fmt.Sprintf("SET checkpoint_threshold = '%s'", sqlQuote(opts.CheckpointThreshold)))
		}
		if opts.Threads > 0 {
			stmts = append(stmts, fmt.Sprintf("SET threads = %d", opts.Threads))
		}
		for _, s := range stmts {
			if _, err := execer.ExecContext(ctx, s, nil); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open duckdb %q: %w", opts.Path, err)
	}
	db := sql.OpenDB(connector)
	s := &Store{db: db, log: opts.Logger}
	docsPath := ""
	if path != "" {
		docsPath = path + ".docs"
	}
	if s.docs, err = docstore.Open(docsPath); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.writeConn, err = db.Conn(ctx)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("open writer connection: %w", err)
	}
	return s, nil
}

func sqlQuote(s string) string { return strings.ReplaceAll(s, "'", "''") }

func (s *Store) migrate(ctx context.Context) error {
	for _, stmt := range schema {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("apply schema %q: %w", firstLine(stmt), err)
		}
	}
	seq, err := s.AppliedSeq(ctx)
	if err != nil {
		return err
	}
	if err := s.backfillGroupKeys(ctx); err != nil {
		return err
	}
	if err := s.db.QueryRowContext(ctx, "SELECT from_seq FROM xray_index_meta WHERE id = 1").Scan(&s.legacySeq); err != nil {
		return fmt.Errorf("read index meta: %w", err)
	}
	for _, table := range seqTables {
		res, err := s.db.ExecContext(ctx, "DELETE FROM "+table+" WHERE spool_seq > ?", seq)
		if err != nil {
			return fmt.Errorf("remove unrecorded rows of %s: %w", table, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			s.log.WarnContext(ctx, "removed rows of an interrupted write; the spool replays them", "table", table, "rows", n)
		}
	}
	n, err := s.docs.Discard(ctx, seq)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.WarnContext(ctx, "removed documents of an interrupted write; the spool replays them", "traces", n)
	}
	return s.migrateRawDocuments(ctx)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.db.PingContext(ctx)
}

// Close closes the database; the writer must have stopped.
func (s *Store) Close() error {
	var errs []error
	if s.writeConn != nil {
		errs = append(errs, s.writeConn.Close())
	}
	errs = append(errs, s.db.Close())
	if s.docs != nil {
		errs = append(errs, s.docs.Close())
	}
	return errors.Join(errs...)
}

// AppliedSeq returns the last spool sequence number stored.
func (s *Store) AppliedSeq(ctx context.Context) (uint64, error) {
	var seq uint64
	if err := s.db.QueryRowContext(ctx, "SELECT seq FROM ingest_progress WHERE id = 1").Scan(&seq); err != nil {
		return 0, fmt.Errorf("read ingest progress: %w", err)
	}
	return seq, nil
}

// Write appends every row of the batches and records lastSeq in the same
// transaction.
func (s *Store) Write(ctx context.Context, lastSeq uint64, batches []*model.Batch) error {
	// Documents are stored while DuckDB appends, and durable before it
	// commits: if DuckDB then fails, the next Open discards them
	// (docstore.Discard) or the replay rewrites them.
	var segs []model.SegmentRecord
	for _, b := range batches {
		segs = append(segs, b.Segments...)
	}
	put := make(chan error, 1)
	go func() { put <- s.docs.Put(ctx, lastSeq, segs) }()
	waitDocs := sync.OnceValue(func() error { return <-put })
	err := s.writeRows(ctx, lastSeq, batches, waitDocs)
	if docsErr := waitDocs(); err == nil {
		err = docsErr // Put never outlives Write
	}
	return err
}

// writeRows appends the rows and records lastSeq in one transaction,
// committing only once waitDocs reports the documents stored.
func (s *Store) writeRows(ctx context.Context, lastSeq uint64, batches []*model.Batch, waitDocs func() error) error {
	conn := s.writeConn
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	err := conn.Raw(func(dc any) error {
		drvConn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		return appendBatches(drvConn, lastSeq, batches)
	})
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "UPDATE ingest_progress SET seq = ? WHERE id = 1", lastSeq); err != nil {
		return fmt.Errorf("record ingest progress: %w", err)
	}
	if err := waitDocs(); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit write: %w", err)
	}
	committed = true
	return nil
}

func appendBatches(dc driver.Conn, seq uint64, batches []*model.Batch) error {
	var nRum, nSeg int
	for _, b := range batches {
		nRum += len(b.Rum)
		nSeg += len(b.Segments)
	}
	if nRum > 0 {
		app, err := duckdbdrv.NewAppenderFromConn(dc, "", "rum_events")
		if err != nil {
			return fmt.Errorf("rum appender: %w", err)
		}
		for _, b := range batches {
			for i := range b.Rum {
				if err := app.AppendRow(rumRow(&b.Rum[i], seq)...); err != nil {
					_ = app.Close()
					return fmt.Errorf("append rum event: %w", err)
				}
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("flush rum events: %w", err)
		}
	}
	if nSeg > 0 {
		app, err := duckdbdrv.NewAppenderFromConn(dc, "", "segments")
		if err != nil {
			return fmt.Errorf("segment appender: %w", err)
		}
		for _, b := range batches {
			for i := range b.Segments {
				row, err := segmentRow(&b.Segments[i], seq)
				if err != nil {
					_ = app.Close()
					return err
				}
				if err := app.AppendRow(row...); err != nil {
					_ = app.Close()
					return fmt.Errorf("append segment: %w", err)
				}
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("flush segments: %w", err)
		}
		return appendSideTables(dc, seq, batches)
	}
	return nil
}

func nullable[T any](p *T) driver.Value {
	if p == nil {
		return nil
	}
	return *p
}

func nullStr(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

func rumRow(e *model.RumEvent, seq uint64) []driver.Value {
	var status driver.Value
	if e.HTTPStatus != 0 {
		status = int32(e.HTTPStatus)
	}
	row := []driver.Value{
		e.AppMonitorID, e.TimestampMicros, e.EventID, e.Type, e.BatchID,
		e.SessionID, e.UserID, nullStr(e.PageID), nullStr(e.AppVersion),
		nullStr(e.Browser), nullStr(e.BrowserVersion), nullStr(e.OS), nullStr(e.OSVersion), nullStr(e.DeviceType),
		nullStr(e.Country), nullStr(e.Language), nullStr(e.Domain), nullStr(e.ClientIP), nullStr(e.UserAgent),
		nullable(e.Value), nullable(e.DurationMillis), nullStr(e.HTTPMethod), nullStr(e.HTTPURL), status,
		nullStr(e.TraceID), nullStr(e.SegmentID), nullStr(e.ErrorType), nullStr(e.ErrorMessage),
		string(e.Metadata), string(e.Details), e.ReceivedAtMicros, seq,
	}
	return append(row, groupKeys(e)...)
}

// groupKeys are the error and HTTP grouping keys of a row. Ingest extracts
// them; rows spooled by an older version are completed here, so every
// stored js error and HTTP call has them and group queries need no
// regular expressions.
func groupKeys(e *model.RumEvent) []driver.Value {
	switch e.Type {
	case model.EventJSError:
		msg, frame := e.ErrorGroupMessage, e.ErrorFrame
		if msg == "" && frame == "" {
			var d struct {
				Stack string `json:"stack"`
			}
			_ = json.Unmarshal(e.Details, &d)
			msg, frame = store.NormalizeErrorMessage(e.ErrorMessage), store.TopStackFrame(d.Stack)
		}
		return []driver.Value{msg, frame, nil}
	case model.EventHTTP:
		p := e.HTTPURLPattern
		if p == "" {
			p = store.URLPattern(e.HTTPURL)
		}
		return []driver.Value{nil, nil, p}
	}
	return []driver.Value{nil, nil, nil}
}

func micros(sec float64) int64 { return int64(sec*1e6 + 0.5) }

func segmentRow(r *model.SegmentRecord, seq uint64) ([]driver.Value, error) {
	s := r.Segment
	if s == nil {
		return nil, errors.New("segment record without a parsed segment")
	}
	var end driver.Value
	if s.EndTime > 0 {
		end = micros(s.EndTime)
	}
	var method, url, ip, ua driver.Value
	var status driver.Value
	if s.HTTP != nil {
		if q := s.HTTP.Request; q != nil {
			method, url, ip, ua = nullStr(q.Method), nullStr(q.URL), nullStr(q.ClientIP), nullStr(q.UserAgent)
		}
		if p := s.HTTP.Response; p != nil && p.Status != 0 {
			status = int32(p.Status)
		}
	}
	var ann driver.Value
	if len(s.Annotations) > 0 {
		b, err := json.Marshal(s.Annotations)
		if err != nil {
			return nil, fmt.Errorf("encode annotations: %w", err)
		}
		ann = string(b)
	}
	parent := s.ParentID
	isRoot := parent == "" && s.Type != "subsegment"
	sub := subFlags(s)
	return []driver.Value{
		s.TraceID, s.ID, nullStr(parent), s.Name, nullStr(s.Origin), nullStr(s.Type),
		nullStr(s.Namespace), micros(s.StartTime), end, s.InProgress,
		method, url, status, ip, ua,
		nullStr(s.User), s.Error, s.Fault, s.Throttle, ann,
		isRoot, nullStr(r.AppMonitorID), nullStr(r.SessionID), nullStr(r.PageID),
		nil, r.ReceivedAtMicros, seq, // raw: in the document file
		sub.throttle, sub.inProgress, nullStr(accountOf(s)),
	}, nil
}

// RumEvents returns events of one app monitor in a time range, oldest
// first, continuing after (AfterMicros, AfterEventID).
func (s *Store) RumEvents(ctx context.Context, q store.RumEventQuery) ([]model.RumEvent, error) {
	var where []string
	var args []any
	where = append(where, "app_monitor_id = ?", "ts_us >= ?", "ts_us < ?")
	args = append(args, q.AppMonitorID, q.FromMicros, q.ToMicros)
	if q.AfterEventID != "" {
		where = append(where, "(ts_us, event_id) > (?, ?)")
		args = append(args, q.AfterMicros, q.AfterEventID)
	}
	for _, col := range store.FilterColumns {
		vals := q.Filters[col]
		if len(vals) == 0 {
			continue
		}
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = "?"
			args = append(args, v)
		}
		where = append(where, col+" IN ("+strings.Join(ph, ",")+")")
	}
	for name := range q.Filters {
		if !slices.Contains(store.FilterColumns, name) {
			return nil, fmt.Errorf("unknown filter %q", name)
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query := "SELECT " + strings.Join(rumColumns, ", ") +
		" FROM rum_events WHERE " + strings.Join(where, " AND ") +
		fmt.Sprintf(" ORDER BY ts_us, event_id LIMIT %d", limit)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query rum events: %w", err)
	}
	defer rows.Close()
	var out []model.RumEvent
	for rows.Next() {
		var e model.RumEvent
		var pageID, appVersion, browser, browserVersion, osName, osVersion, device, country, lang, domain, ip, ua,
			method, url, traceID, segID, errType, errMsg sql.NullString
		var value, dur sql.NullFloat64
		var status sql.NullInt32
		var md, details string
		if err := rows.Scan(&e.AppMonitorID, &e.TimestampMicros, &e.EventID, &e.Type, &e.BatchID,
			&e.SessionID, &e.UserID, &pageID, &appVersion,
			&browser, &browserVersion, &osName, &osVersion, &device,
			&country, &lang, &domain, &ip, &ua,
			&value, &dur, &method, &url, &status,
			&traceID, &segID, &errType, &errMsg,
			&md, &details, &e.ReceivedAtMicros); err != nil {
			return nil, fmt.Errorf("scan rum event: %w", err)
		}
		e.PageID, e.AppVersion, e.Browser, e.BrowserVersion = pageID.String, appVersion.String, browser.String, browserVersion.String
		e.OS, e.OSVersion, e.DeviceType, e.Country, e.Language = osName.String, osVersion.String, device.String, country.String, lang.String
		e.Domain, e.ClientIP, e.UserAgent = domain.String, ip.String, ua.String
		e.HTTPMethod, e.HTTPURL, e.TraceID, e.SegmentID = method.String, url.String, traceID.String, segID.String
		e.ErrorType, e.ErrorMessage = errType.String, errMsg.String
		if value.Valid {
			v := value.Float64
			e.Value = &v
		}
		if dur.Valid {
			v := dur.Float64
			e.DurationMillis = &v
		}
		e.HTTPStatus = int(status.Int32)
		e.Metadata, e.Details = json.RawMessage(md), json.RawMessage(details)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecentBatchIDs lists app_monitor_id/batch_id received since sinceMicros.
func (s *Store) RecentBatchIDs(ctx context.Context, sinceMicros int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT DISTINCT app_monitor_id || '/' || batch_id FROM rum_events WHERE received_us >= ?", sinceMicros)
	if err != nil {
		return nil, fmt.Errorf("query recent batch ids: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func nowMicros() int64 { return time.Now().UnixMicro() }
