package xraydaemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sightline/sightline/internal/model"
)

// MaxDatagramBytes is the largest UDP payload over IPv4, and so the largest
// datagram an SDK can send.
const MaxDatagramBytes = 65507

// Reason says why a datagram was dropped; it is the "reason" label of the
// drop counter.
type Reason string

// Drop reasons.
const (
	ReasonBadHeader      Reason = "bad_header"
	ReasonBadJSON        Reason = "bad_json"
	ReasonInvalidSegment Reason = "invalid_segment"
	ReasonTooLarge       Reason = "too_large"
	ReasonQueueFull      Reason = "queue_full"
	ReasonSinkError      Reason = "sink_error"
)

// Reasons lists every drop reason, in a stable order.
var Reasons = []Reason{ReasonBadHeader, ReasonBadJSON, ReasonInvalidSegment, ReasonTooLarge, ReasonQueueFull, ReasonSinkError}

// DatagramError is the error DecodeDatagram returns.
type DatagramError struct {
	Reason Reason
	Err    error
}

func (e *DatagramError) Error() string { return fmt.Sprintf("datagram %s: %v", e.Reason, e.Err) }
func (e *DatagramError) Unwrap() error { return e.Err }

// The two header spellings the SDKs send (Go with spaces, Node without);
// anything else goes through the JSON decoder.
var (
	headerGo   = []byte(`{"format": "json", "version": 1}`)
	headerNode = []byte(`{"format":"json","version":1}`)
)

// SplitDatagram checks the header line of a daemon-protocol datagram and
// returns the document after it.
func SplitDatagram(b []byte) ([]byte, error) {
	if len(b) > MaxDatagramBytes {
		return nil, &DatagramError{Reason: ReasonTooLarge,
			Err: fmt.Errorf("%d bytes is over %d", len(b), MaxDatagramBytes)}
	}
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return nil, &DatagramError{Reason: ReasonBadHeader, Err: fmt.Errorf("no header line")}
	}
	header, body := b[:nl], b[nl+1:]
	if !bytes.Equal(header, headerGo) && !bytes.Equal(header, headerNode) {
		if err := checkHeader(header); err != nil {
			return nil, &DatagramError{Reason: ReasonBadHeader, Err: err}
		}
	}
	return body, nil
}

func checkHeader(header []byte) error {
	var h struct {
		Format  *string          `json:"format"`
		Version *json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(header), &h); err != nil {
		return fmt.Errorf("header is not JSON: %w", err)
	}
	if h.Format == nil || !strings.EqualFold(*h.Format, "json") {
		return fmt.Errorf("header format is not json")
	}
	if h.Version == nil || string(*h.Version) != "1" {
		return fmt.Errorf("header version is not 1")
	}
	return nil
}

// DecodeDatagram checks the header and decodes the segment document that
// follows it. The returned body aliases b.
func DecodeDatagram(b []byte) (*model.Segment, []byte, error) {
	body, err := SplitDatagram(b)
	if err != nil {
		return nil, nil, err
	}
	seg, err := model.ParseSegmentDocument(body)
	if err != nil {
		return nil, nil, &DatagramError{Reason: reasonOf(err), Err: err}
	}
	return seg, body, nil
}

func reasonOf(err error) Reason {
	switch model.SegmentErrorCodeOf(err) {
	case model.CodeInvalidJSON:
		return ReasonBadJSON
	case model.CodeDocumentTooLarge:
		return ReasonTooLarge
	default:
		return ReasonInvalidSegment
	}
}
