package tracing

import (
	"bytes"
	"encoding/json"
	"time"
)

// document is the JSON shape of an X-Ray segment or subsegment (PROTOCOLS §3).
type document struct {
	Name        string                                `json:"name"`
	ID          string                                `json:"id"`
	TraceID     string                                `json:"trace_id,omitempty"`
	ParentID    string                                `json:"parent_id,omitempty"`
	Type        string                                `json:"type,omitempty"`
	StartTime   float64                               `json:"start_time"`
	EndTime     float64                               `json:"end_time,omitempty"`
	InProgress  bool                                  `json:"in_progress,omitempty"`
	Namespace   string                                `json:"namespace,omitempty"`
	Origin      string                                `json:"origin,omitempty"`
	User        string                                `json:"user,omitempty"`
	Service     *serviceDoc                           `json:"service,omitempty"`
	AWS         *awsDoc                               `json:"aws,omitempty"`
	HTTP        *httpDoc                              `json:"http,omitempty"`
	SQL         *SQLInfo                              `json:"sql,omitempty"`
	Error       bool                                  `json:"error,omitempty"`
	Throttle    bool                                  `json:"throttle,omitempty"`
	Fault       bool                                  `json:"fault,omitempty"`
	Cause       *causeDoc                             `json:"cause,omitempty"`
	Annotations map[string]any                        `json:"annotations,omitempty"`
	Metadata    map[string]map[string]json.RawMessage `json:"metadata,omitempty"`
	Subsegments []*document                           `json:"subsegments,omitempty"`
}

type serviceDoc struct {
	Version string `json:"version,omitempty"`
}

type awsDoc struct {
	XRay xrayDoc `json:"xray"`
}

type xrayDoc struct {
	SDK string `json:"sdk"`
}

type httpDoc struct {
	Request  *httpRequestDoc  `json:"request,omitempty"`
	Response *httpResponseDoc `json:"response,omitempty"`
}

type httpRequestDoc struct {
	Method        string `json:"method,omitempty"`
	URL           string `json:"url,omitempty"`
	UserAgent     string `json:"user_agent,omitempty"`
	ClientIP      string `json:"client_ip,omitempty"`
	XForwardedFor bool   `json:"x_forwarded_for,omitempty"`
	Traced        bool   `json:"traced,omitempty"`
}

type httpResponseDoc struct {
	Status        int   `json:"status,omitempty"`
	ContentLength int64 `json:"content_length,omitempty"`
}

type causeDoc struct {
	WorkingDirectory string         `json:"working_directory,omitempty"`
	Exceptions       []exceptionDoc `json:"exceptions"`
}

type exceptionDoc struct {
	ID      string       `json:"id"`
	Message string       `json:"message,omitempty"`
	Type    string       `json:"type,omitempty"`
	Remote  bool         `json:"remote,omitempty"`
	Stack   []stackFrame `json:"stack,omitempty"`
}

type stackFrame struct {
	Path  string `json:"path,omitempty"`
	Line  int    `json:"line,omitempty"`
	Label string `json:"label,omitempty"`
}

// SQLInfo is the "sql" block of a database subsegment.
type SQLInfo struct {
	// URL is the connection string without credentials.
	URL             string `json:"url,omitempty"`
	DatabaseType    string `json:"database_type,omitempty"`
	DatabaseVersion string `json:"database_version,omitempty"`
	DriverVersion   string `json:"driver_version,omitempty"`
	User            string `json:"user,omitempty"`
	// SanitizedQuery is the statement with placeholders, never with argument values.
	SanitizedQuery string `json:"sanitized_query,omitempty"`
	Preparation    string `json:"preparation,omitempty"`
}

// daemonHeader is the first line of every datagram, byte for byte what the Go SDK sends.
const daemonHeader = "{\"format\": \"json\", \"version\": 1}\n"

// maxDatagram keeps a datagram under the 64 KiB the daemon reads at once (65,507 bytes
// of UDP payload), with room to spare.
const maxDatagram = 63 * 1024

func epochSeconds(t time.Time) float64 {
	return float64(t.UnixMicro()) / 1e6
}

// docLocked converts s and its embedded children. Called with tree.mu held.
func (s *Span) docLocked(withChildren bool) *document {
	d := &document{
		Name:        s.name,
		ID:          s.id,
		StartTime:   epochSeconds(s.start),
		Namespace:   s.namespace,
		User:        s.user,
		HTTP:        s.http,
		SQL:         s.sql,
		Error:       s.errorFlag,
		Throttle:    s.throttle,
		Fault:       s.fault,
		Cause:       s.cause,
		Annotations: s.annotations,
		Metadata:    s.metadata,
	}
	if s.ended {
		d.EndTime = epochSeconds(s.end)
	} else {
		d.InProgress = true
	}
	if withChildren {
		for _, c := range s.children {
			d.Subsegments = append(d.Subsegments, c.docLocked(true))
		}
	}
	return d
}

// encodeSegmentLocked encodes the segment s; if it does not fit one datagram, its
// completed subsegment trees are sent as independent subsegments first.
func (r *Recorder) encodeSegmentLocked(s *Span) [][]byte {
	d := s.docLocked(true)
	d.TraceID, d.ParentID = s.traceID, s.parentID
	d.Origin = r.origin
	d.AWS = &awsDoc{XRay: xrayDoc{SDK: sdkName}}
	if r.serviceVersion != "" {
		d.Service = &serviceDoc{Version: r.serviceVersion}
	}
	b := marshalDatagram(d)
	s.sent = true
	if len(b) <= maxDatagram || len(s.children) == 0 {
		if len(b) > maxDatagram {
			r.logger.Warn("tracing: segment too large, dropped", "trace_id", s.traceID, "bytes", len(b))
			r.emitter.countDrop()
			return nil
		}
		return [][]byte{b}
	}
	var out [][]byte
	for _, c := range s.children {
		c.sent = true
		out = r.encodeIndependentLocked(c, out)
	}
	s.children = nil
	s.tree.attached = 0
	d.Subsegments = nil
	b = marshalDatagram(d)
	if len(b) > maxDatagram {
		r.logger.Warn("tracing: segment too large, dropped", "trace_id", s.traceID, "bytes", len(b))
		r.emitter.countDrop()
		return out
	}
	return append(out, b)
}

// encodeIndependentLocked appends s encoded as an independent subsegment. A tree too
// large for one datagram is split further: children first, each on its own.
func (r *Recorder) encodeIndependentLocked(s *Span, out [][]byte) [][]byte {
	d := s.docLocked(true)
	d.Type, d.TraceID, d.ParentID = "subsegment", s.traceID, s.parentID
	b := marshalDatagram(d)
	if len(b) <= maxDatagram {
		return append(out, b)
	}
	for _, c := range s.children {
		c.sent = true
		out = r.encodeIndependentLocked(c, out)
	}
	s.children = nil
	d.Subsegments = nil
	b = marshalDatagram(d)
	if len(b) > maxDatagram {
		r.logger.Warn("tracing: subsegment too large, dropped", "trace_id", s.traceID, "id", s.id, "bytes", len(b))
		r.emitter.countDrop()
		return out
	}
	return append(out, b)
}

func marshalDatagram(d *document) []byte {
	var buf bytes.Buffer
	buf.Grow(1024)
	buf.WriteString(daemonHeader)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// Every field is a plain type or pre-encoded JSON, so Encode cannot fail.
	_ = enc.Encode(d)
	b := buf.Bytes()
	return b[:len(b)-1] // Encode appends '\n'; the daemon expects none after the document.
}
