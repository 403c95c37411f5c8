// Package sampling is the centralized sampling service X-Ray SDKs poll:
// rules (GetSamplingRules and their CRUD), reservoir quotas shared among
// the SDK instances using a rule (SamplingTargets), and the statistics
// they report (SamplingStatisticSummaries).
package sampling

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultRuleName is the built-in catch-all rule; it cannot be deleted.
const DefaultRuleName = "Default"

// Defaults for Options.
const (
	DefaultInterval     = 10 * time.Second
	DefaultQuotaTTL     = 60 * time.Second
	DefaultPageSize     = 100
	DefaultMaxRules     = 25
	DefaultARNPrefix    = "arn:aws:xray:us-east-1:000000000000:sampling-rule/"
	DefaultStatsWindows = 6
)

// Options configure a Service. The zero value works.
type Options struct {
	// Now is the clock (default time.Now); tests inject their own.
	Now func() time.Time
	// Interval is how often SDKs should report (SamplingTargets Interval);
	// it is also the length of a statistics window.
	Interval time.Duration
	// QuotaTTL is how long a reservoir quota stays valid, and so how long a
	// client counts as active for sharing a rule's reservoir after it last
	// reported.
	QuotaTTL time.Duration
	// PageSize is the number of rules per GetSamplingRules page.
	PageSize int
	// MaxRules bounds the rules besides Default (AWS allows 25).
	MaxRules int
	// ARNPrefix + rule name is a rule's RuleARN.
	ARNPrefix string
	// StatsWindows is how many Interval-long statistics windows are kept
	// per rule for SamplingStatisticSummaries.
	StatsWindows int
}

// Service holds the rules and the live sampling state.
type Service struct {
	opts  Options
	store Store

	mu      sync.Mutex
	rules   map[string]*ruleState
	lastMod float64
}

type ruleState struct {
	rec     RuleRecord
	clients map[string]time.Time // ClientID → last report
	windows []StatisticSummary   // oldest first
}

// Open makes a Service whose rules live in dir (as RulesFileName).
func Open(ctx context.Context, dir string, opts Options) (*Service, error) {
	if dir == "" {
		return nil, errors.New("sampling: no rules directory")
	}
	return New(ctx, FileStore{Dir: dir}, opts)
}

// New makes a Service on store and loads the saved rules.
func New(ctx context.Context, store Store, opts Options) (*Service, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.QuotaTTL <= 0 {
		opts.QuotaTTL = DefaultQuotaTTL
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.MaxRules <= 0 {
		opts.MaxRules = DefaultMaxRules
	}
	if opts.ARNPrefix == "" {
		opts.ARNPrefix = DefaultARNPrefix
	}
	if opts.StatsWindows <= 0 {
		opts.StatsWindows = DefaultStatsWindows
	}
	s := &Service{opts: opts, store: store, rules: map[string]*ruleState{}}
	st, found, err := store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("sampling: load rules: %w", err)
	}
	if found {
		for _, rec := range st.Rules {
			s.rules[rec.SamplingRule.RuleName] = &ruleState{rec: rec, clients: map[string]time.Time{}}
		}
		s.lastMod = st.LastRuleModification
	}
	if _, ok := s.rules[DefaultRuleName]; !ok {
		now := epoch(opts.Now())
		s.rules[DefaultRuleName] = &ruleState{clients: map[string]time.Time{}, rec: RuleRecord{
			CreatedAt: now, ModifiedAt: now, SamplingRule: s.defaultRule()}}
	}
	return s, nil
}

func (s *Service) defaultRule() Rule {
	return Rule{RuleName: DefaultRuleName, RuleARN: s.opts.ARNPrefix + DefaultRuleName, ResourceARN: "*",
		Priority: 10000, FixedRate: 0.05, ReservoirSize: 1, ServiceName: "*", ServiceType: "*",
		Host: "*", HTTPMethod: "*", URLPath: "*", Version: 1}
}

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Error is an API error: HTTP status plus the AWS error code.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func invalid(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "InvalidRequestException", Message: fmt.Sprintf(format, args...)}
}

// sortedLocked returns the rules by priority, then name, Default last.
func (s *Service) sortedLocked() []*ruleState {
	out := make([]*ruleState, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].rec.SamplingRule, out[j].rec.SamplingRule
		if (a.RuleName == DefaultRuleName) != (b.RuleName == DefaultRuleName) {
			return b.RuleName == DefaultRuleName
		}
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.RuleName < b.RuleName
	})
	return out
}

// GetSamplingRules returns one page of rules.
func (s *Service) GetSamplingRules(ctx context.Context, nextToken string) (*RulesOutput, error) {
	offset := 0
	if nextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(nextToken)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "rules:"))
		if err != nil || err2 != nil || n < 0 || !strings.HasPrefix(string(b), "rules:") {
			return nil, invalid("invalid NextToken")
		}
		offset = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.sortedLocked()
	out := &RulesOutput{SamplingRuleRecords: []RuleRecord{}}
	if offset > len(all) {
		return out, nil
	}
	end := min(offset+s.opts.PageSize, len(all))
	for _, r := range all[offset:end] {
		out.SamplingRuleRecords = append(out.SamplingRuleRecords, r.rec)
	}
	if end < len(all) {
		tok := base64.RawURLEncoding.EncodeToString([]byte("rules:" + strconv.Itoa(end)))
		out.NextToken = &tok
	}
	return out, nil
}

// SamplingTargets records the SDKs' statistics and hands out each reported
// rule's share of its reservoir.
func (s *Service) SamplingTargets(ctx context.Context, in TargetsInput) (*TargetsOutput, error) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &TargetsOutput{SamplingTargetDocuments: []TargetDocument{}, UnprocessedStatistics: []UnprocessedStatistics{},
		LastRuleModification: s.lastMod}
	reported := map[string]bool{}
	var order []string
	for _, d := range in.SamplingStatisticsDocuments {
		r, ok := s.rules[d.RuleName]
		switch {
		case d.ClientID == "":
			out.UnprocessedStatistics = append(out.UnprocessedStatistics,
				UnprocessedStatistics{RuleName: d.RuleName, ErrorCode: "400", Message: "ClientID is required"})
			continue
		case !ok:
			out.UnprocessedStatistics = append(out.UnprocessedStatistics,
				UnprocessedStatistics{RuleName: d.RuleName, ErrorCode: "400", Message: "no sampling rule named " + d.RuleName})
			continue
		case d.RequestCount < 0 || d.SampledCount < 0 || d.BorrowCount < 0:
			out.UnprocessedStatistics = append(out.UnprocessedStatistics,
				UnprocessedStatistics{RuleName: d.RuleName, ErrorCode: "400", Message: "negative count"})
			continue
		}
		r.clients[d.ClientID] = now
		s.addStatsLocked(r, d, now)
		if !reported[d.RuleName] {
			reported[d.RuleName] = true
			order = append(order, d.RuleName)
		}
	}
	for _, name := range order {
		r := s.rules[name]
		out.SamplingTargetDocuments = append(out.SamplingTargetDocuments, s.targetLocked(r, in, now))
	}
	return out, nil
}

// targetLocked computes the target of rule r for the clients that reported
// it in this call (all get the same TTL; the quota is per client, so when
// one call carries several clients of a rule the first one's is returned,
// as one SDK instance only ever reports for itself).
func (s *Service) targetLocked(r *ruleState, in TargetsInput, now time.Time) TargetDocument {
	var client string
	for _, d := range in.SamplingStatisticsDocuments {
		if d.RuleName == r.rec.SamplingRule.RuleName && d.ClientID != "" {
			client = d.ClientID
			break
		}
	}
	quota := s.quotaLocked(r, client, now)
	return TargetDocument{
		RuleName:          r.rec.SamplingRule.RuleName,
		FixedRate:         r.rec.SamplingRule.FixedRate,
		ReservoirQuota:    &quota,
		ReservoirQuotaTTL: epoch(now.Add(s.opts.QuotaTTL).Truncate(time.Second)),
		Interval:          int32(s.opts.Interval / time.Second),
	}
}

// quotaLocked shares the rule's reservoir among its active clients: each
// gets size/n per second, and the first size%n clients (by ClientID) one
// more, so the quotas add up to the reservoir exactly.
func (s *Service) quotaLocked(r *ruleState, client string, now time.Time) int32 {
	active := make([]string, 0, len(r.clients))
	for id, seen := range r.clients {
		if now.Sub(seen) < s.opts.QuotaTTL {
			active = append(active, id)
		} else {
			delete(r.clients, id)
		}
	}
	n := int32(len(active))
	if n == 0 {
		return 0
	}
	sort.Strings(active)
	size := r.rec.SamplingRule.ReservoirSize
	quota := size / n
	if rank := int32(sort.SearchStrings(active, client)); rank < size%n {
		quota++
	}
	return quota
}

// ActiveClients returns how many clients share rule name's reservoir now.
func (s *Service) ActiveClients(name string) int {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rules[name]
	if !ok {
		return 0
	}
	n := 0
	for _, seen := range r.clients {
		if now.Sub(seen) < s.opts.QuotaTTL {
			n++
		}
	}
	return n
}

func (s *Service) addStatsLocked(r *ruleState, d StatisticsDocument, now time.Time) {
	start := epoch(now.Truncate(s.opts.Interval))
	if n := len(r.windows); n == 0 || r.windows[n-1].Timestamp != start {
		r.windows = append(r.windows, StatisticSummary{RuleName: r.rec.SamplingRule.RuleName, Timestamp: start})
		if len(r.windows) > s.opts.StatsWindows {
			r.windows = append(r.windows[:0], r.windows[len(r.windows)-s.opts.StatsWindows:]...)
		}
	}
	w := &r.windows[len(r.windows)-1]
	w.RequestCount = satAdd(w.RequestCount, d.RequestCount)
	w.SampledCount = satAdd(w.SampledCount, d.SampledCount)
	w.BorrowCount = satAdd(w.BorrowCount, d.BorrowCount)
}

func satAdd(a, b int32) int32 {
	if s := int64(a) + int64(b); s <= math.MaxInt32 {
		return int32(s)
	}
	return math.MaxInt32
}

// StatisticSummaries returns the kept statistics windows of every rule,
// newest first.
func (s *Service) StatisticSummaries(ctx context.Context) *StatisticSummariesOutput {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &StatisticSummariesOutput{SamplingStatisticSummaries: []StatisticSummary{}}
	for _, r := range s.sortedLocked() {
		out.SamplingStatisticSummaries = append(out.SamplingStatisticSummaries, r.windows...)
	}
	sort.SliceStable(out.SamplingStatisticSummaries, func(i, j int) bool {
		return out.SamplingStatisticSummaries[i].Timestamp > out.SamplingStatisticSummaries[j].Timestamp
	})
	return out
}

// LastRuleModification is the modification mark SDKs compare with.
func (s *Service) LastRuleModification() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastMod
}

// Field limits, as the X-Ray API documents them.
const (
	maxRuleNameLen    = 32
	maxServiceNameLen = 64
	maxServiceTypeLen = 64
	maxHostLen        = 64
	maxHTTPMethodLen  = 10
	maxURLPathLen     = 128
	maxResourceARNLen = 500
	maxAttributeLen   = 32
	maxAttributes     = 5
)

func validateRule(r Rule) *Error {
	if r.RuleName == "" || utf8.RuneCountInString(r.RuleName) > maxRuleNameLen {
		return invalid("RuleName must be 1 to %d characters", maxRuleNameLen)
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"ResourceARN", r.ResourceARN, maxResourceARNLen},
		{"ServiceName", r.ServiceName, maxServiceNameLen},
		{"ServiceType", r.ServiceType, maxServiceTypeLen},
		{"Host", r.Host, maxHostLen},
		{"HTTPMethod", r.HTTPMethod, maxHTTPMethodLen},
		{"URLPath", r.URLPath, maxURLPathLen},
	} {
		if utf8.RuneCountInString(f.value) > f.max {
			return invalid("%s is longer than %d characters", f.name, f.max)
		}
	}
	if r.Priority < 1 || r.Priority > 9999 {
		if r.RuleName != DefaultRuleName {
			return invalid("Priority must be between 1 and 9999")
		}
	}
	if math.IsNaN(r.FixedRate) || r.FixedRate < 0 || r.FixedRate > 1 {
		return invalid("FixedRate must be between 0 and 1")
	}
	if r.ReservoirSize < 0 {
		return invalid("ReservoirSize must not be negative")
	}
	if r.Version < 1 {
		return invalid("Version must be at least 1")
	}
	if len(r.Attributes) > maxAttributes {
		return invalid("at most %d Attributes", maxAttributes)
	}
	for k, v := range r.Attributes {
		if k == "" || len(k) > maxAttributeLen || v == "" || len(v) > maxAttributeLen {
			return invalid("Attributes keys and values must be 1 to %d characters", maxAttributeLen)
		}
	}
	return nil
}

func ruleFromInput(in *ruleInput) (Rule, *Error) {
	if in == nil {
		return Rule{}, invalid("SamplingRule is required")
	}
	var missing []string
	str := func(name string, p *string) string {
		if p == nil {
			missing = append(missing, name)
			return ""
		}
		return *p
	}
	r := Rule{
		RuleName:    str("RuleName", in.RuleName),
		ResourceARN: str("ResourceARN", in.ResourceARN),
		ServiceName: str("ServiceName", in.ServiceName),
		ServiceType: str("ServiceType", in.ServiceType),
		Host:        str("Host", in.Host),
		HTTPMethod:  str("HTTPMethod", in.HTTPMethod),
		URLPath:     str("URLPath", in.URLPath),
		Attributes:  in.Attributes,
	}
	if in.Priority == nil {
		missing = append(missing, "Priority")
	} else {
		r.Priority = *in.Priority
	}
	if in.FixedRate == nil {
		missing = append(missing, "FixedRate")
	} else {
		r.FixedRate = *in.FixedRate
	}
	if in.ReservoirSize == nil {
		missing = append(missing, "ReservoirSize")
	} else {
		r.ReservoirSize = *in.ReservoirSize
	}
	if in.Version == nil {
		missing = append(missing, "Version")
	} else {
		r.Version = *in.Version
	}
	if len(missing) > 0 {
		return Rule{}, invalid("SamplingRule is missing %s", strings.Join(missing, ", "))
	}
	return r, nil
}

// commitLocked saves the rules after a change; on failure it puts back
// the previous rules so memory and disk agree.
func (s *Service) commitLocked(ctx context.Context, prev map[string]*ruleState, prevMod float64) error {
	st := State{LastRuleModification: s.lastMod}
	for _, r := range s.sortedLocked() {
		st.Rules = append(st.Rules, r.rec)
	}
	if err := s.store.Save(ctx, st); err != nil {
		s.rules, s.lastMod = prev, prevMod
		return fmt.Errorf("sampling: save rules: %w", err)
	}
	return nil
}

// changeLocked snapshots the rules before a change and bumps the
// modification mark so it always grows, even within one clock tick.
func (s *Service) changeLocked(now time.Time) (prev map[string]*ruleState, prevMod float64) {
	prev = make(map[string]*ruleState, len(s.rules))
	for k, v := range s.rules {
		prev[k] = v
	}
	prevMod = s.lastMod
	s.lastMod = math.Max(epoch(now), s.lastMod+0.001)
	return prev, prevMod
}

// CreateRule adds a rule.
func (s *Service) createRule(ctx context.Context, in *ruleInput) (*RuleRecord, error) {
	r, verr := ruleFromInput(in)
	if verr != nil {
		return nil, verr
	}
	if verr := validateRule(r); verr != nil {
		return nil, verr
	}
	r.RuleARN = s.opts.ARNPrefix + r.RuleName
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rules[r.RuleName]; ok {
		return nil, invalid("a sampling rule named %s already exists", r.RuleName)
	}
	if len(s.rules)-1 >= s.opts.MaxRules {
		return nil, &Error{Status: http.StatusBadRequest, Code: "RuleLimitExceededException",
			Message: fmt.Sprintf("at most %d sampling rules besides Default", s.opts.MaxRules)}
	}
	prev, prevMod := s.changeLocked(now)
	rec := RuleRecord{CreatedAt: epoch(now), ModifiedAt: epoch(now), SamplingRule: r}
	s.rules[r.RuleName] = &ruleState{rec: rec, clients: map[string]time.Time{}}
	if err := s.commitLocked(ctx, prev, prevMod); err != nil {
		return nil, err
	}
	return &rec, nil
}

// CreateRule adds a rule given in the CreateSamplingRule shape.
func (s *Service) CreateRule(ctx context.Context, r Rule) (*RuleRecord, error) {
	in := &ruleInput{RuleName: &r.RuleName, ResourceARN: &r.ResourceARN, Priority: &r.Priority,
		FixedRate: &r.FixedRate, ReservoirSize: &r.ReservoirSize, ServiceName: &r.ServiceName,
		ServiceType: &r.ServiceType, Host: &r.Host, HTTPMethod: &r.HTTPMethod, URLPath: &r.URLPath,
		Version: &r.Version, Attributes: r.Attributes}
	return s.createRule(ctx, in)
}

func (s *Service) findLocked(name, arn *string) (*ruleState, *Error) {
	if (name == nil || *name == "") && (arn == nil || *arn == "") {
		return nil, invalid("RuleName or RuleARN is required")
	}
	var r *ruleState
	if name != nil && *name != "" {
		r = s.rules[*name]
	} else {
		for _, c := range s.rules {
			if c.rec.SamplingRule.RuleARN == *arn {
				r = c
			}
		}
	}
	if r == nil || (arn != nil && *arn != "" && r.rec.SamplingRule.RuleARN != *arn) {
		return nil, invalid("no such sampling rule")
	}
	return r, nil
}

func (s *Service) updateRule(ctx context.Context, u *ruleUpdate) (*RuleRecord, error) {
	if u == nil {
		return nil, invalid("SamplingRuleUpdate is required")
	}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, verr := s.findLocked(u.RuleName, u.RuleARN)
	if verr != nil {
		return nil, verr
	}
	r := cur.rec.SamplingRule
	if r.RuleName == DefaultRuleName && (u.ResourceARN != nil || u.Priority != nil || u.ServiceName != nil ||
		u.ServiceType != nil || u.Host != nil || u.HTTPMethod != nil || u.URLPath != nil || u.Attributes != nil) {
		return nil, invalid("only FixedRate and ReservoirSize of the Default rule can change")
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&r.ResourceARN, u.ResourceARN)
	set(&r.ServiceName, u.ServiceName)
	set(&r.ServiceType, u.ServiceType)
	set(&r.Host, u.Host)
	set(&r.HTTPMethod, u.HTTPMethod)
	set(&r.URLPath, u.URLPath)
	if u.Priority != nil {
		r.Priority = *u.Priority
	}
	if u.FixedRate != nil {
		r.FixedRate = *u.FixedRate
	}
	if u.ReservoirSize != nil {
		r.ReservoirSize = *u.ReservoirSize
	}
	if u.Attributes != nil {
		r.Attributes = u.Attributes
	}
	if verr := validateRule(r); verr != nil {
		return nil, verr
	}
	prev, prevMod := s.changeLocked(now)
	next := &ruleState{rec: RuleRecord{CreatedAt: cur.rec.CreatedAt, ModifiedAt: epoch(now), SamplingRule: r},
		clients: cur.clients, windows: cur.windows}
	s.rules[r.RuleName] = next
	if err := s.commitLocked(ctx, prev, prevMod); err != nil {
		return nil, err
	}
	rec := next.rec
	return &rec, nil
}

// UpdateRule changes the fields of rule name that upd sets (nil = keep).
func (s *Service) UpdateRule(ctx context.Context, name string, fixedRate *float64, reservoirSize *int32) (*RuleRecord, error) {
	return s.updateRule(ctx, &ruleUpdate{RuleName: &name, FixedRate: fixedRate, ReservoirSize: reservoirSize})
}

// DeleteRule removes a rule by name or ARN; Default cannot be deleted.
func (s *Service) DeleteRule(ctx context.Context, name, arn string) (*RuleRecord, error) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, verr := s.findLocked(&name, &arn)
	if verr != nil {
		return nil, verr
	}
	if cur.rec.SamplingRule.RuleName == DefaultRuleName {
		return nil, invalid("the Default sampling rule cannot be deleted")
	}
	prev, prevMod := s.changeLocked(now)
	delete(s.rules, cur.rec.SamplingRule.RuleName)
	if err := s.commitLocked(ctx, prev, prevMod); err != nil {
		return nil, err
	}
	rec := cur.rec
	return &rec, nil
}
