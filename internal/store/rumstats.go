package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/sightline/sightline/internal/model"
)

// RumFilter narrows RUM statistics to matching events; an empty field does
// not filter. Values are ORed within a field and fields are ANDed.
type RumFilter struct {
	Pages       []string
	Browsers    []string
	OSes        []string
	DeviceTypes []string
	Countries   []string
	AppVersions []string
	// Metadata is metadata key → accepted values: custom attributes,
	// aws:releaseId, pageTags are matched as text.
	Metadata map[string][]string
}

// Empty reports whether the filter selects every event.
func (f RumFilter) Empty() bool {
	return len(f.Pages) == 0 && len(f.Browsers) == 0 && len(f.OSes) == 0 && len(f.DeviceTypes) == 0 &&
		len(f.Countries) == 0 && len(f.AppVersions) == 0 && len(f.Metadata) == 0
}

var metadataKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_:.\-]{1,128}$`)

// ValidMetadataKey reports whether key may be used in a metadata filter;
// the restriction keeps keys safe to place in a JSON path.
func ValidMetadataKey(key string) bool { return metadataKeyPattern.MatchString(key) }

// RumRange is the scope of every statistic: one app monitor, a half-open
// time range [FromMicros, ToMicros) and a filter.
type RumRange struct {
	AppMonitorID string
	FromMicros   int64
	ToMicros     int64
	Filter       RumFilter
}

// RumGroup says how a distribution is split.
type RumGroup int

const (
	GroupByTime RumGroup = iota // one row per time bucket
	GroupByPage                 // one row per page id, most events first
)

// DistributionQuery asks for percentiles of one metric. The metric is the
// navigation duration (duration_ms) for performance_navigation_event and
// the value column for the web vital event types.
type DistributionQuery struct {
	RumRange
	EventType    string
	GroupBy      RumGroup
	BucketMicros int64 // GroupByTime: buckets start at multiples of it since the epoch
	Limit        int   // GroupByPage: at most this many pages (0: 100)
	// Good and Poor are thresholds: rows count values ≤ Good and ≤ Poor,
	// which gives web.dev's good / needs-improvement / poor shares and
	// Apdex's satisfied / tolerating / frustrated counts.
	Good, Poor float64
}

// Percentiles are exact linear-interpolation quantiles (type 7, as
// DuckDB's quantile_cont and numpy's default compute them).
type Percentiles struct {
	P50, P75, P90, P99 float64
}

// DistributionRow is one bucket or page of a distribution.
type DistributionRow struct {
	BucketMicros int64
	Page         string
	Count        int64
	Percentiles
	AtMostGood int64
	AtMostPoor int64
}

// CountQuery counts events of some types per time bucket.
type CountQuery struct {
	RumRange
	EventTypes   []string
	BucketMicros int64
}

// CountRow is the count of one event type in one bucket; empty buckets are
// absent.
type CountRow struct {
	BucketMicros int64
	EventType    string
	Count        int64
}

// NavigationPhaseFields are the performance_navigation_event details fields
// (aws-rum-web's names, milliseconds) that break a page load down.
var NavigationPhaseFields = []string{"redirectTime", "dns", "connect", "tlsTime", "timeToFirstByte", "responseTime", "domProcessingTime", "loadEventTime"}

// PhaseStat summarises one navigation phase over the loads that report it.
type PhaseStat struct {
	Field string
	Count int64 // loads with a numeric value for the field
	Mean  float64
	P50   float64
	P75   float64
}

// ErrorGroupQuery groups js_error_event into issues.
type ErrorGroupQuery struct {
	RumRange
	Limit   int // groups, most events first (0: 50)
	Samples int // sample events per group (0: 3)
}

// ErrorGroup is one issue: errors with the same type, normalised message
// and top stack frame.
type ErrorGroup struct {
	Type           string
	Message        string // NormalizeErrorMessage of the messages
	Frame          string // TopStackFrame of the stacks; "" without one
	Count          int64
	Sessions       int64
	FirstMicros    int64
	LastMicros     int64
	Browsers       []string // sorted, distinct, non-empty
	AppVersions    []string // sorted, distinct, non-empty
	SampleEventIDs []string // the group's first events by (time, event id)
	SampleSessions []string // sessions of SampleEventIDs, same order
}

// HTTPGroupQuery groups http_event by method and URL pattern.
type HTTPGroupQuery struct {
	RumRange
	Limit    int // groups, most calls first (0: 50)
	TraceIDs int // linked trace ids per group (0: 3)
}

// HTTPGroup is the calls of one method to one URL pattern. Latency is the
// event's duration_ms when present, else the duration of the
// xray_trace_event of the same trace in the same range.
type HTTPGroup struct {
	Method        string
	URLPattern    string
	Count         int64
	Status4xx     int64
	Status5xx     int64
	NetworkErrors int64 // no status, an error in the details
	LatencyCount  int64 // calls with a known latency
	Latency       Percentiles
	TraceIDs      []string // the first distinct trace ids by time
}

// SessionListQuery pages through sessions, most recently started first.
// A session is listed when one of its events in the range passes the
// filter; its figures count all its events in the range.
type SessionListQuery struct {
	RumRange
	Limit int // 0: 50
	// BeforeStartMicros/BeforeSessionID continue after the last session of
	// a page (the zero values start at the newest).
	BeforeStartMicros int64
	BeforeSessionID   string
}

// SessionSummary is one row of the sessions list.
type SessionSummary struct {
	SessionID   string
	UserID      string
	StartMicros int64
	EndMicros   int64 // last event
	Events      int64
	PageViews   int64
	Errors      int64 // js_error_event
	Browser     string
	OS          string
	DeviceType  string
	Country     string
	AppVersion  string
	EntryPage   string // page of the first page_view_event
	ExitPage    string // page of the last page_view_event
}

// JourneyQuery asks for page transitions and exits of the sessions that
// have an event passing the filter.
type JourneyQuery struct {
	RumRange
	Limit int // 0: 50
}

// Transition counts consecutive page views From → To within sessions.
type Transition struct {
	From, To string
	Count    int64
}

// PageExit tells how many sessions viewed a page and how many ended on it.
type PageExit struct {
	Page     string
	Sessions int64 // sessions with a page view of Page
	Exits    int64 // sessions whose last page view was Page
}

// AudienceDimensions are the columns audience breakdowns accept.
var AudienceDimensions = []string{"browser", "os", "device_type", "country", "language", "app_version"}

// AudienceRow is one value of a dimension; Value "" collects events
// without one.
type AudienceRow struct {
	Value     string
	Sessions  int64
	PageViews int64
}

// MetricThresholds names a metric by its event type (see ValueColumn) and
// the thresholds its AtMostGood / AtMostPoor counts use.
type MetricThresholds struct {
	EventType  string
	Good, Poor float64
}

// OverviewQuery asks for every figure of the RUM overview at once, so a
// backend can answer it in one pass over the range instead of one per
// figure.
type OverviewQuery struct {
	RumRange
	BucketMicros int64              // page views, loads and load time per bucket
	LoadTime     MetricThresholds   // the page load metric (navigation, Apdex thresholds)
	Vitals       []MetricThresholds // one overall distribution each, same order
	TopErrors    int                // error groups to return, most events first (0: none)
}

// OverviewBucket is one time bucket of the overview. Buckets are those
// with at least one event passing the filter.
type OverviewBucket struct {
	BucketMicros int64
	PageViews    int64
	Loads        int64           // performance_navigation_event
	LoadTime     DistributionRow // the LoadTime metric in this bucket (BucketMicros set)
}

// Overview is the RUM overview of a range. Distributions follow the
// Distribution rules (rows without the metric are left out).
type Overview struct {
	Buckets     []OverviewBucket // time order
	PageViews   int64
	Loads       int64
	Sessions    int64           // distinct non-empty session ids of the passing events
	LoadTime    DistributionRow // over the whole range
	Vitals      []DistributionRow
	Errors      int64 // js_error_event
	ErrorGroups int64 // distinct ErrorGroups keys among them
	TopErrors   []ErrorGroup
	HTTPCalls   int64 // http_event
	HTTPErrors  int64 // 4xx, 5xx and network errors, as HTTPGroup counts them
}

// RumStats answers the console's RUM questions. Every method scopes to
// one app monitor and time range; semantics are fixed by storetest.
type RumStats interface {
	Distribution(ctx context.Context, q DistributionQuery) ([]DistributionRow, error)
	EventCounts(ctx context.Context, q CountQuery) ([]CountRow, error)
	NavigationPhases(ctx context.Context, q RumRange) ([]PhaseStat, error)
	ErrorGroups(ctx context.Context, q ErrorGroupQuery) ([]ErrorGroup, error)
	HTTPGroups(ctx context.Context, q HTTPGroupQuery) ([]HTTPGroup, error)
	Sessions(ctx context.Context, q SessionListQuery) ([]SessionSummary, error)
	Transitions(ctx context.Context, q JourneyQuery) ([]Transition, error)
	PageExits(ctx context.Context, q JourneyQuery) ([]PageExit, error)
	Audience(ctx context.Context, q RumRange, dimension string) ([]AudienceRow, error)
	Overview(ctx context.Context, q OverviewQuery) (*Overview, error)
}

// ValueColumn tells which stored column holds the metric of an event type,
// or "" when the type has none.
func ValueColumn(eventType string) string {
	switch eventType {
	case model.EventNavigation:
		return "duration_ms"
	case model.EventLCP, model.EventINP, model.EventCLS, model.EventFCP, model.EventTTFB, model.EventFID:
		return "value"
	}
	return ""
}

// Rewrite is one regular-expression replacement applied to every match.
// The patterns use the RE2 syntax that Go and the SQL engines share, so a
// backend runs the very same rules in SQL and the Go functions below are
// their reference.
type Rewrite struct {
	Pattern     string
	Replacement string
	re          *regexp.Regexp
}

func rewrite(pattern, replacement string) Rewrite {
	return Rewrite{Pattern: pattern, Replacement: replacement, re: regexp.MustCompile(pattern)}
}

// Apply replaces every match.
func (r Rewrite) Apply(s string) string { return r.re.ReplaceAllLiteralString(s, r.Replacement) }

// MessageRewrites collapse the variable parts of an error message, in
// order: UUIDs, hex ids, quoted strings, numbers.
var MessageRewrites = []Rewrite{
	rewrite(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`, "<uuid>"),
	rewrite(`\b(?:0[xX][0-9a-fA-F]+|[0-9a-fA-F]{8,})\b`, "<hex>"),
	rewrite(`"[^"]*"|'[^']*'|`+"`[^`]*`", "<str>"),
	rewrite(`[0-9]+(?:\.[0-9]+)?`, "<n>"),
}

// NormalizeErrorMessage is the message part of an error group's key.
func NormalizeErrorMessage(msg string) string {
	for _, r := range MessageRewrites {
		msg = r.Apply(msg)
	}
	return msg
}

// FramePattern finds the first stack frame line: V8's "    at fn (url:l:c)"
// or SpiderMonkey/JavaScriptCore's "fn@url:l:c".
const FramePattern = `(?m)^[ \t]*at [^\n]+$|^[^\s@]*@[^\s]+:[0-9]+:[0-9]+[ \t]*$`

var frameRE = regexp.MustCompile(FramePattern)

// FrameRewrites tidy the frame line: drop the "at", query strings and
// fragments of URLs, trailing blanks.
var FrameRewrites = []Rewrite{
	rewrite(`^[ \t]*at `, ""),
	rewrite(`[?#][^:)\s]*`, ""),
	rewrite(`[ \t]+$`, ""),
}

// TopStackFrame is the frame part of an error group's key, "" when the
// stack has no recognisable frame.
func TopStackFrame(stack string) string {
	f := frameRE.FindString(stack)
	for _, r := range FrameRewrites {
		f = r.Apply(f)
	}
	return f
}

// URLRewrites turn a request URL into its pattern: query and fragment
// dropped, numeric, UUID and long hex path segments collapsed to {id}.
// The segment rule runs twice because a match consumes the slash that
// the next segment's match would start with.
var URLRewrites = []Rewrite{
	rewrite(`[?#].*$`, ""),
	rewrite(idSegment, "/{id}$1"),
	rewrite(idSegment, "/{id}$1"),
}

const idSegment = `/(?:[0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{8,})(/|$)`

// URLPattern is the URL part of an HTTP group's key.
func URLPattern(url string) string {
	for _, r := range URLRewrites {
		if strings.Contains(r.Replacement, "$1") {
			url = r.re.ReplaceAllString(url, r.Replacement)
			continue
		}
		url = r.Apply(url)
	}
	return url
}

// SQLReplacement is the replacement in the \1 back-reference syntax of RE2
// based SQL engines.
func (r Rewrite) SQLReplacement() string { return strings.ReplaceAll(r.Replacement, "$1", `\1`) }

// CheckDimension validates an audience dimension.
func CheckDimension(d string) error {
	for _, x := range AudienceDimensions {
		if x == d {
			return nil
		}
	}
	return fmt.Errorf("unknown dimension %q (known: %s)", d, strings.Join(AudienceDimensions, ", "))
}
