package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rum"
	rumtypes "github.com/aws/aws-sdk-go-v2/service/rum/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"
)

// TestDemo starts `sightline demo` (collector, shop, api, inventory on
// DuckDB, synthetic users) on free ports, lets the synthetic users shop for
// a while, and reads the result back with the AWS SDK clients a user
// would point at Sightline: the service map is browser → api → inventory →
// database, traces start in the browser, and the app monitor has page
// views, web vitals and errors.
func TestDemo(t *testing.T) {
	if out, _ := exec.Command(sightlineBin, "demo", "-h").CombinedOutput(); strings.Contains(string(out), `unknown command "demo"`) {
		t.Skip("this sightline binary has no `demo` subcommand yet (cmd/sightline must wire internal/demo)")
	}
	httpAddr, ingestAddr, xrayAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	shopAddr, apiAddr, invAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	logPath := filepath.Join(t.TempDir(), "demo.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(sightlineBin, "demo",
		"--data-dir", t.TempDir(), "--http-addr", httpAddr, "--ingest-addr", ingestAddr, "--xray-addr", xrayAddr,
		"--shop-addr", shopAddr, "--api-addr", apiAddr, "--inventory-addr", invAddr,
		"--users-per-second", "4", "--duration", "15s", "--log-format", "json")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
		}
	})
	logs := func() string { b, _ := os.ReadFile(logPath); return string(b) }

	waitFor(t, 90*time.Second, "the demo's shop", func() (bool, string) {
		select {
		case <-exited:
			t.Fatalf("sightline demo exited:\n%s", logs())
		default:
		}
		resp, err := http.Get("http://" + shopAddr + "/")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200, fmt.Sprintf("%d %.200s", resp.StatusCode, body)
	})
	page := must(http.Get("http://" + shopAddr + "/product/oak-tray"))
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(body), "http://"+apiAddr) || !strings.Contains(string(body), "sightline.js") {
		t.Errorf("the product page neither calls the API at %s nor loads the agent:\n%s", apiAddr, body)
	}

	// The synthetic users shop for ~15 s.
	time.Sleep(15 * time.Second)

	ctx := context.Background()
	start, end := time.Now().Add(-15*time.Minute), time.Now().Add(time.Minute)
	xc := xray.New(xray.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + httpAddr),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	waitFor(t, 60*time.Second, "service graph browser → api → inventory → database", func() (bool, string) {
		out, err := xc.GetServiceGraph(ctx, &xray.GetServiceGraphInput{StartTime: &start, EndTime: &end})
		if err != nil {
			return false, err.Error()
		}
		types := map[string]string{}
		names := map[int32]string{}
		for _, s := range out.Services {
			if aws.ToString(s.Type) != "client" {
				types[aws.ToString(s.Name)] = aws.ToString(s.Type)
			}
			names[aws.ToInt32(s.ReferenceId)] = aws.ToString(s.Name)
		}
		edges := map[string]bool{}
		for _, s := range out.Services {
			for _, e := range s.Edges {
				edges[aws.ToString(s.Name)+" → "+names[aws.ToInt32(e.ReferenceId)]] = true
			}
		}
		ok := types["demo-shop"] == "AWS::RUM::AppMonitor" && types["DuckDB@inventory"] == "Database::SQL" &&
			hasKey(types, "api") && hasKey(types, "inventory") &&
			edges["demo-shop → api"] && edges["api → inventory"] && edges["inventory → DuckDB@inventory"]
		return ok, fmt.Sprintf("nodes %v, edges %v", types, keys(edges))
	})

	sums, err := xc.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end})
	if err != nil {
		t.Fatalf("GetTraceSummaries: %v", err)
	}
	fromBrowser, faults := 0, 0
	for _, s := range sums.TraceSummaries {
		if ep := s.EntryPoint; ep != nil && aws.ToString(ep.Name) == "demo-shop" && aws.ToString(ep.Type) == "AWS::RUM::AppMonitor" {
			fromBrowser++
		}
		if aws.ToBool(s.HasFault) {
			faults++
		}
	}
	if fromBrowser == 0 {
		t.Errorf("none of %d trace summaries has the browser segment as entry point", len(sums.TraceSummaries))
	}
	t.Logf("%d trace summaries, %d entered in the browser, %d with a fault", len(sums.TraceSummaries), fromBrowser, faults)

	rc := rum.New(rum.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + httpAddr),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	for _, typ := range []string{"page_view_event", "largest_contentful_paint_event", "first_contentful_paint_event",
		"time_to_first_byte_event", "cumulative_layout_shift_event", "interaction_to_next_paint_event", "js_error_event", "http_event"} {
		out, err := rc.GetAppMonitorData(ctx, &rum.GetAppMonitorDataInput{
			Name:       aws.String("demo-shop"),
			TimeRange:  &rumtypes.TimeRange{After: start.UnixMilli(), Before: end.UnixMilli()},
			Filters:    []rumtypes.QueryFilter{{Name: aws.String("EventType"), Values: []string{typ}}},
			MaxResults: 10,
		})
		if err != nil {
			t.Fatalf("GetAppMonitorData %s: %v", typ, err)
		}
		if len(out.Events) == 0 {
			t.Errorf("GetAppMonitorData: no %s for demo-shop", typ)
		} else if !strings.Contains(out.Events[0], typ) {
			t.Errorf("GetAppMonitorData %s returned %.300s", typ, out.Events[0])
		}
	}

	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("sightline demo did not stop after SIGTERM:\n%s", logs())
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("sightline demo exited %d after SIGTERM:\n%s", code, logs())
	}
	if t.Failed() {
		t.Logf("demo log:\n%s", logs())
	}
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}
