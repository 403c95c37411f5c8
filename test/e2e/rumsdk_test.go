package e2e

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rum"
	"github.com/aws/aws-sdk-go-v2/service/rum/types"
)

// TestRumControlPlaneWithAWSSDK drives the app monitor API with
// aws-sdk-go-v2's rum client, as a user's tooling would.
func TestRumControlPlaneWithAWSSDK(t *testing.T) {
	srv := startServer(t, t.TempDir())
	c := rum.New(rum.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + srv.http),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	ctx := context.Background()
	created, err := c.CreateAppMonitor(ctx, &rum.CreateAppMonitorInput{
		Name: aws.String("sdk-shop"), Domain: aws.String("*.example.com"),
		AppMonitorConfiguration: &types.AppMonitorConfiguration{SessionSampleRate: 0.25, AllowCookies: aws.Bool(true), EnableXRay: aws.Bool(true),
			Telemetries: []types.Telemetry{types.TelemetryErrors, types.TelemetryHttp}},
		CustomEvents: &types.CustomEvents{Status: types.CustomEventsStatusEnabled},
	})
	if err != nil {
		t.Fatalf("CreateAppMonitor: %v", err)
	}
	if len(aws.ToString(created.Id)) != 36 {
		t.Fatalf("id %q is not a UUID", aws.ToString(created.Id))
	}
	got, err := c.GetAppMonitor(ctx, &rum.GetAppMonitorInput{Name: aws.String("sdk-shop")})
	if err != nil {
		t.Fatalf("GetAppMonitor: %v", err)
	}
	m := got.AppMonitor
	if aws.ToString(m.Id) != aws.ToString(created.Id) || aws.ToString(m.Domain) != "*.example.com" ||
		m.AppMonitorConfiguration.SessionSampleRate != 0.25 || len(m.AppMonitorConfiguration.Telemetries) != 2 ||
		m.CustomEvents.Status != types.CustomEventsStatusEnabled || m.State != types.StateEnumActive {
		t.Fatalf("GetAppMonitor lost fields: %+v %+v", m, m.AppMonitorConfiguration)
	}
	if _, err := c.UpdateAppMonitor(ctx, &rum.UpdateAppMonitorInput{Name: aws.String("sdk-shop"),
		AppMonitorConfiguration: &types.AppMonitorConfiguration{SessionSampleRate: 1}}); err != nil {
		t.Fatalf("UpdateAppMonitor: %v", err)
	}
	for _, name := range []string{"b-second", "c-third"} {
		if _, err := c.CreateAppMonitor(ctx, &rum.CreateAppMonitorInput{Name: aws.String(name), Domain: aws.String("x.example.com")}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := rum.NewListAppMonitorsPaginator(c, &rum.ListAppMonitorsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAppMonitors: %v", err)
		}
		for _, s := range page.AppMonitorSummaries {
			names = append(names, aws.ToString(s.Name))
		}
	}
	if len(names) != 3 || names[0] != "b-second" || names[2] != "sdk-shop" {
		t.Fatalf("listed %v", names)
	}
	_, err = c.CreateAppMonitor(ctx, &rum.CreateAppMonitorInput{Name: aws.String("sdk-shop"), Domain: aws.String("x.example.com")})
	var conflict *types.ConflictException
	if !errors.As(err, &conflict) {
		t.Fatalf("duplicate create: %v, want ConflictException", err)
	}
	_, err = c.CreateAppMonitor(ctx, &rum.CreateAppMonitorInput{Name: aws.String("bad name!"), Domain: aws.String("x.example.com")})
	var invalid *types.ValidationException
	if !errors.As(err, &invalid) {
		t.Fatalf("bad name: %v, want ValidationException", err)
	}
	if _, err := c.DeleteAppMonitor(ctx, &rum.DeleteAppMonitorInput{Name: aws.String("sdk-shop")}); err != nil {
		t.Fatalf("DeleteAppMonitor: %v", err)
	}
	_, err = c.GetAppMonitor(ctx, &rum.GetAppMonitorInput{Name: aws.String("sdk-shop")})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("get after delete: %v, want ResourceNotFoundException", err)
	}
}
