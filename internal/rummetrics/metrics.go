// Package rummetrics exports RUM events as Prometheus metrics named after
// CloudWatch RUM's, updated at ingest so dashboards and alerts need no
// query against the store.
//
// CloudWatch RUM metric → Prometheus metric (labels app_monitor, and page
// where noted; durations in seconds as Prometheus prefers):
//
//	PerformanceNavigationDuration   sightline_rum_performance_navigation_duration_seconds (histogram, page)
//	JsErrorCount                    sightline_rum_js_errors_total
//	HttpErrorCount                  sightline_rum_http_errors_total (status ≥ 400 or network failure)
//	Http4xxCount                    sightline_rum_http_4xx_total
//	Http5xxCount                    sightline_rum_http_5xx_total
//	SessionCount                    sightline_rum_sessions_total (session_start_event)
//	PageViewCount                   sightline_rum_page_views_total (page)
//	WebVitalsLargestContentfulPaint sightline_rum_web_vitals_largest_contentful_paint_seconds (histogram, page)
//	WebVitalsCumulativeLayoutShift  sightline_rum_web_vitals_cumulative_layout_shift (histogram, page)
//	WebVitalsFirstInputDelay        sightline_rum_web_vitals_first_input_delay_seconds (histogram, page)
//	WebVitalsInteractionToNextPaint sightline_rum_web_vitals_interaction_to_next_paint_seconds (histogram, page)
//
// Histogram buckets include web.dev's good and poor thresholds (and the
// Apdex 2 s / 8 s ones for navigation), so rating shares are exact in
// PromQL. The page label is bounded: the first MaxPages pages seen per app
// monitor keep their name, later ones are counted as "other".
package rummetrics

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/model"
)

// OtherPage is the page label of pages past the MaxPages bound.
const OtherPage = "other"

// Options tunes the metrics; zero values take the defaults.
type Options struct {
	// MaxPages bounds distinct page labels per app monitor (default 50).
	MaxPages int
}

// Metrics holds the RUM collectors.
type Metrics struct {
	maxPages int

	navDuration *prometheus.HistogramVec
	lcp, cls    *prometheus.HistogramVec
	fid, inp    *prometheus.HistogramVec
	jsErrors    *prometheus.CounterVec
	httpErrors  *prometheus.CounterVec
	http4xx     *prometheus.CounterVec
	http5xx     *prometheus.CounterVec
	sessions    *prometheus.CounterVec
	pageViews   *prometheus.CounterVec

	mu    sync.Mutex
	pages map[string]map[string]struct{} // app monitor → pages with their own label
}

// New creates the collectors and registers them on reg.
func New(reg prometheus.Registerer, opts Options) (*Metrics, error) {
	if opts.MaxPages <= 0 {
		opts.MaxPages = 50
	}
	byPage := []string{"app_monitor", "page"}
	byApp := []string{"app_monitor"}
	hist := func(name, help string, buckets []float64) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "sightline", Subsystem: "rum", Name: name, Help: help, Buckets: buckets}, byPage)
	}
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "sightline", Subsystem: "rum", Name: name, Help: help}, labels)
	}
	m := &Metrics{
		maxPages: opts.MaxPages,
		pages:    map[string]map[string]struct{}{},
		navDuration: hist("performance_navigation_duration_seconds", "Page load duration (CloudWatch RUM PerformanceNavigationDuration).",
			[]float64{0.1, 0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 20, 30}),
		lcp: hist("web_vitals_largest_contentful_paint_seconds", "Largest Contentful Paint (WebVitalsLargestContentfulPaint).",
			[]float64{0.5, 1, 1.8, 2.5, 3, 4, 6, 10, 20}),
		cls: hist("web_vitals_cumulative_layout_shift", "Cumulative Layout Shift, unitless (WebVitalsCumulativeLayoutShift).",
			[]float64{0.01, 0.05, 0.1, 0.15, 0.25, 0.5, 1}),
		fid: hist("web_vitals_first_input_delay_seconds", "First Input Delay (WebVitalsFirstInputDelay).",
			[]float64{0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1}),
		inp: hist("web_vitals_interaction_to_next_paint_seconds", "Interaction to Next Paint (WebVitalsInteractionToNextPaint).",
			[]float64{0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5}),
		jsErrors:   counter("js_errors_total", "JavaScript errors (JsErrorCount).", byApp),
		httpErrors: counter("http_errors_total", "HTTP calls that failed: status ≥ 400 or no response (HttpErrorCount).", byApp),
		http4xx:    counter("http_4xx_total", "HTTP calls answered 4xx (Http4xxCount).", byApp),
		http5xx:    counter("http_5xx_total", "HTTP calls answered 5xx (Http5xxCount).", byApp),
		sessions:   counter("sessions_total", "Sessions started (SessionCount).", byApp),
		pageViews:  counter("page_views_total", "Page views (PageViewCount).", byPage),
	}
	for _, c := range []prometheus.Collector{m.navDuration, m.lcp, m.cls, m.fid, m.inp, m.jsErrors, m.httpErrors, m.http4xx, m.http5xx, m.sessions, m.pageViews} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register rum metrics: %w", err)
		}
	}
	return m, nil
}

// pageLabel returns page, or OtherPage once the app monitor has MaxPages.
func (m *Metrics) pageLabel(app, page string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	set := m.pages[app]
	if set == nil {
		set = map[string]struct{}{}
		m.pages[app] = set
	}
	if _, ok := set[page]; ok {
		return page
	}
	if len(set) >= m.maxPages {
		return OtherPage
	}
	set[page] = struct{}{}
	return page
}

// Observe counts one accepted batch of events of an app monitor.
func (m *Metrics) Observe(appMonitorName string, events []model.RumEvent) {
	for i := range events {
		e := &events[i]
		switch e.Type {
		case model.EventSessionStart:
			m.sessions.WithLabelValues(appMonitorName).Inc()
		case model.EventPageView:
			m.pageViews.WithLabelValues(appMonitorName, m.pageLabel(appMonitorName, e.PageID)).Inc()
		case model.EventJSError:
			m.jsErrors.WithLabelValues(appMonitorName).Inc()
		case model.EventHTTP:
			switch {
			case e.HTTPStatus >= 400 && e.HTTPStatus <= 499:
				m.http4xx.WithLabelValues(appMonitorName).Inc()
				m.httpErrors.WithLabelValues(appMonitorName).Inc()
			case e.HTTPStatus >= 500:
				m.http5xx.WithLabelValues(appMonitorName).Inc()
				m.httpErrors.WithLabelValues(appMonitorName).Inc()
			case e.HTTPStatus == 0 && (e.ErrorType != "" || e.ErrorMessage != ""):
				m.httpErrors.WithLabelValues(appMonitorName).Inc()
			}
		case model.EventNavigation:
			if e.DurationMillis != nil && *e.DurationMillis >= 0 {
				m.navDuration.WithLabelValues(appMonitorName, m.pageLabel(appMonitorName, e.PageID)).Observe(*e.DurationMillis / 1000)
			}
		case model.EventLCP, model.EventFID, model.EventINP:
			if e.Value != nil && *e.Value >= 0 {
				h := map[string]*prometheus.HistogramVec{model.EventLCP: m.lcp, model.EventFID: m.fid, model.EventINP: m.inp}[e.Type]
				h.WithLabelValues(appMonitorName, m.pageLabel(appMonitorName, e.PageID)).Observe(*e.Value / 1000)
			}
		case model.EventCLS:
			if e.Value != nil && *e.Value >= 0 {
				m.cls.WithLabelValues(appMonitorName, m.pageLabel(appMonitorName, e.PageID)).Observe(*e.Value)
			}
		}
	}
}
