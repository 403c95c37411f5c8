package filter

import (
	"encoding/json"
	"math"
	"strings"

	"github.com/sightline/sightline/internal/model"
)

// GroupResolver returns the filter expression of a group, looked up by name
// or by ARN.
type GroupResolver interface {
	GroupExpression(byARN bool, key string) (expr string, ok bool)
}

// GroupResolverFunc adapts a function to GroupResolver.
type GroupResolverFunc func(byARN bool, key string) (string, bool)

// GroupExpression implements GroupResolver.
func (f GroupResolverFunc) GroupExpression(byARN bool, key string) (string, bool) {
	return f(byARN, key)
}

// EvalContext is what evaluation needs besides the trace itself.
type EvalContext struct {
	// Groups resolves group.name / group.arn; without it, or for an unknown
	// group, "group.name = x" is false (and "!=" true).
	Groups GroupResolver
}

// maxGroupDepth stops groups that refer to each other from looping.
const maxGroupDepth = 8

// Evaluate reports whether an assembled trace matches e. It is the
// reference semantics that every store backend's compiled SQL must agree
// with. sum must be the trace's summary (query/trace.Summarize): trace-level
// keywords read it, so a backend can answer them from summary columns.
//
// Keyword semantics, per scope, are documented next to each subject below:
// trace scope (top level), service scope (inside service(){}), edge scope
// (inside edge(){}) and root-cause scope (inside rootcause.*{}). A keyword
// that has no value in a scope makes its comparison false; a boolean
// keyword without a value is false.
func Evaluate(e Expr, t *model.Trace, sum *model.TraceSummary, ctx EvalContext) bool {
	if t == nil {
		t = &model.Trace{}
	}
	if sum == nil {
		sum = &model.TraceSummary{}
	}
	ev := &evaluator{t: t, sum: sum, ctx: ctx}
	return ev.eval(e, &traceSubject{ev: ev})
}

type evaluator struct {
	t          *model.Trace
	sum        *model.TraceSummary
	ctx        EvalContext
	groupDepth int

	indexed bool
	root    *model.Segment
	// callers maps a subsegment id to the segment holding it, so a segment
	// whose parent_id names it is the callee of an edge.
	callers map[string]caller
}

type caller struct {
	seg, sub *model.Segment
}

func (ev *evaluator) index() {
	if ev.indexed {
		return
	}
	ev.indexed = true
	ev.root = ev.t.Root()
	ev.callers = make(map[string]caller)
	for _, s := range ev.t.Segments {
		for _, sub := range s.Subsegments {
			sub.Walk(func(n *model.Segment) bool {
				ev.callers[n.ID] = caller{seg: s, sub: n}
				return true
			})
		}
	}
}

// subject is the thing a keyword is read from in the current scope.
type subject interface {
	boolean(kw string) bool
	number(kw string) (float64, bool)
	strs(kw string) []string
	annotation(key string) []any
}

func (ev *evaluator) eval(e Expr, s subject) bool {
	switch e := e.(type) {
	case *BinaryExpr:
		if e.Op == OpOr {
			return ev.eval(e.LHS, s) || ev.eval(e.RHS, s)
		}
		return ev.eval(e.LHS, s) && ev.eval(e.RHS, s)
	case *NotExpr:
		return !ev.eval(e.X, s)
	case *Comparison:
		return compare(e, s)
	case *AnnotationExpr:
		return compareAnnotation(e, s.annotation(e.Key))
	case *ServiceExpr:
		return ev.service(e)
	case *EdgeExpr:
		return ev.edge(e)
	case *GroupExpr:
		return ev.group(e, s)
	case *RootCauseExpr:
		return ev.rootCause(e)
	case *RootCauseJSONExpr:
		return ev.rootCauseJSON(e)
	}
	return false
}

func compare(c *Comparison, s subject) bool {
	switch Keywords[c.Keyword] {
	case BoolKeyword:
		v := s.boolean(c.Keyword)
		switch c.Op {
		case OpNone:
			return v
		case OpEq:
			return v == c.Value.Bool
		case OpNeq:
			return v != c.Value.Bool
		}
	case NumberKeyword:
		v, ok := s.number(c.Keyword)
		return ok && compareNumber(c.Op, v, c.Value.Num)
	case StringKeyword:
		// String keywords may have several values (e.g. users of all
		// segments): the comparison holds if any value satisfies it.
		for _, v := range s.strs(c.Keyword) {
			if c.Op == OpNone || compareString(c.Op, v, c.Value.Str) {
				return true
			}
		}
	}
	return false
}

func compareNumber(op CompareOp, a, b float64) bool {
	switch op {
	case OpEq:
		return a == b
	case OpNeq:
		return a != b
	case OpLt:
		return a < b
	case OpLte:
		return a <= b
	case OpGt:
		return a > b
	case OpGte:
		return a >= b
	}
	return false
}

func compareString(op CompareOp, a, b string) bool {
	switch op {
	case OpEq:
		return a == b
	case OpNeq:
		return a != b
	case OpContains:
		return strings.Contains(a, b)
	case OpBeginsWith:
		return strings.HasPrefix(a, b)
	case OpEndsWith:
		return strings.HasSuffix(a, b)
	}
	return false
}

// compareAnnotation: bare means the key is set; otherwise some value of the
// key (on any segment in scope) of the literal's type satisfies the
// operator. Values of another type never match, so "annotation.n != 5" is
// false when n only holds strings.
func compareAnnotation(e *AnnotationExpr, vals []any) bool {
	if e.Op == OpNone {
		return len(vals) > 0
	}
	for _, v := range vals {
		switch e.Value.Kind {
		case ValueNumber:
			if n, ok := toNumber(v); ok && compareNumber(e.Op, n, e.Value.Num) {
				return true
			}
		case ValueBool:
			if b, ok := v.(bool); ok && (e.Op == OpEq) == (b == e.Value.Bool) {
				return true
			}
		case ValueString:
			if s, ok := v.(string); ok && compareString(e.Op, s, e.Value.Str) {
				return true
			}
		}
	}
	return false
}

func toNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// service: some segment of a service matching the selector satisfies the
// filter in service scope; without a filter, the trace reaches the service.
func (ev *evaluator) service(e *ServiceExpr) bool {
	ev.index()
	for _, s := range ev.t.Segments {
		if !matchService(e.ID, s) {
			continue
		}
		if e.Filter == nil || ev.eval(e.Filter, &segmentSubject{ev: ev, seg: s}) {
			return true
		}
	}
	return false
}

// edge: some call from a segment of the From service, through one of its
// subsegments, to a segment of the To service (whose parent_id is that
// subsegment) satisfies the filter in edge scope.
func (ev *evaluator) edge(e *EdgeExpr) bool {
	ev.index()
	for _, callee := range ev.t.Segments {
		c, ok := ev.callers[callee.ParentID]
		if callee.ParentID == "" || !ok || c.seg == callee {
			continue
		}
		if !matchService(e.From, c.seg) || !matchService(e.To, callee) {
			continue
		}
		if e.Filter == nil || ev.eval(e.Filter, &edgeSubject{ev: ev, caller: c.seg, sub: c.sub, callee: callee}) {
			return true
		}
	}
	return false
}

// matchService compares a selector with a segment's service identity:
// name = segment name, type = origin, account = aws.account_id.
func matchService(id ServiceID, s *model.Segment) bool {
	if id.Name != "" && id.Name != s.Name {
		return false
	}
	if id.Type != "" && id.Type != s.Origin {
		return false
	}
	if id.AccountID != "" && id.AccountID != s.DecodeAWS().AccountID {
		return false
	}
	return true
}

// group evaluates the group's own expression in the current scope;
// "group.name != x" is its negation.
func (ev *evaluator) group(e *GroupExpr, s subject) bool {
	matched := false
	if ev.ctx.Groups != nil && ev.groupDepth < maxGroupDepth {
		if src, ok := ev.ctx.Groups.GroupExpression(e.ByARN, e.Value); ok {
			if ge, err := Parse(src); err == nil {
				ev.groupDepth++
				matched = ev.eval(ge, s)
				ev.groupDepth--
			}
		}
	}
	return matched != e.Negate
}

// ---- trace scope ----------------------------------------------------------

// traceSubject answers keywords at trace level: from the summary and the
// root segment, as X-Ray's "simple keywords find issues only at the trace
// level".
type traceSubject struct{ ev *evaluator }

func (s *traceSubject) boolean(kw string) bool {
	sum := s.ev.sum
	switch kw {
	case "ok": // root answered without fault, error or throttle
		return !sum.HasFault && !sum.HasError && !sum.HasThrottle
	case "error": // root segment has error (4xx)
		return sum.HasError
	case "throttle": // any segment was throttled (429)
		return sum.HasThrottle
	case "fault": // root segment has fault (5xx)
		return sum.HasFault
	case "partial": // some segment is still in progress
		return sum.IsPartial
	case "inferred": // the trace has inferred segments
		return len(s.ev.t.Inferred) > 0
	case "root": // a trace is its own root
		return true
	}
	return false
}

func (s *traceSubject) number(kw string) (float64, bool) {
	sum := s.ev.sum
	switch kw {
	case "responsetime": // root segment duration, seconds
		return sum.ResponseTime, true
	case "duration": // earliest start to latest end, seconds
		return sum.Duration, true
	case "http.status": // root segment's response status
		if sum.HTTP != nil && sum.HTTP.HTTPStatus != 0 {
			return float64(sum.HTTP.HTTPStatus), true
		}
	}
	return 0, false
}

func (s *traceSubject) strs(kw string) []string {
	sum := s.ev.sum
	h := sum.HTTP
	if h == nil {
		h = &model.TraceHTTP{}
	}
	switch kw {
	case "http.url": // root segment's request
		return nonEmpty(h.HTTPURL)
	case "http.method":
		return nonEmpty(h.HTTPMethod)
	case "http.useragent":
		return nonEmpty(h.UserAgent)
	case "http.clientip":
		return nonEmpty(h.ClientIP)
	case "user": // user of any segment
		var out []string
		for _, u := range sum.Users {
			out = append(out, nonEmpty(u.UserName)...)
		}
		return out
	case "name": // entry service name
		if sum.EntryPoint != nil {
			return nonEmpty(sum.EntryPoint.Name)
		}
	case "type": // entry service type (origin)
		if sum.EntryPoint != nil {
			return nonEmpty(sum.EntryPoint.Type)
		}
	case "message": // exception messages recorded on the root segment
		s.ev.index()
		if s.ev.root != nil {
			return exceptionMessages(s.ev.root, false)
		}
	case "availabilityzone": // of any segment
		var out []string
		for _, z := range sum.AvailabilityZones {
			out = append(out, nonEmpty(z.Name)...)
		}
		return out
	case "instance.id": // of any segment
		var out []string
		for _, i := range sum.InstanceIDs {
			out = append(out, nonEmpty(i.ID)...)
		}
		return out
	case "resource.arn": // of any segment
		var out []string
		for _, a := range sum.ResourceARNs {
			out = append(out, nonEmpty(a.ARN)...)
		}
		return out
	}
	return nil
}

// annotation at trace level: values of the key on any segment.
func (s *traceSubject) annotation(key string) []any {
	var out []any
	for _, v := range s.ev.sum.Annotations[key] {
		av := v.AnnotationValue
		switch {
		case av.StringValue != nil:
			out = append(out, *av.StringValue)
		case av.NumberValue != nil:
			out = append(out, *av.NumberValue)
		case av.BooleanValue != nil:
			out = append(out, *av.BooleanValue)
		}
	}
	return out
}

func nonEmpty(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

// exceptionMessages lists exception messages on seg (and, when deep, on
// its subsegments).
func exceptionMessages(seg *model.Segment, deep bool) []string {
	var out []string
	seg.Walk(func(n *model.Segment) bool {
		if c := n.DecodeCause(); c != nil {
			for _, x := range c.Exceptions {
				out = append(out, nonEmpty(x.Message)...)
			}
		}
		return deep || n == seg
	})
	return out
}

// ---- service scope --------------------------------------------------------

// segmentSubject answers keywords for one segment of a service (inside
// service(){}): the segment's own fields, with flags also derived from its
// HTTP status.
type segmentSubject struct {
	ev  *evaluator
	seg *model.Segment
}

func status(s *model.Segment) int {
	if s.HTTP != nil && s.HTTP.Response != nil {
		return s.HTTP.Response.Status
	}
	return 0
}

func isFault(s *model.Segment) bool    { return s.Fault || status(s) >= 500 }
func isError(s *model.Segment) bool    { return s.Error || (status(s) >= 400 && status(s) < 500) }
func isThrottle(s *model.Segment) bool { return s.Throttle || status(s) == 429 }

func segmentBool(ev *evaluator, seg *model.Segment, kw string) bool {
	switch kw {
	case "ok": // neither fault, error nor throttle
		return !isFault(seg) && !isError(seg) && !isThrottle(seg)
	case "error":
		return isError(seg)
	case "throttle":
		return isThrottle(seg)
	case "fault":
		return isFault(seg)
	case "partial": // the segment or one of its subsegments is in progress
		partial := false
		seg.Walk(func(n *model.Segment) bool { partial = partial || n.InProgress; return !partial })
		return partial
	case "inferred": // Sightline synthesised the segment from a subsegment
		return ev.t.Inferred[seg.ID]
	case "root": // the segment is the trace's entry point
		ev.index()
		return seg == ev.root
	}
	return false
}

func (s *segmentSubject) boolean(kw string) bool { return segmentBool(s.ev, s.seg, kw) }

func segmentNumber(seg *model.Segment, kw string) (float64, bool) {
	switch kw {
	case "responsetime", "duration": // the segment's own duration
		if seg.InProgress || seg.EndTime == 0 {
			return 0, false
		}
		return seg.EndTime - seg.StartTime, true
	case "http.status":
		if st := status(seg); st != 0 {
			return float64(st), true
		}
	}
	return 0, false
}

func (s *segmentSubject) number(kw string) (float64, bool) { return segmentNumber(s.seg, kw) }

func segmentStrings(seg *model.Segment, kw string) []string {
	var req model.HTTPRequest
	if seg.HTTP != nil && seg.HTTP.Request != nil {
		req = *seg.HTTP.Request
	}
	switch kw {
	case "http.url":
		return nonEmpty(req.URL)
	case "http.method":
		return nonEmpty(req.Method)
	case "http.useragent":
		return nonEmpty(req.UserAgent)
	case "http.clientip":
		return nonEmpty(req.ClientIP)
	case "user":
		return nonEmpty(seg.User)
	case "name": // service name = segment name
		return nonEmpty(seg.Name)
	case "type": // service type = origin
		return nonEmpty(seg.Origin)
	case "message": // exceptions anywhere in the segment
		return exceptionMessages(seg, true)
	case "availabilityzone", "instance.id":
		a := seg.DecodeAWS()
		if a.EC2 == nil {
			return nil
		}
		if kw == "instance.id" {
			return nonEmpty(a.EC2.InstanceID)
		}
		return nonEmpty(a.EC2.AvailabilityZone)
	case "resource.arn":
		return nonEmpty(seg.ResourceARN)
	}
	return nil
}

func (s *segmentSubject) strs(kw string) []string { return segmentStrings(s.seg, kw) }

// annotations of the segment and its subsegments.
func segmentAnnotations(seg *model.Segment, key string) []any {
	var out []any
	seg.Walk(func(n *model.Segment) bool {
		if v, ok := n.Annotations[key]; ok {
			out = append(out, v)
		}
		return true
	})
	return out
}

func (s *segmentSubject) annotation(key string) []any { return segmentAnnotations(s.seg, key) }

// ---- edge scope -----------------------------------------------------------

// edgeSubject answers keywords for one call: as in X-Ray's service map,
// edge statistics come from the caller's subsegment (flags, status,
// response time), while name/type/user describe the callee service.
type edgeSubject struct {
	ev                  *evaluator
	caller, sub, callee *model.Segment
}

func (s *edgeSubject) boolean(kw string) bool {
	switch kw {
	case "inferred": // the callee is an inferred node
		return s.ev.t.Inferred[s.callee.ID]
	case "root": // the caller is the trace's entry point
		s.ev.index()
		return s.caller == s.ev.root
	case "partial":
		return segmentBool(s.ev, s.sub, kw) || segmentBool(s.ev, s.callee, kw)
	}
	return segmentBool(s.ev, s.sub, kw)
}

func (s *edgeSubject) number(kw string) (float64, bool) {
	if v, ok := segmentNumber(s.sub, kw); ok {
		return v, true
	}
	return segmentNumber(s.callee, kw)
}

func (s *edgeSubject) strs(kw string) []string {
	switch kw {
	case "name", "type", "user", "availabilityzone", "instance.id", "resource.arn":
		return segmentStrings(s.callee, kw)
	case "message":
		return append(exceptionMessages(s.sub, true), exceptionMessages(s.callee, true)...)
	}
	if v := segmentStrings(s.sub, kw); len(v) > 0 {
		return v
	}
	return segmentStrings(s.callee, kw)
}

func (s *edgeSubject) annotation(key string) []any {
	return append(segmentAnnotations(s.sub, key), segmentAnnotations(s.callee, key)...)
}

// ---- root-cause scope -----------------------------------------------------

// rootCauses returns the summary's root causes of a kind.
func (ev *evaluator) rootCauses(k RootCauseKind) []model.RootCause {
	switch k {
	case RootCauseFault:
		return ev.sum.FaultRootCauses
	case RootCauseError:
		return ev.sum.ErrorRootCauses
	case RootCauseResponseTime:
		return ev.sum.ResponseTimeRootCauses
	}
	return nil
}

// rootCause: some element at the level (a service of a root-cause chain,
// an entity of a service's path, an exception of an entity) satisfies the
// filter. first/last/index enumerate the element within its list: services
// within the chain (the last service is the one that caused it), entities
// within the service's path, exceptions within the entity. index is
// 0-based.
func (ev *evaluator) rootCause(e *RootCauseExpr) bool {
	for _, rc := range ev.rootCauses(e.Kind) {
		for si := range rc.Services {
			svc := &rc.Services[si]
			if e.Level == LevelService {
				if e.Filter == nil || ev.eval(e.Filter, &rcSubject{svc: svc, index: si, n: len(rc.Services)}) {
					return true
				}
				continue
			}
			for ei := range svc.EntityPath {
				ent := &svc.EntityPath[ei]
				if e.Level == LevelEntity {
					if e.Filter == nil || ev.eval(e.Filter, &rcSubject{svc: svc, ent: ent, index: ei, n: len(svc.EntityPath)}) {
						return true
					}
					continue
				}
				for xi := range ent.Exceptions {
					x := &ent.Exceptions[xi]
					if e.Filter == nil || ev.eval(e.Filter, &rcSubject{svc: svc, ent: ent, exc: x, index: xi, n: len(ent.Exceptions)}) {
						return true
					}
				}
			}
		}
	}
	return false
}

// rcSubject is one root-cause element: a service (ent and exc nil), an
// entity (exc nil) or an exception.
type rcSubject struct {
	svc      *model.RootCauseService
	ent      *model.RootCauseEntity
	exc      *model.RootCauseException
	index, n int
}

func (s *rcSubject) boolean(kw string) bool {
	switch kw {
	case "first":
		return s.index == 0
	case "last":
		return s.index == s.n-1
	case "inferred": // the (enclosing) service is inferred
		return s.svc.Inferred
	case "remote": // the entity is remote; a service when its deepest entity is
		if s.ent != nil {
			return s.ent.Remote
		}
		if p := s.svc.EntityPath; len(p) > 0 {
			return p[len(p)-1].Remote
		}
	}
	return false
}

func (s *rcSubject) number(kw string) (float64, bool) {
	switch kw {
	case "index":
		return float64(s.index), true
	case "coverage": // entity duration over root response time (0..1)
		ent := s.ent
		if ent == nil && len(s.svc.EntityPath) > 0 {
			ent = &s.svc.EntityPath[0] // a service covers what its segment covers
		}
		if ent != nil && ent.Coverage != nil && !math.IsNaN(*ent.Coverage) {
			return *ent.Coverage, true
		}
	}
	return 0, false
}

func (s *rcSubject) strs(kw string) []string {
	switch kw {
	case "name": // of the element itself
		switch {
		case s.exc != nil:
			return nonEmpty(s.exc.Name)
		case s.ent != nil:
			return nonEmpty(s.ent.Name)
		}
		out := nonEmpty(s.svc.Name)
		for _, n := range s.svc.Names {
			if n != s.svc.Name {
				out = append(out, nonEmpty(n)...)
			}
		}
		return out
	case "type": // of the (enclosing) service
		return nonEmpty(s.svc.Type)
	case "message": // of the exception, or of any exception of the entity/service
		if s.exc != nil {
			return nonEmpty(s.exc.Message)
		}
		ents := s.svc.EntityPath
		if s.ent != nil {
			ents = []model.RootCauseEntity{*s.ent}
		}
		var out []string
		for _, ent := range ents {
			for _, x := range ent.Exceptions {
				out = append(out, nonEmpty(x.Message)...)
			}
		}
		return out
	}
	return nil
}

func (s *rcSubject) annotation(string) []any { return nil }

// rootCauseJSON: every pattern of the array matches some root cause of the
// trace (fault, error or response time). A pattern matches a root cause
// when each of its services matches a distinct-or-same service of the
// chain in order (Name, Type, AccountId, Inferred compared when given) and
// each entity of its EntityPath matches the entity at the same position
// (Name and Remote when given; each listed exception must appear on that
// entity by Name/Message). Other fields are ignored. This is a pragmatic
// subset: X-Ray does not document the matching rules.
func (ev *evaluator) rootCauseJSON(e *RootCauseJSONExpr) bool {
	var all []model.RootCause
	all = append(all, ev.sum.FaultRootCauses...)
	all = append(all, ev.sum.ErrorRootCauses...)
	all = append(all, ev.sum.ResponseTimeRootCauses...)
	for _, pat := range e.Patterns {
		found := false
		for _, rc := range all {
			if matchPattern(pat, rc) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return len(e.Patterns) > 0
}

func matchPattern(pat RootCausePattern, rc model.RootCause) bool {
	next := 0
	for _, ps := range pat.Services {
		ok := false
		for next < len(rc.Services) {
			svc := rc.Services[next]
			next++
			if matchPatternService(ps, svc) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchPatternService(ps PatternService, svc model.RootCauseService) bool {
	if (ps.Name != "" && ps.Name != svc.Name) || (ps.Type != "" && ps.Type != svc.Type) ||
		(ps.AccountID != "" && ps.AccountID != svc.AccountID) || (ps.Inferred != nil && *ps.Inferred != svc.Inferred) {
		return false
	}
	if len(ps.EntityPath) > len(svc.EntityPath) {
		return false
	}
	for i, pe := range ps.EntityPath {
		ent := svc.EntityPath[i]
		if (pe.Name != "" && pe.Name != ent.Name) || (pe.Remote != nil && *pe.Remote != ent.Remote) {
			return false
		}
		for _, px := range pe.Exceptions {
			hit := false
			for _, x := range ent.Exceptions {
				if (px.Name == "" || px.Name == x.Name) && (px.Message == "" || px.Message == x.Message) {
					hit = true
					break
				}
			}
			if !hit {
				return false
			}
		}
	}
	return true
}
