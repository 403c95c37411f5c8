package rum

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/sightline/sightline/internal/api/awserr"
	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// filterNames maps GetAppMonitorData filter names (CloudWatch's, then
// Sightline's additions) to store filter columns.
var filterNames = map[string]string{
	"Browser": "browser", "Device": "device_type", "DeviceType": "device_type", "Country": "country",
	"Page": "page_id", "PageId": "page_id", "OS": "os", "EventType": "event_type",
	"SessionId": "session_id", "UserId": "user_id", "TraceId": "trace_id",
}

type dataRequest struct {
	TimeRange *struct {
		After  *float64 `json:"After"`
		Before *float64 `json:"Before"`
	} `json:"TimeRange"`
	Filters []struct {
		Name   string   `json:"Name"`
		Values []string `json:"Values"`
	} `json:"Filters"`
	MaxResults *int   `json:"MaxResults"`
	NextToken  string `json:"NextToken"`
}

func (a *API) data(w http.ResponseWriter, r *http.Request) {
	m, err := a.Registry.Get(r.Context(), r.PathValue("Name"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var req dataRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.TimeRange == nil || req.TimeRange.After == nil {
		awserr.Validation(w, "TimeRange.After: required (epoch milliseconds)")
		return
	}
	q := store.RumEventQuery{AppMonitorID: m.ID, FromMicros: int64(*req.TimeRange.After) * 1000, ToMicros: math.MaxInt64, Limit: 100, Filters: map[string][]string{}}
	if req.TimeRange.Before != nil {
		q.ToMicros = int64(*req.TimeRange.Before) * 1000
	}
	if q.ToMicros <= q.FromMicros {
		awserr.Validation(w, "TimeRange: Before must be after After")
		return
	}
	if req.MaxResults != nil {
		if *req.MaxResults < 0 || *req.MaxResults > 100 {
			awserr.Validation(w, "MaxResults: must be 0 to 100")
			return
		}
		if *req.MaxResults > 0 {
			q.Limit = *req.MaxResults
		}
	}
	for _, f := range req.Filters {
		col, ok := filterNames[f.Name]
		if !ok {
			awserr.Validation(w, fmt.Sprintf("Filters: unknown filter name %q (known: Browser, Device, Country, Page, OS, EventType, SessionId, UserId, TraceId)", f.Name))
			return
		}
		vals := f.Values
		if col == "event_type" {
			for i, v := range vals {
				if !strings.Contains(v, ".") {
					vals[i] = model.EventTypePrefix + v // accept short names like js_error_event
				}
			}
		}
		q.Filters[col] = append(q.Filters[col], vals...)
	}
	if req.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(req.NextToken)
		ts, id, ok := strings.Cut(string(raw), ",")
		n, perr := strconv.ParseInt(ts, 10, 64)
		if err != nil || !ok || perr != nil {
			awserr.Validation(w, "NextToken: not a token this server issued")
			return
		}
		q.AfterMicros, q.AfterEventID = n, id
	}
	events, err := a.Events.RumEvents(r.Context(), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Events    []string `json:"Events"`
		NextToken string   `json:"NextToken,omitempty"`
	}{Events: make([]string, 0, len(events))}
	for i := range events {
		s, err := renderEvent(m, &events[i])
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out.Events = append(out.Events, s)
	}
	if len(events) == q.Limit {
		last := events[len(events)-1]
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d,%s", last.TimestampMicros, last.EventID)))
	}
	awserr.JSON(w, out)
}

// renderEvent writes one event the way CloudWatch RUM writes events to its
// logs. The browser, OS and device come from the server's parse of the
// User-Agent; what the client claimed stays under clientReported*.
func renderEvent(m *model.AppMonitor, e *model.RumEvent) (string, error) {
	md := map[string]any{}
	if len(e.Metadata) > 0 {
		if err := json.Unmarshal(e.Metadata, &md); err != nil {
			return "", fmt.Errorf("stored metadata: %w", err)
		}
	}
	for k, v := range map[string]string{"browserName": e.Browser, "browserVersion": e.BrowserVersion, "osName": e.OS, "osVersion": e.OSVersion, "deviceType": e.DeviceType} {
		if old, ok := md[k]; ok && old != v {
			md["clientReported"+strings.ToUpper(k[:1])+k[1:]] = old
		}
		if v != "" {
			md[k] = v
		}
	}
	if e.Country != "" {
		md["countryCode"] = e.Country
	}
	if e.ClientIP != "" {
		md["clientIp"] = e.ClientIP
	}
	var details any = json.RawMessage("{}")
	if len(e.Details) > 0 {
		details = json.RawMessage(e.Details)
	}
	b, err := json.Marshal(map[string]any{
		"event_timestamp":     e.TimestampMicros / 1000,
		"event_type":          e.Type,
		"event_id":            e.EventID,
		"event_version":       "1.0.0",
		"log_stream":          e.BatchID,
		"application_id":      m.ID,
		"application_name":    m.Name,
		"application_version": e.AppVersion,
		"metadata":            md,
		"user_details":        map[string]string{"userId": e.UserID, "sessionId": e.SessionID},
		"event_details":       details,
	})
	return string(b), err
}
