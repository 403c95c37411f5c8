package trace

import (
	"encoding/json"
	"math"
	"slices"

	"github.com/sightline/sightline/internal/model"
)

// maxRootCauses bounds how many root causes of one kind a summary lists: a
// trace with thousands of failing leaves must not make a huge summary.
const maxRootCauses = 10

// Summarize computes the X-Ray TraceSummary of an assembled trace.
func Summarize(t *model.Trace) model.TraceSummary {
	sum := model.TraceSummary{ID: t.ID}
	root := t.Root()
	if root == nil {
		return sum
	}
	b := newBuilder(t)

	start, end := math.Inf(1), math.Inf(-1)
	type annKey struct {
		key string
		val any
	}
	annIdx := map[annKey]int{}
	userIdx := map[string]int{}
	seenSvc := map[serviceKey]bool{}
	seenARN, seenInst, seenAZ := map[string]bool{}, map[string]bool{}, map[string]bool{}
	sum.Annotations = map[string][]model.ValueWithServiceIDs{}
	for _, seg := range t.Segments {
		svc := serviceID(seg)
		if k := svcKey(svc); !seenSvc[k] {
			seenSvc[k] = true
			sum.ServiceIDs = append(sum.ServiceIDs, svc)
		}
		if !t.Inferred[seg.ID] {
			sum.Revision++
		}
		if a := seg.DecodeAWS(); a.EC2 != nil {
			if id := a.EC2.InstanceID; id != "" && !seenInst[id] {
				seenInst[id] = true
				sum.InstanceIDs = append(sum.InstanceIDs, model.InstanceIDDetail{ID: id})
			}
			if z := a.EC2.AvailabilityZone; z != "" && !seenAZ[z] {
				seenAZ[z] = true
				sum.AvailabilityZones = append(sum.AvailabilityZones, model.AvailabilityZoneDetail{Name: z})
			}
		}
		seg.Walk(func(n *model.Segment) bool {
			start = min(start, n.StartTime)
			if n.EndTime > 0 {
				end = max(end, n.EndTime)
			}
			sum.IsPartial = sum.IsPartial || n.InProgress
			sum.HasThrottle = sum.HasThrottle || isThrottle(n)
			if arn := n.ResourceARN; arn != "" && !seenARN[arn] {
				seenARN[arn] = true
				sum.ResourceARNs = append(sum.ResourceARNs, model.ResourceARNDetail{ARN: arn})
			}
			if u := n.User; u != "" {
				i, ok := userIdx[u]
				if !ok {
					i = len(sum.Users)
					userIdx[u] = i
					sum.Users = append(sum.Users, model.TraceUser{UserName: u})
				}
				sum.Users[i].ServiceIDs = addService(sum.Users[i].ServiceIDs, svc)
			}
			for _, k := range sortedKeys(n.Annotations) {
				v, ok := annotationValue(n.Annotations[k])
				if !ok {
					continue
				}
				ak := annKey{k, v.key()}
				i, seen := annIdx[ak]
				if !seen {
					i = len(sum.Annotations[k])
					annIdx[ak] = i
					sum.Annotations[k] = append(sum.Annotations[k], model.ValueWithServiceIDs{AnnotationValue: v.AnnotationValue})
				}
				list := sum.Annotations[k]
				list[i].ServiceIDs = addService(list[i].ServiceIDs, svc)
			}
			return true
		})
	}
	if len(sum.Annotations) == 0 {
		sum.Annotations = nil
	}
	sum.StartTime = start
	sum.MatchedEventTime = start
	if end >= start {
		sum.Duration = end - start
	}
	if !root.InProgress && root.EndTime > 0 {
		sum.ResponseTime = root.EndTime - root.StartTime
	}
	sum.HasFault = isFault(root)
	sum.HasError = isError(root)
	if h := root.HTTP; h != nil && (h.Request != nil || h.Response != nil) {
		sum.HTTP = &model.TraceHTTP{}
		if r := h.Request; r != nil {
			sum.HTTP.HTTPURL, sum.HTTP.HTTPMethod, sum.HTTP.UserAgent, sum.HTTP.ClientIP = r.URL, r.Method, r.UserAgent, r.ClientIP
		}
		if r := h.Response; r != nil {
			sum.HTTP.HTTPStatus = r.Status
		}
	}
	ep := serviceID(root)
	sum.EntryPoint = &ep
	sum.FaultRootCauses = b.failureRootCauses(root, isFault)
	sum.ErrorRootCauses = b.failureRootCauses(root, func(s *model.Segment) bool { return isError(s) || isThrottle(s) })
	if rc, ok := b.responseTimeRootCause(root, sum.ResponseTime); ok {
		sum.ResponseTimeRootCauses = []model.RootCause{rc}
	}
	return sum
}

func status(s *model.Segment) int {
	if s.HTTP != nil && s.HTTP.Response != nil {
		return s.HTTP.Response.Status
	}
	return 0
}

// The flags are authoritative, but SDKs that only set a status still count.
func isFault(s *model.Segment) bool    { return s.Fault || status(s) >= 500 }
func isError(s *model.Segment) bool    { return s.Error || (status(s) >= 400 && status(s) < 500) }
func isThrottle(s *model.Segment) bool { return s.Throttle || status(s) == 429 }

// serviceID is the service a segment belongs to: X-Ray names a service by
// segment name and types it by origin.
func serviceID(s *model.Segment) model.ServiceID {
	return model.ServiceID{Name: s.Name, Names: []string{s.Name}, Type: s.Origin, AccountID: s.DecodeAWS().AccountID}
}

// serviceKey is the comparable identity of a ServiceID.
type serviceKey struct{ name, typ, account string }

func svcKey(s model.ServiceID) serviceKey { return serviceKey{s.Name, s.Type, s.AccountID} }

func addService(list []model.ServiceID, s model.ServiceID) []model.ServiceID {
	for _, x := range list {
		if svcKey(x) == svcKey(s) {
			return list
		}
	}
	return append(list, s)
}

type annValue struct{ model.AnnotationValue }

func (v annValue) key() any {
	switch {
	case v.StringValue != nil:
		return "s:" + *v.StringValue
	case v.NumberValue != nil:
		return *v.NumberValue
	default:
		return *v.BooleanValue
	}
}

// annotationValue converts a decoded annotation; other JSON types (arrays,
// objects) are not valid annotations and are skipped.
func annotationValue(v any) (annValue, bool) {
	switch x := v.(type) {
	case string:
		return annValue{model.AnnotationValue{StringValue: &x}}, true
	case bool:
		return annValue{model.AnnotationValue{BooleanValue: &x}}, true
	case float64:
		return annValue{model.AnnotationValue{NumberValue: &x}}, true
	case int:
		f := float64(x)
		return annValue{model.AnnotationValue{NumberValue: &f}}, true
	case int64:
		f := float64(x)
		return annValue{model.AnnotationValue{NumberValue: &f}}, true
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return annValue{model.AnnotationValue{NumberValue: &f}}, true
		}
	}
	return annValue{}, false
}

// builder indexes a trace for root-cause walks: which segments each
// subsegment called.
type builder struct {
	t       *model.Trace
	callees map[string][]*model.Segment
	nodes   int // segments and subsegments, to size maps
}

func newBuilder(t *model.Trace) *builder {
	b := &builder{t: t, callees: map[string][]*model.Segment{}}
	for _, s := range t.Segments {
		s.Walk(func(*model.Segment) bool { b.nodes++; return true })
		if s.ParentID != "" {
			b.callees[s.ParentID] = append(b.callees[s.ParentID], s)
		}
	}
	return b
}

// children of a node: its subsegments, and the segments it called (each
// of which starts another service).
func (b *builder) children(n *model.Segment) (subs, callees []*model.Segment) {
	return n.Subsegments, b.callees[n.ID]
}

// failureRootCauses follows a failure (fault, or error/throttle) from the
// entry segment down to the deepest failed entities, the way X-Ray's root
// cause analysis does: the walk goes through every node on the way to a
// failed one, crossing into a called service when the call led to a
// failure there, and ends at a failed node with nothing failed below it.
// Each such end is one root cause: the chain of services walked, each with
// the path of entities inside it; the last service is where it happened.
// ClientImpacting is set when the entry segment itself failed.
func (b *builder) failureRootCauses(root *model.Segment, failed func(*model.Segment) bool) []model.RootCause {
	memo := make(map[*model.Segment]bool, b.nodes)
	onPath := make(map[*model.Segment]bool, b.nodes)
	var leads func(n *model.Segment) bool // n or something below it failed
	leads = func(n *model.Segment) bool {
		if v, ok := memo[n]; ok {
			return v
		}
		if onPath[n] { // parent_id cycle between segments
			return false
		}
		onPath[n] = true
		v := failed(n)
		subs, callees := b.children(n)
		for _, c := range subs {
			v = leads(c) || v
		}
		for _, c := range callees {
			v = leads(c) || v
		}
		onPath[n] = false
		memo[n] = v
		return v
	}
	if !leads(root) {
		return nil
	}
	impacting := failed(root)
	var out []model.RootCause
	// Duplicate ids can make one segment the callee of many nodes, so the
	// paths are not a tree; a budget linear in the trace size keeps the
	// walk from exploding on such input.
	budget := 4*b.nodes + 64
	visiting := map[*model.Segment]bool{}
	var walkService func(seg *model.Segment, prefix []model.RootCauseService)
	walkService = func(seg *model.Segment, prefix []model.RootCauseService) {
		if visiting[seg] {
			return
		}
		visiting[seg] = true
		defer delete(visiting, seg)
		var walk func(n *model.Segment, path []model.RootCauseEntity)
		walk = func(n *model.Segment, path []model.RootCauseEntity) {
			budget--
			if len(out) >= maxRootCauses || budget < 0 {
				return
			}
			path = append(path[:len(path):len(path)], b.failureEntity(n))
			here := rootCauseService(b.t, seg, path)
			deeper := false
			subs, callees := b.children(n)
			for _, c := range subs {
				if leads(c) {
					deeper = true
					walk(c, path)
				}
			}
			for _, c := range callees {
				if leads(c) {
					deeper = true
					walkService(c, append(prefix[:len(prefix):len(prefix)], here))
				}
			}
			if !deeper && failed(n) {
				out = append(out, model.RootCause{
					Services:        append(prefix[:len(prefix):len(prefix)], here),
					ClientImpacting: impacting,
				})
			}
		}
		walk(seg, nil)
	}
	walkService(root, nil)
	return out
}

func rootCauseService(t *model.Trace, seg *model.Segment, path []model.RootCauseEntity) model.RootCauseService {
	id := serviceID(seg)
	return model.RootCauseService{
		Name: id.Name, Names: id.Names, Type: id.Type, AccountID: id.AccountID,
		EntityPath: path, Inferred: t.Inferred[seg.ID],
	}
}

// isRemote: the entity is a call to another service or an inferred node,
// so what happened there came from outside the instrumented code.
func (b *builder) isRemote(n *model.Segment) bool {
	return n.Namespace == "remote" || n.Namespace == "aws" || b.t.Inferred[n.ID]
}

func (b *builder) failureEntity(n *model.Segment) model.RootCauseEntity {
	e := model.RootCauseEntity{Name: n.Name, Remote: b.isRemote(n)}
	if c := n.DecodeCause(); c != nil {
		for _, x := range c.Exceptions {
			e.Exceptions = append(e.Exceptions, model.RootCauseException{Name: x.Type, Message: x.Message})
			e.Remote = e.Remote || x.Remote
		}
	}
	return e
}

func duration(n *model.Segment) float64 {
	if n.InProgress || n.EndTime < n.StartTime {
		return 0
	}
	return n.EndTime - n.StartTime
}

// responseTimeRootCause follows the critical path: from the entry segment,
// repeatedly into the child (subsegment or called segment) that took the
// longest, crossing into called services. Coverage is each entity's
// duration over the root's response time.
func (b *builder) responseTimeRootCause(root *model.Segment, rt float64) (model.RootCause, bool) {
	if rt <= 0 {
		return model.RootCause{}, false
	}
	coverage := func(n *model.Segment) *float64 {
		c := duration(n) / rt
		return &c
	}
	var services []model.RootCauseService
	seen := map[*model.Segment]bool{}
	seg := root
	var path []model.RootCauseEntity
	n := root
	for steps := 0; n != nil && !seen[n] && steps < 1000; steps++ {
		seen[n] = true
		path = append(path, model.RootCauseEntity{Name: n.Name, Coverage: coverage(n), Remote: b.isRemote(n)})
		var next *model.Segment
		crosses := false
		subs, callees := b.children(n)
		for _, c := range subs {
			if next == nil || duration(c) > duration(next) {
				next, crosses = c, false
			}
		}
		for _, c := range callees {
			// A called segment answers for the subsegment that called it.
			if next == nil || duration(c) >= duration(next) {
				next, crosses = c, true
			}
		}
		if next == nil || duration(next) <= 0 {
			break
		}
		if crosses {
			services = append(services, rootCauseService(b.t, seg, path))
			seg, path = next, nil
		}
		n = next
	}
	services = append(services, rootCauseService(b.t, seg, path))
	return model.RootCause{Services: services, ClientImpacting: true}, true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
