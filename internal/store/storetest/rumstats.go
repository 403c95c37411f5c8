package storetest

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// RumTestStart is the first timestamp of the generated test data.
var RumTestStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).UnixMicro()

const hourMicros = int64(time.Hour / time.Microsecond)

// WriteRumDataset generates cfg's data set and writes it through
// store.Writer.Write in batches of about batchSize events, returning the
// number of events written. keep, when not nil, receives every event.
func WriteRumDataset(ctx context.Context, w store.Writer, cfg RumDataConfig, batchSize int, keep *[]model.RumEvent) (int, error) {
	var pending []model.RumEvent
	seq, total := uint64(0), 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		seq++
		if err := w.Write(ctx, seq, []*model.Batch{{Rum: pending}}); err != nil {
			return fmt.Errorf("write batch %d: %w", seq, err)
		}
		total += len(pending)
		pending = pending[:0]
		return nil
	}
	err := GenerateRum(cfg, func(evs []model.RumEvent) error {
		pending = append(pending, evs...)
		if keep != nil {
			*keep = append(*keep, evs...)
		}
		if len(pending) >= batchSize {
			return flush()
		}
		return nil
	})
	if err != nil {
		return total, err
	}
	return total, flush()
}

// RunRumStats checks every RumStats query against answers computed in Go
// from the same generated events, over several ranges and filters.
// The stores newStore makes must implement store.RumStats.
func RunRumStats(t *testing.T, newStore Factory) {
	ctx := context.Background()
	st := newStore(t)
	t.Cleanup(func() { _ = st.Close() })
	s, ok := st.(interface {
		store.Store
		store.RumStats
	})
	if !ok {
		t.Fatalf("%T does not implement store.RumStats", st)
	}
	var events []model.RumEvent
	cfg := RumDataConfig{Seed: 7, AppMonitorID: "app-1", StartMicros: RumTestStart, SpanMicros: 48 * hourMicros, Sessions: 400}
	if _, err := WriteRumDataset(ctx, s, cfg, 1000, &events); err != nil {
		t.Fatal(err)
	}
	// A second app monitor in the same time range must never leak in.
	other := cfg
	other.AppMonitorID, other.Seed, other.Sessions = "app-2", 8, 50
	if _, err := WriteRumDataset(ctx, s, other, 1000, &events); err != nil {
		t.Fatal(err)
	}
	ref := newRefData(events)
	t.Logf("%d events", len(events))

	full := store.RumRange{AppMonitorID: "app-1", FromMicros: RumTestStart, ToMicros: RumTestStart + 49*hourMicros}
	cases := map[string]store.RumRange{"all": full}
	add := func(name string, mut func(*store.RumRange)) {
		r := full
		mut(&r)
		cases[name] = r
	}
	add("window", func(r *store.RumRange) {
		r.FromMicros, r.ToMicros = RumTestStart+7*hourMicros, RumTestStart+31*hourMicros
	})
	add("chrome-mobile", func(r *store.RumRange) {
		r.Filter.Browsers, r.Filter.DeviceTypes = []string{"Chrome"}, []string{"mobile", "tablet"}
	})
	add("pages", func(r *store.RumRange) { r.Filter.Pages = []string{"/cart", "/checkout"} })
	add("metadata", func(r *store.RumRange) {
		r.Filter.Metadata = map[string][]string{"plan": {"pro"}, "aws:releaseId": {"r1", "r2"}}
		r.Filter.OSes = []string{"Windows", "Android", "iOS"}
	})
	add("country-version", func(r *store.RumRange) {
		r.Filter.Countries, r.Filter.AppVersions = []string{"DE", "FR", "US"}, []string{"1.4.1", "1.5.0"}
	})
	add("empty", func(r *store.RumRange) { r.Filter.Browsers = []string{"Netscape"} })
	add("other-app", func(r *store.RumRange) { r.AppMonitorID = "app-3" })

	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			for _, typ := range []string{model.EventNavigation, model.EventLCP, model.EventCLS, model.EventINP, model.EventFID} {
				for _, g := range []store.RumGroup{store.GroupByTime, store.GroupByPage} {
					q := store.DistributionQuery{RumRange: r, EventType: typ, GroupBy: g, BucketMicros: 3 * hourMicros, Good: 2500, Poor: 4000, Limit: 7}
					if typ == model.EventCLS {
						q.Good, q.Poor = 0.1, 0.25
					}
					got, err := s.Distribution(ctx, q)
					check(t, fmt.Sprintf("Distribution(%s, group %d)", typ, g), got, err, ref.distribution(q))
				}
			}
			cq := store.CountQuery{RumRange: r, EventTypes: []string{model.EventPageView, model.EventNavigation}, BucketMicros: hourMicros}
			got, err := s.EventCounts(ctx, cq)
			check(t, "EventCounts", got, err, ref.eventCounts(cq))

			phases, err := s.NavigationPhases(ctx, r)
			check(t, "NavigationPhases", phases, err, ref.navigationPhases(r))

			for _, eq := range []store.ErrorGroupQuery{{RumRange: r}, {RumRange: r, Limit: 4, Samples: 1}} {
				groups, err := s.ErrorGroups(ctx, eq)
				check(t, "ErrorGroups", groups, err, ref.errorGroups(eq))
			}
			for _, hq := range []store.HTTPGroupQuery{{RumRange: r}, {RumRange: r, Limit: 3, TraceIDs: 1}} {
				groups, err := s.HTTPGroups(ctx, hq)
				check(t, "HTTPGroups", groups, err, ref.httpGroups(hq))
			}

			// Page through all sessions; every page must equal the reference.
			sq := store.SessionListQuery{RumRange: r, Limit: 37}
			for page := 0; ; page++ {
				got, err := s.Sessions(ctx, sq)
				want := ref.sessions(sq)
				check(t, fmt.Sprintf("Sessions page %d", page), got, err, want)
				if len(want) < sq.Limit || page > 50 {
					break
				}
				last := want[len(want)-1]
				sq.BeforeStartMicros, sq.BeforeSessionID = last.StartMicros, last.SessionID
			}

			jq := store.JourneyQuery{RumRange: r, Limit: 25}
			tr, err := s.Transitions(ctx, jq)
			check(t, "Transitions", tr, err, ref.transitions(jq))
			exits, err := s.PageExits(ctx, jq)
			check(t, "PageExits", exits, err, ref.pageExits(jq))

			checkOverview(ctx, t, s, ref, r)

			for _, dim := range store.AudienceDimensions {
				rows, err := s.Audience(ctx, r, dim)
				check(t, "Audience "+dim, rows, err, ref.audience(r, dim))
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		bad := full
		bad.Filter.Metadata = map[string][]string{`x') OR 1=1 --`: {"a"}}
		if _, err := s.Audience(ctx, bad, "browser"); err == nil {
			t.Error("metadata key with quotes accepted")
		}
		if _, err := s.Audience(ctx, full, "user_agent"); err == nil {
			t.Error("unknown audience dimension accepted")
		}
		if _, err := s.Distribution(ctx, store.DistributionQuery{RumRange: full, EventType: model.EventHTTP}); err == nil {
			t.Error("distribution of an event type without a metric accepted")
		}
		if _, err := s.Distribution(ctx, store.DistributionQuery{RumRange: full, EventType: model.EventLCP, GroupBy: store.GroupByTime}); err == nil {
			t.Error("zero bucket accepted")
		}
		nav := store.MetricThresholds{EventType: model.EventNavigation, Good: 2000, Poor: 8000}
		if _, err := s.Overview(ctx, store.OverviewQuery{RumRange: full, LoadTime: nav}); err == nil {
			t.Error("overview with a zero bucket accepted")
		}
		if _, err := s.Overview(ctx, store.OverviewQuery{RumRange: full, BucketMicros: hourMicros, LoadTime: nav,
			Vitals: []store.MetricThresholds{{EventType: model.EventHTTP}}}); err == nil {
			t.Error("overview of an event type without a metric accepted")
		}
	})
}

// check compares got with want, floats to 1e-9 relative: the engine's
// exact quantiles and Go's agree to rounding, sums may differ in order.
func check[T any](t *testing.T, what string, got T, err error, want T) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if diff := deepDiff(reflect.ValueOf(got), reflect.ValueOf(want), ""); diff != "" {
		t.Errorf("%s differs from the reference: %s", what, diff)
	}
}

func deepDiff(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: length %d, want %d", path, a.Len(), b.Len())
		}
		for i := 0; i < a.Len(); i++ {
			if d := deepDiff(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if d := deepDiff(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); d != "" {
				return d
			}
		}
		return ""
	case reflect.Float64:
		x, y := a.Float(), b.Float()
		if math.Abs(x-y) > 1e-9*math.Max(1, math.Max(math.Abs(x), math.Abs(y))) {
			return fmt.Sprintf("%s: %v, want %v", path, x, y)
		}
		return ""
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		return fmt.Sprintf("%s: %v, want %v", strings.TrimPrefix(path, "."), a.Interface(), b.Interface())
	}
	return ""
}
