package servicegraph

import (
	"github.com/sightline/sightline/internal/model"
)

// rumOrigin marks a browser segment (a RUM xray_trace_event): it is the
// client side itself, so no client node is drawn in front of it.
const rumOrigin = "AWS::RUM::AppMonitor"

type health uint8

const (
	healthOk health = iota
	healthError
	healthThrottle
	healthFault
)

func status(s *model.Segment) int {
	if s.HTTP != nil && s.HTTP.Response != nil {
		return s.HTTP.Response.Status
	}
	return 0
}

// healthOf classifies a segment or subsegment. The flags are authoritative,
// but SDKs that only record a status still count (as in query/trace).
func healthOf(s *model.Segment) health {
	st := status(s)
	switch {
	case s.Fault || st >= 500:
		return healthFault
	case s.Throttle || st == 429:
		return healthThrottle
	case s.Error || (st >= 400 && st < 500):
		return healthError
	}
	return healthOk
}

// window is a half-open interval of end times in epoch seconds; the zero
// window admits everything.
type window struct {
	lo, hi  float64
	bounded bool
}

func (w window) admits(end float64) bool {
	return !w.bounded || (end >= w.lo && end < w.hi)
}

// complete reports whether a segment has finished and can be counted.
func complete(s *model.Segment) bool { return !s.InProgress && s.EndTime > 0 }

// call is one counted segment of a trace, as the walker reports it.
type call struct {
	seg *model.Segment
	// via is the entity that made the call: a subsegment (or a segment) of
	// caller, or seg itself for an entry segment.
	via *model.Segment
	// caller is the top-level segment that made the call; nil for an entry
	// segment (no instrumented caller in the trace).
	caller   *model.Segment
	inferred bool
}

// isInferred looks the segment up only when it can be inferred: inferred
// segments always have a caller and no subsegments, and the lookup hashes
// the id.
func isInferred(t *model.Trace, s *model.Segment) bool {
	return len(t.Inferred) > 0 && s.ParentID != "" && len(s.Subsegments) == 0 && t.Inferred[s.ID]
}

// linkRef records which entity a parent_id names.
type linkRef struct {
	owner, via *model.Segment
}

// walker finds, for every segment of a trace, the entity that called it.
// Its buffers are reused from trace to trace; one walker serves one
// goroutine.
type walker struct {
	win    window
	wanted []string  // distinct parent ids of this trace's segments
	found  []linkRef // parallel to wanted
	bloom  uint64    // a cheap pre-check before comparing ids
	// missing counts the wanted ids not found yet: the scan stops at zero,
	// which skips most leaves since callers start before their callees.
	missing int
	byID    map[string]linkRef
}

// smallTrace bounds the traces resolved with the bloom-and-scan path; a
// map is cheaper beyond it.
const smallTrace = 64

func idBit(id string) uint64 {
	n := len(id)
	if n < 2 {
		return 1
	}
	x := uint32(id[n-1]) | uint32(id[n-2])<<8 | uint32(id[n/2])<<16
	return 1 << ((x * 0x9E3779B1) >> 26)
}

// trace reports every counted segment of t to visit, with its caller.
// Orphaned independent subsegments (no parent in the trace) are neither
// services nor callers: X-Ray has no context for them.
func (w *walker) trace(t *model.Trace, visit func(call)) {
	segs := t.Segments
	if len(segs) > smallTrace {
		w.traceLarge(t, visit)
		return
	}
	w.wanted, w.found, w.bloom = w.wanted[:0], w.found[:0], 0
	for _, s := range segs {
		if s.ParentID == "" || s.Type == "subsegment" || !complete(s) || !w.win.admits(s.EndTime) {
			continue
		}
		dup := false
		for _, id := range w.wanted {
			if id == s.ParentID {
				dup = true
				break
			}
		}
		if !dup {
			w.wanted = append(w.wanted, s.ParentID)
			w.found = append(w.found, linkRef{})
			w.bloom |= idBit(s.ParentID)
		}
	}
	w.missing = len(w.wanted)
	for _, s := range segs {
		if w.missing == 0 {
			break
		}
		if s.Type != "subsegment" {
			w.scan(s, s)
		}
	}
	for _, s := range segs {
		if s.Type == "subsegment" || !complete(s) || !w.win.admits(s.EndTime) {
			continue
		}
		c := call{seg: s, via: s, inferred: isInferred(t, s)}
		if s.ParentID != "" {
			for i, id := range w.wanted {
				if id == s.ParentID {
					if r := w.found[i]; r.owner != nil && r.owner != s {
						c.caller, c.via = r.owner, r.via
					}
					break
				}
			}
		}
		visit(c)
	}
}

// scan looks for the wanted ids in n and its subsegments, all owned by the
// top-level segment owner. The first entity with an id wins, as in the
// trace's document order.
func (w *walker) scan(owner, n *model.Segment) {
	if w.bloom&idBit(n.ID) != 0 {
		for i, id := range w.wanted {
			if id == n.ID && w.found[i].owner == nil {
				w.found[i] = linkRef{owner: owner, via: n}
				w.missing--
			}
		}
	}
	for _, c := range n.Subsegments {
		if w.missing == 0 {
			return
		}
		w.scan(owner, c)
	}
}

func (w *walker) traceLarge(t *model.Trace, visit func(call)) {
	// A fresh map: clearing a reused one costs its largest size every time.
	w.byID = make(map[string]linkRef, 4*len(t.Segments))
	var index func(owner, n *model.Segment)
	index = func(owner, n *model.Segment) {
		if _, dup := w.byID[n.ID]; !dup {
			w.byID[n.ID] = linkRef{owner: owner, via: n}
		}
		for _, c := range n.Subsegments {
			index(owner, c)
		}
	}
	for _, s := range t.Segments {
		if s.Type != "subsegment" {
			index(s, s)
		}
	}
	for _, s := range t.Segments {
		if s.Type == "subsegment" || !complete(s) || !w.win.admits(s.EndTime) {
			continue
		}
		c := call{seg: s, via: s, inferred: isInferred(t, s)}
		if s.ParentID != "" {
			if r, ok := w.byID[s.ParentID]; ok && r.owner != s {
				c.caller, c.via = r.owner, r.via
			}
		}
		visit(c)
	}
	w.byID = nil
}
