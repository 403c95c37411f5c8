package servicegraph

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
)

// The real aws-sdk-go-v2 X-Ray client must decode what this package
// encodes: the output types are served as is (wrapped the way the API
// layer will) and read back through GetServiceGraph and
// GetTimeSeriesServiceStatistics.
func TestAWSSDKDecodesGraph(t *testing.T) {
	traces := loadAll(t)
	graph := TraceGraph(traces)
	series := TimeSeries(traces, SelectorFromNameType("front-svc", ""), time.Minute, time.Time{}, time.Time{})
	mux := http.NewServeMux()
	serve := func(path string, body any) {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(body)
		})
	}
	serve("/ServiceGraph", map[string]any{"Services": graph.Services, "StartTime": 1795559000.0, "EndTime": 1795601000.0})
	serve("/TimeSeriesServiceStatistics", map[string]any{"TimeSeriesServiceStatistics": series})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := xray.New(xray.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}, nil
		})})

	out, err := c.GetServiceGraph(context.Background(), &xray.GetServiceGraphInput{StartTime: aws.Time(time.Unix(1795559000, 0)), EndTime: aws.Time(time.Unix(1795601000, 0))})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != len(graph.Services) {
		t.Fatalf("SDK decoded %d services, want %d", len(out.Services), len(graph.Services))
	}
	for i, got := range out.Services {
		want := graph.Services[i]
		if aws.ToString(got.Name) != want.Name || aws.ToString(got.Type) != want.Type || aws.ToInt32(got.ReferenceId) != int32(want.ReferenceID) ||
			aws.ToBool(got.Root) != want.Root || aws.ToString(got.State) != want.State || len(got.Edges) != len(want.Edges) {
			t.Errorf("service %d decoded as %s|%s ref %d root %v state %s edges %d, want %+v", i, aws.ToString(got.Name), aws.ToString(got.Type),
				aws.ToInt32(got.ReferenceId), aws.ToBool(got.Root), aws.ToString(got.State), len(got.Edges), want)
			continue
		}
		if want.SummaryStatistics != nil {
			s := got.SummaryStatistics
			if s == nil || aws.ToInt64(s.TotalCount) != want.SummaryStatistics.TotalCount || aws.ToFloat64(s.TotalResponseTime) != want.SummaryStatistics.TotalResponseTime ||
				aws.ToInt64(s.ErrorStatistics.ThrottleCount) != want.SummaryStatistics.ErrorStatistics.ThrottleCount {
				t.Errorf("%s: statistics decoded as %+v", want.Name, s)
			}
			if len(got.ResponseTimeHistogram) != len(want.ResponseTimeHistogram) || got.ResponseTimeHistogram[0].Value != want.ResponseTimeHistogram[0].Value {
				t.Errorf("%s: histogram decoded as %+v", want.Name, got.ResponseTimeHistogram)
			}
		}
		// The SDK reads epoch seconds with millisecond precision.
		for j, e := range got.Edges {
			we := want.Edges[j]
			if aws.ToInt32(e.ReferenceId) != int32(we.ReferenceID) || aws.ToInt64(e.SummaryStatistics.TotalCount) != we.SummaryStatistics.TotalCount ||
				e.StartTime == nil || math.Abs(float64(e.StartTime.UnixMicro())/1e6-we.StartTime) >= 0.001 {
				t.Errorf("%s edge %d decoded as %+v, want %+v", want.Name, j, e, we)
			}
		}
	}

	ts, err := c.GetTimeSeriesServiceStatistics(context.Background(), &xray.GetTimeSeriesServiceStatisticsInput{
		StartTime: aws.Time(time.Unix(1795559000, 0)), EndTime: aws.Time(time.Unix(1795601000, 0)), EntitySelectorExpression: aws.String(`service("front-svc")`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.TimeSeriesServiceStatistics) != len(series) || len(series) == 0 {
		t.Fatalf("SDK decoded %d periods, want %d", len(ts.TimeSeriesServiceStatistics), len(series))
	}
	p := ts.TimeSeriesServiceStatistics[0]
	if p.Timestamp.Unix() != int64(series[0].Timestamp) || aws.ToInt64(p.ServiceSummaryStatistics.TotalCount) != series[0].ServiceSummaryStatistics.TotalCount ||
		aws.ToInt64(p.EdgeSummaryStatistics.FaultStatistics.TotalCount) != series[0].EdgeSummaryStatistics.FaultStatistics.TotalCount {
		t.Errorf("period decoded as %+v, want %+v", p, series[0])
	}
}
