package duckdb

import (
	"bytes"
	"database/sql/driver"
	"fmt"
	"strings"

	duckdbdrv "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/model"
)

// The X-Ray side tables are filled in the writer's transaction from the
// documents being stored, so that filter expressions compile to SQL over
// typed rows instead of the raw JSON, and a trace's rows can be found
// without scanning the whole segments table:
//
//   - trace_index: one row per trace per Write with that Write's spool
//     sequence number. spool_seq only grows in the segments table, so its
//     zone maps (min/max per row group) are tight, and knowing a trace's
//     sequence numbers prunes a lookup to the row groups holding it;
//   - segment_calls: every aws, remote or sql subsegment (at any depth) of
//     a stored document: the downstream calls that become inferred nodes
//     when no instrumented service answered them;
//   - segment_annotations: every annotation of a document and of its
//     subsegments, one typed row each;
//   - segment_users: users set on subsegments (a document's own user is
//     segments.user_name).
//
// Rows older than the tables (a database created before them) are covered
// by xray_index_meta.from_seq: filters let those traces through unchecked.

// subtreeFlags are the facts of a document's subsegments that filter
// keywords read at trace level.
type subtreeFlags struct {
	throttle, inProgress bool
}

func subFlags(s *model.Segment) subtreeFlags {
	var f subtreeFlags
	for _, sub := range s.Subsegments {
		sub.Walk(func(n *model.Segment) bool {
			f.throttle = f.throttle || n.Throttle || httpStatus(n) == 429
			f.inProgress = f.inProgress || n.InProgress
			return true
		})
	}
	return f
}

func httpStatus(s *model.Segment) int {
	if s.HTTP != nil && s.HTTP.Response != nil {
		return s.HTTP.Response.Status
	}
	return 0
}

// inferredType mirrors query/trace.InferredType (the store must not import
// the query layer): the service type of the node inferred for a
// subsegment, or "" when it is not a downstream call.
func inferredType(sub *model.Segment) string {
	switch {
	case len(sub.SQL) > 0 && string(sub.SQL) != "null":
		return "Database::SQL"
	case sub.Namespace == "aws":
		return "AWS::" + strings.ReplaceAll(sub.Name, " ", "")
	case sub.Namespace == "remote":
		return "remote"
	}
	return ""
}

func callRow(traceID, docID string, sub *model.Segment, typ string, seq uint64) []driver.Value {
	var end driver.Value
	if sub.EndTime > 0 {
		end = micros(sub.EndTime)
	}
	var method, url, ip, ua, status driver.Value
	if h := sub.HTTP; h != nil {
		if q := h.Request; q != nil {
			method, url, ip, ua = nullStr(q.Method), nullStr(q.URL), nullStr(q.ClientIP), nullStr(q.UserAgent)
		}
		if p := h.Response; p != nil && p.Status != 0 {
			status = int32(p.Status)
		}
	}
	return []driver.Value{traceID, docID, sub.ID, sub.Name, typ, micros(sub.StartTime), end, sub.InProgress,
		sub.Error, sub.Fault, sub.Throttle, status, method, url, ua, ip, seq, nullStr(accountOf(sub))}
}

var accountField = []byte(`"account_id"`)

// accountOf is the aws.account_id of a segment or subsegment; the aws
// block is decoded only when it names one.
func accountOf(s *model.Segment) string {
	if len(s.AWS) == 0 || !bytes.Contains(s.AWS, accountField) {
		return ""
	}
	return s.DecodeAWS().AccountID
}

func annotationValues(traceID, docID, key string, v any, seq uint64) []driver.Value {
	var str, num, b driver.Value
	switch x := v.(type) {
	case string:
		str = x
	case float64:
		num = x
	case bool:
		b = x
	case int:
		num = float64(x)
	case int64:
		num = float64(x)
	}
	// Other JSON values (null, arrays, objects) keep a row with no typed
	// value: inside service() a bare annotation.KEY counts them as set.
	return []driver.Value{traceID, docID, key, str, num, b, seq}
}

// sideRows are the side-table rows of one Write.
type sideRows struct {
	traces             map[string]bool
	traceOrder         []string
	calls, annos, usrs [][]driver.Value
}

func (r *sideRows) add(s *model.Segment, seq uint64) {
	if !r.traces[s.TraceID] {
		r.traces[s.TraceID] = true
		r.traceOrder = append(r.traceOrder, s.TraceID)
	}
	s.Walk(func(n *model.Segment) bool {
		for k, v := range n.Annotations {
			r.annos = append(r.annos, annotationValues(s.TraceID, s.ID, k, v, seq))
		}
		// An independent subsegment is itself a call once attached.
		if n == s && s.Type != "subsegment" {
			return true
		}
		if n.User != "" {
			r.usrs = append(r.usrs, []driver.Value{s.TraceID, s.ID, n.User, seq})
		}
		if typ := inferredType(n); typ != "" {
			r.calls = append(r.calls, callRow(s.TraceID, s.ID, n, typ, seq))
		}
		return true
	})
}

func appendSideTables(dc driver.Conn, seq uint64, batches []*model.Batch) error {
	r := sideRows{traces: map[string]bool{}}
	for _, b := range batches {
		for i := range b.Segments {
			if s := b.Segments[i].Segment; s != nil {
				r.add(s, seq)
			}
		}
	}
	idx := make([][]driver.Value, len(r.traceOrder))
	for i, id := range r.traceOrder {
		idx[i] = []driver.Value{id, seq}
	}
	for _, t := range []struct {
		table string
		rows  [][]driver.Value
	}{{"trace_index", idx}, {"segment_calls", r.calls}, {"segment_annotations", r.annos}, {"segment_users", r.usrs}} {
		if err := appendRows(dc, t.table, t.rows); err != nil {
			return err
		}
	}
	return nil
}

func appendRows(dc driver.Conn, table string, rows [][]driver.Value) error {
	if len(rows) == 0 {
		return nil
	}
	app, err := duckdbdrv.NewAppenderFromConn(dc, "", table)
	if err != nil {
		return fmt.Errorf("%s appender: %w", table, err)
	}
	for _, row := range rows {
		if err := app.AppendRow(row...); err != nil {
			_ = app.Close()
			return fmt.Errorf("append %s: %w", table, err)
		}
	}
	if err := app.Close(); err != nil {
		return fmt.Errorf("flush %s: %w", table, err)
	}
	return nil
}
