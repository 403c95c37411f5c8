package rummetrics

import (
	"fmt"
	"math"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sightline/sightline/internal/model"
)

func ev(typ, page string) model.RumEvent { return model.RumEvent{Type: typ, PageID: page} }

func withValue(e model.RumEvent, v float64) model.RumEvent { e.Value = &v; return e }

func withDuration(e model.RumEvent, v float64) model.RumEvent { e.DurationMillis = &v; return e }

func withStatus(e model.RumEvent, s int, errType string) model.RumEvent {
	e.HTTPStatus, e.ErrorType = s, errType
	return e
}

// gather returns metric name → label string → value (counter value, or
// histogram sample count and sum as name_count / name_sum).
func gather(t *testing.T, reg *prometheus.Registry) map[string]map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	put := func(name, labels string, v float64) {
		if out[name] == nil {
			out[name] = map[string]float64{}
		}
		out[name][labels] = v
	}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			labels := ""
			for _, l := range m.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + ","
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				put(f.GetName(), labels, m.GetCounter().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				put(f.GetName()+"_count", labels, float64(h.GetSampleCount()))
				put(f.GetName()+"_sum", labels, h.GetSampleSum())
				for _, b := range h.GetBucket() {
					put(f.GetName()+"_bucket", labels+fmt.Sprintf("le=%g", b.GetUpperBound()), float64(b.GetCumulativeCount()))
				}
			}
		}
	}
	return out
}

func TestObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := New(reg, Options{MaxPages: 2})
	if err != nil {
		t.Fatal(err)
	}
	m.Observe("shop", []model.RumEvent{
		ev(model.EventSessionStart, ""),
		ev(model.EventPageView, "/"), ev(model.EventPageView, "/cart"), ev(model.EventPageView, "/checkout"), ev(model.EventPageView, "/"),
		withDuration(ev(model.EventNavigation, "/"), 1500), withDuration(ev(model.EventNavigation, "/"), 9000),
		ev(model.EventNavigation, "/"), // no duration: not observed
		withValue(ev(model.EventLCP, "/cart"), 2500), withValue(ev(model.EventCLS, "/cart"), 0.3),
		withValue(ev(model.EventINP, "/cart"), 250), withValue(ev(model.EventFID, "/cart"), 40),
		ev(model.EventJSError, "/"), ev(model.EventJSError, "/"),
		withStatus(ev(model.EventHTTP, "/"), 404, ""), withStatus(ev(model.EventHTTP, "/"), 503, ""),
		withStatus(ev(model.EventHTTP, "/"), 0, "TypeError"), withStatus(ev(model.EventHTTP, "/"), 200, ""),
	})
	m.Observe("admin", []model.RumEvent{ev(model.EventSessionStart, ""), ev(model.EventPageView, "/x")})
	got := gather(t, reg)
	const shop = "app_monitor=shop,"
	for _, tc := range []struct {
		metric, labels string
		want           float64
	}{
		{"sightline_rum_sessions_total", shop, 1},
		{"sightline_rum_sessions_total", "app_monitor=admin,", 1},
		{"sightline_rum_page_views_total", shop + "page=/,", 2},
		{"sightline_rum_page_views_total", shop + "page=/cart,", 1},
		{"sightline_rum_page_views_total", shop + "page=other,", 1}, // /checkout is past MaxPages
		{"sightline_rum_page_views_total", "app_monitor=admin,page=/x,", 1},
		{"sightline_rum_js_errors_total", shop, 2},
		{"sightline_rum_http_errors_total", shop, 3},
		{"sightline_rum_http_4xx_total", shop, 1},
		{"sightline_rum_http_5xx_total", shop, 1},
		{"sightline_rum_performance_navigation_duration_seconds_count", shop + "page=/,", 2},
		{"sightline_rum_performance_navigation_duration_seconds_sum", shop + "page=/,", 10.5},
		{"sightline_rum_performance_navigation_duration_seconds_bucket", shop + "page=/,le=2", 1},
		{"sightline_rum_performance_navigation_duration_seconds_bucket", shop + "page=/,le=8", 1},
		{"sightline_rum_web_vitals_largest_contentful_paint_seconds_bucket", shop + "page=/cart,le=2.5", 1}, // good is ≤ 2.5 s
		{"sightline_rum_web_vitals_cumulative_layout_shift_sum", shop + "page=/cart,", 0.3},
		{"sightline_rum_web_vitals_interaction_to_next_paint_seconds_sum", shop + "page=/cart,", 0.25},
		{"sightline_rum_web_vitals_first_input_delay_seconds_sum", shop + "page=/cart,", 0.04},
	} {
		v, ok := got[tc.metric][tc.labels]
		if !ok || math.Abs(v-tc.want) > 1e-9 {
			t.Errorf("%s{%s} = %v (present %v), want %v", tc.metric, tc.labels, v, ok, tc.want)
		}
	}
	if _, err := New(reg, Options{}); err == nil {
		t.Error("registering twice on one registry must fail")
	}
}

func BenchmarkObserve(b *testing.B) {
	m, err := New(prometheus.NewRegistry(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	batch := []model.RumEvent{ev(model.EventPageView, "/"), withDuration(ev(model.EventNavigation, "/"), 1200),
		withValue(ev(model.EventLCP, "/"), 1800), ev(model.EventJSError, "/"), withStatus(ev(model.EventHTTP, "/"), 500, "")}
	for b.Loop() {
		m.Observe("shop", batch)
	}
}
