package model

import (
	"encoding/json"
)

// Segment is one X-Ray segment or subsegment document as the SDKs send it
// (PROTOCOLS.md §3). Field names follow the wire format so a document
// round-trips; unknown fields are not kept here, which is why SegmentRecord
// also carries the raw document.
type Segment struct {
	TraceID    string  `json:"trace_id,omitempty"`
	ID         string  `json:"id"`
	ParentID   string  `json:"parent_id,omitempty"`
	Name       string  `json:"name"`
	StartTime  float64 `json:"start_time"`
	EndTime    float64 `json:"end_time,omitempty"`
	InProgress bool    `json:"in_progress,omitempty"`
	// Type is "subsegment" for an independent subsegment sent on its own.
	Type        string          `json:"type,omitempty"`
	Origin      string          `json:"origin,omitempty"`
	Namespace   string          `json:"namespace,omitempty"`
	User        string          `json:"user,omitempty"`
	ResourceARN string          `json:"resource_arn,omitempty"`
	Service     json.RawMessage `json:"service,omitempty"`
	HTTP        *HTTP           `json:"http,omitempty"`
	AWS         json.RawMessage `json:"aws,omitempty"`
	SQL         json.RawMessage `json:"sql,omitempty"`
	Error       bool            `json:"error,omitempty"`
	Throttle    bool            `json:"throttle,omitempty"`
	Fault       bool            `json:"fault,omitempty"`
	// Cause is either an exception id string or a Cause object; kept raw
	// and decoded on demand with DecodeCause.
	Cause        json.RawMessage            `json:"cause,omitempty"`
	Annotations  map[string]any             `json:"annotations,omitempty"`
	Metadata     map[string]json.RawMessage `json:"metadata,omitempty"`
	Subsegments  []*Segment                 `json:"subsegments,omitempty"`
	PrecursorIDs []string                   `json:"precursor_ids,omitempty"`
	Links        []Link                     `json:"links,omitempty"`
}

// HTTP is the http block of a segment.
type HTTP struct {
	Request  *HTTPRequest  `json:"request,omitempty"`
	Response *HTTPResponse `json:"response,omitempty"`
}

// HTTPRequest is the request half of a segment's http block.
type HTTPRequest struct {
	Method        string `json:"method,omitempty"`
	URL           string `json:"url,omitempty"`
	UserAgent     string `json:"user_agent,omitempty"`
	ClientIP      string `json:"client_ip,omitempty"`
	XForwardedFor bool   `json:"x_forwarded_for,omitempty"`
	Traced        bool   `json:"traced,omitempty"`
}

// HTTPResponse is the response half of a segment's http block.
type HTTPResponse struct {
	Status        int   `json:"status,omitempty"`
	ContentLength int64 `json:"content_length,omitempty"`
}

// Link points from a segment to a span of another trace.
type Link struct {
	TraceID    string         `json:"trace_id,omitempty"`
	ID         string         `json:"id,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Cause is the object form of a segment's cause field.
type Cause struct {
	WorkingDirectory string      `json:"working_directory,omitempty"`
	Paths            []string    `json:"paths,omitempty"`
	Exceptions       []Exception `json:"exceptions,omitempty"`
}

// Exception is one entry of Cause.Exceptions.
type Exception struct {
	ID        string       `json:"id,omitempty"`
	Message   string       `json:"message,omitempty"`
	Type      string       `json:"type,omitempty"`
	Remote    bool         `json:"remote,omitempty"`
	Truncated int          `json:"truncated,omitempty"`
	Skipped   int          `json:"skipped,omitempty"`
	Cause     string       `json:"cause,omitempty"`
	Stack     []StackFrame `json:"stack,omitempty"`
}

// StackFrame is one frame of an exception's stack.
type StackFrame struct {
	Path  string `json:"path,omitempty"`
	Line  int    `json:"line,omitempty"`
	Label string `json:"label,omitempty"`
}

// DecodeCause returns the object form of the cause, or nil when the cause
// is absent or only an exception id reference.
func (s *Segment) DecodeCause() *Cause {
	if len(s.Cause) == 0 || s.Cause[0] != '{' {
		return nil
	}
	var c Cause
	if err := json.Unmarshal(s.Cause, &c); err != nil {
		return nil
	}
	return &c
}

// SegmentRecord is one segment document as accepted at ingest, the unit
// that travels through the spool into the store.
type SegmentRecord struct {
	Segment *Segment `json:"segment"`
	// Raw is the document exactly as received (minus a RUM "version" key),
	// served back by BatchGetTraces.
	Raw json.RawMessage `json:"raw"`
	// ReceivedAtMicros is when Sightline accepted the document.
	ReceivedAtMicros int64 `json:"received_at_us"`
	// Set when the segment arrived as a RUM xray_trace_event: this is how a
	// trace is joined to the user session that caused it.
	AppMonitorID string `json:"app_monitor_id,omitempty"`
	SessionID    string `json:"session_id,omitempty"`
	PageID       string `json:"page_id,omitempty"`
}

// Trace is an assembled trace: its top-level segments, each with its
// subsegments embedded (independent subsegments already attached to their
// parents) and inferred segments added.
type Trace struct {
	ID       string
	Segments []*Segment
	// Inferred marks segments that Sightline synthesised from aws/remote/sql
	// subsegments without a matching child segment, keyed by segment id.
	Inferred map[string]bool
}
