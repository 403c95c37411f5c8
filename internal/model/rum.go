package model

import "encoding/json"

// EventTypePrefix is the namespace aws-rum-web puts before every event name.
const EventTypePrefix = "com.amazon.rum."

// Well-known RUM event types (PROTOCOLS.md §1). Custom types are legal too.
const (
	EventSessionStart = EventTypePrefix + "session_start_event"
	EventPageView     = EventTypePrefix + "page_view_event"
	EventNavigation   = EventTypePrefix + "performance_navigation_event"
	EventResource     = EventTypePrefix + "performance_resource_event"
	EventLCP          = EventTypePrefix + "largest_contentful_paint_event"
	EventFID          = EventTypePrefix + "first_input_delay_event"
	EventCLS          = EventTypePrefix + "cumulative_layout_shift_event"
	EventINP          = EventTypePrefix + "interaction_to_next_paint_event"
	EventFCP          = EventTypePrefix + "first_contentful_paint_event"
	EventTTFB         = EventTypePrefix + "time_to_first_byte_event"
	EventJSError      = EventTypePrefix + "js_error_event"
	EventHTTP         = EventTypePrefix + "http_event"
	EventXRayTrace    = EventTypePrefix + "xray_trace_event"
	EventDOM          = EventTypePrefix + "dom_event"
	EventRRWeb        = EventTypePrefix + "rrweb_event"
	EventCORSSuspect  = EventTypePrefix + "sightline.cors_suspect"
	AllZeroUserID     = "00000000-0000-0000-0000-000000000000"
	TelemetryErrors   = "errors"
	TelemetryPerf     = "performance"
	TelemetryHTTP     = "http"
)

// RumEvent is one accepted RUM event with the columns queries need
// extracted at ingest, plus the merged metadata and raw details.
type RumEvent struct {
	AppMonitorID    string `json:"app_monitor_id"`
	EventID         string `json:"event_id"`
	BatchID         string `json:"batch_id"`
	TimestampMicros int64  `json:"ts_us"`
	Type            string `json:"type"`
	SessionID       string `json:"session_id"`
	UserID          string `json:"user_id"`
	PageID          string `json:"page_id,omitempty"`
	AppVersion      string `json:"app_version,omitempty"`

	Browser        string `json:"browser,omitempty"`
	BrowserVersion string `json:"browser_version,omitempty"`
	OS             string `json:"os,omitempty"`
	OSVersion      string `json:"os_version,omitempty"`
	DeviceType     string `json:"device_type,omitempty"`
	Country        string `json:"country,omitempty"`
	Language       string `json:"language,omitempty"`
	Domain         string `json:"domain,omitempty"`
	ClientIP       string `json:"client_ip,omitempty"`
	UserAgent      string `json:"user_agent,omitempty"`

	// Value is a web vital's value (ms, or unitless for CLS).
	Value *float64 `json:"value,omitempty"`
	// DurationMillis is a navigation's or HTTP call's duration.
	DurationMillis *float64 `json:"duration_ms,omitempty"`
	HTTPMethod     string   `json:"http_method,omitempty"`
	HTTPURL        string   `json:"http_url,omitempty"`
	HTTPStatus     int      `json:"http_status,omitempty"`
	TraceID        string   `json:"trace_id,omitempty"`
	SegmentID      string   `json:"segment_id,omitempty"`
	ErrorType      string   `json:"error_type,omitempty"`
	ErrorMessage   string   `json:"error_message,omitempty"`
	// Grouping keys computed once at ingest, so error and HTTP groups
	// need no regular expressions at query time.
	ErrorGroupMessage string `json:"error_group_message,omitempty"`
	ErrorFrame        string `json:"error_frame,omitempty"`
	HTTPURLPattern    string `json:"http_url_pattern,omitempty"`

	// Metadata is the event's metadata merged over the batch's
	// SessionMetadata (event keys win), as a JSON object.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// Details is the event's details as a JSON value (object for the
	// built-in types, anything for custom events).
	Details          json.RawMessage `json:"details,omitempty"`
	ReceivedAtMicros int64           `json:"received_us"`
}

// Batch is the unit receivers hand to the spool: everything one request or
// one burst of datagrams brought in, acknowledged together.
type Batch struct {
	Rum      []RumEvent      `json:"rum,omitempty"`
	Segments []SegmentRecord `json:"segments,omitempty"`
	// RumBatchID, when set, marks the PutRumEvents BatchId this batch came
	// from, so a replay after a restart can rebuild the dedup window.
	RumBatchID   string `json:"rum_batch_id,omitempty"`
	AppMonitorID string `json:"app_monitor_id,omitempty"`
}

// AppMonitorConfiguration mirrors CloudWatch RUM's AppMonitorConfiguration.
type AppMonitorConfiguration struct {
	AllowCookies      *bool    `json:"AllowCookies,omitempty"`
	EnableXRay        *bool    `json:"EnableXRay,omitempty"`
	ExcludedPages     []string `json:"ExcludedPages,omitempty"`
	FavoritePages     []string `json:"FavoritePages,omitempty"`
	GuestRoleArn      string   `json:"GuestRoleArn,omitempty"`
	IdentityPoolId    string   `json:"IdentityPoolId,omitempty"`
	IncludedPages     []string `json:"IncludedPages,omitempty"`
	SessionSampleRate *float64 `json:"SessionSampleRate,omitempty"`
	Telemetries       []string `json:"Telemetries,omitempty"`
	// TraceHeaderAllowList is Sightline's addition: origins (or /regexp/)
	// the agent may send trace headers to, served in the remote config.
	TraceHeaderAllowList []string `json:"TraceHeaderAllowList,omitempty"`
}

// AppMonitor is CloudWatch RUM's app monitor resource.
type AppMonitor struct {
	ID                      string                  `json:"Id"`
	Name                    string                  `json:"Name"`
	Domain                  string                  `json:"Domain,omitempty"`
	DomainList              []string                `json:"DomainList,omitempty"`
	AppMonitorConfiguration AppMonitorConfiguration `json:"AppMonitorConfiguration"`
	CustomEventsEnabled     bool                    `json:"-"`
	Tags                    map[string]string       `json:"Tags,omitempty"`
	CreatedMicros           int64                   `json:"-"`
	ModifiedMicros          int64                   `json:"-"`
}

// Domains returns every domain pattern the app monitor accepts.
func (m *AppMonitor) Domains() []string {
	out := make([]string, 0, 1+len(m.DomainList))
	if m.Domain != "" {
		out = append(out, m.Domain)
	}
	return append(out, m.DomainList...)
}

// TelemetryEnabled reports whether the app monitor collects the given
// telemetry ("errors", "performance", "http"). An empty list enables all,
// as a monitor created without Telemetries still receives everything the
// client decides to send.
func (m *AppMonitor) TelemetryEnabled(t string) bool {
	ts := m.AppMonitorConfiguration.Telemetries
	if len(ts) == 0 {
		return true
	}
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}
