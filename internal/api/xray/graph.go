package xray

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/api/awserr"
	"github.com/sightline/sightline/internal/filter"
	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/query/servicegraph"
	"github.com/sightline/sightline/internal/query/trace"
	"github.com/sightline/sightline/internal/store"
)

type graphRequest struct {
	StartTime *float64 `json:"StartTime"`
	EndTime   *float64 `json:"EndTime"`
	GroupName string   `json:"GroupName"`
	GroupARN  string   `json:"GroupARN"`
	NextToken string   `json:"NextToken"`
}

func secs(us int64) time.Time { return time.UnixMicro(us) }

// traceFilter turns a parsed expression into a trace predicate.
func (a *API) traceFilter(r *http.Request, e filter.Expr) func(*model.Trace) bool {
	if e == nil {
		return nil
	}
	ctx := filter.EvalContext{Groups: groupResolver{ctx: r.Context(), st: a.Store}}
	return func(t *model.Trace) bool {
		sum := trace.Summarize(t)
		return filter.Evaluate(e, t, &sum, ctx)
	}
}

func (a *API) serviceGraph(w http.ResponseWriter, r *http.Request) {
	var req graphRequest
	if !decode(w, r, &req) {
		return
	}
	from, to, err := timeRange(req.StartTime, req.EndTime)
	if err != nil {
		invalid(w, err.Error())
		return
	}
	expr, err := a.groupFilter(r.Context(), req.GroupName, req.GroupARN)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if agg, ok := a.Store.(GraphAggregator); ok && expr == nil {
		g, err := graphFromAggregates(r.Context(), agg, a.Store, from, to)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		awserr.JSON(w, map[string]any{"Services": nonNil(g.Services), "StartTime": float64(from) / 1e6, "EndTime": float64(to) / 1e6,
			"ContainsOldGroupVersions": false})
		return
	}
	// Traces that started up to a minute before the window may still end
	// inside it; Build counts only segments ending in the window. Only the
	// store's candidates for the group's filter are loaded.
	traces, truncated, err := trace.LoadCandidates(r.Context(), a.Store, from-60e6, to, a.MaxGraphTraces, expr)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if truncated {
		a.Logger.WarnContext(r.Context(), "service graph built from the newest traces only", "max", a.MaxGraphTraces)
	}
	g := servicegraph.Build(traces, servicegraph.Options{Start: secs(from), End: secs(to), Filter: a.traceFilter(r, expr)})
	awserr.JSON(w, map[string]any{"Services": nonNil(g.Services), "StartTime": float64(from) / 1e6, "EndTime": float64(to) / 1e6,
		"ContainsOldGroupVersions": false})
}

// both is "a AND b" of the expressions that are set, nil for none.
func both(a, b filter.Expr) filter.Expr {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &filter.BinaryExpr{Op: filter.OpAnd, LHS: a, RHS: b}
}

// GraphAggregator is implemented by stores that compute GetServiceGraph's
// node and edge rows themselves, so a graph does not need every trace
// assembled. GraphAggregates returns the rows of the segments that ended
// in [fromMicros, toMicros), as servicegraph.Aggregate computes them over
// the assembled traces, except for the traces in unaggregated, which the
// caller assembles and adds. (Declared here, not in package store: store
// cannot import query/servicegraph, whose tests import query/trace, which
// imports store.)
type GraphAggregator interface {
	GraphAggregates(ctx context.Context, fromMicros, toMicros int64) (nodes []servicegraph.NodeAgg, edges []servicegraph.EdgeAgg, unaggregated []string, err error)
}

// graphFromAggregates builds the graph from the store's rows, assembling
// only the traces the store could not reduce. Group filters need every
// trace evaluated, so they keep the trace path.
func graphFromAggregates(ctx context.Context, agg GraphAggregator, r store.SegmentReader, from, to int64) (servicegraph.Graph, error) {
	nodes, edges, unaggregated, err := agg.GraphAggregates(ctx, from, to)
	if err != nil {
		return servicegraph.Graph{}, fmt.Errorf("graph aggregates: %w", err)
	}
	const chunk = 500
	for ids := range slices.Chunk(unaggregated, chunk) {
		traces, err := trace.Load(ctx, r, ids)
		if err != nil {
			return servicegraph.Graph{}, err
		}
		list := make([]*model.Trace, 0, len(traces))
		for _, id := range ids {
			if t := traces[id]; t != nil {
				list = append(list, t)
			}
		}
		n, e := servicegraph.Aggregate(list, servicegraph.Options{Start: secs(from), End: secs(to)})
		nodes, edges = append(nodes, n...), append(edges, e...)
	}
	return servicegraph.BuildFromAggregates(nodes, edges), nil
}

func (a *API) traceGraph(w http.ResponseWriter, r *http.Request) {
	var req traceIDsRequest
	if !decode(w, r, &req) {
		return
	}
	if len(req.TraceIds) == 0 {
		invalid(w, "TraceIds: at least one trace id is required")
		return
	}
	traces, err := trace.Load(r.Context(), a.Store, req.TraceIds)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	list := make([]*model.Trace, 0, len(traces))
	for _, id := range req.TraceIds {
		if t := traces[id]; t != nil {
			list = append(list, t)
		}
	}
	g := servicegraph.TraceGraph(list)
	awserr.JSON(w, map[string]any{"Services": nonNil(g.Services)})
}

type timeSeriesRequest struct {
	StartTime                *float64 `json:"StartTime"`
	EndTime                  *float64 `json:"EndTime"`
	EntitySelectorExpression string   `json:"EntitySelectorExpression"`
	GroupName                string   `json:"GroupName"`
	GroupARN                 string   `json:"GroupARN"`
	Period                   *int     `json:"Period"`
	NextToken                string   `json:"NextToken"`
}

func (a *API) timeSeries(w http.ResponseWriter, r *http.Request) {
	var req timeSeriesRequest
	if !decode(w, r, &req) {
		return
	}
	from, to, err := timeRange(req.StartTime, req.EndTime)
	if err != nil {
		invalid(w, err.Error())
		return
	}
	period := 60
	if req.Period != nil {
		if *req.Period < 60 || *req.Period%60 != 0 {
			invalid(w, "Period: a multiple of 60 seconds")
			return
		}
		period = *req.Period
	}
	if (to-from)/1e6/int64(period) > 10000 {
		invalid(w, "Period: too small for the time range (more than 10,000 periods)")
		return
	}
	selector := func(servicegraph.NodeKey) bool { return true }
	var traceExpr filter.Expr
	if req.EntitySelectorExpression != "" {
		sel, _, err := servicegraph.ParseEntitySelector(req.EntitySelectorExpression)
		if err != nil {
			invalid(w, fmt.Sprintf("EntitySelectorExpression: %v", err))
			return
		}
		selector = sel
		// A { filter } block narrows the traces, so the whole expression
		// is applied as a trace filter.
		if traceExpr, err = parseFilter(req.EntitySelectorExpression); err != nil {
			invalid(w, err.Error())
			return
		}
	}
	groupExpr, err := a.groupFilter(r.Context(), req.GroupName, req.GroupARN)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	traces, _, err := trace.LoadCandidates(r.Context(), a.Store, from-60e6, to, a.MaxGraphTraces, both(traceExpr, groupExpr))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	keep := traces[:0]
	tf, gf := a.traceFilter(r, traceExpr), a.traceFilter(r, groupExpr)
	for _, t := range traces {
		if (tf == nil || tf(t)) && (gf == nil || gf(t)) {
			keep = append(keep, t)
		}
	}
	stats := servicegraph.TimeSeries(keep, selector, time.Duration(period)*time.Second, secs(from), secs(to))
	awserr.JSON(w, map[string]any{"TimeSeriesServiceStatistics": nonNil(stats), "ContainsOldGroupVersions": false})
}
