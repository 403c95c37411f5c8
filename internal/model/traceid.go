package model

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// TraceID is an X-Ray trace id in binary form: 4 bytes of epoch seconds
// followed by 12 random bytes. The same 16 bytes are the W3C trace id, which
// is how X-Ray and OpenTelemetry ids convert into each other.
type TraceID [16]byte

// Lengths of the text forms.
const (
	XRayTraceIDLen = 35 // "1-" + 8 hex + "-" + 24 hex
	W3CTraceIDLen  = 32
	SegmentIDLen   = 16
)

// ErrInvalidTraceID is returned (wrapped) for a malformed trace id.
var ErrInvalidTraceID = errors.New("invalid trace id")

// ParseTraceID parses the X-Ray text form "1-<8 hex>-<24 hex>". The epoch
// part is not checked against the clock: SDKs send old-looking values.
func ParseTraceID(s string) (TraceID, error) {
	var id TraceID
	if !IsValidTraceID(s) {
		return id, fmt.Errorf("%w: %q", ErrInvalidTraceID, s)
	}
	// IsValidTraceID checked every character, so decoding cannot fail.
	_, _ = hex.Decode(id[:4], []byte(s[2:10]))
	_, _ = hex.Decode(id[4:], []byte(s[11:]))
	return id, nil
}

// IsValidTraceID reports whether s is an X-Ray trace id in text form.
func IsValidTraceID(s string) bool {
	if len(s) != XRayTraceIDLen || s[0] != '1' || s[1] != '-' || s[10] != '-' {
		return false
	}
	return isHex(s[2:10]) && isHex(s[11:])
}

// ParseW3CTraceID parses a 32-hex W3C (traceparent) trace id.
func ParseW3CTraceID(s string) (TraceID, error) {
	var id TraceID
	if len(s) != W3CTraceIDLen || !isHex(s) {
		return id, fmt.Errorf("%w: %q is not 32 hex digits", ErrInvalidTraceID, s)
	}
	_, _ = hex.Decode(id[:], []byte(s))
	return id, nil
}

// NewTraceID makes a trace id for time t from 12 random bytes.
func NewTraceID(t time.Time, random [12]byte) TraceID {
	var id TraceID
	sec := uint32(t.Unix())
	id[0], id[1], id[2], id[3] = byte(sec>>24), byte(sec>>16), byte(sec>>8), byte(sec)
	copy(id[4:], random[:])
	return id
}

// String returns the X-Ray text form, lower-case hex.
func (id TraceID) String() string {
	var b [XRayTraceIDLen]byte
	b[0], b[1], b[10] = '1', '-', '-'
	hex.Encode(b[2:10], id[:4])
	hex.Encode(b[11:], id[4:])
	return string(b[:])
}

// W3C returns the 32-hex W3C form.
func (id TraceID) W3C() string { return hex.EncodeToString(id[:]) }

// Epoch returns the time encoded in the first 4 bytes.
func (id TraceID) Epoch() time.Time {
	sec := uint32(id[0])<<24 | uint32(id[1])<<16 | uint32(id[2])<<8 | uint32(id[3])
	return time.Unix(int64(sec), 0)
}

// IsZero reports whether every byte is zero.
func (id TraceID) IsZero() bool { return id == TraceID{} }

// XRayToW3C converts "1-xxxxxxxx-yyyy…" to the 32-hex W3C form.
func XRayToW3C(s string) (string, error) {
	id, err := ParseTraceID(s)
	if err != nil {
		return "", err
	}
	return id.W3C(), nil
}

// W3CToXRay converts a 32-hex W3C trace id to the X-Ray text form.
func W3CToXRay(s string) (string, error) {
	id, err := ParseW3CTraceID(s)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// IsValidSegmentID reports whether s is a 16-hex segment or subsegment id.
func IsValidSegmentID(s string) bool { return len(s) == SegmentIDLen && isHex(s) }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
