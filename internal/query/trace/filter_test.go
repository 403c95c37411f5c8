package trace

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sightline/sightline/internal/filter"
	"github.com/sightline/sightline/internal/model"
)

var groups = filter.GroupResolverFunc(func(byARN bool, key string) (string, bool) {
	m := map[string]string{
		"slow": "responsetime > 0.5", "fast": "responsetime < 0.1", "loop": `group.name = "loop"`,
		"arn:aws:xray:us-east-1:123456789012:group/slow/X": "responsetime > 0.5",
	}
	e, ok := m[key]
	return e, ok
})

// TestEvaluateFixtures checks the evaluator on real assembled traces, one
// keyword family after another.
func TestEvaluateFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		expr    string
		want    bool
	}{
		// boolean keywords at trace level
		{"go_fault_and_throttle", "fault", true},
		{"go_fault_and_throttle", "error", false},
		{"go_fault_and_throttle", "throttle", true},
		{"go_fault_and_throttle", "ok", false},
		{"go_fault_and_throttle", "ok = false", true},
		{"go_fault_and_throttle", "fault != true", false},
		{"go_fault_and_throttle", "partial", false},
		{"go_fault_and_throttle", "!partial", true},
		{"go_not_found", "error AND !fault AND !throttle", true},
		{"go_remote_call", "ok", true},
		{"go_remote_call", "inferred", false},
		{"synthetic_inferred", "inferred", true},
		// number keywords
		{"go_fault_and_throttle", "http.status = 500", true},
		{"go_fault_and_throttle", "http.status != 500", false},
		{"go_fault_and_throttle", "duration < 1 AND responsetime > 0", true},
		{"synthetic_inferred", "responsetime >= 1", true},
		{"synthetic_inferred", "duration > 1", false},
		{"synthetic_inferred", "http.status >= 500 AND http.status < 600", true},
		// string keywords
		{"go_fault_and_throttle", `http.url ENDSWITH "/api/fail"`, true},
		{"go_fault_and_throttle", `http.url BEGINSWITH "https://"`, false},
		{"go_fault_and_throttle", `message CONTAINS "front failed"`, true},
		{"go_fault_and_throttle", `message = "downstream exploded"`, false}, // not on the root
		{"go_remote_call", `http.useragent = "sdkdemo/1.0" http.clientip = "127.0.0.1" http.method = "GET"`, true},
		{"go_remote_call", `user CONTAINS "" AND user = "alice"`, true},
		{"go_not_found", `user CONTAINS ""`, false},
		{"go_remote_call", "http.url", true},
		{"go_remote_call", `name = "front-svc"`, true},
		{"synthetic_inferred", `user = "alice"`, true},
		{"synthetic_inferred", `user != "alice"`, false},
		{"synthetic_inferred", `user CONTAINS ""`, true},
		{"synthetic_inferred", `resource.arn BEGINSWITH "arn:aws:ecs"`, true},
		{"synthetic_inferred", `type = "AWS::ECS::Container"`, true},
		{"rum_browser_join", `instance.id = "i-0abc" AND availabilityzone = "us-east-1a"`, true},
		{"rum_browser_join", `instance.id = "i-other"`, false},
		// annotations
		{"go_remote_call", `annotation.customer = "acme"`, true},
		{"go_remote_call", `annotation.items > 2 AND annotation.items < 4`, true},
		{"go_remote_call", `annotation.vip`, true},
		{"go_remote_call", `annotation.vip = false`, false},
		{"go_remote_call", `annotation.vip != false`, true},
		{"go_remote_call", `annotation.total = 42.5`, true},
		{"go_remote_call", `annotation.total = "42.5"`, false},
		{"go_remote_call", `!annotation.missing`, true},
		{"go_remote_call", `annotation.stage = "downstream"`, true},
		{"go_remote_call", `annotation["pricing_rule"] BEGINSWITH "st"`, true},
		// service()
		{"go_fault_and_throttle", `service("downstream-svc") { fault }`, true},
		{"go_fault_and_throttle", `service("downstream-svc") { throttle }`, true},
		{"go_fault_and_throttle", `service("front-svc") { root }`, true},
		{"go_fault_and_throttle", `service("downstream-svc") { root }`, false},
		{"go_fault_and_throttle", `service() { fault }`, true},
		{"go_fault_and_throttle", `service("nope")`, false},
		{"go_fault_and_throttle", `!service("nope")`, true},
		{"go_not_found", `service() { fault }`, false},
		{"go_remote_call", `service("downstream-svc") { http.url CONTAINS "/work" AND annotation.stage = "downstream" }`, true},
		{"go_remote_call", `service("downstream-svc") { annotation.customer }`, false},
		{"synthetic_inferred", `service(id(type: "AWS::DynamoDB")) { inferred AND fault }`, true},
		{"synthetic_inferred", `service(id(type: "Database::SQL"))`, true},
		{"synthetic_inferred", `service(id(name: "orders", type: "AWS::EC2::Instance"))`, false},
		{"synthetic_inferred", `service("orders") { partial }`, false},
		{"rum_browser_join", `service(id(name: "api-svc", account.id: "123456789012"))`, true},
		{"rum_browser_join", `service(id(name: "api-svc", account.id: "999"))`, false},
		{"rum_browser_join", `service(id(type: "AWS::RUM::AppMonitor")) { root }`, true},
		{"rum_browser_join", `id(name: "api-svc")`, true},
		// edge()
		{"go_fault_and_throttle", `edge("front-svc", "downstream-svc") { fault }`, true},
		{"go_fault_and_throttle", `edge("front-svc", "downstream-svc") { error AND throttle }`, true},
		{"go_fault_and_throttle", `edge("downstream-svc", "front-svc")`, false},
		{"go_remote_call", `edge("front-svc", "downstream-svc") { ok AND responsetime < 1 AND http.method = "GET" }`, true},
		{"go_remote_call", `edge("front-svc", "downstream-svc") { fault }`, false},
		{"synthetic_inferred", `edge("orders", id(name: "S3", type: "AWS::S3")) { throttle AND inferred }`, true},
		{"synthetic_inferred", `edge(id(), id(type: "remote")) { ok }`, true},
		{"rum_browser_join", `edge(id(type: "AWS::RUM::AppMonitor"), "api-svc") { http.url = "/api/hello" }`, true},
		// root causes
		{"go_fault_and_throttle", `rootcause.fault.service { last AND name = "downstream-svc" }`, true},
		{"go_fault_and_throttle", `rootcause.fault.service { first AND name = "front-svc" }`, true},
		{"go_fault_and_throttle", `rootcause.fault.service { index = 1 }`, true},
		{"go_fault_and_throttle", `rootcause.fault.service { index > 5 }`, false},
		{"go_fault_and_throttle", `rootcause.fault.exception { last AND message = "downstream exploded" }`, true},
		{"go_fault_and_throttle", `rootcause.fault.exception { name = "errors.errorString" }`, true},
		{"go_fault_and_throttle", `rootcause.fault.entity { remote AND name = "127.0.0.1:43979" }`, true},
		{"go_fault_and_throttle", `rootcause.error.service { last AND name = "downstream-svc" }`, true},
		{"go_fault_and_throttle", `rootcause.responsetime.entity { first AND coverage = 1 }`, true},
		{"go_fault_and_throttle", `rootcause.responsetime.entity { coverage > 1 }`, false},
		{"go_fault_and_throttle", "rootcause.fault.service", true},
		{"go_not_found", "rootcause.fault.service", false},
		{"go_not_found", "rootcause.error.entity { name = \"front-svc\" }", true},
		{"synthetic_inferred", `rootcause.fault.service { inferred AND name = "DynamoDB" AND type = "AWS::DynamoDB" }`, true},
		{"synthetic_inferred", `rootcause.fault.entity { remote AND message = "dynamo exploded" }`, true},
		{"synthetic_inferred", `rootcause.error.service { last AND inferred AND name = "S3" }`, true},
		{"synthetic_inferred", `rootcause.responsetime.service { last AND type = "AWS::DynamoDB" }`, true},
		{"go_fault_and_throttle", `rootcause.json = #[{"Services":[{"Name":"front-svc"},{"Name":"downstream-svc","EntityPath":[{"Name":"downstream-svc","Exceptions":[{"Message":"downstream exploded"}]}]}]}]`, true},
		{"go_fault_and_throttle", `rootcause.json = #[{"Services":[{"Name":"downstream-svc","EntityPath":[{"Name":"other"}]}]}]`, false},
		{"go_fault_and_throttle", `rootcause.json = #[]`, false},
		// groups
		{"synthetic_inferred", `group.name = "slow"`, true},
		{"synthetic_inferred", `group.name = "fast"`, false},
		{"synthetic_inferred", `group.arn = "arn:aws:xray:us-east-1:123456789012:group/slow/X" AND user = "alice"`, true},
		{"synthetic_inferred", `group.name = "unknown"`, false},
		{"synthetic_inferred", `group.name != "unknown"`, true},
		{"synthetic_inferred", `group.name = "loop"`, false},
	}
	traces := map[string]*model.Trace{}
	sums := map[string]*model.TraceSummary{}
	for _, tt := range tests {
		tr, ok := traces[tt.fixture]
		if !ok {
			tr = assembleFixture(t, tt.fixture)
			s := Summarize(tr)
			traces[tt.fixture], sums[tt.fixture] = tr, &s
		}
		t.Run(tt.fixture+"/"+tt.expr, func(t *testing.T) {
			e, err := filter.Parse(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			ctx := filter.EvalContext{Groups: groups}
			if got := filter.Evaluate(e, tr, sums[tt.fixture], ctx); got != tt.want {
				t.Errorf("Evaluate(%s) = %v, want %v", e, got, tt.want)
			}
			if got := filter.Evaluate(&filter.NotExpr{X: e}, tr, sums[tt.fixture], ctx); got == tt.want {
				t.Errorf("Evaluate(!(%s)) = %v, want %v", e, got, !tt.want)
			}
		})
	}
}

// genTrace builds a chain svc-0 → svc-1 → ... → svc-(n-1) where each call
// goes through a remote subsegment; services 0..failAt fail with status
// (so failAt is the root cause), users and annotations are random. It
// returns the records and what was generated, for the oracle.
type genInfo struct {
	n, failAt  int
	status     int // status of failing services (200 when failAt < 0)
	durations  []float64
	users      []string
	ann        []float64 // annotation "n" per service
	dynamo     bool      // last service calls DynamoDB without a child segment
	inProgress bool      // last service still open
}

func genTrace(r *rand.Rand) ([]model.SegmentRecord, genInfo) {
	g := genInfo{n: 1 + r.IntN(5), failAt: -1, status: 200}
	statuses := []int{404, 429, 500, 503}
	if r.IntN(3) > 0 {
		g.failAt = r.IntN(g.n)
		g.status = statuses[r.IntN(len(statuses))]
	}
	g.dynamo = r.IntN(2) == 0
	g.inProgress = r.IntN(6) == 0
	tid := "1-6b070000-000000000000000000000001"
	var recs []model.SegmentRecord
	start := 1000.0
	parent := ""
	for i := 0; i < g.n; i++ {
		d := 0.1 + r.Float64()*float64(g.n-i)
		g.durations = append(g.durations, d)
		st := 200
		if i <= g.failAt {
			st = g.status
		}
		s := &model.Segment{
			TraceID: tid, ID: fmt.Sprintf("%016x", i+1), ParentID: parent, Name: fmt.Sprintf("svc-%d", i),
			StartTime: start, EndTime: start + d,
			HTTP: &model.HTTP{Request: &model.HTTPRequest{Method: "GET", URL: fmt.Sprintf("http://svc-%d/x", i)}, Response: &model.HTTPResponse{Status: st}},
		}
		setFlags(s, st)
		u := ""
		if r.IntN(2) == 0 {
			u = fmt.Sprintf("user-%d", r.IntN(3))
			s.User = u
		}
		g.users = append(g.users, u)
		a := float64(r.IntN(10))
		g.ann = append(g.ann, a)
		s.Annotations = map[string]any{"n": a}
		if i < g.n-1 {
			call := &model.Segment{ID: fmt.Sprintf("c%015x", i+1), Name: fmt.Sprintf("svc-%d", i+1), Namespace: "remote",
				StartTime: start + 0.01, EndTime: start + d - 0.01,
				HTTP: &model.HTTP{Response: &model.HTTPResponse{Status: 200}}}
			if i+1 <= g.failAt {
				call.HTTP.Response.Status = g.status
				setFlags(call, g.status)
			}
			s.Subsegments = append(s.Subsegments, call)
			parent = call.ID
		} else {
			if g.dynamo {
				s.Subsegments = append(s.Subsegments, &model.Segment{ID: "d000000000000001", Name: "DynamoDB", Namespace: "aws", StartTime: start, EndTime: start + d/2})
			}
			if g.inProgress {
				s.EndTime, s.InProgress = 0, true
			}
		}
		recs = append(recs, model.SegmentRecord{Segment: s})
		start += 0.005
	}
	r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	return recs, g
}

func setFlags(s *model.Segment, st int) {
	s.Fault = st >= 500
	s.Error = st >= 400 && st < 500
	s.Throttle = st == 429
}

// TestEvaluateGenerated checks each keyword family against what the
// generator built, over many random traces.
func TestEvaluateGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 400; iter++ {
		recs, g := genTrace(r)
		tr := Assemble("1-6b070000-000000000000000000000001", recs)
		sum := Summarize(tr)
		rootSt := 200
		if g.failAt >= 0 {
			rootSt = g.status
		}
		x := float64(r.IntN(40)) / 10
		k := r.IntN(g.n)
		anyUser := func(u string) bool {
			for _, v := range g.users {
				if v == u {
					return true
				}
			}
			return false
		}
		anyAnn := func(f func(float64) bool) bool {
			for _, v := range g.ann {
				if f(v) {
					return true
				}
			}
			return false
		}
		lastOpen := g.inProgress
		rootRT := g.durations[0]
		if lastOpen && g.n == 1 {
			rootRT = 0
		}
		checks := []struct {
			expr string
			want bool
		}{
			{"fault", rootSt >= 500},
			{"error", rootSt >= 400 && rootSt < 500},
			{"throttle", g.failAt >= 0 && g.status == 429},
			{"ok", g.failAt < 0},
			{"partial", lastOpen},
			{"inferred", g.dynamo},
			{fmt.Sprintf("http.status = %d", rootSt), true},
			{fmt.Sprintf("responsetime > %g", x), rootRT > x},
			{`http.url = "http://svc-0/x"`, true},
			{fmt.Sprintf(`user = "user-%d"`, k%3), anyUser(fmt.Sprintf("user-%d", k%3))},
			{fmt.Sprintf("annotation.n > %g", x*2), anyAnn(func(v float64) bool { return v > x*2 })},
			{fmt.Sprintf("annotation.n = %d", k), anyAnn(func(v float64) bool { return v == float64(k) })},
			{fmt.Sprintf(`service("svc-%d") { fault }`, k), k <= g.failAt && g.status >= 500},
			{fmt.Sprintf(`service("svc-%d") { error }`, k), k <= g.failAt && g.status < 500},
			{fmt.Sprintf(`service("svc-%d") { root }`, k), k == 0},
			{fmt.Sprintf(`service("svc-%d") { annotation.n = %g }`, k, g.ann[k]), true},
			{`service(id(type: "AWS::DynamoDB")) { inferred }`, g.dynamo},
			{fmt.Sprintf(`edge("svc-%d", "svc-%d")`, k, k+1), k+1 < g.n},
			{fmt.Sprintf(`edge("svc-%d", "svc-%d") { fault OR error }`, k, k+1), k+1 < g.n && k+1 <= g.failAt},
			{fmt.Sprintf(`edge("svc-%d", "svc-%d")`, k+1, k), false},
			{fmt.Sprintf(`rootcause.fault.service { last AND name = "svc-%d" }`, k), g.status >= 500 && k == g.failAt},
			{fmt.Sprintf(`rootcause.error.service { last AND name = "svc-%d" }`, k), g.failAt >= 0 && g.status < 500 && k == g.failAt},
			{fmt.Sprintf(`rootcause.fault.service { index = %d }`, k), g.status >= 500 && k <= g.failAt},
		}
		for _, c := range checks {
			e, err := filter.Parse(c.expr)
			if err != nil {
				t.Fatalf("%s: %v", c.expr, err)
			}
			if got := filter.Evaluate(e, tr, &sum, filter.EvalContext{}); got != c.want {
				t.Fatalf("iteration %d (%+v): Evaluate(%s) = %v, want %v\ntrace: %s", iter, g, c.expr, got, c.want, shape(tr))
			}
		}
		// Boolean structure: random combinations agree with Go's operators
		// and survive a round trip through the canonical form.
		a, b := filter.MustParse(checks[r.IntN(len(checks))].expr), filter.MustParse(checks[r.IntN(len(checks))].expr)
		ev := func(e filter.Expr) bool { return filter.Evaluate(e, tr, &sum, filter.EvalContext{}) }
		and := &filter.BinaryExpr{Op: filter.OpAnd, LHS: a, RHS: b}
		or := &filter.BinaryExpr{Op: filter.OpOr, LHS: a, RHS: &filter.NotExpr{X: b}}
		if ev(and) != (ev(a) && ev(b)) || ev(or) != (ev(a) || !ev(b)) {
			t.Fatalf("boolean structure broken for %s / %s", a, b)
		}
		if ev(filter.MustParse(or.String())) != ev(or) {
			t.Fatalf("canonical form %q evaluates differently", or.String())
		}
	}
}
