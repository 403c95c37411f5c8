package rumdata

import (
	"encoding/json"

	"fmt"
	jsonv2 "github.com/go-json-experiment/json"
	"strings"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/internal/store"
)

// Origin describes where a request came from, as the server saw it.
type Origin struct {
	ClientIP  string // already anonymised when configured
	Country   string // from the client address before anonymisation; "" when unknown
	UserAgent string
	Client    pipeline.Client
	Scheme    string // of the page, from the Origin header
}

// typed views of the details the queries need; absent fields stay zero.
type details struct {
	PageID   string   `json:"pageId"`
	Value    *float64 `json:"value"`
	Duration *float64 `json:"duration"`
	Type     string   `json:"type"`
	Message  string   `json:"message"`
	Request  *struct {
		URL    string `json:"url"`
		Method string `json:"method"`
	} `json:"request"`
	Response *struct {
		Status int `json:"status"`
	} `json:"response"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
	Stack          string `json:"stack"`
	TraceIDSnake   string `json:"trace_id"`
	SegmentIDSnake string `json:"segment_id"`
	ID             string `json:"id"`
}

// ToModel converts a decoded request into stored events and, for
// xray_trace_event, segment records of the same trace store.
func ToModel(r *Request, appMonitorID string, o Origin, receivedMicros int64, parse SegmentParser) ([]model.RumEvent, []model.SegmentRecord, error) {
	if parse == nil {
		parse = ParseSegmentMinimal
	}
	events := make([]model.RumEvent, 0, len(r.Events))
	var segs []model.SegmentRecord
	for i := range r.Events {
		e := &r.Events[i]
		me := model.RumEvent{
			AppMonitorID:     appMonitorID,
			EventID:          e.ID,
			BatchID:          r.BatchID,
			TimestampMicros:  e.TimestampMicros,
			Type:             e.Type,
			SessionID:        r.SessionID,
			UserID:           r.UserID,
			AppVersion:       r.AppVersion,
			Browser:          o.Client.Browser,
			BrowserVersion:   o.Client.BrowserVersion,
			OS:               o.Client.OS,
			OSVersion:        o.Client.OSVersion,
			DeviceType:       o.Client.DeviceType,
			ClientIP:         o.ClientIP,
			UserAgent:        o.UserAgent,
			Details:          e.Details,
			ReceivedAtMicros: receivedMicros,
		}
		me.PageID = e.MetadataString("pageId")
		me.Language = e.MetadataString("browserLanguage")
		me.Domain = e.MetadataString("domain")
		if me.AppVersion == "" {
			me.AppVersion = e.MetadataString("version")
		}
		me.Country = o.Country
		if me.Country == "" {
			me.Country = e.MetadataString("countryCode")
		}
		me.Metadata = e.MetadataJSON()

		var d details
		if len(e.Details) > 0 && e.Details[0] == '{' {
			// Custom events may carry anything; a shape mismatch only means
			// there is nothing typed to extract.
			_ = jsonv2.Unmarshal(e.Details, &d, decodeOpts)
		}
		if me.PageID == "" {
			me.PageID = d.PageID
		}
		switch e.Type {
		case model.EventLCP, model.EventFID, model.EventCLS, model.EventINP, model.EventFCP, model.EventTTFB:
			me.Value = d.Value
		case model.EventNavigation, model.EventResource:
			me.DurationMillis = d.Duration
		case model.EventJSError:
			me.ErrorType, me.ErrorMessage = d.Type, d.Message
			me.ErrorGroupMessage = store.NormalizeErrorMessage(d.Message)
			me.ErrorFrame = store.TopStackFrame(d.Stack)
		case model.EventHTTP:
			if d.Request != nil {
				me.HTTPMethod, me.HTTPURL = d.Request.Method, d.Request.URL
			}
			if d.Response != nil {
				me.HTTPStatus = d.Response.Status
			}
			if d.Error != nil {
				me.ErrorType, me.ErrorMessage = d.Error.Type, d.Error.Message
			}
			me.DurationMillis = d.Duration
			me.TraceID, me.SegmentID = NormalizeTraceID(d.TraceIDSnake), d.SegmentIDSnake
			me.HTTPURLPattern = store.URLPattern(me.HTTPURL)
		case model.EventXRayTrace:
			seg, raw, err := browserSegment(e.Details, parse)
			if err != nil {
				return nil, nil, badf("RumEvents[%d]: xray_trace_event details: %v", i, err)
			}
			me.TraceID, me.SegmentID = seg.TraceID, seg.ID
			if seg.EndTime > seg.StartTime {
				dur := (seg.EndTime - seg.StartTime) * 1000
				me.DurationMillis = &dur
			}
			segs = append(segs, model.SegmentRecord{
				Segment: seg, Raw: raw, ReceivedAtMicros: receivedMicros,
				AppMonitorID: appMonitorID, SessionID: r.SessionID, PageID: me.PageID,
			})
		}
		if len(me.ErrorMessage) > 1000 {
			me.ErrorMessage = me.ErrorMessage[:1000]
		}
		events = append(events, me)
	}
	return events, segs, nil
}

// browserSegment turns an xray_trace_event's details into a segment: the
// "version" key belongs to the RUM event, not to the segment document.
func browserSegment(d json.RawMessage, parse SegmentParser) (*model.Segment, json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(d, &m); err != nil {
		return nil, nil, err
	}
	delete(m, "version")
	var tid string
	if err := json.Unmarshal(m["trace_id"], &tid); err == nil {
		if norm := NormalizeTraceID(tid); norm != tid {
			// With enableW3CTraceId the client records the 32-hex W3C id;
			// the trace store keys on the X-Ray form of the same id.
			m["trace_id"], _ = json.Marshal(norm)
		}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, nil, err
	}
	seg, err := parse(raw)
	if err != nil {
		return nil, nil, err
	}
	return seg, raw, nil
}

// SegmentParser decodes and validates one segment document; the X-Ray
// ingest package's full validation is plugged in by the caller.
type SegmentParser func(raw []byte) (*model.Segment, error)

// ParseSegmentMinimal checks only what joining a trace needs.
func ParseSegmentMinimal(raw []byte) (*model.Segment, error) {
	var s model.Segment
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	if len(s.ID) != 16 || !strings.HasPrefix(s.TraceID, "1-") || len(s.TraceID) != 35 {
		return nil, fmt.Errorf("id %q or trace_id %q malformed", s.ID, s.TraceID)
	}
	return &s, nil
}

// NormalizeTraceID returns the X-Ray form 1-<8 hex>-<24 hex> of a W3C
// 32-hex trace id; other input is returned unchanged.
func NormalizeTraceID(id string) string {
	if len(id) != 32 {
		return id
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return id
		}
	}
	return "1-" + id[:8] + "-" + id[8:]
}
