// Package trace turns stored segment documents into assembled traces,
// their X-Ray summaries (with root causes) and the documents that
// BatchGetTraces serves. Everything here is a pure function.
package trace

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/sightline/sightline/internal/model"
)

// Assemble builds a trace from its segment documents, in any order:
//
//   - documents with the same id collapse to one: a complete document
//     replaces an in-progress one, and a later complete one an earlier one;
//   - independent subsegments (type "subsegment") are attached under the
//     segment or subsegment their parent_id names. Embedded subsegments keep
//     the nesting they were sent with: the Go SDK sets every nested
//     subsegment's parent_id to the root segment, so nesting is the truth;
//   - an independent subsegment whose parent is missing stays top-level so
//     its data is not lost;
//   - aws, remote and sql subsegments without a child segment (one whose
//     parent_id is the subsegment's id) get an inferred segment, as X-Ray
//     draws inferred nodes; they are listed in Trace.Inferred.
//
// The records are not modified: the trace holds copies of their segments.
// Top-level segments and every subsegment list are ordered by start time.
func Assemble(traceID string, recs []model.SegmentRecord) *model.Trace {
	t := &model.Trace{ID: traceID, Inferred: map[string]bool{}}
	docs := dedupe(recs)

	// Index every node (segments, their embedded subsegments, independent
	// subsegments) by id; parents record where each node hangs so attaching
	// cannot create a cycle.
	n := 0
	for _, d := range docs {
		d.Walk(func(*model.Segment) bool { n++; return true })
	}
	nodes := make(map[string]*model.Segment, n)
	parent := make(map[*model.Segment]*model.Segment, n)
	var tops, independents []*model.Segment
	for _, d := range docs {
		if d.Type == "subsegment" {
			independents = append(independents, d)
		} else {
			tops = append(tops, d)
		}
	}
	index := func(root *model.Segment) {
		var walk func(n, p *model.Segment)
		walk = func(n, p *model.Segment) {
			if _, dup := nodes[n.ID]; !dup || p == nil {
				nodes[n.ID] = n
			}
			if p != nil {
				parent[n] = p
			}
			for _, c := range n.Subsegments {
				walk(c, n)
			}
		}
		walk(root, nil)
	}
	for _, s := range tops {
		index(s)
	}
	for _, s := range independents {
		index(s)
	}

	var orphans []*model.Segment
	for _, sub := range independents {
		p := nodes[sub.ParentID]
		if p == nil || p == sub || isAncestor(parent, sub, p) {
			orphans = append(orphans, sub)
			continue
		}
		attach(p, sub)
		parent[sub] = p
	}
	t.Segments = append(tops, orphans...)
	for _, s := range t.Segments {
		sortTree(s)
	}
	addInferred(t)
	slices.SortStableFunc(t.Segments, func(a, b *model.Segment) int {
		return cmp.Or(cmp.Compare(a.StartTime, b.StartTime), strings.Compare(a.ID, b.ID))
	})
	return t
}

// dedupe keeps one document per id and copies each so that assembly never
// writes into the caller's records.
func dedupe(recs []model.SegmentRecord) []*model.Segment {
	type pick struct {
		seg *model.Segment
		at  int64
		pos int
	}
	best := make(map[string]pick)
	var order []string
	for i, r := range recs {
		s := r.Segment
		if s == nil {
			continue
		}
		cur, seen := best[s.ID]
		if !seen {
			order = append(order, s.ID)
			best[s.ID] = pick{s, r.ReceivedAtMicros, i}
			continue
		}
		if replaces(s, r.ReceivedAtMicros, cur.seg, cur.at) {
			best[s.ID] = pick{s, r.ReceivedAtMicros, i}
		}
	}
	out := make([]*model.Segment, 0, len(order))
	for _, id := range order {
		out = append(out, clone(best[id].seg))
	}
	return out
}

// replaces decides between two documents with the same id: complete beats
// in progress; otherwise the later arrival wins.
func replaces(s *model.Segment, at int64, cur *model.Segment, curAt int64) bool {
	if s.InProgress != cur.InProgress {
		return cur.InProgress
	}
	return at >= curAt
}

func clone(s *model.Segment) *model.Segment {
	c := *s
	if len(s.Subsegments) > 0 {
		c.Subsegments = make([]*model.Segment, len(s.Subsegments))
		for i, sub := range s.Subsegments {
			c.Subsegments[i] = clone(sub)
		}
	}
	return &c
}

func isAncestor(parent map[*model.Segment]*model.Segment, a, n *model.Segment) bool {
	for p := n; p != nil; p = parent[p] {
		if p == a {
			return true
		}
	}
	return false
}

// attach puts sub under p. An embedded copy with the same id (the parent
// was sent while the subsegment was open) gives way, unless that copy is
// complete and sub is not.
func attach(p, sub *model.Segment) {
	for i, c := range p.Subsegments {
		if c.ID == sub.ID {
			if c.InProgress || !sub.InProgress {
				p.Subsegments[i] = sub
			}
			return
		}
	}
	p.Subsegments = append(p.Subsegments, sub)
}

func sortTree(s *model.Segment) {
	slices.SortStableFunc(s.Subsegments, func(a, b *model.Segment) int {
		return cmp.Compare(a.StartTime, b.StartTime)
	})
	for _, c := range s.Subsegments {
		sortTree(c)
	}
}

// addInferred adds a segment for every downstream call that no
// instrumented service answered.
func addInferred(t *model.Trace) {
	called := make(map[string]bool)
	for _, s := range t.Segments {
		if s.ParentID != "" {
			called[s.ParentID] = true
		}
	}
	var inferred []*model.Segment
	for _, s := range t.Segments {
		if s.Type == "subsegment" {
			continue // an orphan: its context is unknown
		}
		for _, sub := range s.Subsegments {
			sub.Walk(func(n *model.Segment) bool {
				kind := InferredType(n)
				if kind == "" || called[n.ID] {
					return true
				}
				inf := inferSegment(t.ID, s, n, kind)
				inferred = append(inferred, inf)
				t.Inferred[inf.ID] = true
				return true
			})
		}
	}
	t.Segments = append(t.Segments, inferred...)
}

// InferredType is the service type of the node X-Ray infers for a
// subsegment: "Database::SQL" for sql, "AWS::<service>" for aws, "remote"
// for remote, "" when the subsegment is not a downstream call.
func InferredType(sub *model.Segment) string {
	switch {
	case len(sub.SQL) > 0 && string(sub.SQL) != "null":
		return "Database::SQL"
	case sub.Namespace == "aws":
		return "AWS::" + awsServiceName(sub.Name)
	case sub.Namespace == "remote":
		return "remote"
	}
	return ""
}

// awsServiceName: aws subsegments are named after the service ("DynamoDB",
// "S3"); X-Ray's type drops spaces ("Step Functions" → StepFunctions).
func awsServiceName(name string) string {
	return strings.ReplaceAll(name, " ", "")
}

// inferSegment copies what X-Ray shows on an inferred node from the
// calling subsegment: name, times, http, status flags, cause and aws block.
func inferSegment(traceID string, caller, sub *model.Segment, kind string) *model.Segment {
	tid := sub.TraceID
	if tid == "" {
		tid = cmp.Or(caller.TraceID, traceID)
	}
	return &model.Segment{
		TraceID:    tid,
		ID:         inferredID(sub.ID),
		ParentID:   sub.ID,
		Name:       sub.Name,
		StartTime:  sub.StartTime,
		EndTime:    sub.EndTime,
		InProgress: sub.InProgress,
		Origin:     kind,
		HTTP:       sub.HTTP,
		AWS:        sub.AWS,
		SQL:        sub.SQL,
		Error:      sub.Error,
		Throttle:   sub.Throttle,
		Fault:      sub.Fault,
		Cause:      sub.Cause,
	}
}

// inferredID derives a stable 16-hex id from the subsegment's id, so the
// same trace always assembles to the same document.
func inferredID(subID string) string {
	h := fnv.New64a()
	h.Write([]byte("inferred:" + subID))
	return fmt.Sprintf("%016x", h.Sum64())
}
