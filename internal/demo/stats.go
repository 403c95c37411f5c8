package demo

import (
	"fmt"
	"sync/atomic"
)

// Stats counts what the synthetic users did; safe for concurrent use.
type Stats struct {
	sessions, completed, skipped          atomic.Int64
	pageViews, jsErrors                   atomic.Int64
	apiCalls, ok, clientErr, throttled    atomic.Int64
	faults, networkErr                    atomic.Int64
	batches, batchesFailed, events        atomic.Int64
	browserSessions, browserSessionErrors atomic.Int64
}

func (s *Stats) countStatus(status int) {
	switch {
	case status == 0:
		s.networkErr.Add(1)
	case status == 429:
		s.throttled.Add(1)
	case status >= 500:
		s.faults.Add(1)
	case status >= 400:
		s.clientErr.Add(1)
	default:
		s.ok.Add(1)
	}
}

// StatsSnapshot is Stats at one moment.
type StatsSnapshot struct {
	Sessions, CompletedSessions, SkippedSessions int64
	PageViews, JSErrors                          int64
	// APICalls are the synthetic users' calls to the API, split by outcome:
	// OK (2xx/3xx), ClientErrors (4xx but 429), Throttled (429), Faults
	// (5xx) and NetworkErrors (no response, preflight refused).
	APICalls, OK, ClientErrors, Throttled, Faults, NetworkErrors int64
	// Batches are PutRumEvents requests the collector accepted (Events in
	// them); BatchesFailed were dropped after the agent's retries.
	Batches, BatchesFailed, Events int64
	// BrowserSessions are the headless Chromium walks through the shop.
	BrowserSessions, BrowserSessionErrors int64
}

// Snapshot reads the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		Sessions: s.sessions.Load(), CompletedSessions: s.completed.Load(), SkippedSessions: s.skipped.Load(),
		PageViews: s.pageViews.Load(), JSErrors: s.jsErrors.Load(),
		APICalls: s.apiCalls.Load(), OK: s.ok.Load(), ClientErrors: s.clientErr.Load(), Throttled: s.throttled.Load(),
		Faults: s.faults.Load(), NetworkErrors: s.networkErr.Load(),
		Batches: s.batches.Load(), BatchesFailed: s.batchesFailed.Load(), Events: s.events.Load(),
		BrowserSessions: s.browserSessions.Load(), BrowserSessionErrors: s.browserSessionErrors.Load(),
	}
}

func (s StatsSnapshot) String() string {
	out := fmt.Sprintf("%d sessions (%d skipped at the concurrency bound), %d page views, %d API calls (%d ok, %d 4xx, %d 429, %d 5xx, %d network), %d JS errors, %d batches with %d events sent (%d failed)",
		s.Sessions, s.SkippedSessions, s.PageViews, s.APICalls, s.OK, s.ClientErrors, s.Throttled, s.Faults, s.NetworkErrors,
		s.JSErrors, s.Batches, s.Events, s.BatchesFailed)
	if s.BrowserSessions > 0 || s.BrowserSessionErrors > 0 {
		out += fmt.Sprintf(", %d Chromium walks (%d failed)", s.BrowserSessions, s.BrowserSessionErrors)
	}
	return out
}
