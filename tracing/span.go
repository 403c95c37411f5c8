package tracing

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Span is a segment (the root, one per request) or a subsegment. All methods are safe
// on a nil *Span and on unsampled spans, where they do nothing, so instrumented code
// never has to check whether tracing is on.
type Span struct {
	rec     *Recorder
	tree    *tree // shared by a segment and all its subsegments; nil when unsampled
	parent  *Span
	sampled bool

	traceID  string
	id       string
	parentID string
	extra    string // unknown header keys (Lineage...) to forward

	// Recorded data, allocated only for sampled spans so that the unsampled path
	// stays small.
	*spanData
}

// spanData is guarded by tree.mu.
type spanData struct {
	name        string
	namespace   string
	start, end  time.Time
	ended, sent bool
	http        *httpDoc
	sql         *SQLInfo
	user        string
	annotations map[string]any
	metadata    map[string]map[string]json.RawMessage
	errorFlag   bool
	throttle    bool
	fault       bool
	cause       *causeDoc
	children    []*Span
}

// tree is the state shared by one segment and its subsegments. One mutex per request
// keeps concurrent subsegments simple; contention is per request, not global.
type tree struct {
	mu       sync.Mutex
	attached int // subsegments still embedded in the segment (not streamed yet)
}

type spanKey struct{}

// FromContext returns the span carried by ctx, or nil.
func FromContext(ctx context.Context) *Span {
	s, _ := ctx.Value(spanKey{}).(*Span)
	return s
}

// ContextWithSpan returns a copy of ctx carrying s.
func ContextWithSpan(ctx context.Context, s *Span) context.Context {
	return context.WithValue(ctx, spanKey{}, s)
}

// Start begins a subsegment of the span in ctx. Without a span in ctx it returns ctx
// and a nil span; for an unsampled trace it returns ctx and the unsampled span itself,
// so the trace header still propagates "Sampled=0" downstream.
func Start(ctx context.Context, name string) (context.Context, *Span) {
	parent := FromContext(ctx)
	if parent == nil || !parent.sampled {
		return ctx, parent
	}
	child := parent.newChild(name)
	return ContextWithSpan(ctx, child), child
}

func (s *Span) newChild(name string) *Span {
	child := &Span{
		rec:      s.rec,
		tree:     s.tree,
		parent:   s,
		sampled:  true,
		traceID:  s.traceID,
		id:       newID(),
		parentID: s.id,
		extra:    s.extra,
		spanData: &spanData{name: truncateName(name), start: s.rec.now()},
	}
	s.tree.mu.Lock()
	s.children = append(s.children, child)
	s.tree.attached++
	s.tree.mu.Unlock()
	return child
}

// TraceID returns the X-Ray trace id ("" for a nil span).
func (s *Span) TraceID() string {
	if s == nil {
		return ""
	}
	return s.traceID
}

// ID returns the 16-hex id of the (sub)segment; empty when unsampled.
func (s *Span) ID() string {
	if s == nil || !s.sampled {
		return ""
	}
	return s.id
}

// Sampled reports whether the span is recorded.
func (s *Span) Sampled() bool { return s != nil && s.sampled }

// AddAnnotation adds an indexed annotation. Keys are letters, digits and '_' (X-Ray
// drops others); values are strings, booleans or numbers.
func (s *Span) AddAnnotation(key string, value any) error {
	if s == nil || !s.sampled {
		return nil
	}
	if !validAnnotationKey(key) {
		return fmt.Errorf("annotation key %q: only letters, digits and '_' are allowed", key)
	}
	v, err := annotationValue(value)
	if err != nil {
		return fmt.Errorf("annotation %q: %w", key, err)
	}
	s.tree.mu.Lock()
	if s.annotations == nil {
		s.annotations = make(map[string]any)
	}
	s.annotations[key] = v
	s.tree.mu.Unlock()
	return nil
}

// AddMetadata adds non-indexed data under the "default" namespace.
func (s *Span) AddMetadata(key string, value any) error {
	return s.AddMetadataToNamespace("default", key, value)
}

// AddMetadataToNamespace adds non-indexed data under namespace. The value is encoded
// to JSON now, so later changes to it are not recorded and emission cannot fail.
func (s *Span) AddMetadataToNamespace(namespace, key string, value any) error {
	if s == nil || !s.sampled {
		return nil
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("metadata %s.%s: %w", namespace, key, err)
	}
	s.tree.mu.Lock()
	if s.metadata == nil {
		s.metadata = make(map[string]map[string]json.RawMessage)
	}
	ns := s.metadata[namespace]
	if ns == nil {
		ns = make(map[string]json.RawMessage)
		s.metadata[namespace] = ns
	}
	ns[key] = raw
	s.tree.mu.Unlock()
	return nil
}

// SetUser records the user on the segment (X-Ray indexes the segment's user only, so a
// subsegment forwards it to its segment).
func (s *Span) SetUser(user string) {
	if s == nil || !s.sampled {
		return
	}
	root := s.root()
	s.tree.mu.Lock()
	root.user = user
	s.tree.mu.Unlock()
}

// SetError marks the span as a fault and records err as an exception in its cause.
func (s *Span) SetError(err error) {
	if s == nil || !s.sampled || err == nil {
		return
	}
	s.addException(exceptionDoc{ID: newID(), Type: fmt.Sprintf("%T", err), Message: err.Error()}, true)
}

func (s *Span) addException(e exceptionDoc, fault bool) {
	s.tree.mu.Lock()
	if s.cause == nil {
		s.cause = &causeDoc{WorkingDirectory: s.rec.workingDir}
	}
	s.cause.Exceptions = append(s.cause.Exceptions, e)
	if fault {
		s.fault = true
	}
	s.tree.mu.Unlock()
}

// setHTTPStatus sets error/throttle/fault from an HTTP status as X-Ray defines them.
// Called with tree.mu held.
func (s *Span) setStatusFlagsLocked(status int) {
	switch {
	case status == 429:
		s.errorFlag, s.throttle = true, true
	case status >= 400 && status < 500:
		s.errorFlag = true
	case status >= 500:
		s.fault = true
	}
}

// End completes the span and, for a segment, sends it to the daemon. A subsegment is
// sent on its own (streamed) when its segment already holds more than the configured
// number of subsegments, or when its segment was already sent.
func (s *Span) End() {
	if s == nil || !s.sampled {
		return
	}
	s.endAt(s.rec.now())
}

func (s *Span) endAt(t time.Time) {
	s.tree.mu.Lock()
	if s.ended {
		s.tree.mu.Unlock()
		return
	}
	s.ended, s.end = true, t
	var out [][]byte
	switch {
	case s.parent == nil:
		out = s.rec.encodeSegmentLocked(s)
	case s.ancestorSentLocked():
		s.sent = true
		out = s.rec.encodeIndependentLocked(s, out)
	case s.tree.attached > s.rec.maxSubsegments:
		s.parent.detachLocked(s)
		s.sent = true
		out = s.rec.encodeIndependentLocked(s, out)
	}
	s.tree.mu.Unlock()
	for _, b := range out {
		s.rec.emitter.enqueue(b)
	}
}

func (s *Span) root() *Span {
	for s.parent != nil {
		s = s.parent
	}
	return s
}

func (s *Span) ancestorSentLocked() bool {
	for p := s.parent; p != nil; p = p.parent {
		if p.sent {
			return true
		}
	}
	return false
}

// detachLocked removes child from s and uncounts its subtree.
func (s *Span) detachLocked(child *Span) {
	for i, c := range s.children {
		if c == child {
			s.children = append(s.children[:i], s.children[i+1:]...)
			break
		}
	}
	s.tree.attached -= child.subtreeSizeLocked()
}

func (s *Span) subtreeSizeLocked() int {
	n := 1
	for _, c := range s.children {
		n += c.subtreeSizeLocked()
	}
	return n
}

// header returns the trace header to send downstream on behalf of s.
func (s *Span) header() TraceHeader {
	if !s.sampled {
		return TraceHeader{TraceID: s.traceID, ParentID: zeroParentID, Decision: DecisionNotSampled, Extra: s.extra}
	}
	return TraceHeader{TraceID: s.traceID, ParentID: s.id, Decision: DecisionSampled, Extra: s.extra}
}

// recordPanic marks s as a fault with the panic value and the stack of the panicking
// goroutine. It must be called from the deferred function that recovered.
func (s *Span) recordPanic(p any) {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(3, pcs) // skip Callers, recordPanic and the deferred func
	frames := runtime.CallersFrames(pcs[:n])
	var stack []stackFrame
	for {
		f, more := frames.Next()
		// The frames up to runtime.gopanic describe the recovery, not the bug.
		if f.Function == "runtime.gopanic" {
			stack = stack[:0]
		} else {
			stack = append(stack, stackFrame{Path: f.File, Line: f.Line, Label: f.Function})
		}
		if !more {
			break
		}
	}
	s.addException(exceptionDoc{
		ID:      newID(),
		Type:    "panic",
		Message: fmt.Sprint(p),
		Stack:   stack,
	}, true)
}

func truncateName(name string) string {
	// X-Ray rejects names over 200 characters.
	if len(name) > 200 {
		name = name[:200]
	}
	return name
}

func validAnnotationKey(k string) bool {
	if k == "" || len(k) > 500 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func annotationValue(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return x, nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint:
		return uint64(x), nil
	case uint8:
		return uint64(x), nil
	case uint16:
		return uint64(x), nil
	case uint32:
		return uint64(x), nil
	case uint64:
		return x, nil
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	case fmt.Stringer:
		return x.String(), nil
	}
	return nil, fmt.Errorf("value of type %T: want string, bool or number", v)
}

// hostNamespace returns "aws" for AWS service endpoints and "remote" otherwise, as the
// X-Ray service map expects.
func hostNamespace(host string) string {
	h := host
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	if strings.HasSuffix(strings.ToLower(h), ".amazonaws.com") {
		return "aws"
	}
	return "remote"
}
