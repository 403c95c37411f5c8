package model

import "encoding/json"

// Root returns the trace's entry segment: the earliest top-level segment
// whose parent_id is empty or names no subsegment of this trace (a caller
// outside the trace, e.g. an uninstrumented proxy). Nil for an empty trace.
func (t *Trace) Root() *Segment {
	if t == nil || len(t.Segments) == 0 {
		return nil
	}
	ids := make(map[string]bool)
	for _, s := range t.Segments {
		for _, sub := range s.Subsegments {
			sub.Walk(func(n *Segment) bool { ids[n.ID] = true; return true })
		}
	}
	var root *Segment
	for _, s := range t.Segments {
		if s.ParentID != "" && ids[s.ParentID] {
			continue
		}
		if root == nil || s.StartTime < root.StartTime {
			root = s
		}
	}
	if root == nil {
		// Every segment claims a parent in the trace (a cycle): fall back
		// to the earliest so callers always have an entry point.
		root = t.Segments[0]
		for _, s := range t.Segments {
			if s.StartTime < root.StartTime {
				root = s
			}
		}
	}
	return root
}

// Walk calls fn on s and then on its nested subsegments depth first, in
// document order; fn returning false skips that node's children.
func (s *Segment) Walk(fn func(*Segment) bool) {
	if s == nil || !fn(s) {
		return
	}
	for _, sub := range s.Subsegments {
		sub.Walk(fn)
	}
}

// SegmentAWS is the part of a segment's aws block that queries use.
type SegmentAWS struct {
	AccountID string `json:"account_id,omitempty"`
	Operation string `json:"operation,omitempty"`
	TableName string `json:"table_name,omitempty"`
	EC2       *struct {
		InstanceID       string `json:"instance_id,omitempty"`
		AvailabilityZone string `json:"availability_zone,omitempty"`
	} `json:"ec2,omitempty"`
}

// DecodeAWS returns the queried fields of the aws block (zero when absent or
// malformed: the block is free-form and must never fail a query).
func (s *Segment) DecodeAWS() SegmentAWS {
	var a SegmentAWS
	if len(s.AWS) > 0 {
		_ = json.Unmarshal(s.AWS, &a)
	}
	return a
}
