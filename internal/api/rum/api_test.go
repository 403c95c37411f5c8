package rum

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"

	"github.com/sightline/sightline/internal/appmonitor"
	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// memMonitors is an in-memory store.AppMonitors for handler tests.
type memMonitors struct {
	mu sync.Mutex
	m  map[string]model.AppMonitor
}

func (s *memMonitors) CreateAppMonitor(_ context.Context, m *model.AppMonitor) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[m.Name]; ok {
		return store.ErrConflict
	}
	s.m[m.Name] = *m
	return nil
}
func (s *memMonitors) GetAppMonitor(_ context.Context, name string) (*model.AppMonitor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[name]
	if !ok {
		return nil, store.ErrNotFound
	}
	return &m, nil
}
func (s *memMonitors) ListAppMonitors(context.Context) ([]model.AppMonitor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []model.AppMonitor
	for _, m := range s.m {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
func (s *memMonitors) UpdateAppMonitor(_ context.Context, m *model.AppMonitor) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[m.Name]; !ok {
		return store.ErrNotFound
	}
	s.m[m.Name] = *m
	return nil
}
func (s *memMonitors) DeleteAppMonitor(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[name]; !ok {
		return errors.New("not found")
	}
	delete(s.m, name)
	return nil
}

func newAPI(t *testing.T) (*http.ServeMux, *appmonitor.Registry) {
	t.Helper()
	reg := appmonitor.NewRegistry(&memMonitors{m: map[string]model.AppMonitor{}}, 0)
	mux := http.NewServeMux()
	(&API{Registry: reg, Logger: slog.New(slog.DiscardHandler)}).Register(mux)
	return mux, reg
}

func call(mux http.Handler, method, path string, body any) *httptest.ResponseRecorder {
	b, _ := json.Marshal(body)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(method, path, bytes.NewReader(b)))
	return rec
}

func TestCreateValidation(t *testing.T) {
	mux, _ := newAPI(t)
	cases := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"Domain": "x.example.com"}, "Name"},
		{map[string]any{"Name": "a"}, "Domain"},
		{map[string]any{"Name": "a", "Domain": "not a domain!"}, "Domain"},
		{map[string]any{"Name": "a", "Domain": "x.example.com", "AppMonitorConfiguration": map[string]any{"SessionSampleRate": 2}}, "SessionSampleRate"},
		{map[string]any{"Name": "a", "Domain": "x.example.com", "AppMonitorConfiguration": map[string]any{"Telemetries": []string{"logs"}}}, "Telemetries"},
		{map[string]any{"Name": "a", "Domain": "x.example.com", "AppMonitorConfiguration": map[string]any{"TraceHeaderAllowList": []string{"api.example.com"}}}, "TraceHeaderAllowList"},
		{map[string]any{"Name": "a", "Domain": "x.example.com", "CustomEvents": map[string]any{"Status": "MAYBE"}}, "CustomEvents.Status"},
	}
	for _, c := range cases {
		rec := call(mux, "POST", "/appmonitor", c.body)
		if rec.Code != 400 || !bytes.Contains(rec.Body.Bytes(), []byte(c.field)) {
			t.Errorf("%v: %d %s, want 400 naming %s", c.body, rec.Code, rec.Body, c.field)
		}
	}
}

func TestCORSCheckSavesPassingOrigins(t *testing.T) {
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Allow-Headers", "content-type, x-amzn-trace-id")
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.WriteHeader(204)
	}))
	defer good.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Allow-Headers", "content-type")
		w.WriteHeader(204)
	}))
	defer bad.Close()
	mux, reg := newAPI(t)
	if rec := call(mux, "POST", "/appmonitor", map[string]any{"Name": "shop", "Domain": "shop.example.com"}); rec.Code != 200 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	rec := call(mux, "POST", "/appmonitor/shop/cors-check", map[string]any{"Urls": []string{good.URL + "/api", bad.URL + "/api"}, "Save": true})
	if rec.Code != 200 {
		t.Fatalf("cors-check: %d %s", rec.Code, rec.Body)
	}
	var out struct {
		Results []struct {
			OK  bool     `json:"ok"`
			Fix []string `json:"fix"`
		}
		Saved []string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Results) != 2 || !out.Results[0].OK || out.Results[1].OK || len(out.Results[1].Fix) == 0 {
		t.Fatalf("results: %+v", out.Results)
	}
	m, _ := reg.Get(context.Background(), "shop")
	if len(out.Saved) != 1 || len(m.AppMonitorConfiguration.TraceHeaderAllowList) != 1 || m.AppMonitorConfiguration.TraceHeaderAllowList[0] != good.URL {
		t.Fatalf("saved %v, allow list %v", out.Saved, m.AppMonitorConfiguration.TraceHeaderAllowList)
	}
	if rec := call(mux, "POST", "/appmonitor/shop/cors-check", map[string]any{"Urls": []string{"ftp://x"}}); rec.Code != 400 {
		t.Errorf("ftp URL: %d", rec.Code)
	}
	if rec := call(mux, "POST", "/appmonitor/nope/cors-check", map[string]any{"Urls": []string{good.URL}}); rec.Code != 404 {
		t.Errorf("unknown app monitor: %d", rec.Code)
	}
}
