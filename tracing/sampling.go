package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"
)

// SamplingRequest describes what a sampling rule is matched against.
type SamplingRequest struct {
	Host        string
	Method      string
	URLPath     string
	ServiceName string
	ServiceType string
}

// SamplingDecision is a sampler's answer.
type SamplingDecision struct {
	Sampled bool
	// Rule names the rule that decided ("" for samplers without rules).
	Rule string
}

// Sampler decides whether a new trace is recorded. Implementations must be safe for
// concurrent use.
type Sampler interface {
	Sample(SamplingRequest) SamplingDecision
}

// LocalSampler samples up to PerSecond requests each second, then a Rate fraction of
// the rest: the rule X-Ray SDKs apply when no rules server is available.
type LocalSampler struct {
	perSecond int64
	rate      float64
	clock     func() time.Time
	random    func() float64

	mu     sync.Mutex
	second int64
	used   int64
}

// NewLocalSampler returns a sampler taking perSecond requests a second, then rate (0..1).
// NewLocalSampler(0, 1) samples everything; NewLocalSampler(0, 0) nothing.
func NewLocalSampler(perSecond int, rate float64) *LocalSampler {
	return &LocalSampler{perSecond: int64(perSecond), rate: rate, clock: time.Now, random: rand.Float64}
}

// Sample implements Sampler.
func (l *LocalSampler) Sample(SamplingRequest) SamplingDecision {
	if l.perSecond > 0 {
		now := l.clock().Unix()
		l.mu.Lock()
		if now != l.second {
			l.second, l.used = now, 0
		}
		if l.used < l.perSecond {
			l.used++
			l.mu.Unlock()
			return SamplingDecision{Sampled: true, Rule: "local"}
		}
		l.mu.Unlock()
	}
	if l.rate >= 1 {
		return SamplingDecision{Sampled: true, Rule: "local"}
	}
	return SamplingDecision{Sampled: l.rate > 0 && l.random() < l.rate, Rule: "local"}
}

// CentralizedConfig configures a CentralizedSampler.
type CentralizedConfig struct {
	// Endpoint is the daemon's TCP side, e.g. "http://127.0.0.1:2000".
	Endpoint string
	// ServiceName and ServiceType are matched against rules when the request does not set them.
	ServiceName string
	ServiceType string
	// Client is used for the rules and targets calls (default: 5 s timeout).
	Client *http.Client
	// RulesInterval (default 300 s) and TargetsInterval (default 10 s) pace the polling.
	RulesInterval   time.Duration
	TargetsInterval time.Duration
	// Fallback decides while no rules are known (default NewLocalSampler(1, 0.05)).
	Fallback Sampler
	// Clock and Random replace time.Now and rand.Float64, for tests.
	Clock  func() time.Time
	Random func() float64
	Logger *slog.Logger
}

// CentralizedSampler applies the sampling rules served by GetSamplingRules and the
// quotas served by SamplingTargets, as the X-Ray SDKs do (PROTOCOLS §7).
type CentralizedSampler struct {
	cfg      CentralizedConfig
	clientID string

	mu      sync.RWMutex
	rules   []*rule // ordered: priority, then name, Default last
	rulesAt time.Time
}

// rulesTTL: rules not refreshed for this long are not trusted any more (as the Go SDK).
const rulesTTL = time.Hour

type rule struct {
	name                                              string
	priority                                          int64
	fixedRate                                         float64
	reservoirSize                                     int64
	host, method, path, serviceName, serviceType, arn string

	mu          sync.Mutex
	quota       int64
	hasQuota    bool
	expiresAt   int64 // epoch seconds; the quota is live while now <= expiresAt
	second      int64
	used        int64
	borrowed    bool
	requests    int64
	sampled     int64
	borrows     int64
	intervalSec int64
}

// NewCentralizedSampler returns a sampler; call Run (a Recorder does) to poll rules.
func NewCentralizedSampler(cfg CentralizedConfig) *CentralizedSampler {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.RulesInterval <= 0 {
		cfg.RulesInterval = 300 * time.Second
	}
	if cfg.TargetsInterval <= 0 {
		cfg.TargetsInterval = 10 * time.Second
	}
	if cfg.Fallback == nil {
		cfg.Fallback = NewLocalSampler(1, 0.05)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Float64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var id [24]byte
	putHex(id[:16], rand.Uint64())
	var tail [16]byte
	putHex(tail[:], rand.Uint64())
	copy(id[16:], tail[8:])
	return &CentralizedSampler{cfg: cfg, clientID: string(id[:])}
}

// ClientID is the id this sampler reports its statistics under.
func (c *CentralizedSampler) ClientID() string { return c.clientID }

// Sample implements Sampler.
func (c *CentralizedSampler) Sample(req SamplingRequest) SamplingDecision {
	if req.ServiceName == "" {
		req.ServiceName = c.cfg.ServiceName
	}
	if req.ServiceType == "" {
		req.ServiceType = c.cfg.ServiceType
	}
	now := c.cfg.Clock()
	c.mu.RLock()
	rules, fresh := c.rules, !c.rulesAt.IsZero() && now.Sub(c.rulesAt) < rulesTTL
	c.mu.RUnlock()
	if !fresh || len(rules) == 0 {
		return c.cfg.Fallback.Sample(req)
	}
	for _, r := range rules {
		if r.matches(req) {
			return SamplingDecision{Sampled: r.sample(now.Unix(), c.cfg.Random), Rule: r.name}
		}
	}
	return c.cfg.Fallback.Sample(req)
}

func (r *rule) matches(req SamplingRequest) bool {
	// An empty request attribute matches any pattern, as in the SDKs.
	return (req.Host == "" || wildcardMatch(r.host, req.Host)) &&
		(req.URLPath == "" || wildcardMatch(r.path, req.URLPath)) &&
		(req.Method == "" || wildcardMatch(r.method, req.Method)) &&
		(req.ServiceName == "" || wildcardMatch(r.serviceName, req.ServiceName)) &&
		(req.ServiceType == "" || wildcardMatch(r.serviceType, req.ServiceType))
}

func (r *rule) sample(now int64, random func() float64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if now != r.second {
		r.second, r.used, r.borrowed = now, 0, false
	}
	if !r.hasQuota || now > r.expiresAt {
		// No live quota from the server: borrow one request a second so that every
		// rule keeps some visibility, then fall back to the fixed rate.
		if !r.borrowed && r.reservoirSize > 0 {
			r.borrowed = true
			r.borrows++
			return true
		}
		return r.fixedRateLocked(random)
	}
	if r.used < r.quota {
		r.used++
		r.sampled++
		return true
	}
	return r.fixedRateLocked(random)
}

func (r *rule) fixedRateLocked(random func() float64) bool {
	if r.fixedRate > 0 && random() < r.fixedRate {
		r.sampled++
		return true
	}
	return false
}

// wildcardMatch matches text against pattern where '*' is any run and '?' any single
// byte, ASCII case-insensitively. It does not allocate: it runs on every new trace.
func wildcardMatch(pattern, text string) bool {
	if pattern == "*" {
		return true
	}
	p, t := 0, 0
	star, mark := -1, 0
	for t < len(text) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || foldEq(pattern[p], text[t])):
			p++
			t++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, t
			p++
		case star >= 0:
			p = star + 1
			mark++
			t = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func foldEq(a, b byte) bool {
	if a == b {
		return true
	}
	if 'A' <= a && a <= 'Z' {
		a += 'a' - 'A'
	}
	if 'A' <= b && b <= 'Z' {
		b += 'a' - 'A'
	}
	return a == b
}

// Run polls rules at once and then every RulesInterval, and reports statistics every
// TargetsInterval, until ctx ends.
func (c *CentralizedSampler) Run(ctx context.Context) {
	if err := c.RefreshRules(ctx); err != nil {
		c.cfg.Logger.Warn("tracing: sampling rules unavailable, using local rule", "err", err)
	}
	rulesTick := time.NewTicker(c.cfg.RulesInterval)
	defer rulesTick.Stop()
	// A little jitter keeps a fleet of services from reporting in lockstep.
	targetsTick := time.NewTicker(c.cfg.TargetsInterval + time.Duration(rand.Int64N(int64(100*time.Millisecond))))
	defer targetsTick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-rulesTick.C:
			if err := c.RefreshRules(ctx); err != nil {
				c.cfg.Logger.Warn("tracing: refresh sampling rules", "err", err)
			}
		case <-targetsTick.C:
			if err := c.ReportTargets(ctx); err != nil {
				c.cfg.Logger.Warn("tracing: report sampling targets", "err", err)
			}
		}
	}
}

type getRulesResponse struct {
	SamplingRuleRecords []struct {
		SamplingRule *struct {
			RuleName      string
			ResourceARN   string
			Priority      int64
			FixedRate     float64
			ReservoirSize int64
			ServiceName   string
			ServiceType   string
			Host          string
			HTTPMethod    string
			URLPath       string
			Version       int64
			Attributes    map[string]string
		}
	}
	NextToken *string
}

// RefreshRules fetches all rules (following NextToken) and replaces the current set,
// keeping the quota state of rules that still exist.
func (c *CentralizedSampler) RefreshRules(ctx context.Context) error {
	var fetched []*rule
	var token *string
	for page := 0; page < 100; page++ {
		body := map[string]*string{"NextToken": token}
		var resp getRulesResponse
		if err := c.post(ctx, "/GetSamplingRules", body, &resp); err != nil {
			return err
		}
		for _, rec := range resp.SamplingRuleRecords {
			sr := rec.SamplingRule
			// Only what the SDKs support: version 1, no attributes, any resource.
			if sr == nil || sr.Version != 1 || len(sr.Attributes) > 0 || sr.ResourceARN != "*" || sr.RuleName == "" {
				continue
			}
			fetched = append(fetched, &rule{
				name: sr.RuleName, priority: sr.Priority, fixedRate: sr.FixedRate,
				reservoirSize: sr.ReservoirSize, host: sr.Host, method: sr.HTTPMethod,
				path: sr.URLPath, serviceName: sr.ServiceName, serviceType: sr.ServiceType,
				arn: sr.ResourceARN,
			})
		}
		if resp.NextToken == nil || *resp.NextToken == "" {
			break
		}
		token = resp.NextToken
	}
	sort.SliceStable(fetched, func(i, j int) bool {
		a, b := fetched[i], fetched[j]
		if (a.name == "Default") != (b.name == "Default") {
			return b.name == "Default"
		}
		if a.priority != b.priority {
			return a.priority < b.priority
		}
		return a.name < b.name
	})
	c.mu.Lock()
	old := make(map[string]*rule, len(c.rules))
	for _, r := range c.rules {
		old[r.name] = r
	}
	for _, r := range fetched {
		if prev, ok := old[r.name]; ok {
			prev.mu.Lock()
			r.quota, r.hasQuota, r.expiresAt = prev.quota, prev.hasQuota, prev.expiresAt
			r.requests, r.sampled, r.borrows = prev.requests, prev.sampled, prev.borrows
			prev.mu.Unlock()
		}
	}
	c.rules = fetched
	c.rulesAt = c.cfg.Clock()
	c.mu.Unlock()
	return nil
}

type statisticsDocument struct {
	RuleName     string
	ClientID     string
	Timestamp    int64
	RequestCount int64
	SampledCount int64
	BorrowCount  int64
}

type targetsResponse struct {
	SamplingTargetDocuments []struct {
		RuleName          string
		FixedRate         *float64
		ReservoirQuota    *int64
		ReservoirQuotaTTL *float64
		Interval          *int64
	}
	LastRuleModification *float64
}

// ReportTargets sends the statistics gathered since the last report and applies the
// returned quotas and rates. It refreshes the rules when the server says they changed.
func (c *CentralizedSampler) ReportTargets(ctx context.Context) error {
	c.mu.RLock()
	rules := c.rules
	c.mu.RUnlock()
	now := c.cfg.Clock().Unix()
	docs := make([]statisticsDocument, 0, len(rules))
	byName := make(map[string]*rule, len(rules))
	for _, r := range rules {
		byName[r.name] = r
		r.mu.Lock()
		docs = append(docs, statisticsDocument{
			RuleName: r.name, ClientID: c.clientID, Timestamp: now,
			RequestCount: r.requests, SampledCount: r.sampled, BorrowCount: r.borrows,
		})
		r.requests, r.sampled, r.borrows = 0, 0, 0
		r.mu.Unlock()
	}
	if len(docs) == 0 {
		return nil
	}
	var resp targetsResponse
	if err := c.post(ctx, "/SamplingTargets", map[string]any{"SamplingStatisticsDocuments": docs}, &resp); err != nil {
		return err
	}
	for _, t := range resp.SamplingTargetDocuments {
		r := byName[t.RuleName]
		if r == nil {
			continue
		}
		r.mu.Lock()
		if t.FixedRate != nil {
			r.fixedRate = *t.FixedRate
		}
		if t.ReservoirQuota != nil {
			r.quota, r.hasQuota = *t.ReservoirQuota, true
		}
		if t.ReservoirQuotaTTL != nil {
			r.expiresAt = int64(*t.ReservoirQuotaTTL)
		}
		if t.Interval != nil {
			r.intervalSec = *t.Interval
		}
		r.mu.Unlock()
	}
	if resp.LastRuleModification != nil {
		c.mu.Lock()
		changed := *resp.LastRuleModification > float64(c.rulesAt.Unix())
		c.mu.Unlock()
		if changed {
			return c.RefreshRules(ctx)
		}
	}
	return nil
}

func (c *CentralizedSampler) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("call %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("call %s: status %d: %.200s", path, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}
