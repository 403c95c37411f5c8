package tracing

import (
	"errors"
	"strings"
)

// Header names this package reads and writes.
const (
	// AmznTraceHeader is the AWS X-Ray propagation header.
	AmznTraceHeader = "X-Amzn-Trace-Id"
	// TraceparentHeader is the W3C Trace Context propagation header.
	TraceparentHeader = "Traceparent"
)

// Decision is the sampling decision carried by a trace header.
type Decision uint8

const (
	// DecisionUnknown means the caller did not say; the receiver decides.
	DecisionUnknown Decision = iota
	// DecisionSampled is "Sampled=1".
	DecisionSampled
	// DecisionNotSampled is "Sampled=0".
	DecisionNotSampled
	// DecisionRequested is "Sampled=?": the receiver decides and reports its decision back.
	DecisionRequested
)

// TraceHeader is a parsed X-Amzn-Trace-Id or traceparent header.
type TraceHeader struct {
	// TraceID is in X-Ray form: 1-<8 hex>-<24 hex>.
	TraceID string
	// ParentID is the caller's 16-hex segment or subsegment id; empty when the caller sent none.
	ParentID string
	Decision Decision
	// Extra holds the unknown key=value pairs (Lineage and future keys) joined by ';',
	// kept so that forwarding does not lose them. Self= is never kept.
	Extra string
}

var (
	errNoRoot     = errors.New("trace header: missing Root")
	errBadRoot    = errors.New("trace header: malformed Root")
	errBadParent  = errors.New("trace header: malformed Parent")
	errBadPair    = errors.New("trace header: element without '='")
	errBadTP      = errors.New("traceparent: malformed")
	errTPVersion  = errors.New("traceparent: unsupported version")
	errTPZeroID   = errors.New("traceparent: all-zero id")
	errHeaderSize = errors.New("trace header: too long")
)

// maxHeaderLen bounds the work done on hostile input; real headers are about 100 bytes.
const maxHeaderLen = 2048

// ParseTraceHeader parses an X-Amzn-Trace-Id value such as
// "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a:1".
// Root is required; Parent and Sampled are optional. An unknown Sampled value is treated
// as DecisionUnknown, as the AWS SDKs do.
func ParseTraceHeader(s string) (TraceHeader, error) {
	var h TraceHeader
	if len(s) > maxHeaderLen {
		return h, errHeaderSize
	}
	rest := s
	for rest != "" {
		var part string
		if i := strings.IndexByte(rest, ';'); i >= 0 {
			part, rest = rest[:i], rest[i+1:]
		} else {
			part, rest = rest, ""
		}
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		eq := strings.IndexByte(part, '=')
		if eq <= 0 {
			return TraceHeader{}, errBadPair
		}
		key, value := strings.TrimSpace(part[:eq]), strings.TrimSpace(part[eq+1:])
		switch {
		case strings.EqualFold(key, "Root"):
			if !validXRayTraceID(value) {
				return TraceHeader{}, errBadRoot
			}
			h.TraceID = value
		case strings.EqualFold(key, "Parent"):
			if !isLowerHex(value, 16) {
				return TraceHeader{}, errBadParent
			}
			h.ParentID = value
		case strings.EqualFold(key, "Sampled"):
			switch value {
			case "1":
				h.Decision = DecisionSampled
			case "0":
				h.Decision = DecisionNotSampled
			case "?":
				h.Decision = DecisionRequested
			default:
				h.Decision = DecisionUnknown
			}
		case strings.EqualFold(key, "Self"):
			// Self is added by load balancers for their own hop; it must not travel further.
		default:
			if h.Extra == "" {
				h.Extra = part
			} else {
				h.Extra += ";" + part
			}
		}
	}
	if h.TraceID == "" {
		return TraceHeader{}, errNoRoot
	}
	return h, nil
}

// String formats the header for forwarding: Root, Parent (when set), Sampled, then Extra.
func (h TraceHeader) String() string {
	n := len("Root=") + len(h.TraceID) + len(";Parent=") + len(h.ParentID) + len(";Sampled=?") + 1 + len(h.Extra)
	b := make([]byte, 0, n)
	b = append(b, "Root="...)
	b = append(b, h.TraceID...)
	if h.ParentID != "" {
		b = append(b, ";Parent="...)
		b = append(b, h.ParentID...)
	}
	switch h.Decision {
	case DecisionSampled:
		b = append(b, ";Sampled=1"...)
	case DecisionNotSampled:
		b = append(b, ";Sampled=0"...)
	case DecisionRequested:
		b = append(b, ";Sampled=?"...)
	}
	if h.Extra != "" {
		b = append(b, ';')
		b = append(b, h.Extra...)
	}
	return string(b)
}

// ParseTraceparent parses a W3C traceparent value "00-<32 hex>-<16 hex>-<2 hex flags>"
// and maps the trace id to X-Ray form 1-<first 8>-<last 24>. The sampled flag becomes
// DecisionSampled or DecisionNotSampled.
func ParseTraceparent(s string) (TraceHeader, error) {
	s = strings.TrimSpace(s)
	if len(s) < 55 {
		return TraceHeader{}, errBadTP
	}
	if len(s) > maxHeaderLen {
		return TraceHeader{}, errHeaderSize
	}
	version := s[0:2]
	if !isLowerHex(version, 2) || version == "ff" {
		return TraceHeader{}, errTPVersion
	}
	// Version 00 is exactly 55 bytes; later versions may append fields after a '-'.
	if (version == "00" && len(s) != 55) || (len(s) > 55 && s[55] != '-') {
		return TraceHeader{}, errBadTP
	}
	if s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return TraceHeader{}, errBadTP
	}
	traceID, parentID, flags := s[3:35], s[36:52], s[53:55]
	if !isLowerHex(traceID, 32) || !isLowerHex(parentID, 16) || !isLowerHex(flags, 2) {
		return TraceHeader{}, errBadTP
	}
	if allZero(traceID) || allZero(parentID) {
		return TraceHeader{}, errTPZeroID
	}
	h := TraceHeader{
		TraceID:  "1-" + traceID[:8] + "-" + traceID[8:],
		ParentID: parentID,
		Decision: DecisionNotSampled,
	}
	if unhex(flags[1])&1 == 1 {
		h.Decision = DecisionSampled
	}
	return h, nil
}

// Traceparent formats the header as a W3C traceparent value.
func (h TraceHeader) Traceparent() string {
	flags := "00"
	if h.Decision == DecisionSampled {
		flags = "01"
	}
	parent := h.ParentID
	if parent == "" {
		parent = zeroParentID
	}
	if !validXRayTraceID(h.TraceID) {
		return ""
	}
	return "00-" + h.TraceID[2:10] + h.TraceID[11:] + "-" + parent + "-" + flags
}

// zeroParentID is what an unsampled caller sends as Parent (PROTOCOLS §3).
const zeroParentID = "0000000000000000"

func validXRayTraceID(s string) bool {
	return len(s) == 35 && s[0] == '1' && s[1] == '-' && s[10] == '-' &&
		isLowerHex(s[2:10], 8) && isLowerHex(s[11:], 24)
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

func unhex(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}
