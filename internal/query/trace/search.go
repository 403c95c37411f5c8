package trace

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/internal/filter"
	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// Reader is what trace queries need from a store.
type Reader interface {
	store.SegmentReader
	store.TraceLister
}

// SearchQuery is one page of GetTraceSummaries.
type SearchQuery struct {
	FromMicros, ToMicros int64
	TimeRangeType        string
	Filter               filter.Expr // nil matches every trace
	Eval                 filter.EvalContext
	// Cursor continues after a previous page; zero starts at the newest.
	Cursor   Cursor
	PageSize int // matches per page
	// ScanBudget bounds the traces examined for one page, so a filter that
	// matches nothing cannot make one request scan everything.
	ScanBudget int
}

// Cursor is the position after the last examined trace.
type Cursor struct {
	StartMicros int64
	TraceID     string
}

// SearchResult is one page of summaries.
type SearchResult struct {
	Summaries []model.TraceSummary
	Processed int
	// Next is set when more traces remain.
	Next *Cursor
}

// Search lists traces most recent first, assembles and summarises each,
// and keeps those the filter matches. The filter goes to the store as a
// prefilter, so Processed counts the candidates the store listed.
func Search(ctx context.Context, r Reader, q SearchQuery) (SearchResult, error) {
	if q.PageSize <= 0 {
		q.PageSize = 100
	}
	if q.ScanBudget <= 0 {
		q.ScanBudget = 5000
	}
	// The first listing is small, for the common case of a page found at
	// once; each further one doubles, as a filter that matches few of its
	// candidates would otherwise re-run the listing query many times.
	chunk := 200
	res := SearchResult{}
	cur := q.Cursor
	for ; ; chunk = min(2*chunk, 3200) {
		// The store may list only candidates for the filter; every listed
		// trace is still evaluated below.
		limit := min(chunk, q.ScanBudget-res.Processed)
		refs, err := r.ListTraces(ctx, store.TraceListQuery{FromMicros: q.FromMicros, ToMicros: q.ToMicros, TimeRangeType: q.TimeRangeType,
			BeforeStartMicros: cur.StartMicros, BeforeTraceID: cur.TraceID, Limit: limit, Filter: q.Filter})
		if err != nil {
			return res, err
		}
		if len(refs) == 0 {
			return res, nil
		}
		traces, err := Load(ctx, r, refIDs(refs))
		if err != nil {
			return res, err
		}
		for _, ref := range refs {
			cur = Cursor{StartMicros: ref.StartMicros, TraceID: ref.TraceID}
			res.Processed++
			t := traces[ref.TraceID]
			if t == nil {
				continue
			}
			sum := Summarize(t)
			if q.Filter == nil || filter.Evaluate(q.Filter, t, &sum, q.Eval) {
				res.Summaries = append(res.Summaries, sum)
			}
			if len(res.Summaries) >= q.PageSize || res.Processed >= q.ScanBudget {
				next := cur
				res.Next = &next
				return res, nil
			}
		}
		if len(refs) < limit {
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
}

func refIDs(refs []store.TraceRef) []string {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.TraceID
	}
	return ids
}

// Load fetches and assembles the given traces; missing ones are absent
// from the map.
func Load(ctx context.Context, r store.SegmentReader, ids []string) (map[string]*model.Trace, error) {
	recs, err := r.SegmentsByTraceIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load segments: %w", err)
	}
	byTrace := map[string][]model.SegmentRecord{}
	for _, rec := range recs {
		byTrace[rec.Segment.TraceID] = append(byTrace[rec.Segment.TraceID], rec)
	}
	out := make(map[string]*model.Trace, len(byTrace))
	for id, rs := range byTrace {
		out[id] = Assemble(id, rs)
	}
	return out, nil
}

// LoadRange assembles every trace in a time range (newest first), up to
// max traces; the second result tells whether the range held more.
func LoadRange(ctx context.Context, r Reader, fromMicros, toMicros int64, max int) ([]*model.Trace, bool, error) {
	return LoadCandidates(ctx, r, fromMicros, toMicros, max, nil)
}

// LoadCandidates is LoadRange over the traces the store lists as
// candidates for a filter expression (all of them when e is nil): a
// superset of its matches, which the caller still evaluates.
func LoadCandidates(ctx context.Context, r Reader, fromMicros, toMicros int64, max int, e filter.Expr) ([]*model.Trace, bool, error) {
	var out []*model.Trace
	cur := Cursor{}
	for len(out) < max {
		refs, err := r.ListTraces(ctx, store.TraceListQuery{FromMicros: fromMicros, ToMicros: toMicros, BeforeStartMicros: cur.StartMicros, BeforeTraceID: cur.TraceID, Limit: 500, Filter: e})
		if err != nil {
			return nil, false, err
		}
		if len(refs) == 0 {
			return out, false, nil
		}
		if len(out)+len(refs) > max {
			refs = refs[:max-len(out)]
		}
		traces, err := Load(ctx, r, refIDs(refs))
		if err != nil {
			return nil, false, err
		}
		for _, ref := range refs {
			if t := traces[ref.TraceID]; t != nil {
				out = append(out, t)
			}
		}
		last := refs[len(refs)-1]
		cur = Cursor{StartMicros: last.StartMicros, TraceID: last.TraceID}
		if len(refs) < 500 {
			return out, false, nil
		}
	}
	return out, true, nil
}
