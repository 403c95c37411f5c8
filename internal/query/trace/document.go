package trace

import (
	"encoding/json"
	"fmt"

	"github.com/sightline/sightline/internal/model"
)

// SegmentDocument is one entry of BatchGetTraces' Trace.Segments.
type SegmentDocument struct {
	ID       string `json:"Id"`
	Document string `json:"Document"`
}

// inferredDocument adds the "inferred" marker X-Ray puts on synthesised
// segments; the embedded pointer's fields are promoted by encoding/json.
type inferredDocument struct {
	*model.Segment
	Inferred bool `json:"inferred,omitempty"`
}

// Document renders a top-level segment of an assembled trace as the JSON
// document BatchGetTraces serves: subsegments embedded, and
// "inferred": true on inferred segments.
func Document(t *model.Trace, seg *model.Segment) ([]byte, error) {
	b, err := json.Marshal(inferredDocument{Segment: seg, Inferred: t.Inferred[seg.ID]})
	if err != nil {
		return nil, fmt.Errorf("encode segment %s: %w", seg.ID, err)
	}
	return b, nil
}

// Documents renders every top-level segment of the trace, in trace order.
func Documents(t *model.Trace) ([]SegmentDocument, error) {
	out := make([]SegmentDocument, 0, len(t.Segments))
	for _, s := range t.Segments {
		b, err := Document(t, s)
		if err != nil {
			return nil, err
		}
		out = append(out, SegmentDocument{ID: s.ID, Document: string(b)})
	}
	return out, nil
}
