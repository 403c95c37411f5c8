package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// optionalColumns hold "" for an absent value, which a filter must not
// match (as SQL NULL does not in the DuckDB store).
var optionalColumns = map[string]bool{"page_id": true, "browser": true, "os": true, "device_type": true, "country": true, "trace_id": true}

// rumReadColumns are the columns a model.RumEvent is read back from.
var rumReadColumns = []string{"app_monitor_id", "ts_us", "event_id", "event_type", "batch_id",
	"session_id", "user_id", "page_id", "app_version",
	"browser", "browser_version", "os", "os_version", "device_type",
	"country", "language", "domain", "client_ip", "user_agent",
	"value", "duration_ms", "http_method", "http_url", "http_status",
	"trace_id", "segment_id", "error_type", "error_message",
	"metadata", "details", "received_us"}

// RumEvents returns events of one app monitor in a time range, oldest
// first, continuing after (AfterMicros, AfterEventID).
func (s *Store) RumEvents(ctx context.Context, q store.RumEventQuery) ([]model.RumEvent, error) {
	for name := range q.Filters {
		if !slices.Contains(store.FilterColumns, name) {
			return nil, fmt.Errorf("unknown filter %q", name)
		}
	}
	where := []string{
		"app_monitor_id = " + quoteString(q.AppMonitorID),
		"ts_us >= " + quoteInt(q.FromMicros),
		"ts_us < " + quoteInt(q.ToMicros),
	}
	if q.AfterEventID != "" {
		where = append(where, fmt.Sprintf("(ts_us > %d OR (ts_us = %d AND event_id > %s))", q.AfterMicros, q.AfterMicros, quoteString(q.AfterEventID)))
	}
	for _, col := range store.FilterColumns {
		vals := q.Filters[col]
		if len(vals) == 0 {
			continue
		}
		cond := col + " IN (" + stringList(vals) + ")"
		if optionalColumns[col] {
			cond += " AND " + col + " != ''"
		}
		where = append(where, cond)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.conn.query(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY ts_us, event_id LIMIT %d",
		strings.Join(rumReadColumns, ", "), tRumEvents, strings.Join(where, " AND "), limit))
	if err != nil {
		return nil, fmt.Errorf("query rum events: %w", err)
	}
	out := make([]model.RumEvent, 0, len(rows))
	for _, r := range rows {
		sc := scanner{row: r}
		e := model.RumEvent{
			AppMonitorID: sc.str(), TimestampMicros: sc.i64(), EventID: sc.str(), Type: sc.str(), BatchID: sc.str(),
			SessionID: sc.str(), UserID: sc.str(), PageID: sc.str(), AppVersion: sc.str(),
			Browser: sc.str(), BrowserVersion: sc.str(), OS: sc.str(), OSVersion: sc.str(), DeviceType: sc.str(),
			Country: sc.str(), Language: sc.str(), Domain: sc.str(), ClientIP: sc.str(), UserAgent: sc.str(),
			Value: sc.nf64(), DurationMillis: sc.nf64(), HTTPMethod: sc.str(), HTTPURL: sc.str(), HTTPStatus: int(sc.i64()),
			TraceID: sc.str(), SegmentID: sc.str(), ErrorType: sc.str(), ErrorMessage: sc.str(),
			Metadata: json.RawMessage(sc.str()), Details: json.RawMessage(sc.str()), ReceivedAtMicros: sc.i64(),
		}
		if sc.err != nil {
			return nil, fmt.Errorf("scan rum event: %w", sc.err)
		}
		out = append(out, e)
	}
	return out, nil
}

// RecentBatchIDs lists app_monitor_id/batch_id received since sinceMicros.
// Rows are ordered by event time, not receipt, so this scans; it runs once
// at start.
func (s *Store) RecentBatchIDs(ctx context.Context, sinceMicros int64) ([]string, error) {
	rows, err := s.conn.query(ctx, fmt.Sprintf("SELECT DISTINCT concat(app_monitor_id, '/', batch_id) FROM %s WHERE received_us >= %d",
		tRumEvents, sinceMicros))
	if err != nil {
		return nil, fmt.Errorf("query recent batch ids: %w", err)
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		k, err := str(r[0])
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// SegmentsByTraceIDs returns the documents of the traces, one per id, from
// the table ordered by trace id. Of several documents with one id
// (in-progress, then complete; or a resend), the complete one wins, then
// the newest.
func (s *Store) SegmentsByTraceIDs(ctx context.Context, traceIDs []string) ([]model.SegmentRecord, error) {
	if len(traceIDs) == 0 {
		return nil, nil
	}
	rows, err := s.conn.query(ctx, fmt.Sprintf(`SELECT raw, received_us, app_monitor_id, session_id, page_id FROM (
		SELECT trace_id, start_us, raw, received_us, app_monitor_id, session_id, page_id FROM %s
		WHERE trace_id IN (%s)
		ORDER BY trace_id, id, in_progress ASC, received_us DESC, spool_seq DESC, write_id DESC
		LIMIT 1 BY trace_id, id)
		ORDER BY trace_id, start_us`, tSegmentsByTrace, stringList(traceIDs)))
	if err != nil {
		return nil, fmt.Errorf("query segments: %w", err)
	}
	out := make([]model.SegmentRecord, 0, len(rows))
	for _, row := range rows {
		sc := scanner{row: row}
		raw := sc.str()
		r := model.SegmentRecord{ReceivedAtMicros: sc.i64(), AppMonitorID: sc.str(), SessionID: sc.str(), PageID: sc.str()}
		if sc.err != nil {
			return nil, fmt.Errorf("scan segment: %w", sc.err)
		}
		var seg model.Segment
		if err := json.Unmarshal([]byte(raw), &seg); err != nil {
			return nil, fmt.Errorf("decode stored segment: %w", err)
		}
		r.Segment, r.Raw = &seg, json.RawMessage(raw)
		out = append(out, r)
	}
	return out, nil
}

// ListTraces lists traces most recent first. Event and Service ranges use
// segment start times; TraceId ranges compare the epoch in the id, whose
// fixed-width lower-case hex sorts like the number.
func (s *Store) ListTraces(ctx context.Context, q store.TraceListQuery) ([]store.TraceRef, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var where string
	switch q.TimeRangeType {
	case "", store.TimeRangeEvent, store.TimeRangeService:
		where = fmt.Sprintf("start_us >= %d AND start_us < %d", q.FromMicros, q.ToMicros)
	case store.TimeRangeTraceID:
		where = fmt.Sprintf("substring(trace_id, 3, 8) >= %s AND substring(trace_id, 3, 8) < %s",
			quoteString(fmt.Sprintf("%08x", q.FromMicros/1e6)), quoteString(fmt.Sprintf("%08x", (q.ToMicros+999_999)/1e6)))
	default:
		return nil, fmt.Errorf("unknown TimeRangeType %q", q.TimeRangeType)
	}
	having := ""
	if q.BeforeTraceID != "" {
		having = fmt.Sprintf("HAVING s < %d OR (s = %d AND trace_id < %s)", q.BeforeStartMicros, q.BeforeStartMicros, quoteString(q.BeforeTraceID))
	}
	rows, err := s.conn.query(ctx, fmt.Sprintf(`SELECT trace_id, min(start_us) AS s FROM %s WHERE %s
		GROUP BY trace_id %s ORDER BY s DESC, trace_id DESC LIMIT %d`, tSegments, where, having, limit))
	if err != nil {
		return nil, fmt.Errorf("list traces: %w", err)
	}
	out := make([]store.TraceRef, 0, len(rows))
	for _, r := range rows {
		sc := scanner{row: r}
		ref := store.TraceRef{TraceID: sc.str(), StartMicros: sc.i64()}
		if sc.err != nil {
			return nil, fmt.Errorf("scan trace ref: %w", sc.err)
		}
		out = append(out, ref)
	}
	return out, nil
}
