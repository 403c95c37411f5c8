// Package rumdata receives CloudWatch RUM PutRumEvents requests (what the
// unmodified aws-rum-web client and Sightline's own agent send), validates
// them and turns them into model values. It is the only place that knows
// that wire format (PROTOCOLS.md §1).
package rumdata

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/sightline/sightline/internal/model"
)

// Batches arrive at tens of thousands of events per second; the v2 JSON
// decoder is markedly faster than encoding/json here. Names match
// case-insensitively, as encoding/json did, for SDK-built requests.
var decodeOpts = jsonv2.JoinOptions(jsonv2.MatchCaseInsensitiveNames(true))

// Limits bounds what one request may carry.
type Limits struct {
	MaxEvents     int
	MaxEventBytes int
}

// Request is a decoded, validated PutRumEvents body.
type Request struct {
	BatchID         string
	AppMonitorID    string
	AppVersion      string
	UserID          string
	SessionID       string
	SessionMetadata map[string]jsontext.Value
	Alias           string
	Events          []Event
}

// Event is one decoded event; Metadata is already merged over the
// SessionMetadata (top-level keys; values stay raw JSON).
type Event struct {
	ID              string
	TimestampMicros int64
	Type            string
	Metadata        map[string]jsontext.Value
	Details         json.RawMessage
}

// MetadataString returns a string-valued metadata key, or "".
func (e *Event) MetadataString(key string) string {
	v, ok := e.Metadata[key]
	if !ok || len(v) == 0 {
		return ""
	}
	if v[0] == '"' {
		var s string
		if jsonv2.Unmarshal(v, &s) == nil {
			return s
		}
		return ""
	}
	if v[0] == 'n' { // null
		return ""
	}
	return string(v)
}

// MetadataJSON renders the merged metadata as one JSON object with sorted
// keys, so identical input stores identical text.
func (e *Event) MetadataJSON() json.RawMessage {
	keys := make([]string, 0, len(e.Metadata))
	for k := range e.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	size := 2
	for _, k := range keys {
		size += len(k) + len(e.Metadata[k]) + 4
	}
	out := make([]byte, 0, size)
	out = append(out, '{')
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out, _ = jsontext.AppendQuote(out, k)
		out = append(out, ':')
		out = append(out, e.Metadata[k]...)
	}
	return append(out, '}')
}

// DecodeError is a client mistake: the whole batch is refused with 400.
type DecodeError struct{ Msg string }

func (e *DecodeError) Error() string { return e.Msg }

func badf(format string, a ...any) error { return &DecodeError{Msg: fmt.Sprintf(format, a...)} }

type wireBody struct {
	BatchID           *string         `json:"BatchId"`
	AppMonitorDetails *wireAppMonitor `json:"AppMonitorDetails"`
	UserDetails       *wireUser       `json:"UserDetails"`
	RumEvents         []wireEvent     `json:"RumEvents"`
	SessionMetadata   jsontext.Value  `json:"SessionMetadata"`
	Alias             string          `json:"Alias"`
}

type wireAppMonitor struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

type wireUser struct {
	UserID    string `json:"userId"`
	SessionID string `json:"sessionId"`
}

type wireEvent struct {
	ID        string         `json:"id"`
	Timestamp jsontext.Value `json:"timestamp"`
	Type      string         `json:"type"`
	Metadata  jsontext.Value `json:"metadata"`
	Details   jsontext.Value `json:"details"`
}

// Decode parses and validates a PutRumEvents body (already decompressed).
// It either returns every event or an error: a batch is never half taken.
func Decode(body []byte, lim Limits) (*Request, error) {
	var w wireBody
	if err := jsonv2.Unmarshal(body, &w, decodeOpts); err != nil {
		return nil, badf("invalid JSON body: %v", err)
	}
	if w.BatchID == nil || strings.TrimSpace(*w.BatchID) == "" {
		return nil, badf("BatchId: required")
	}
	if len(*w.BatchID) > 128 {
		return nil, badf("BatchId: longer than 128 characters")
	}
	if w.AppMonitorDetails == nil {
		return nil, badf("AppMonitorDetails: required")
	}
	if w.UserDetails == nil {
		return nil, badf("UserDetails: required")
	}
	if len(w.RumEvents) > lim.MaxEvents {
		return nil, badf("RumEvents: %d events, at most %d per request", len(w.RumEvents), lim.MaxEvents)
	}
	r := &Request{
		BatchID:      *w.BatchID,
		AppMonitorID: w.AppMonitorDetails.ID,
		AppVersion:   w.AppMonitorDetails.Version,
		UserID:       w.UserDetails.UserID,
		SessionID:    w.UserDetails.SessionID,
		Alias:        w.Alias,
		Events:       make([]Event, 0, len(w.RumEvents)),
	}
	if len(r.SessionID) > 128 || len(r.UserID) > 128 {
		return nil, badf("UserDetails: sessionId and userId must be at most 128 characters")
	}
	if len(w.SessionMetadata) > 0 && string(w.SessionMetadata) != "null" {
		sm, err := doubleParsedObject(w.SessionMetadata)
		if err != nil {
			return nil, badf("SessionMetadata: %v", err)
		}
		r.SessionMetadata = sm
	}
	for i, we := range w.RumEvents {
		ev, err := decodeEvent(we, r.SessionMetadata, lim)
		if err != nil {
			return nil, badf("RumEvents[%d]: %v", i, err)
		}
		r.Events = append(r.Events, ev)
	}
	return r, nil
}

func decodeEvent(we wireEvent, session map[string]jsontext.Value, lim Limits) (Event, error) {
	if we.ID == "" || len(we.ID) > 64 {
		return Event{}, errors.New("id: required, at most 64 characters")
	}
	if we.Type == "" || len(we.Type) > 256 {
		return Event{}, errors.New("type: required, at most 256 characters")
	}
	ts, err := decodeTimestamp(we.Timestamp)
	if err != nil {
		return Event{}, fmt.Errorf("timestamp: %w", err)
	}
	if len(we.Metadata)+len(we.Details) > lim.MaxEventBytes {
		return Event{}, fmt.Errorf("metadata and details are %d bytes, at most %d", len(we.Metadata)+len(we.Details), lim.MaxEventBytes)
	}
	ev := Event{ID: we.ID, Type: we.Type, TimestampMicros: ts}
	ev.Metadata = make(map[string]jsontext.Value, len(session)+4)
	for k, v := range session {
		ev.Metadata[k] = v
	}
	if len(we.Metadata) > 0 && string(we.Metadata) != "null" {
		md, err := doubleParsedObject(we.Metadata)
		if err != nil {
			return Event{}, fmt.Errorf("metadata: %w", err)
		}
		for k, v := range md {
			ev.Metadata[k] = v
		}
	}
	if len(we.Details) == 0 || string(we.Details) == "null" {
		ev.Details = json.RawMessage("{}")
	} else {
		d, err := doubleParsed(we.Details)
		if err != nil {
			return Event{}, fmt.Errorf("details: %w", err)
		}
		if strings.HasPrefix(we.Type, model.EventTypePrefix) && !isCustomName(we.Type) && (len(d) == 0 || d[0] != '{') {
			return Event{}, fmt.Errorf("details: %s details must be a JSON object", we.Type)
		}
		ev.Details = d
	}
	return ev, nil
}

// isCustomName reports whether a com.amazon.rum.* type is not one of the
// built-in ones; those may carry any JSON.
func isCustomName(t string) bool {
	switch t {
	case model.EventSessionStart, model.EventPageView, model.EventNavigation, model.EventResource,
		model.EventLCP, model.EventFID, model.EventCLS, model.EventINP, model.EventFCP, model.EventTTFB,
		model.EventJSError, model.EventHTTP, model.EventXRayTrace, model.EventDOM, model.EventRRWeb:
		return false
	}
	return true
}

// decodeTimestamp accepts epoch seconds (aws-rum-web sends integers, AWS
// SDKs fractions) and RFC 3339 strings.
func decodeTimestamp(raw jsontext.Value) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, errors.New("required")
	}
	if raw[0] == '"' {
		var s string
		if err := jsonv2.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, fmt.Errorf("%q is neither epoch seconds nor RFC 3339", s)
		}
		return t.UnixMicro(), nil
	}
	var f float64
	if err := jsonv2.Unmarshal(raw, &f); err != nil {
		return 0, fmt.Errorf("not a number: %s", truncate(string(raw), 40))
	}
	if f <= 0 || math.IsNaN(f) || f > 1e11 {
		return 0, fmt.Errorf("%v is not epoch seconds", f)
	}
	return int64(math.Round(f * 1e6)), nil
}

// doubleParsed unwraps a field that the wire format carries as a JSON
// string holding JSON. A bare JSON value is refused: real clients always
// stringify, and accepting both would hide client bugs.
func doubleParsed(raw jsontext.Value) (json.RawMessage, error) {
	if raw[0] != '"' {
		return nil, errors.New("must be a JSON string containing JSON")
	}
	var s string
	if err := jsonv2.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return json.RawMessage("{}"), nil
	}
	v := jsontext.Value(s)
	// Compact also validates; stored text is then canonical and small.
	if err := v.Compact(); err != nil {
		return nil, fmt.Errorf("string is not valid JSON: %s", truncate(s, 60))
	}
	return json.RawMessage(v), nil
}

func doubleParsedObject(raw jsontext.Value) (map[string]jsontext.Value, error) {
	inner, err := doubleParsed(raw)
	if err != nil {
		return nil, err
	}
	var m map[string]jsontext.Value
	if err := jsonv2.Unmarshal(inner, &m, decodeOpts); err != nil || m == nil {
		return nil, errors.New("must hold a JSON object")
	}
	return m, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
