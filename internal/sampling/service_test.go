package sampling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	smithy "github.com/aws/smithy-go"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1795559900, 0)} }

func open(t *testing.T, dir string, clk *fakeClock) *Service {
	t.Helper()
	s, err := Open(context.Background(), dir, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testRule(name string, prio int32, size int32) Rule {
	return Rule{RuleName: name, ResourceARN: "*", Priority: prio, FixedRate: 0.1, ReservoirSize: size,
		ServiceName: "*", ServiceType: "*", Host: "*", HTTPMethod: "*", URLPath: "*", Version: 1}
}

func stats(rule, client string, req int32) StatisticsDocument {
	return StatisticsDocument{RuleName: rule, ClientID: client, Timestamp: 1795559900, RequestCount: req, SampledCount: 1}
}

func TestQuotaSharing(t *testing.T) {
	tests := []struct {
		name    string
		size    int32
		clients []string // report order; each reports once
		want    map[string]int32
	}{
		{"one client takes all", 10, []string{"a"}, map[string]int32{"a": 10}},
		{"two even", 10, []string{"a", "b"}, map[string]int32{"a": 5, "b": 5}},
		{"three uneven sums to size", 10, []string{"c", "a", "b"}, map[string]int32{"a": 4, "b": 3, "c": 3}},
		{"more clients than reservoir", 2, []string{"a", "b", "c", "d"}, map[string]int32{"a": 1, "b": 1, "c": 0, "d": 0}},
		{"zero reservoir", 0, []string{"a", "b"}, map[string]int32{"a": 0, "b": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			s := open(t, t.TempDir(), clk)
			if _, err := s.CreateRule(context.Background(), testRule("r", 10, tt.size)); err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.clients {
				if _, err := s.SamplingTargets(context.Background(), TargetsInput{SamplingStatisticsDocuments: []StatisticsDocument{stats("r", c, 1)}}); err != nil {
					t.Fatal(err)
				}
			}
			// Once everyone is known, each client's next report gets its share.
			var sum int32
			for c, want := range tt.want {
				out, err := s.SamplingTargets(context.Background(), TargetsInput{SamplingStatisticsDocuments: []StatisticsDocument{stats("r", c, 1)}})
				if err != nil {
					t.Fatal(err)
				}
				got := *out.SamplingTargetDocuments[0].ReservoirQuota
				if got != want {
					t.Errorf("client %s quota %d, want %d", c, got, want)
				}
				sum += got
			}
			if sum != tt.size {
				t.Errorf("quotas add to %d, want the reservoir %d", sum, tt.size)
			}
		})
	}
}

func TestQuotaTTLExpiry(t *testing.T) {
	clk := newClock()
	s := open(t, t.TempDir(), clk)
	ctx := context.Background()
	if _, err := s.CreateRule(ctx, testRule("r", 10, 10)); err != nil {
		t.Fatal(err)
	}
	report := func(client string) TargetDocument {
		t.Helper()
		out, err := s.SamplingTargets(ctx, TargetsInput{SamplingStatisticsDocuments: []StatisticsDocument{stats("r", client, 5)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.SamplingTargetDocuments) != 1 {
			t.Fatalf("targets %+v", out)
		}
		return out.SamplingTargetDocuments[0]
	}
	report("a")
	if q := *report("b").ReservoirQuota; q != 5 {
		t.Fatalf("b quota %d with two clients", q)
	}
	doc := report("a")
	wantTTL := float64(clk.Now().Add(DefaultQuotaTTL).Unix())
	if doc.ReservoirQuotaTTL != wantTTL || doc.Interval != 10 || doc.FixedRate != 0.1 {
		t.Fatalf("target %+v, want TTL %v interval 10", doc, wantTTL)
	}
	// b goes quiet; a keeps reporting. Before b's TTL is over it still counts.
	clk.Advance(DefaultQuotaTTL - time.Second)
	if q := *report("a").ReservoirQuota; q != 5 {
		t.Fatalf("a quota %d before b expired", q)
	}
	if n := s.ActiveClients("r"); n != 2 {
		t.Fatalf("%d active clients before expiry", n)
	}
	clk.Advance(2 * time.Second)
	if q := *report("a").ReservoirQuota; q != 10 {
		t.Fatalf("a quota %d after b expired, want the whole reservoir", q)
	}
	if n := s.ActiveClients("r"); n != 1 {
		t.Fatalf("%d active clients after expiry", n)
	}
}

func TestTargetsUnknownRuleAndSummaries(t *testing.T) {
	clk := newClock()
	s := open(t, t.TempDir(), clk)
	ctx := context.Background()
	out, err := s.SamplingTargets(ctx, TargetsInput{SamplingStatisticsDocuments: []StatisticsDocument{
		stats("Default", "c1", 10), stats("gone", "c1", 3), {RuleName: "Default"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SamplingTargetDocuments) != 1 || out.SamplingTargetDocuments[0].RuleName != "Default" ||
		*out.SamplingTargetDocuments[0].ReservoirQuota != 1 || out.SamplingTargetDocuments[0].FixedRate != 0.05 {
		t.Fatalf("targets %+v", out.SamplingTargetDocuments)
	}
	if len(out.UnprocessedStatistics) != 2 || !strings.HasPrefix(out.UnprocessedStatistics[0].ErrorCode, "4") {
		t.Fatalf("unprocessed %+v", out.UnprocessedStatistics)
	}
	s.SamplingTargets(ctx, TargetsInput{SamplingStatisticsDocuments: []StatisticsDocument{stats("Default", "c2", 4)}})
	clk.Advance(DefaultInterval)
	s.SamplingTargets(ctx, TargetsInput{SamplingStatisticsDocuments: []StatisticsDocument{stats("Default", "c2", 7)}})
	sum := s.StatisticSummaries(ctx).SamplingStatisticSummaries
	if len(sum) != 2 || sum[0].RequestCount != 7 || sum[1].RequestCount != 14 || sum[1].SampledCount != 2 || sum[0].Timestamp <= sum[1].Timestamp {
		t.Fatalf("summaries %+v", sum)
	}
	// Only StatsWindows windows are kept.
	for range 20 {
		clk.Advance(DefaultInterval)
		s.SamplingTargets(ctx, TargetsInput{SamplingStatisticsDocuments: []StatisticsDocument{stats("Default", "c2", 1)}})
	}
	if n := len(s.StatisticSummaries(ctx).SamplingStatisticSummaries); n != DefaultStatsWindows {
		t.Fatalf("%d windows kept", n)
	}
}

func TestCRUDValidation(t *testing.T) {
	clk := newClock()
	s := open(t, t.TempDir(), clk)
	ctx := context.Background()
	if _, err := s.CreateRule(ctx, testRule("dup", 5, 1)); err != nil {
		t.Fatal(err)
	}
	tooMany := map[string]string{}
	for i := range 6 {
		tooMany[fmt.Sprint("k", i)] = "v"
	}
	tests := []struct {
		name   string
		mutate func(*Rule)
	}{
		{"empty name", func(r *Rule) { r.RuleName = "" }},
		{"name 33 chars", func(r *Rule) { r.RuleName = strings.Repeat("n", 33) }},
		{"duplicate name", func(r *Rule) { r.RuleName = "dup" }},
		{"Default name taken", func(r *Rule) { r.RuleName = "Default" }},
		{"priority 0", func(r *Rule) { r.Priority = 0 }},
		{"priority 10000", func(r *Rule) { r.Priority = 10000 }},
		{"fixed rate above 1", func(r *Rule) { r.FixedRate = 1.5 }},
		{"fixed rate negative", func(r *Rule) { r.FixedRate = -0.1 }},
		{"negative reservoir", func(r *Rule) { r.ReservoirSize = -1 }},
		{"version 0", func(r *Rule) { r.Version = 0 }},
		{"long host", func(r *Rule) { r.Host = strings.Repeat("h", 65) }},
		{"long method", func(r *Rule) { r.HTTPMethod = "VERYLONGMETHOD" }},
		{"long path", func(r *Rule) { r.URLPath = "/" + strings.Repeat("p", 128) }},
		{"too many attributes", func(r *Rule) { r.Attributes = tooMany }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRule("ok", 5, 1)
			tt.mutate(&r)
			_, err := s.CreateRule(ctx, r)
			var e *Error
			if !errors.As(err, &e) || e.Code != "InvalidRequestException" || e.Status != 400 {
				t.Fatalf("error %v, want InvalidRequestException", err)
			}
		})
	}
	before := s.LastRuleModification()
	if _, err := s.UpdateRule(ctx, "dup", ptr(2.0), nil); err == nil {
		t.Fatal("fixed rate 2 accepted on update")
	}
	if _, err := s.UpdateRule(ctx, "nope", ptr(0.5), nil); err == nil {
		t.Fatal("update of an unknown rule accepted")
	}
	if s.LastRuleModification() != before {
		t.Fatal("refused updates bumped LastRuleModification")
	}
}

func ptr[T any](v T) *T { return &v }

func TestDefaultRuleUndeletable(t *testing.T) {
	clk := newClock()
	s := open(t, t.TempDir(), clk)
	ctx := context.Background()
	for _, by := range [][2]string{{"Default", ""}, {"", DefaultARNPrefix + "Default"}} {
		_, err := s.DeleteRule(ctx, by[0], by[1])
		var e *Error
		if !errors.As(err, &e) || e.Code != "InvalidRequestException" {
			t.Fatalf("delete Default by %v: %v", by, err)
		}
	}
	// Its rate and reservoir may change, nothing else.
	rec, err := s.UpdateRule(ctx, "Default", ptr(0.2), ptr(int32(3)))
	if err != nil {
		t.Fatal(err)
	}
	if rec.SamplingRule.FixedRate != 0.2 || rec.SamplingRule.ReservoirSize != 3 || rec.SamplingRule.Priority != 10000 {
		t.Fatalf("Default after update %+v", rec.SamplingRule)
	}
	if _, err := s.updateRule(ctx, &ruleUpdate{RuleName: ptr("Default"), Host: ptr("x")}); err == nil {
		t.Fatal("Default host changed")
	}
	out, _ := s.GetSamplingRules(ctx, "")
	if n := len(out.SamplingRuleRecords); n != 1 {
		t.Fatalf("%d rules", n)
	}
}

func TestPersistenceAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	ctx := context.Background()
	s := open(t, dir, clk)
	if _, err := s.CreateRule(ctx, testRule("keep", 5, 2)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if _, err := s.CreateRule(ctx, testRule("drop", 6, 2)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if _, err := s.UpdateRule(ctx, "keep", ptr(0.75), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteRule(ctx, "drop", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRule(ctx, "Default", nil, ptr(int32(7))); err != nil {
		t.Fatal(err)
	}
	mod := s.LastRuleModification()
	matches, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(matches) != 1 || filepath.Base(matches[0]) != RulesFileName {
		t.Fatalf("directory holds %v, want only %s", matches, RulesFileName)
	}

	clk.Advance(time.Hour)
	s2 := open(t, dir, clk)
	out, err := s2.GetSamplingRules(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SamplingRuleRecords) != 2 {
		t.Fatalf("rules after reopen: %+v", out.SamplingRuleRecords)
	}
	keep, def := out.SamplingRuleRecords[0], out.SamplingRuleRecords[1]
	if keep.SamplingRule.RuleName != "keep" || keep.SamplingRule.FixedRate != 0.75 ||
		keep.CreatedAt != 1795559900 || keep.ModifiedAt != 1795559902 {
		t.Fatalf("keep after reopen %+v", keep)
	}
	if def.SamplingRule.RuleName != "Default" || def.SamplingRule.ReservoirSize != 7 {
		t.Fatalf("Default after reopen %+v", def)
	}
	if s2.LastRuleModification() != mod {
		t.Fatalf("LastRuleModification %v after reopen, want %v", s2.LastRuleModification(), mod)
	}
}

func TestLastRuleModificationBumps(t *testing.T) {
	clk := newClock() // frozen: changes within one tick must still bump
	s := open(t, t.TempDir(), clk)
	ctx := context.Background()
	prev := s.LastRuleModification()
	for i := range 3 {
		if _, err := s.CreateRule(ctx, testRule(fmt.Sprint("r", i), 5, 1)); err != nil {
			t.Fatal(err)
		}
		if m := s.LastRuleModification(); m <= prev {
			t.Fatalf("LastRuleModification %v did not grow past %v", m, prev)
		} else {
			prev = m
		}
	}
	out, _ := s.SamplingTargets(ctx, TargetsInput{})
	if out.LastRuleModification != prev {
		t.Fatalf("targets report %v, want %v", out.LastRuleModification, prev)
	}
}

type failingStore struct{ FileStore }

func (failingStore) Save(context.Context, State) error { return errors.New("disk full") }

func TestSaveFailureLeavesRulesUnchanged(t *testing.T) {
	clk := newClock()
	s, err := New(context.Background(), failingStore{FileStore{Dir: t.TempDir()}}, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRule(context.Background(), testRule("r", 5, 1)); err == nil {
		t.Fatal("create succeeded though the store failed")
	}
	out, _ := s.GetSamplingRules(context.Background(), "")
	if len(out.SamplingRuleRecords) != 1 || s.LastRuleModification() != 0 {
		t.Fatalf("rules changed after a failed save: %+v", out.SamplingRuleRecords)
	}
}

func TestCorruptRulesFileRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, RulesFileName), []byte("{nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir, Options{}); err == nil {
		t.Fatal("corrupt rules file accepted")
	}
}

// newClient is the real aws-sdk-go-v2 X-Ray client pointed at the handler.
func newClient(t *testing.T, h http.Handler) *xray.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return xray.New(xray.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}, nil
		}),
	})
}

func TestAWSSDKClientRoundTrip(t *testing.T) {
	clk := newClock()
	s := open(t, t.TempDir(), clk)
	s.opts.PageSize = 2 // force pagination
	c := newClient(t, s.Handler())
	ctx := context.Background()

	created, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
		RuleName: aws.String("checkout"), ResourceARN: aws.String("*"), Priority: aws.Int32(100), FixedRate: 0.2,
		ReservoirSize: 5, ServiceName: aws.String("front-svc"), ServiceType: aws.String("*"), Host: aws.String("*"),
		HTTPMethod: aws.String("POST"), URLPath: aws.String("/checkout*"), Version: aws.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	rec := created.SamplingRuleRecord
	if aws.ToString(rec.SamplingRule.RuleARN) != DefaultARNPrefix+"checkout" || !rec.CreatedAt.Equal(clk.Now()) {
		t.Fatalf("created %+v", rec)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
			RuleName: aws.String(n), ResourceARN: aws.String("*"), Priority: aws.Int32(1), FixedRate: 1,
			ServiceName: aws.String("*"), ServiceType: aws.String("*"), Host: aws.String("*"),
			HTTPMethod: aws.String("*"), URLPath: aws.String("*"), Version: aws.Int32(1)}}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	pages := xray.NewGetSamplingRulesPaginator(c, &xray.GetSamplingRulesInput{})
	npages := 0
	for pages.HasMorePages() {
		p, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		npages++
		for _, r := range p.SamplingRuleRecords {
			names = append(names, aws.ToString(r.SamplingRule.RuleName))
		}
	}
	if strings.Join(names, ",") != "a,b,checkout,Default" || npages != 2 {
		t.Fatalf("rules %v in %d pages", names, npages)
	}

	_, err = c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
		RuleName: aws.String("bad"), ResourceARN: aws.String("*"), Priority: aws.Int32(1), FixedRate: 3,
		ServiceName: aws.String("*"), ServiceType: aws.String("*"), Host: aws.String("*"),
		HTTPMethod: aws.String("*"), URLPath: aws.String("*"), Version: aws.Int32(1)}})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidRequestException" {
		t.Fatalf("invalid create: %v", err)
	}
	var ire *types.InvalidRequestException
	if !errors.As(err, &ire) {
		t.Fatalf("client did not model the error: %T %v", err, err)
	}

	up, err := c.UpdateSamplingRule(ctx, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{
		RuleARN: aws.String(DefaultARNPrefix + "checkout"), FixedRate: aws.Float64(0.3)}})
	if err != nil || up.SamplingRuleRecord.SamplingRule.FixedRate != 0.3 {
		t.Fatalf("update %+v %v", up, err)
	}

	clk.Advance(1500 * time.Millisecond)
	tg, err := c.GetSamplingTargets(ctx, &xray.GetSamplingTargetsInput{SamplingStatisticsDocuments: []types.SamplingStatisticsDocument{{
		RuleName: aws.String("checkout"), ClientID: aws.String("0123456789abcdef01234567"),
		Timestamp: aws.Time(clk.Now()), RequestCount: 10, SampledCount: 2, BorrowCount: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	d := tg.SamplingTargetDocuments[0]
	if aws.ToString(d.RuleName) != "checkout" || aws.ToInt32(d.ReservoirQuota) != 5 || aws.ToInt32(d.Interval) != 10 ||
		d.ReservoirQuotaTTL == nil || !d.ReservoirQuotaTTL.After(clk.Now()) || tg.LastRuleModification == nil {
		t.Fatalf("target %+v", d)
	}

	sum, err := c.GetSamplingStatisticSummaries(ctx, &xray.GetSamplingStatisticSummariesInput{})
	if err != nil || len(sum.SamplingStatisticSummaries) != 1 || sum.SamplingStatisticSummaries[0].RequestCount != 10 {
		t.Fatalf("summaries %+v %v", sum, err)
	}

	del, err := c.DeleteSamplingRule(ctx, &xray.DeleteSamplingRuleInput{RuleName: aws.String("checkout")})
	if err != nil || aws.ToString(del.SamplingRuleRecord.SamplingRule.RuleName) != "checkout" {
		t.Fatalf("delete %+v %v", del, err)
	}
	_, err = c.DeleteSamplingRule(ctx, &xray.DeleteSamplingRuleInput{RuleName: aws.String("Default")})
	if !errors.As(err, &ire) {
		t.Fatalf("delete Default: %v", err)
	}
}

func TestHTTPBadRequests(t *testing.T) {
	s := open(t, t.TempDir(), newClock())
	h := s.Handler()
	for _, tt := range []struct{ path, body string }{
		{PathGetSamplingRules, `{"NextToken":"garbage"}`},
		{PathCreateSamplingRule, `{"SamplingRule":`},
		{PathCreateSamplingRule, `{}`},
		{PathSamplingTargets, `[1]`},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", tt.path, strings.NewReader(tt.body)))
		var body map[string]string
		json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != 400 || rec.Header().Get("X-Amzn-ErrorType") != "InvalidRequestException" || body["__type"] != "InvalidRequestException" || body["message"] == "" {
			t.Errorf("%s %s: %d %v %s", tt.path, tt.body, rec.Code, rec.Header(), rec.Body)
		}
	}
	// The SDK handler serves only the two SDK calls.
	rec := httptest.NewRecorder()
	s.SDKHandler().ServeHTTP(rec, httptest.NewRequest("POST", PathCreateSamplingRule, strings.NewReader(`{}`)))
	if rec.Code == 200 {
		t.Fatal("SDK handler served CreateSamplingRule")
	}
}

// The Go SDK sends {"NextToken": null} and needs every rule field; the Node
// SDK sends {} and needs LastRuleModification as a number.
func TestSDKRequestShapes(t *testing.T) {
	s := open(t, t.TempDir(), newClock())
	h := s.SDKHandler()
	for _, body := range []string{`{"NextToken": null}`, `{}`, ``} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", PathGetSamplingRules, strings.NewReader(body)))
		var out struct {
			SamplingRuleRecords []struct {
				CreatedAt    *float64
				SamplingRule map[string]any
			}
		}
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &out) != nil || len(out.SamplingRuleRecords) != 1 {
			t.Fatalf("%q: %d %s", body, rec.Code, rec.Body)
		}
		r := out.SamplingRuleRecords[0].SamplingRule
		for _, k := range []string{"RuleName", "RuleARN", "ResourceARN", "Priority", "FixedRate", "ReservoirSize", "ServiceName", "ServiceType", "Host", "HTTPMethod", "URLPath", "Version"} {
			if _, ok := r[k]; !ok {
				t.Errorf("rule lacks %s: %v", k, r)
			}
		}
		if out.SamplingRuleRecords[0].CreatedAt == nil {
			t.Error("no CreatedAt number")
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", PathSamplingTargets, strings.NewReader(
		`{"SamplingStatisticsDocuments":[{"BorrowCount":10,"ClientID":"28595645f57c8e82b3dcca22","RequestCount":12,"RuleName":"Default","SampledCount":2,"Timestamp":1795559912}]}`)))
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if _, ok := out["LastRuleModification"].(float64); !ok {
		t.Fatalf("LastRuleModification not a number: %s", rec.Body)
	}
}
