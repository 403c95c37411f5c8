package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/smithy-go"
)

func xrayClient(srv *server) *xray.Client {
	return xray.New(xray.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + srv.http),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
}

// buildSDKApp builds the aws-xray-sdk-go test shop once per test binary.
func buildSDKApp(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "xraysdkapp")
	cmd := exec.Command("go", "build", "-o", bin, "./xraysdkapp")
	cmd.Dir = filepath.Dir(file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build xraysdkapp: %v\n%s", err, out)
	}
	return bin
}

// sampleEverything makes the SDK's centralized sampling keep every request.
func sampleEverything(t *testing.T, c *xray.Client) {
	t.Helper()
	_, err := c.CreateSamplingRule(context.Background(), &xray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
		RuleName: aws.String("everything"), Priority: aws.Int32(1), FixedRate: 1, ReservoirSize: 100,
		ResourceARN: aws.String("*"), ServiceName: aws.String("*"), ServiceType: aws.String("*"), Host: aws.String("*"),
		HTTPMethod: aws.String("*"), URLPath: aws.String("*"), Version: aws.Int32(1)}})
	if err != nil {
		t.Fatalf("CreateSamplingRule: %v", err)
	}
}

type sdkTrace struct {
	id     string
	status int
}

func runSDKApp(t *testing.T, bin string, srv *server, requests int) []sdkTrace {
	t.Helper()
	cmd := exec.Command(bin, "-requests", fmt.Sprint(requests))
	cmd.Env = append(os.Environ(), "AWS_XRAY_DAEMON_ADDRESS="+srv.xray)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("xraysdkapp: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var traces []sdkTrace
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		var tr sdkTrace
		if n, _ := fmt.Sscanf(sc.Text(), "trace %s %d", &tr.id, &tr.status); n == 2 {
			traces = append(traces, tr)
		}
	}
	if len(traces) != requests {
		t.Fatalf("app printed %d traces, want %d:\n%s", len(traces), requests, out)
	}
	return traces
}

type docSegment struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	ParentID    string          `json:"parent_id"`
	Annotations map[string]any  `json:"annotations"`
	User        string          `json:"user"`
	Inferred    bool            `json:"inferred"`
	Subsegments []docSegment    `json:"subsegments"`
	Fault       bool            `json:"fault"`
	Error       bool            `json:"error"`
	Metadata    json.RawMessage `json:"metadata"`
}

func (d docSegment) walk(f func(docSegment)) {
	f(d)
	for _, s := range d.Subsegments {
		s.walk(f)
	}
}

// TestXRaySDKTraces runs a two-service app built with aws-xray-sdk-go
// against sightline and reads the traces back with aws-sdk-go-v2's X-Ray
// client: every segment, the parent/child tree, annotations, user,
// streamed independent subsegments, and filter expressions.
func TestXRaySDKTraces(t *testing.T) {
	app := buildSDKApp(t)
	srv := startServer(t, t.TempDir())
	c := xrayClient(srv)
	sampleEverything(t, c)
	traces := runSDKApp(t, app, srv, 10)
	ctx := context.Background()
	start, end := time.Now().Add(-10*time.Minute), time.Now().Add(time.Minute)

	var sums []types.TraceSummary
	waitFor(t, 30*time.Second, "10 trace summaries", func() (bool, string) {
		out, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end})
		if err != nil {
			return false, err.Error()
		}
		sums = out.TraceSummaries
		return len(sums) >= 10, fmt.Sprintf("%d summaries", len(sums))
	})
	ids := map[string]bool{}
	for _, s := range sums {
		ids[*s.Id] = true
	}
	for _, tr := range traces {
		if !ids[tr.id] {
			t.Errorf("trace %s (status %d) not listed", tr.id, tr.status)
		}
	}

	got, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{traces[0].id, traces[4].id, "1-00000000-000000000000000000000000"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Traces) != 2 || len(got.UnprocessedTraceIds) != 1 {
		t.Fatalf("BatchGetTraces: %d traces, unprocessed %v", len(got.Traces), got.UnprocessedTraceIds)
	}
	for _, tr := range got.Traces {
		byName := map[string]docSegment{}
		subs := 0
		for _, s := range tr.Segments {
			var d docSegment
			if err := json.Unmarshal([]byte(*s.Document), &d); err != nil {
				t.Fatal(err)
			}
			byName[d.Name] = d
			if d.Name == "front" {
				d.walk(func(x docSegment) {
					if strings.HasPrefix(x.Name, "step-") {
						subs++
					}
				})
			}
		}
		front, inv := byName["front"], byName["inventory"]
		if front.ID == "" || inv.ID == "" {
			t.Fatalf("trace %s lacks front or inventory segment: %v", *tr.Id, keys(byName))
		}
		if front.Annotations["customer"] != "acme" || front.User != "user-42" || len(front.Metadata) == 0 {
			t.Errorf("front lost annotations/user/metadata: %+v", front)
		}
		if subs != 22 {
			t.Errorf("front has %d step subsegments, want 22 (independent subsegments re-attached)", subs)
		}
		// inventory's parent is the xray.Client subsegment inside front.
		found := false
		front.walk(func(x docSegment) {
			if x.ID == inv.ParentID {
				found = true
			}
		})
		if !found {
			t.Errorf("inventory's parent %s is not a subsegment of front", inv.ParentID)
		}
	}

	// Filter expressions through the real client.
	count := func(expr string) int {
		t.Helper()
		out, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end, FilterExpression: aws.String(expr)})
		if err != nil {
			t.Fatalf("filter %q: %v", expr, err)
		}
		return len(out.TraceSummaries)
	}
	faults, errs := 0, 0
	for _, tr := range traces {
		switch {
		case tr.status >= 500:
			faults++
		case tr.status >= 400:
			errs++
		}
	}
	cases := []struct {
		expr string
		want int
	}{
		{`fault`, faults},
		{`error`, errs},
		{`ok`, 10 - faults - errs},
		{`!fault AND !error`, 10 - faults - errs},
		{`annotation.customer = "acme"`, 10},
		{`annotation.cart_items = 3`, 10},
		{`annotation.customer = "nobody"`, 0},
		{`user = "user-42"`, 10},
		{`http.status = 500`, faults},
		{`http.url CONTAINS "/pay"`, faults},
		{`http.url ENDSWITH "/checkout" OR http.url CONTAINS "/pay"`, 10},
		{`service("inventory") { error }`, errs},
		{`service("front") { fault }`, faults},
		{`responsetime >= 0`, 10},
		{`duration < 0`, 0},
		{`http.method = "GET" AND NOT fault`, 10 - faults},
		{`edge("front", "inventory") { error }`, errs},
	}
	for _, tc := range cases {
		if got := count(tc.expr); got != tc.want {
			t.Errorf("filter %q matched %d traces, want %d", tc.expr, got, tc.want)
		}
	}
	_, err = c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end, FilterExpression: aws.String(`responsetime >`)})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidRequestException" || !strings.Contains(apiErr.ErrorMessage(), "1:") {
		t.Errorf("bad filter: %v, want InvalidRequestException with a position", err)
	}

	// Service graph: client → front → inventory, with counts.
	graph, err := c.GetServiceGraph(ctx, &xray.GetServiceGraphInput{StartTime: &start, EndTime: &end})
	if err != nil {
		t.Fatalf("GetServiceGraph: %v", err)
	}
	byName := map[string]types.Service{}
	var client *types.Service
	for i, svc := range graph.Services {
		if aws.ToString(svc.Type) == "client" {
			client = &graph.Services[i]
			continue
		}
		byName[aws.ToString(svc.Name)] = svc
	}
	front, inv := byName["front"], byName["inventory"]
	if front.Name == nil || inv.Name == nil || client == nil {
		t.Fatalf("service graph nodes: %v (client %v)", keys(byName), client != nil)
	}
	if aws.ToInt64(front.SummaryStatistics.TotalCount) != 10 || aws.ToInt64(front.SummaryStatistics.FaultStatistics.TotalCount) != int64(faults) {
		t.Errorf("front statistics: %+v", front.SummaryStatistics)
	}
	if !aws.ToBool(front.Root) {
		t.Error("front is not marked Root")
	}
	edgeToInv := false
	for _, e := range front.Edges {
		if aws.ToInt32(e.ReferenceId) == aws.ToInt32(inv.ReferenceId) {
			edgeToInv = true
			if aws.ToInt64(e.SummaryStatistics.TotalCount) != 10 || aws.ToInt64(e.SummaryStatistics.ErrorStatistics.TotalCount) != int64(errs) {
				t.Errorf("front→inventory edge statistics: %+v", e.SummaryStatistics)
			}
		}
	}
	if !edgeToInv {
		t.Errorf("no edge front → inventory: %+v", front.Edges)
	}
	tg, err := c.GetTraceGraph(ctx, &xray.GetTraceGraphInput{TraceIds: []string{traces[0].id}})
	if err != nil || len(tg.Services) < 2 {
		t.Fatalf("GetTraceGraph: %v services, %v", len(tg.Services), err)
	}
	ts, err := c.GetTimeSeriesServiceStatistics(ctx, &xray.GetTimeSeriesServiceStatisticsInput{StartTime: &start, EndTime: &end,
		EntitySelectorExpression: aws.String(`service("inventory")`), Period: aws.Int32(60)})
	if err != nil {
		t.Fatalf("GetTimeSeriesServiceStatistics: %v", err)
	}
	var total int64
	for _, p := range ts.TimeSeriesServiceStatistics {
		total += aws.ToInt64(p.ServiceSummaryStatistics.TotalCount)
	}
	if total != 10 {
		t.Errorf("time series counts %d inventory calls, want 10", total)
	}
	if _, err := c.GetTimeSeriesServiceStatistics(ctx, &xray.GetTimeSeriesServiceStatisticsInput{StartTime: &start, EndTime: &end, Period: aws.Int32(61)}); err == nil {
		t.Error("Period 61 accepted")
	}

	// Groups: a named filter usable as GroupName and in group.name.
	if _, err := c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String("faulty"), FilterExpression: aws.String("fault")}); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if got := count(`group.name = "faulty"`); got != faults {
		t.Errorf("group.name filter matched %d, want %d", got, faults)
	}
	gg, err := c.GetServiceGraph(ctx, &xray.GetServiceGraphInput{StartTime: &start, EndTime: &end, GroupName: aws.String("faulty")})
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range gg.Services {
		if aws.ToString(svc.Name) == "front" && aws.ToString(svc.Type) != "client" && aws.ToInt64(svc.SummaryStatistics.TotalCount) != int64(faults) {
			t.Errorf("group graph counts %d front calls, want %d", aws.ToInt64(svc.SummaryStatistics.TotalCount), faults)
		}
	}
	groups, err := c.GetGroups(ctx, &xray.GetGroupsInput{})
	if err != nil || len(groups.Groups) != 2 {
		t.Fatalf("GetGroups: %v %v", groups, err)
	}

	// Sampling: the SDK fetched the rules (the app sampled everything
	// through the rule created above) and later reported targets.
	rules, err := c.GetSamplingRules(ctx, &xray.GetSamplingRulesInput{})
	if err != nil || len(rules.SamplingRuleRecords) < 2 {
		t.Fatalf("GetSamplingRules: %v %v", rules, err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
