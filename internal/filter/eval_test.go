package filter

import (
	"encoding/json"
	"testing"

	"github.com/sightline/sightline/internal/model"
)

// evalFixture is a small hand-built trace with its summary: api (root,
// 502) calls db through a remote subsegment; db faulted.
func evalFixture() (*model.Trace, *model.TraceSummary) {
	db := &model.Segment{ID: "0000000000000002", ParentID: "00000000000000aa", Name: "db", Origin: "Database::SQL",
		StartTime: 10.1, EndTime: 10.4, Fault: true, User: "bob",
		AWS:         json.RawMessage(`{"account_id":"111","ec2":{"instance_id":"i-1","availability_zone":"eu-west-1b"}}`),
		Cause:       json.RawMessage(`{"exceptions":[{"type":"Timeout","message":"db timed out"}]}`),
		Annotations: map[string]any{"shard": 3.0, "primary": true}}
	call := &model.Segment{ID: "00000000000000aa", Name: "db", Namespace: "remote", StartTime: 10.05, EndTime: 10.45, Fault: true,
		HTTP: &model.HTTP{Request: &model.HTTPRequest{Method: "POST", URL: "http://db/q"}, Response: &model.HTTPResponse{Status: 504}}}
	api := &model.Segment{ID: "0000000000000001", Name: "api", Origin: "AWS::EC2::Instance", StartTime: 10, EndTime: 10.5,
		HTTP:        &model.HTTP{Request: &model.HTTPRequest{Method: "GET", URL: "https://api/x"}, Response: &model.HTTPResponse{Status: 502}},
		Fault:       true,
		Annotations: map[string]any{"tenant": "acme"},
		Subsegments: []*model.Segment{call}}
	tr := &model.Trace{ID: "1-x-y", Segments: []*model.Segment{api, db}, Inferred: map[string]bool{}}
	str := func(s string) *string { return &s }
	cov := func(f float64) *float64 { return &f }
	sum := &model.TraceSummary{
		ID: "1-x-y", Duration: 0.5, ResponseTime: 0.5, HasFault: true,
		HTTP:        &model.TraceHTTP{HTTPURL: "https://api/x", HTTPStatus: 502, HTTPMethod: "GET"},
		Annotations: map[string][]model.ValueWithServiceIDs{"tenant": {{AnnotationValue: model.AnnotationValue{StringValue: str("acme")}}}},
		Users:       []model.TraceUser{{UserName: "bob"}},
		EntryPoint:  &model.ServiceID{Name: "api", Type: "AWS::EC2::Instance"},
		FaultRootCauses: []model.RootCause{{ClientImpacting: true, Services: []model.RootCauseService{
			{Name: "api", Type: "AWS::EC2::Instance", EntityPath: []model.RootCauseEntity{{Name: "api"}, {Name: "db", Remote: true}}},
			{Name: "db", Type: "Database::SQL", EntityPath: []model.RootCauseEntity{{Name: "db", Exceptions: []model.RootCauseException{{Name: "Timeout", Message: "db timed out"}}}}},
		}}},
		ResponseTimeRootCauses: []model.RootCause{{Services: []model.RootCauseService{
			{Name: "api", EntityPath: []model.RootCauseEntity{{Name: "api", Coverage: cov(1)}, {Name: "db", Coverage: cov(0.8), Remote: true}}},
		}}},
	}
	return tr, sum
}

func TestEvaluate(t *testing.T) {
	tr, sum := evalFixture()
	tests := []struct {
		expr string
		want bool
	}{
		{"fault", true},
		{"ok", false},
		{"http.status = 502 AND http.method = \"GET\"", true},
		{"responsetime > 0.4 AND duration <= 0.5", true},
		{`name = "api" AND type = "AWS::EC2::Instance"`, true},
		{`user = "bob"`, true},
		{`message CONTAINS "timed out"`, false}, // the exception is on db, not on the root
		{`annotation.tenant = "acme"`, true},
		{`annotation.tenant > 1`, false},
		{`service("db") { annotation.shard >= 3 AND annotation.primary = true }`, true},
		{`service("db") { annotation.shard = "3" }`, false},
		{`service("db") { message = "db timed out" AND user = "bob" }`, true},
		{`service(id(name: "db", account.id: "111")) { instance.id = "i-1" AND availabilityzone ENDSWITH "1b" }`, true},
		{`service("db") { responsetime > 0.29 AND responsetime < 0.31 }`, true},
		{`service("api") { http.status = 502 }`, true},
		{`edge("api", "db") { fault AND http.status = 504 AND responsetime > 0.39 }`, true},
		{`edge("api", "db") { name = "db" AND type = "Database::SQL" AND root }`, true},
		{`edge(id(type: "AWS::EC2::Instance"), id(type: "Database::SQL"))`, true},
		{`edge("db", "api")`, false},
		{`rootcause.fault.service { last AND name = "db" AND type = "Database::SQL" }`, true},
		{`rootcause.fault.entity { remote AND name = "db" AND index = 1 }`, true},
		{`rootcause.fault.exception { first AND last AND name = "Timeout" }`, true},
		{`rootcause.fault.service { message = "db timed out" }`, true},
		{`rootcause.responsetime.entity { last AND coverage > 0.7 AND remote }`, true},
		{`rootcause.responsetime.service { coverage = 1 }`, true},
		{`rootcause.error.service`, false},
		{`rootcause.json = #[{"Services":[{"Name":"api"},{"Name":"db","Type":"Database::SQL"}]}]`, true},
		{`rootcause.json = #[{"Services":[{"Name":"db"},{"Name":"api"}]}]`, false},
		{`group.name = "g"`, false}, // no resolver
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			e := MustParse(tt.expr)
			if got := Evaluate(e, tr, sum, EvalContext{}); got != tt.want {
				t.Errorf("Evaluate(%s) = %v, want %v", e, got, tt.want)
			}
		})
	}
}

func TestEvaluateNil(t *testing.T) {
	if Evaluate(MustParse("ok"), nil, nil, EvalContext{}) != true {
		t.Error("empty trace should be ok")
	}
	if Evaluate(MustParse(`service() { fault }`), nil, nil, EvalContext{}) {
		t.Error("empty trace has no services")
	}
}

func FuzzEvaluate(f *testing.F) {
	for _, c := range readCases(f, "parse_cases.txt") {
		f.Add(c)
	}
	tr, sum := evalFixture()
	groups := GroupResolverFunc(func(bool, string) (string, bool) { return `group.name = "self" OR fault`, true })
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			return
		}
		ctx := EvalContext{Groups: groups}
		got := Evaluate(e, tr, sum, ctx)
		if Evaluate(&NotExpr{X: e}, tr, sum, ctx) == got {
			t.Fatalf("!(%s) evaluates like %s", e, e)
		}
		if Evaluate(MustParse(e.String()), tr, sum, ctx) != got {
			t.Fatalf("canonical form of %q evaluates differently", in)
		}
	})
}
