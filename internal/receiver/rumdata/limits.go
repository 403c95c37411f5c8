package rumdata

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiterSet is a token bucket per key, with a bounded number of keys so a
// flood of source addresses cannot grow memory without end.
type limiterSet struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	max     int
	now     func() time.Time
	buckets map[string]*rate.Limiter
}

func newLimiterSet(perSecond float64, burst, maxKeys int, now func() time.Time) *limiterSet {
	if perSecond <= 0 {
		perSecond = 1e9
	}
	if burst <= 0 {
		burst = 1e9
	}
	return &limiterSet{limit: rate.Limit(perSecond), burst: burst, max: maxKeys, now: now, buckets: map[string]*rate.Limiter{}}
}

func (s *limiterSet) allow(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.buckets[key]
	if l == nil {
		if len(s.buckets) >= s.max {
			// Forgetting every bucket resets the clients to a full burst,
			// which is the cheap and safe side of the trade.
			s.buckets = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(s.limit, s.burst)
		s.buckets[key] = l
	}
	return l.AllowN(s.now(), 1)
}

type dedupState int

const (
	dedupNew dedupState = iota
	dedupInFlight
	dedupDone
)

type dedupEntry struct {
	state   dedupState
	expires time.Time
}

// dedup remembers accepted BatchIds for a window: aws-rum-web resends an
// identical batch after a 5xx/429/network failure, and a lost response
// must not store it twice.
type dedup struct {
	mu      sync.Mutex
	window  time.Duration
	max     int
	now     func() time.Time
	entries map[string]dedupEntry
	sweepAt time.Time
}

func newDedup(window time.Duration, max int, now func() time.Time) *dedup {
	return &dedup{window: window, max: max, now: now, entries: map[string]dedupEntry{}}
}

func (d *dedup) begin(key string) dedupState {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	d.sweep(now)
	if e, ok := d.entries[key]; ok && now.Before(e.expires) {
		return e.state
	}
	d.entries[key] = dedupEntry{state: dedupInFlight, expires: now.Add(d.window)}
	return dedupNew
}

func (d *dedup) finish(key string) { d.markDone(key) }

func (d *dedup) markDone(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.entries[key] = dedupEntry{state: dedupDone, expires: d.now().Add(d.window)}
}

func (d *dedup) abort(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.entries, key)
}

func (d *dedup) sweep(now time.Time) {
	if now.Before(d.sweepAt) && len(d.entries) < d.max {
		return
	}
	d.sweepAt = now.Add(d.window / 10)
	for k, e := range d.entries {
		if !now.Before(e.expires) {
			delete(d.entries, k)
		}
	}
	if len(d.entries) >= d.max {
		for k, e := range d.entries {
			if e.state == dedupDone {
				delete(d.entries, k)
			}
			if len(d.entries) < d.max/2 {
				break
			}
		}
	}
}
