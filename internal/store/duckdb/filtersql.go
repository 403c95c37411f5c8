package duckdb

import (
	"fmt"

	"github.com/sightline/sightline/internal/filter"
)

// A filter expression compiles to a SQL condition on a trace_id column
// that every matching trace satisfies: a necessary condition, so the
// database can skip traces that cannot match, while the reference
// evaluator (filter.Evaluate on the assembled trace) still decides.
//
// Each part of the expression compiles to a superset of the traces it
// matches, and is marked exact when it matches exactly those traces on a
// regular trace: one whose stored documents have distinct ids and which
// holds no independent subsegment (type "subsegment") — for such a trace
// the assembled segments are exactly the stored documents plus the
// inferred nodes of their calls. NOT of a superset is no superset, so
// "!X" compiles only when X is exact, as "NOT X OR the trace is
// irregular"; otherwise it is TRUE. AND and OR keep supersets, and are
// exact when both sides are.
//
// What compiles (documents are stored segments, calls are the aws,
// remote and sql subsegments in segment_calls that become inferred nodes):
//
//   - exact: annotation.KEY (any operator), user, throttle, partial,
//     inferred, root, service(name/type selector) { exact filter }, and
//     inside service(): ok/error/fault/throttle/partial/inferred flags,
//     http.status, http.url/method/useragent/clientip, user, name, type
//     and annotations;
//   - supersets: the keywords read from the root segment (fault, error,
//     ok, responsetime, http.*, name, type) become "some document or call
//     has it", because which document is the root is only known after
//     assembly; responsetime/duration comparisons allow 2 µs of slack
//     because times are stored in microseconds; service(id(account.id:
//     ...)) ignores the account; edge(a, b) becomes "a has a segment and b
//     has a node";
//   - TRUE: duration, message, availabilityzone, instance.id,
//     resource.arn, root inside service(), group.name/group.arn (resolved
//     by the evaluator), rootcause.*, and NOT of anything inexact.

// durationSlack absorbs the rounding of times to microseconds.
const durationSlack = 2e-6

// frag is a compiled SQL condition with its positional arguments.
type frag struct {
	sql   string
	args  []any
	exact bool
	// regular: a row condition that is a superset only on regular traces
	// (it reads a document's subtree, which an attached independent
	// subsegment extends); someNode adds the irregular traces.
	regular bool
}

var (
	fragTrue   = frag{sql: "TRUE", exact: false}
	exactTrue  = frag{sql: "TRUE", exact: true}
	exactFalse = frag{sql: "FALSE", exact: true}
)

func (f frag) isConst(v string) bool { return f.sql == v }

func and(a, b frag) frag {
	switch {
	case a.isConst("FALSE") && a.exact, b.isConst("FALSE") && b.exact:
		return exactFalse
	case a.isConst("TRUE"):
		return frag{b.sql, b.args, a.exact && b.exact, b.regular}
	case b.isConst("TRUE"):
		return frag{a.sql, a.args, a.exact && b.exact, a.regular}
	}
	return frag{"(" + a.sql + " AND " + b.sql + ")", concat(a.args, b.args), a.exact && b.exact, a.regular || b.regular}
}

func or(a, b frag) frag {
	switch {
	case a.isConst("TRUE") && a.exact, b.isConst("TRUE") && b.exact:
		return exactTrue
	case a.isConst("TRUE") || b.isConst("TRUE"):
		return fragTrue
	case a.isConst("FALSE"):
		return frag{b.sql, b.args, a.exact && b.exact, b.regular}
	case b.isConst("FALSE"):
		return frag{a.sql, a.args, a.exact && b.exact, a.regular}
	}
	return frag{"(" + a.sql + " OR " + b.sql + ")", concat(a.args, b.args), a.exact && b.exact, a.regular || b.regular}
}

func concat(a, b []any) []any {
	out := make([]any, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// nodeKind is a table of nodes a keyword is read from.
type nodeKind int

const (
	docs  nodeKind = iota // stored documents: segments
	calls                 // downstream calls: segment_calls
)

// nodeFrags is a row condition for documents and one for calls.
type nodeFrags [2]frag

// compiled is what compileFilter returns.
type compiled struct {
	cond frag
	// irregular: cond refers to the irregular CTE.
	irregular bool
	// answered: cond refers to the answered CTE.
	answered bool
}

// compileFilter compiles e into a necessary condition on trace_id.
func compileFilter(e filter.Expr) compiled {
	c := &compiler{}
	f := c.trace(e)
	return compiled{cond: f, irregular: c.irregular, answered: c.answered}
}

type compiler struct {
	irregular, answered bool
}

// listedOnly marks where a side-table scan is restricted to the traces
// being listed; ListTraces replaces it with the spool sequence range of
// their Writes (listedSeqBounds), so scans stay within the window.
const listedOnly = "trace_id IN (SELECT trace_id FROM listed)"

// in makes "trace_id IN (SELECT trace_id FROM table WHERE cond)".
func in(table string, cond frag) frag {
	if cond.isConst("FALSE") {
		return frag{sql: "FALSE", exact: cond.exact}
	}
	return frag{sql: "trace_id IN (SELECT trace_id FROM " + table + " WHERE " + listedOnly + " AND " + cond.sql + ")", args: cond.args, exact: cond.exact}
}

// someNode: some document or call satisfies the row conditions. Calls
// count only when no stored segment answered them (then they are
// inferred nodes).
// rootCandidates selects the trace ids of the documents with a condition
// (%[1]s) that model.Trace.Root can choose: those whose parent is not a
// subsegment of the trace. Calls are the only subsegments stored, so this
// keeps documents whose parent is no call: a superset (it keeps children
// of local subsegments too). The calls are first narrowed to the parents
// of the matching documents, so the anti join is built on a few rows.
const rootCandidates = `SELECT d.trace_id FROM (SELECT trace_id, parent_id FROM segments WHERE ` + listedOnly + ` AND %[1]s) AS d
	ANTI JOIN (SELECT trace_id AS call_trace, sub_id FROM segment_calls WHERE ` + listedOnly + `
		AND sub_id IN (SELECT parent_id FROM segments WHERE ` + listedOnly + ` AND %[1]s)) AS calls
	ON calls.call_trace = d.trace_id AND calls.sub_id = d.parent_id`

// rootNode compiles a keyword read from the root segment: some root
// candidate has it, or the trace has no document without a parent (when
// every segment claims a parent in the trace, Root falls back to the
// earliest segment, an inferred one possibly). trace.Summarize reads
// these keywords from the root alone.
func (c *compiler) rootNode(cond frag) frag {
	if cond.isConst("FALSE") {
		return exactFalse
	}
	candidates := frag{sql: "trace_id IN (" + fmt.Sprintf(rootCandidates, cond.sql) + ")", args: concat(cond.args, cond.args)}
	f := or(candidates, frag{sql: "trace_id NOT IN (SELECT trace_id FROM segments WHERE " + listedOnly + " AND parent_id IS NULL)"})
	f = c.orIrregular(f, cond.regular)
	f.exact = false
	return f
}

// orIrregular adds the irregular traces to f when its row conditions hold
// only on regular traces.
func (c *compiler) orIrregular(f frag, regular bool) frag {
	if !regular {
		return f
	}
	c.irregular = true
	return or(f, frag{sql: "trace_id IN (SELECT trace_id FROM irregular)", exact: true})
}

func (c *compiler) someNode(n nodeFrags) frag {
	d := in("segments", n[docs])
	cl := n[calls]
	if !cl.isConst("FALSE") {
		cl = frag{sql: "trace_id IN (SELECT trace_id FROM segment_calls ANTI JOIN answered ON answered.child_trace = segment_calls.trace_id AND answered.child_parent = segment_calls.sub_id WHERE " +
			listedOnly + " AND " + cl.sql + ")", args: cl.args, exact: cl.exact}
		c.answered = true
	}
	return c.orIrregular(or(d, cl), n[docs].regular || n[calls].regular)
}

// answeredCTE lists the parent ids of the listed traces' segments: a call
// named by one was answered by an instrumented service. An explicit anti
// join: a correlated NOT EXISTS restricted to the listed traces made
// DuckDB plan a cross product.
const answeredCTE = `answered AS (
	SELECT trace_id AS child_trace, parent_id AS child_parent FROM segments
	WHERE trace_id IN (SELECT trace_id FROM listed) AND parent_id IS NOT NULL)`

// notConst folds NOT of an inexact or constant condition; ok is false
// when f needs a real negation.
func notConst(f frag) (folded frag, ok bool) {
	switch {
	case !f.exact:
		return fragTrue, true
	case f.isConst("TRUE"):
		return exactFalse, true
	case f.isConst("FALSE"):
		return exactTrue, true
	}
	return frag{}, false
}

func (c *compiler) not(f frag) frag {
	if folded, ok := notConst(f); ok {
		return folded
	}
	c.irregular = true
	return frag{sql: "(NOT coalesce(" + f.sql + ", FALSE) OR trace_id IN (SELECT trace_id FROM irregular))", args: f.args, exact: true}
}

func (c *compiler) trace(e filter.Expr) frag {
	switch e := e.(type) {
	case *filter.BinaryExpr:
		l, r := c.trace(e.LHS), c.trace(e.RHS)
		if e.Op == filter.OpOr {
			return or(l, r)
		}
		return and(l, r)
	case *filter.NotExpr:
		return c.negated(e.X)
	case *filter.Comparison:
		return c.traceComparison(e)
	case *filter.AnnotationExpr:
		return in("segment_annotations", annotationRow(e, true))
	case *filter.ServiceExpr:
		return c.service(e.ID, e.Filter)
	case *filter.EdgeExpr:
		from := in("segments", selector(e.From, docs))
		to := c.someNode(nodeFrags{selector(e.To, docs), selector(e.To, calls)})
		f := and(from, to)
		f.exact = false
		return f
	}
	// group.*, rootcause.*: resolved by the evaluator.
	return fragTrue
}

func (c *compiler) service(id filter.ServiceID, f filter.Expr) frag {
	var n nodeFrags
	for _, k := range []nodeKind{docs, calls} {
		n[k] = selector(id, k)
		if f != nil {
			n[k] = and(n[k], c.row(f, k))
		}
	}
	return c.someNode(n)
}

func selector(id filter.ServiceID, k nodeKind) frag {
	f := exactTrue
	if id.Name != "" {
		f = and(f, frag{"name = ?", []any{id.Name}, true, false})
	}
	if id.Type != "" {
		f = and(f, frag{col(k, "type") + " = ?", []any{id.Type}, true, false})
	}
	if id.AccountID != "" {
		f.exact = false // aws.account_id is not stored
	}
	return f
}

// col maps a node attribute to its column in the table of k.
func col(k nodeKind, attr string) string {
	if k == docs && attr == "type" {
		return "origin"
	}
	return attr
}

var stringColumns = map[string]string{
	"http.url": "http_url", "http.method": "http_method", "http.useragent": "user_agent",
	"http.clientip": "client_ip", "name": "name", "type": "type",
}

// rowBool is a boolean keyword of one node; ok reports whether it
// compiles exactly.
func rowBool(kw string, k nodeKind) (frag, bool) {
	fault := "coalesce(fault OR http_status >= 500, fault)"
	errs := "coalesce(error OR (http_status >= 400 AND http_status < 500), error)"
	throttle := "coalesce(throttle OR http_status = 429, throttle)"
	switch kw {
	case "fault":
		return frag{fault, nil, true, false}, true
	case "error":
		return frag{errs, nil, true, false}, true
	case "throttle":
		return frag{throttle, nil, true, false}, true
	case "ok":
		return frag{"NOT (" + fault + " OR " + errs + " OR " + throttle + ")", nil, true, false}, true
	case "partial":
		if k == docs {
			return frag{sql: "(in_progress OR coalesce(sub_in_progress, FALSE))", exact: true, regular: true}, true
		}
		return frag{sql: "in_progress", exact: true}, true
	case "inferred":
		if k == calls {
			return exactTrue, true
		}
		return exactFalse, true
	case "root":
		return fragTrue, false
	}
	return exactFalse, true
}

// boolValue reports whether a boolean comparison asks for the keyword
// being true.
func boolValue(c *filter.Comparison) bool {
	switch c.Op {
	case filter.OpEq:
		return c.Value.Bool
	case filter.OpNeq:
		return !c.Value.Bool
	}
	return true
}

func rowNot(f frag) frag {
	if folded, ok := notConst(f); ok {
		return folded
	}
	return frag{"NOT coalesce(" + f.sql + ", FALSE)", f.args, true, f.regular}
}

// row compiles a filter in service scope into a condition on one node row
// of kind k.
func (c *compiler) row(e filter.Expr, k nodeKind) frag {
	switch e := e.(type) {
	case *filter.BinaryExpr:
		l, r := c.row(e.LHS, k), c.row(e.RHS, k)
		if e.Op == filter.OpOr {
			return or(l, r)
		}
		return and(l, r)
	case *filter.NotExpr:
		return rowNot(c.row(e.X, k))
	case *filter.Comparison:
		return rowComparison(e, k)
	case *filter.AnnotationExpr:
		if k == calls {
			return exactFalse // inferred nodes carry no annotations
		}
		a := annotationRow(e, false)
		return frag{"EXISTS (SELECT 1 FROM segment_annotations a WHERE a.trace_id = segments.trace_id AND a.doc_id = segments.id AND " + a.sql + ")", a.args, true, true}
	}
	return fragTrue
}

func rowComparison(e *filter.Comparison, k nodeKind) frag {
	switch filter.Keywords[e.Keyword] {
	case filter.BoolKeyword:
		f, _ := rowBool(e.Keyword, k)
		if boolValue(e) {
			return f
		}
		return rowNot(f)
	case filter.NumberKeyword:
		switch e.Keyword {
		case "responsetime", "duration":
			d := "(end_us - start_us) / 1e6"
			cmp := slackCompare(d, e.Op, e.Value.Num)
			cmp.sql = "(NOT in_progress AND (end_us IS NULL OR " + cmp.sql + "))"
			return cmp
		case "http.status":
			return numCompare("http_status", e.Op, e.Value.Num)
		}
		return exactFalse
	case filter.StringKeyword:
		switch e.Keyword {
		case "user":
			if k == calls {
				return exactFalse
			}
			return strCompare("user_name", e.Op, e.Value.Str)
		case "name", "type", "http.url", "http.method", "http.useragent", "http.clientip":
			return strCompare(col(k, stringColumns[e.Keyword]), e.Op, e.Value.Str)
		}
	}
	return fragTrue
}

// slackCompare compares a duration in seconds computed from microseconds
// with a literal, widened by durationSlack so it stays a superset.
func slackCompare(expr string, op filter.CompareOp, v float64) frag {
	switch op {
	case filter.OpGt, filter.OpGte:
		return frag{"coalesce(" + expr + " >= ?, FALSE)", []any{v - durationSlack}, false, false}
	case filter.OpLt, filter.OpLte:
		return frag{"coalesce(" + expr + " <= ?, FALSE)", []any{v + durationSlack}, false, false}
	case filter.OpEq:
		return frag{"coalesce(abs(" + expr + " - ?) <= ?, FALSE)", []any{v, durationSlack}, false, false}
	}
	return fragTrue
}

var sqlOps = map[filter.CompareOp]string{
	filter.OpEq: "=", filter.OpNeq: "<>", filter.OpLt: "<", filter.OpLte: "<=", filter.OpGt: ">", filter.OpGte: ">=",
}

func numCompare(column string, op filter.CompareOp, v float64) frag {
	o, ok := sqlOps[op]
	if !ok {
		return exactFalse
	}
	return frag{"coalesce(CAST(" + column + " AS DOUBLE) " + o + " ?, FALSE)", []any{v}, true, false}
}

// strCompare matches the evaluator's string comparisons; an empty value
// is stored as NULL, which is "no value".
func strCompare(column string, op filter.CompareOp, v string) frag {
	var sql string
	switch op {
	case filter.OpNone:
		return frag{column + " IS NOT NULL", nil, true, false}
	case filter.OpEq:
		sql = column + " = ?"
	case filter.OpNeq:
		sql = column + " <> ?"
	case filter.OpContains:
		sql = "contains(" + column + ", ?)"
	case filter.OpBeginsWith:
		sql = "starts_with(" + column + ", ?)"
	case filter.OpEndsWith:
		sql = "ends_with(" + column + ", ?)"
	default:
		return exactFalse
	}
	return frag{"coalesce(" + sql + ", FALSE)", []any{v}, true, false}
}

// annotationRow is a condition on a segment_annotations row. At trace
// level only string, number and boolean values count (the summary skips
// others); in service scope a bare key counts any value.
func annotationRow(e *filter.AnnotationExpr, traceLevel bool) frag {
	key := frag{"key = ?", []any{e.Key}, true, false}
	if e.Op == filter.OpNone {
		if traceLevel {
			return and(key, frag{"(str_value IS NOT NULL OR num_value IS NOT NULL OR bool_value IS NOT NULL)", nil, true, false})
		}
		return key
	}
	var v frag
	switch e.Value.Kind {
	case filter.ValueNumber:
		v = numCompare("num_value", e.Op, e.Value.Num)
	case filter.ValueBool:
		want := e.Value.Bool
		if e.Op != filter.OpEq {
			want = !want
		}
		v = frag{"coalesce(bool_value = ?, FALSE)", []any{want}, true, false}
	case filter.ValueString:
		if e.Op == filter.OpNone {
			v = exactTrue
		} else {
			v = strCompare("str_value", e.Op, e.Value.Str)
		}
	default:
		return exactFalse
	}
	return and(key, v)
}

// traceComparison compiles a simple keyword at trace level.
// negated compiles NOT e, pushing the negation down (De Morgan, double
// negation) to boolean keywords, whose negation is the keyword compared
// with false: a superset of its own, where NOT of a superset is only TRUE.
func (c *compiler) negated(e filter.Expr) frag {
	switch e := e.(type) {
	case *filter.NotExpr:
		return c.trace(e.X)
	case *filter.BinaryExpr:
		l, r := c.negated(e.LHS), c.negated(e.RHS)
		if e.Op == filter.OpOr {
			return and(l, r)
		}
		return or(l, r)
	case *filter.Comparison:
		if filter.Keywords[e.Keyword] == filter.BoolKeyword {
			return c.traceComparison(&filter.Comparison{Keyword: e.Keyword, Op: filter.OpEq, Value: filter.Value{Kind: filter.ValueBool, Bool: !boolValue(e)}})
		}
	}
	return c.not(c.trace(e))
}

func (c *compiler) traceComparison(e *filter.Comparison) frag {
	switch filter.Keywords[e.Keyword] {
	case filter.BoolKeyword:
		want := boolValue(e)
		switch e.Keyword {
		case "fault", "error", "ok":
			// Read from the root: some node has the flag (or, negated,
			// lacks it).
			f, _ := rowBool(e.Keyword, docs)
			if !want {
				f = rowNot(f)
			}
			root := c.rootNode(f)
			if e.Keyword == "ok" && !want {
				// not ok: the root failed, or any segment was throttled.
				t, _ := rowBool("throttle", docs)
				root = or(root, in("segments", or(t, frag{"coalesce(sub_throttle, FALSE)", nil, true, false})))
				root.exact = false
			}
			return root
		case "throttle", "partial":
			var f frag
			if e.Keyword == "throttle" {
				t, _ := rowBool("throttle", docs)
				f = in("segments", or(t, frag{"coalesce(sub_throttle, FALSE)", nil, true, false}))
			} else {
				p, _ := rowBool("partial", docs)
				f = in("segments", p)
			}
			f.regular = false // the trace's own rows, independent subsegments included
			if want {
				return f
			}
			return c.not(f)
		case "inferred":
			f := c.someNode(nodeFrags{exactFalse, exactTrue})
			if want {
				return f
			}
			return c.not(f)
		case "root":
			if want {
				return exactTrue
			}
			return exactFalse
		}
		// first, last, remote: no value at trace level, so false.
		if want {
			return exactFalse
		}
		return exactTrue
	case filter.NumberKeyword:
		switch e.Keyword {
		case "responsetime":
			rt := "(CASE WHEN in_progress OR end_us IS NULL THEN 0 ELSE (end_us - start_us) / 1e6 END)"
			return c.rootNode(slackCompare(rt, e.Op, e.Value.Num))
		case "http.status":
			return c.rootNode(numCompare("http_status", e.Op, e.Value.Num))
		case "duration":
			return fragTrue
		}
		return exactFalse // index, coverage: no value at trace level
	case filter.StringKeyword:
		switch e.Keyword {
		case "user":
			return or(in("segments", strCompare("user_name", e.Op, e.Value.Str)),
				in("segment_users", strCompare("user_name", e.Op, e.Value.Str)))
		case "name", "type", "http.url", "http.method", "http.useragent", "http.clientip":
			return c.rootNode(strCompare(col(docs, stringColumns[e.Keyword]), e.Op, e.Value.Str))
		}
	}
	return fragTrue
}

// irregularCTE lists the listed traces whose assembly is not simply their
// stored documents (see the top of this file).
const irregularCTE = `irregular AS (
	SELECT trace_id FROM segments WHERE doc_type = 'subsegment' AND trace_id IN (SELECT trace_id FROM listed)
	UNION ALL
	SELECT trace_id FROM segments WHERE trace_id IN (SELECT trace_id FROM listed) GROUP BY trace_id, id HAVING count(*) > 1)`
