// Package rumdata receives CloudWatch RUM PutRumEvents requests (what the
// unmodified aws-rum-web client and Sightline's own agent send), validates
// them and turns them into model values. It is the only place that knows
// that wire format (PROTOCOLS.md §1).
package rumdata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/model"
)

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
	SessionMetadata map[string]any
	Alias           string
	Events          []Event
}

// Event is one decoded event; Metadata is already merged over the
// SessionMetadata.
type Event struct {
	ID              string
	TimestampMicros int64
	Type            string
	Metadata        map[string]any
	Details         json.RawMessage
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
	SessionMetadata   json.RawMessage `json:"SessionMetadata"`
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
	ID        string          `json:"id"`
	Timestamp json.RawMessage `json:"timestamp"`
	Type      string          `json:"type"`
	Metadata  json.RawMessage `json:"metadata"`
	Details   json.RawMessage `json:"details"`
}

// Decode parses and validates a PutRumEvents body (already decompressed).
// It either returns every event or an error: a batch is never half taken.
func Decode(body []byte, lim Limits) (*Request, error) {
	var w wireBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return nil, badf("invalid JSON body: %v", err)
	}
	if dec.More() {
		return nil, badf("invalid JSON body: trailing data after the object")
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

func decodeEvent(we wireEvent, session map[string]any, lim Limits) (Event, error) {
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
	ev.Metadata = make(map[string]any, len(session)+4)
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
func decodeTimestamp(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, errors.New("required")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, fmt.Errorf("%q is neither epoch seconds nor RFC 3339", s)
		}
		return t.UnixMicro(), nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
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
func doubleParsed(raw json.RawMessage) (json.RawMessage, error) {
	if raw[0] != '"' {
		return nil, errors.New("must be a JSON string containing JSON")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return json.RawMessage("{}"), nil
	}
	if !json.Valid([]byte(s)) {
		return nil, fmt.Errorf("string is not valid JSON: %s", truncate(s, 60))
	}
	return json.RawMessage(s), nil
}

func doubleParsedObject(raw json.RawMessage) (map[string]any, error) {
	inner, err := doubleParsed(raw)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(inner))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
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
