package rum

import (
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

func TestBucket(t *testing.T) {
	h := time.Hour.Microseconds()
	for _, tc := range []struct {
		span      int64
		requested time.Duration
		want      int64
		invalid   bool
	}{
		{h, 0, time.Minute.Microseconds(), false},          // 60 points
		{24 * h, 0, 5 * time.Minute.Microseconds(), false}, // 288 points
		{7 * 24 * h, 0, time.Hour.Microseconds(), false},   // 168 points
		{365 * 24 * h, 0, 7 * 24 * h, false},               // 52 points
		{24 * h, time.Hour, h, false},
		{24 * h, time.Second, 0, true}, // 86400 buckets
		{24 * h, -time.Second, 0, true},
		{24 * h, time.Nanosecond, 0, true},
	} {
		got, err := Bucket(store.RumRange{ToMicros: tc.span}, tc.requested)
		if tc.invalid != IsInvalid(err) || got != tc.want {
			t.Errorf("Bucket(span %d, %s) = %d, %v; want %d invalid=%v", tc.span, tc.requested, got, err, tc.want, tc.invalid)
		}
	}
}

func TestRatingsAndApdex(t *testing.T) {
	row := store.DistributionRow{Count: 10, AtMostGood: 6, AtMostPoor: 9}
	if r := ratings(row); r.Good != 0.6 || r.NeedsImprovement != 0.3 || r.Poor != 0.1 {
		t.Errorf("ratings %+v", r)
	}
	if a := apdex(row); a.Score != 0.75 || a.Satisfied != 6 || a.Tolerating != 3 || a.Frustrated != 1 {
		t.Errorf("apdex %+v", a)
	}
	if (ratings(store.DistributionRow{}) != Ratings{}) || apdex(store.DistributionRow{}).Score != 0 {
		t.Error("empty row must rate zero, not NaN")
	}
	for _, v := range Vitals {
		if got, ok := VitalByName(v.Name); !ok || got != v || !(v.Good < v.Poor) || store.ValueColumn(v.EventType) != "value" {
			t.Errorf("vital %+v", v)
		}
	}
}
