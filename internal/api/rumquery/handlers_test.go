package rumquery

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/query/rum"
	"github.com/sightline/sightline/internal/store"
)

type monitors map[string]*model.AppMonitor

func (m monitors) Get(_ context.Context, name string) (*model.AppMonitor, error) {
	if mon, ok := m[name]; ok {
		return mon, nil
	}
	return nil, fmt.Errorf("app monitor %q: %w", name, store.ErrNotFound)
}

// fakeStats records the last query and answers fixed rows.
type fakeStats struct {
	last   any
	events []model.RumEvent
}

func (f *fakeStats) Distribution(_ context.Context, q store.DistributionQuery) ([]store.DistributionRow, error) {
	f.last = q
	return []store.DistributionRow{{BucketMicros: q.FromMicros, Page: "/", Count: 4, AtMostGood: 2, AtMostPoor: 3,
		Percentiles: store.Percentiles{P50: 1, P75: 2, P90: 3, P99: 4}}}, nil
}
func (f *fakeStats) EventCounts(_ context.Context, q store.CountQuery) ([]store.CountRow, error) {
	f.last = q
	return []store.CountRow{{BucketMicros: q.FromMicros, EventType: model.EventPageView, Count: 5}}, nil
}
func (f *fakeStats) NavigationPhases(_ context.Context, q store.RumRange) ([]store.PhaseStat, error) {
	f.last = q
	return []store.PhaseStat{{Field: "dns", Count: 1, Mean: 3}}, nil
}
func (f *fakeStats) ErrorGroups(_ context.Context, q store.ErrorGroupQuery) ([]store.ErrorGroup, error) {
	f.last = q
	return []store.ErrorGroup{{Type: "TypeError", Message: "x <n>", Count: 2}}, nil
}
func (f *fakeStats) HTTPGroups(_ context.Context, q store.HTTPGroupQuery) ([]store.HTTPGroup, error) {
	f.last = q
	return []store.HTTPGroup{{Method: "GET", URLPattern: "/a/{id}", Count: 4, Status5xx: 1, NetworkErrors: 1}}, nil
}
func (f *fakeStats) Sessions(_ context.Context, q store.SessionListQuery) ([]store.SessionSummary, error) {
	f.last = q
	var out []store.SessionSummary
	for i := 0; i < q.Limit; i++ {
		out = append(out, store.SessionSummary{SessionID: fmt.Sprintf("s%d", i), StartMicros: int64(100 - i)})
	}
	return out, nil
}
func (f *fakeStats) Transitions(_ context.Context, q store.JourneyQuery) ([]store.Transition, error) {
	f.last = q
	return []store.Transition{{From: "/", To: "/cart", Count: 3}}, nil
}
func (f *fakeStats) PageExits(_ context.Context, q store.JourneyQuery) ([]store.PageExit, error) {
	return []store.PageExit{{Page: "/cart", Sessions: 4, Exits: 1}}, nil
}
func (f *fakeStats) Audience(_ context.Context, q store.RumRange, dim string) ([]store.AudienceRow, error) {
	f.last = q
	return []store.AudienceRow{{Value: "Chrome", Sessions: 2, PageViews: 3}}, nil
}
func (f *fakeStats) Overview(_ context.Context, q store.OverviewQuery) (*store.Overview, error) {
	f.last = q
	return &store.Overview{Buckets: []store.OverviewBucket{{BucketMicros: q.FromMicros, PageViews: 5, Loads: 4,
		LoadTime: store.DistributionRow{BucketMicros: q.FromMicros, Count: 4, AtMostGood: 2, AtMostPoor: 3}}},
		PageViews: 5, Loads: 4, Sessions: 3, LoadTime: store.DistributionRow{Count: 4, AtMostGood: 2, AtMostPoor: 3},
		Errors: 2, ErrorGroups: 1, TopErrors: []store.ErrorGroup{{Type: "TypeError", Count: 2}}, HTTPCalls: 4, HTTPErrors: 1}, nil
}
func (f *fakeStats) RumEvents(_ context.Context, q store.RumEventQuery) ([]model.RumEvent, error) {
	f.last = q
	var out []model.RumEvent
	for _, e := range f.events {
		if e.SessionID == q.Filters["session_id"][0] {
			out = append(out, e)
		}
	}
	return out, nil
}
func (f *fakeStats) RecentBatchIDs(context.Context, int64) ([]string, error) { return nil, nil }

func newServer(t *testing.T) (*httptest.Server, *fakeStats) {
	t.Helper()
	f := &fakeStats{events: []model.RumEvent{
		{SessionID: "s1", EventID: "a", TimestampMicros: 1_000_000, Type: model.EventPageView, PageID: "/"},
		{SessionID: "s1", EventID: "b", TimestampMicros: 2_000_000, Type: model.EventHTTP, HTTPMethod: "GET", HTTPURL: "/api", HTTPStatus: 500, TraceID: "1-5f000000-000000000000000000000001"},
		{SessionID: "s1", EventID: "c", TimestampMicros: 3_000_000, Type: model.EventRRWeb},
	}}
	api := &API{Monitors: monitors{"shop": {ID: "id-shop", Name: "shop"}}, Service: &rum.Service{Stats: f, Events: f},
		Logger: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, f
}

func post(t *testing.T, srv *httptest.Server, path, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: body %q: %v", path, b, err)
	}
	return resp.StatusCode, out
}

const window = `"From": 1772409600000, "To": 1772496000000`

func TestEndpoints(t *testing.T) {
	srv, f := newServer(t)
	for _, tc := range []struct {
		path, body string
		check      func(t *testing.T, out map[string]any)
	}{
		{"pageloads", `{` + window + `, "BucketSeconds": 3600}`, func(t *testing.T, out map[string]any) {
			pts := out["Points"].([]any)
			if len(pts) != 24 || pts[0].(map[string]any)["PageViews"].(float64) != 5 || out["BucketSeconds"].(float64) != 3600 {
				t.Errorf("pageloads: %v", out)
			}
		}},
		{"overview", `{` + window + `, "BucketSeconds": 3600, "Limit": 2}`, func(t *testing.T, out map[string]any) {
			q := f.last.(store.OverviewQuery)
			pts := out["PageLoads"].([]any)
			all := out["LoadTimeAll"].(map[string]any)
			if q.BucketMicros != 3600e6 || q.TopErrors != 2 || len(q.Vitals) != 6 || len(pts) != 24 ||
				pts[0].(map[string]any)["Loads"].(float64) != 4 || all["Apdex"].(map[string]any)["Score"].(float64) != 0.625 ||
				len(out["Vitals"].([]any)) != 6 || out["HTTPErrorRate"].(float64) != 0.25 || out["Sessions"].(float64) != 3 ||
				len(out["TopErrors"].([]any)) != 1 || len(out["LoadTime"].([]any)) != 1 {
				t.Errorf("overview: %+v %v", q, out)
			}
		}},
		{"loadtime", `{` + window + `, "GroupBy": "page", "Limit": 5}`, func(t *testing.T, out map[string]any) {
			q := f.last.(store.DistributionQuery)
			p := out["Points"].([]any)[0].(map[string]any)
			ap := p["Apdex"].(map[string]any)
			if q.GroupBy != store.GroupByPage || q.Limit != 5 || q.Good != 2000 || q.Poor != 8000 || ap["Score"].(float64) != 0.625 {
				t.Errorf("loadtime: %+v %v", q, out)
			}
		}},
		{"vitals", `{` + window + `, "Vital": "cls", "Filters": {"Browser": ["Chrome"], "Release": ["r1"], "Metadata": {"plan": ["pro"]}}}`, func(t *testing.T, out map[string]any) {
			q := f.last.(store.DistributionQuery)
			r := out["Points"].([]any)[0].(map[string]any)["Ratings"].(map[string]any)
			if q.EventType != model.EventCLS || q.Good != 0.1 || q.Poor != 0.25 || q.BucketMicros != 300e6 || q.AppMonitorID != "id-shop" ||
				q.Filter.Browsers[0] != "Chrome" || q.Filter.Metadata["aws:releaseId"][0] != "r1" || q.Filter.Metadata["plan"][0] != "pro" ||
				r["Good"].(float64) != 0.5 || r["Poor"].(float64) != 0.25 || out["Vital"] != "CLS" {
				t.Errorf("vitals: %+v %v", q, out)
			}
		}},
		{"navigation", `{` + window + `}`, func(t *testing.T, out map[string]any) {
			if out["Phases"].([]any)[0].(map[string]any)["Name"] != "DNS" {
				t.Errorf("navigation: %v", out)
			}
		}},
		{"errors", `{` + window + `, "Samples": 5}`, func(t *testing.T, out map[string]any) {
			if f.last.(store.ErrorGroupQuery).Samples != 5 || out["Groups"].([]any)[0].(map[string]any)["Message"] != "x <n>" {
				t.Errorf("errors: %v", out)
			}
		}},
		{"http", `{` + window + `}`, func(t *testing.T, out map[string]any) {
			g := out["Groups"].([]any)[0].(map[string]any)
			if g["ErrorRate"].(float64) != 0.5 || g["URLPattern"] != "/a/{id}" {
				t.Errorf("http: %v", out)
			}
		}},
		{"sessions", `{` + window + `, "Limit": 3}`, func(t *testing.T, out map[string]any) {
			if len(out["Sessions"].([]any)) != 3 || out["NextToken"] == "" {
				t.Errorf("sessions: %v", out)
			}
			_, next := post(t, srv, "/rum/shop/sessions", `{`+window+`, "Limit": 3, "NextToken": "`+out["NextToken"].(string)+`"}`)
			q := f.last.(store.SessionListQuery)
			if q.BeforeSessionID != "s2" || q.BeforeStartMicros != 98 || next["Sessions"] == nil {
				t.Errorf("next page query %+v", q)
			}
		}},
		{"session", `{` + window + `, "SessionId": "s1"}`, func(t *testing.T, out map[string]any) {
			evs := out["Events"].([]any)
			if len(evs) != 2 || evs[1].(map[string]any)["Kind"] != "http_event" || out["TraceIds"].([]any)[0] != "1-5f000000-000000000000000000000001" {
				t.Errorf("session: %v", out)
			}
		}},
		{"journeys", `{` + window + `}`, func(t *testing.T, out map[string]any) {
			ex := out["Exits"].([]any)[0].(map[string]any)
			if ex["ExitRate"].(float64) != 0.25 || len(out["Transitions"].([]any)) != 1 {
				t.Errorf("journeys: %v", out)
			}
		}},
		{"audience", `{` + window + `, "Dimension": "browser"}`, func(t *testing.T, out map[string]any) {
			if out["Rows"].([]any)[0].(map[string]any)["Value"] != "Chrome" {
				t.Errorf("audience: %v", out)
			}
		}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			code, out := post(t, srv, "/rum/shop/"+tc.path, tc.body)
			if code != http.StatusOK {
				t.Fatalf("status %d: %v", code, out)
			}
			tc.check(t, out)
		})
	}
}

func TestBadInput(t *testing.T) {
	srv, _ := newServer(t)
	for _, tc := range []struct {
		path, body, field string
		status            int
	}{
		{"loadtime", `{}`, "From", 400},
		{"loadtime", `{"From": 1}`, "To", 400},
		{"loadtime", `{"From": 10, "To": 5}`, "To", 400},
		{"loadtime", `{` + window + `, "GroupBy": "week"}`, "GroupBy", 400},
		{"loadtime", `{` + window + `, "Limit": 0}`, "Limit", 400},
		{"loadtime", `{` + window + `, "Bogus": 1}`, "body", 400},
		{"loadtime", `not json`, "body", 400},
		{"pageloads", `{` + window + `, "BucketSeconds": 1}`, "BucketSeconds", 400},
		{"pageloads", `{` + window + `, "BucketSeconds": -5}`, "BucketSeconds", 400},
		{"vitals", `{` + window + `}`, "Vital", 400},
		{"vitals", `{` + window + `, "Vital": "XYZ"}`, "Vital", 400},
		{"errors", `{` + window + `, "Samples": 100}`, "Samples", 400},
		{"http", `{` + window + `, "TraceIds": 0}`, "TraceIds", 400},
		{"sessions", `{` + window + `, "NextToken": "!!"}`, "NextToken", 400},
		{"session", `{` + window + `}`, "SessionId", 400},
		{"session", `{` + window + `, "SessionId": "nope"}`, "", 404},
		{"audience", `{` + window + `}`, "Dimension", 400},
		{"audience", `{` + window + `, "Dimension": "user_agent"}`, "Dimension", 400},
		{"audience", `{` + window + `, "Dimension": "browser", "Filters": {"Metadata": {"x') --": ["a"]}}}`, "Filters.Metadata", 400},
		{"audience", `{` + window + `, "Dimension": "browser", "Filters": {"Nope": ["a"]}}`, "body", 400},
	} {
		code, out := post(t, srv, "/rum/shop/"+tc.path, tc.body)
		msg, _ := out["message"].(string)
		if code != tc.status || (tc.status == 400 && (out["__type"] != "ValidationException" || !strings.HasPrefix(msg, tc.field+":"))) {
			t.Errorf("%s %s: %d %v; want %d naming %q", tc.path, tc.body, code, out, tc.status, tc.field)
		}
	}
	for _, path := range []string{"loadtime", "vitals", "errors", "http", "sessions", "session", "journeys", "audience", "pageloads", "navigation"} {
		code, out := post(t, srv, "/rum/nope/"+path, `{`+window+`}`)
		if code != http.StatusNotFound || out["__type"] != "ResourceNotFoundException" {
			t.Errorf("unknown app monitor on %s: %d %v", path, code, out)
		}
	}
}
