package servicegraph

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/filter"
	"github.com/sightline/sightline/internal/model"
)

// DefaultPeriod is the period X-Ray uses when the request names none.
const DefaultPeriod = time.Minute

// TimeSeries computes GetTimeSeriesServiceStatistics for the nodes the
// selector accepts: per period, the statistics of their own segments
// (ServiceSummaryStatistics, ResponseTimeHistogram) and of the calls into
// them as their callers saw them (EdgeSummaryStatistics). A segment falls
// into the period that holds its end time; only segments ending in
// [start, end) count (zero times leave that side open, and periods are
// then aligned on the Unix epoch). Periods without data are left out;
// the result is ordered by Timestamp.
func TimeSeries(traces []*model.Trace, selector func(NodeKey) bool, period time.Duration, start, end time.Time) []TimeSeriesServiceStatistics {
	if period <= 0 {
		period = DefaultPeriod
	}
	opts := Options{Start: start, End: end}
	w := &walker{win: opts.window()}
	origin := 0.0
	if !start.IsZero() {
		origin = w.win.lo
	}
	p := period.Seconds()

	type bucket struct {
		service, edge Counts
		hist          histo
	}
	buckets := map[int64]*bucket{}
	selected := map[NodeKey]bool{}
	visit := func(c call) {
		k := nodeKey(c.seg)
		ok, seen := selected[k]
		if !seen {
			ok = selector == nil || selector(k)
			selected[k] = ok
		}
		if !ok {
			return
		}
		i := int64(math.Floor((c.seg.EndTime - origin) / p))
		b := buckets[i]
		if b == nil {
			b = &bucket{}
			buckets[i] = b
		}
		d := duration(c.seg)
		b.service.count(healthOf(c.seg), d)
		b.hist.add(HistogramMillis(d))
		if c.caller != nil || c.seg.Origin != rumOrigin {
			_, _, secs := callDuration(c)
			b.edge.count(healthOf(c.via), secs)
		}
	}
	for _, t := range traces {
		if t != nil {
			w.trace(t, visit)
		}
	}

	out := make([]TimeSeriesServiceStatistics, 0, len(buckets))
	for i, b := range buckets {
		ts := TimeSeriesServiceStatistics{
			Timestamp:             origin + float64(i)*p,
			ResponseTimeHistogram: histogram(b.hist.rows()),
		}
		st := b.service.Statistics()
		ts.ServiceSummaryStatistics = &st
		if b.edge.Total() > 0 {
			es := b.edge.Statistics()
			ts.EdgeSummaryStatistics = &es
		}
		out = append(out, ts)
	}
	slices.SortFunc(out, func(a, b TimeSeriesServiceStatistics) int {
		switch {
		case a.Timestamp < b.Timestamp:
			return -1
		case a.Timestamp > b.Timestamp:
			return 1
		}
		return 0
	})
	return out
}

// SelectorFromNameType accepts the node with this name and type; an empty
// argument matches anything, like id() in filter expressions.
func SelectorFromNameType(name, typ string) func(NodeKey) bool {
	return func(k NodeKey) bool {
		return (name == "" || k.Name == name) && (typ == "" || k.Type == typ)
	}
}

// ErrUnsupportedSelector reports an EntitySelectorExpression that names
// something other than one service.
var ErrUnsupportedSelector = errors.New("entity selector must be service(...) or id(...) without account.id")

// ParseEntitySelector reads an EntitySelectorExpression such as
// `service("api")`, `service(id(name: "api", type: "AWS::EC2::Instance"))`
// or `id(name: "api", type: "AWS::EC2::Instance")`, optionally with a
// `{ filter }` block. It returns the node predicate and the block (nil when
// absent); the block narrows traces, not nodes, so the API layer applies
// the whole expression as a trace filter before calling TimeSeries.
func ParseEntitySelector(expr string) (func(NodeKey) bool, filter.Expr, error) {
	e, err := filter.Parse(expr)
	if err != nil {
		return nil, nil, fmt.Errorf("parse entity selector: %w", err)
	}
	svc, ok := e.(*filter.ServiceExpr)
	if !ok || svc.ID.AccountID != "" {
		return nil, nil, fmt.Errorf("parse entity selector %q: %w", expr, ErrUnsupportedSelector)
	}
	return SelectorFromNameType(svc.ID.Name, svc.ID.Type), svc.Filter, nil
}
