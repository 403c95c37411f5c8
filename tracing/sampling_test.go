package tracing

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, text string
		want          bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"", "a", false},
		{"/api/*", "/api/orders", true},
		{"/api/*", "/API/Orders", true},
		{"/api/*", "/web/api/x", false},
		{"GET", "get", true},
		{"?ET", "GET", true},
		{"?ET", "ET", false},
		{"*.example.com", "api.Example.com", true},
		{"*.example.com", "example.com", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"*a*", "bab", true},
		{"**", "x", true},
		{"a?c*", "abcdef", true},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, tt.text); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pattern, tt.text, got, tt.want)
		}
	}
}

// rulesServer plays GetSamplingRules and SamplingTargets.
type rulesServer struct {
	*httptest.Server
	mu         sync.Mutex
	rules      string // SamplingRuleRecords JSON array
	targets    string // SamplingTargetDocuments JSON array
	lastMod    float64
	rulesCalls []string
	stats      []statisticsDocument
}

func newRulesServer(t *testing.T, rules string) *rulesServer {
	s := &rulesServer{rules: rules, targets: "[]"}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		switch r.URL.Path {
		case "/GetSamplingRules":
			s.rulesCalls = append(s.rulesCalls, string(body))
			io.WriteString(w, `{"SamplingRuleRecords":`+s.rules+`}`)
		case "/SamplingTargets":
			var in struct{ SamplingStatisticsDocuments []statisticsDocument }
			if err := json.Unmarshal(body, &in); err != nil {
				t.Errorf("targets body: %v", err)
			}
			s.stats = append(s.stats, in.SamplingStatisticsDocuments...)
			lm, _ := json.Marshal(s.lastMod)
			io.WriteString(w, `{"SamplingTargetDocuments":`+s.targets+`,"LastRuleModification":`+string(lm)+`,"UnprocessedStatistics":[]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func ruleJSON(name string, priority int, rate float64, reservoir int, host, method, path, service string, extra string) string {
	r := map[string]any{
		"RuleName": name, "RuleARN": "arn:aws:xray:us-east-1:1:sampling-rule/" + name, "ResourceARN": "*",
		"Priority": priority, "FixedRate": rate, "ReservoirSize": reservoir, "ServiceName": service,
		"ServiceType": "*", "Host": host, "HTTPMethod": method, "URLPath": path, "Version": 1, "Attributes": map[string]string{},
	}
	b, _ := json.Marshal(map[string]any{"CreatedAt": 0, "ModifiedAt": 1, "SamplingRule": r})
	if extra != "" {
		// Splice raw overrides into the rule (tests for unsupported rules).
		var m map[string]any
		json.Unmarshal(b, &m)
		var over map[string]any
		json.Unmarshal([]byte(extra), &over)
		for k, v := range over {
			m["SamplingRule"].(map[string]any)[k] = v
		}
		b, _ = json.Marshal(m)
	}
	return string(b)
}

// fakeClock is a settable clock for the sampler.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestRuleMatching(t *testing.T) {
	rules := "[" +
		ruleJSON("Default", 10000, 0, 0, "*", "*", "*", "*", "") + "," +
		ruleJSON("b-health", 5, 0, 0, "*", "GET", "/health*", "*", "") + "," +
		ruleJSON("a-health", 5, 0, 0, "*", "*", "/health", "*", "") + "," +
		ruleJSON("orders-post", 1, 0, 0, "api.*.com", "POST", "/orders/*", "orders-*", "") + "," +
		ruleJSON("v2-rule", 0, 0, 0, "*", "*", "*", "*", `{"Version":2}`) + "," +
		ruleJSON("attr-rule", 0, 0, 0, "*", "*", "*", "*", `{"Attributes":{"k":"v"}}`) + "," +
		ruleJSON("arn-rule", 0, 0, 0, "*", "*", "*", "*", `{"ResourceARN":"arn:aws:ecs:x"}`) + "," +
		ruleJSON("other-service", 2, 0, 0, "*", "*", "*", "billing", "") +
		"]"
	srv := newRulesServer(t, rules)
	s := NewCentralizedSampler(CentralizedConfig{Endpoint: srv.URL, ServiceName: "orders-api"})
	if err := s.RefreshRules(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(srv.rulesCalls) != 1 || srv.rulesCalls[0] != `{"NextToken":null}` {
		t.Errorf("GetSamplingRules body = %q", srv.rulesCalls)
	}
	tests := []struct {
		req  SamplingRequest
		rule string
	}{
		{SamplingRequest{Host: "api.shop.com", Method: "post", URLPath: "/Orders/7"}, "orders-post"},
		{SamplingRequest{Host: "web.shop.com", Method: "POST", URLPath: "/orders/7"}, "Default"},
		{SamplingRequest{Host: "api.shop.com", Method: "POST", URLPath: "/orders/7", ServiceName: "billing"}, "other-service"},
		// Same priority: ordered by name, so a-health wins over b-health.
		{SamplingRequest{Host: "x", Method: "GET", URLPath: "/health"}, "a-health"},
		{SamplingRequest{Host: "x", Method: "GET", URLPath: "/healthz"}, "b-health"},
		{SamplingRequest{Host: "x", Method: "PUT", URLPath: "/healthz"}, "Default"},
		// Empty request fields match any pattern.
		{SamplingRequest{}, "orders-post"},
	}
	for _, tt := range tests {
		if got := s.Sample(tt.req); got.Rule != tt.rule {
			t.Errorf("Sample(%+v).Rule = %q, want %q", tt.req, got.Rule, tt.rule)
		}
	}
}

func TestReservoirAndFixedRate(t *testing.T) {
	srv := newRulesServer(t, "["+ruleJSON("Default", 10000, 0.25, 1, "*", "*", "*", "*", "")+"]")
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	draw := 0.5 // the "random" number; 0.5 >= 0.25 means the fixed rate says no
	s := NewCentralizedSampler(CentralizedConfig{
		Endpoint: srv.URL, ServiceName: "svc", Clock: clock.Now,
		Random: func() float64 { return draw },
	})
	ctx := context.Background()
	if err := s.RefreshRules(ctx); err != nil {
		t.Fatal(err)
	}
	count := func(n int) (sampled int) {
		for i := 0; i < n; i++ {
			if s.Sample(SamplingRequest{}).Sampled {
				sampled++
			}
		}
		return sampled
	}
	// No quota yet: borrow one a second, then the fixed rate.
	if got := count(10); got != 1 {
		t.Errorf("before targets: sampled %d of 10, want 1 borrowed", got)
	}
	draw = 0.1
	if got := count(10); got != 10 {
		t.Errorf("fixed rate hit: sampled %d of 10, want 10", got)
	}
	draw = 0.5
	clock.Add(time.Second)
	if got := count(5); got != 1 {
		t.Errorf("next second: sampled %d, want 1 borrowed", got)
	}

	// Targets: quota 3/s for 60 s at fixed rate 0.
	ttl := float64(clock.Now().Unix() + 60)
	srv.mu.Lock()
	srv.targets = `[{"RuleName":"Default","FixedRate":0,"ReservoirQuota":3,"ReservoirQuotaTTL":` + jsonNum(ttl) + `,"Interval":10}]`
	srv.mu.Unlock()
	if err := s.ReportTargets(ctx); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	stats := srv.stats
	srv.mu.Unlock()
	if len(stats) != 1 {
		t.Fatalf("stats = %+v", stats)
	}
	want := statisticsDocument{RuleName: "Default", ClientID: s.ClientID(), Timestamp: clock.Now().Unix(), RequestCount: 25, SampledCount: 10, BorrowCount: 2}
	if stats[0] != want {
		t.Errorf("reported %+v, want %+v", stats[0], want)
	}
	if len(s.ClientID()) != 24 || !isLowerHex(s.ClientID(), 24) {
		t.Errorf("ClientID %q is not 24 hex", s.ClientID())
	}
	clock.Add(time.Second)
	draw = 0.1 // fixed rate now 0: nothing beyond the quota, whatever the draw
	if got := count(10); got != 3 {
		t.Errorf("with quota: sampled %d of 10, want 3", got)
	}
	clock.Add(time.Second)
	if got := count(2); got != 2 {
		t.Errorf("quota refills each second: sampled %d of 2", got)
	}
	// Quota expired: borrowing again, then fixed rate (0).
	clock.Add(2 * time.Minute)
	if err := s.RefreshRules(ctx); err != nil { // keeps quota state, takes the rule's rate again
		t.Fatal(err)
	}
	draw = 0.5
	if got := count(10); got != 1 {
		t.Errorf("expired quota: sampled %d of 10, want 1 borrowed", got)
	}
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }

func TestTargetsTriggerRulesRefresh(t *testing.T) {
	srv := newRulesServer(t, "["+ruleJSON("Default", 10000, 0, 1, "*", "*", "*", "*", "")+"]")
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	s := NewCentralizedSampler(CentralizedConfig{Endpoint: srv.URL, Clock: clock.Now})
	ctx := context.Background()
	if err := s.RefreshRules(ctx); err != nil {
		t.Fatal(err)
	}
	s.Sample(SamplingRequest{})
	srv.mu.Lock()
	srv.lastMod = float64(clock.Now().Unix() + 5)
	srv.rules = "[" + ruleJSON("everything", 1, 1, 0, "*", "*", "*", "*", "") + "," + ruleJSON("Default", 10000, 0, 1, "*", "*", "*", "*", "") + "]"
	srv.mu.Unlock()
	if err := s.ReportTargets(ctx); err != nil {
		t.Fatal(err)
	}
	if len(srv.rulesCalls) != 2 {
		t.Errorf("rules fetched %d times, want 2", len(srv.rulesCalls))
	}
	if got := s.Sample(SamplingRequest{}); got.Rule != "everything" || !got.Sampled {
		t.Errorf("after refresh: %+v", got)
	}
}

func TestFallbackWhenUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens any more
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	draw := 0.5
	fallback := NewLocalSampler(1, 0.05)
	fallback.clock, fallback.random = clock.Now, func() float64 { return draw }
	s := NewCentralizedSampler(CentralizedConfig{Endpoint: srv.URL, Clock: clock.Now, Fallback: fallback})
	if err := s.RefreshRules(context.Background()); err == nil {
		t.Fatal("want an error from an unreachable server")
	}
	sampled := 0
	for i := 0; i < 10; i++ {
		if s.Sample(SamplingRequest{}).Sampled {
			sampled++
		}
	}
	if sampled != 1 {
		t.Errorf("fallback sampled %d of 10 in one second, want 1", sampled)
	}
	draw = 0.04
	if !s.Sample(SamplingRequest{}).Sampled {
		t.Error("fallback 5% rate not applied")
	}
}

func TestDefaultFallbackIsOnePerSecondPlusFivePercent(t *testing.T) {
	s := NewCentralizedSampler(CentralizedConfig{Endpoint: "http://127.0.0.1:1"})
	l := s.cfg.Fallback.(*LocalSampler)
	if l.perSecond != 1 || l.rate != 0.05 {
		t.Errorf("fallback = %d/s + %v", l.perSecond, l.rate)
	}
}

func TestRulesExpireAfterAnHour(t *testing.T) {
	srv := newRulesServer(t, "["+ruleJSON("everything", 1, 1, 0, "*", "*", "*", "*", "")+"]")
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	s := NewCentralizedSampler(CentralizedConfig{Endpoint: srv.URL, Clock: clock.Now, Fallback: NewLocalSampler(0, 0)})
	if err := s.RefreshRules(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !s.Sample(SamplingRequest{}).Sampled {
		t.Fatal("rule not applied")
	}
	clock.Add(61 * time.Minute)
	if s.Sample(SamplingRequest{}).Sampled {
		t.Error("stale rules still applied after an hour")
	}
}

func TestRecorderPollsRules(t *testing.T) {
	srv := newRulesServer(t, "["+ruleJSON("Default", 10000, 1, 1, "*", "*", "*", "*", "")+"]")
	d := newFakeDaemon(t)
	s := NewCentralizedSampler(CentralizedConfig{Endpoint: srv.URL, TargetsInterval: 20 * time.Millisecond})
	rec := newTestRecorder(t, d, Config{Sampler: s})
	_ = rec
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		srv.mu.Lock()
		n := len(srv.rulesCalls)
		srv.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Sample once so the next targets call has statistics to send.
	for time.Now().Before(deadline) {
		s.Sample(SamplingRequest{})
		srv.mu.Lock()
		n := len(srv.stats)
		srv.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("recorder did not poll rules and report targets")
}
