package model

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Limits applied to every segment document, whichever door it came in by.
const (
	// MaxSegmentDocumentBytes is X-Ray's size limit for one document.
	MaxSegmentDocumentBytes = 64 << 10
	// MaxSegmentNameRunes is the longest segment or subsegment name.
	MaxSegmentNameRunes = 200
	// MaxAnnotationsPerDocument is AWS's limit on annotations; counted over
	// the whole document, nested subsegments included.
	MaxAnnotationsPerDocument = 50
	// MaxAnnotationKeyLen is the longest annotation key.
	MaxAnnotationKeyLen = 500
	// MaxAnnotationStringLen is the longest string annotation value.
	MaxAnnotationStringLen = 1000
	// MaxSubsegmentDepth bounds nesting so a hostile document cannot make
	// every later tree walk (assembly, service graph) recurse without end.
	MaxSubsegmentDepth = 32
)

// SegmentErrorCode says why a document was refused. PutTraceSegments sends
// it back as UnprocessedTraceSegments[].ErrorCode; the UDP receiver turns it
// into a drop reason.
type SegmentErrorCode string

// The codes ParseSegmentDocument returns.
const (
	CodeDocumentTooLarge   SegmentErrorCode = "DocumentTooLarge"
	CodeInvalidJSON        SegmentErrorCode = "InvalidJson"
	CodeInvalidFieldType   SegmentErrorCode = "InvalidFieldType"
	CodeInvalidTraceID     SegmentErrorCode = "InvalidTraceId"
	CodeInvalidID          SegmentErrorCode = "InvalidId"
	CodeInvalidParentID    SegmentErrorCode = "InvalidParentId"
	CodeInvalidName        SegmentErrorCode = "InvalidName"
	CodeInvalidType        SegmentErrorCode = "InvalidType"
	CodeMissingStartTime   SegmentErrorCode = "MissingStartTime"
	CodeMissingEndTime     SegmentErrorCode = "MissingEndTime"
	CodeEndBeforeStart     SegmentErrorCode = "EndTimeBeforeStartTime"
	CodeInvalidAnnotation  SegmentErrorCode = "InvalidAnnotation"
	CodeTooManyAnnotations SegmentErrorCode = "TooManyAnnotations"
	CodeTooDeep            SegmentErrorCode = "SubsegmentsTooDeep"
)

// SegmentError is the error ParseSegmentDocument returns.
type SegmentError struct {
	Code SegmentErrorCode
	// ID is the document's id when it could be read, for error reports.
	ID string
	// Field is the path of the offending field, e.g. "subsegments[2].id".
	Field   string
	Message string
	Err     error
}

func (e *SegmentError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("segment document: %s: %s", e.Field, e.Message)
	}
	return "segment document: " + e.Message
}

func (e *SegmentError) Unwrap() error { return e.Err }

// SegmentErrorCodeOf returns the code of a *SegmentError in err's chain, or
// "" when there is none.
func SegmentErrorCodeOf(err error) SegmentErrorCode {
	var se *SegmentError
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

// SegmentTypeSubsegment marks an independent subsegment.
const SegmentTypeSubsegment = "subsegment"

// ParseSegmentDocument decodes and validates one X-Ray segment document
// (PROTOCOLS.md §3): a segment, or an independent subsegment sent on its
// own. Every error is a *SegmentError.
func ParseSegmentDocument(raw []byte) (*Segment, error) {
	if len(raw) > MaxSegmentDocumentBytes {
		return nil, &SegmentError{Code: CodeDocumentTooLarge,
			Message: fmt.Sprintf("%d bytes is over the %d byte limit", len(raw), MaxSegmentDocumentBytes)}
	}
	var seg Segment
	if err := jsonv2.Unmarshal(raw, &seg, decodeOptions); err != nil {
		return nil, decodeError(err)
	}
	if err := ValidateSegment(&seg); err != nil {
		return nil, err
	}
	return &seg, nil
}

// decodeOptions: the v2 decoder (about twice as fast as encoding/json here,
// which matters at UDP rates), made as lenient as encoding/json about
// duplicate keys and invalid UTF-8, which SDKs may send, but matching field
// names exactly as the wire format spells them.
var decodeOptions = jsonv2.JoinOptions(
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
)

func decodeError(err error) *SegmentError {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &SegmentError{Code: CodeInvalidJSON, Message: "truncated JSON", Err: err}
	}
	var synErr *jsontext.SyntacticError
	if errors.As(err, &synErr) {
		return &SegmentError{Code: CodeInvalidJSON, Message: "invalid JSON: " + err.Error(), Err: err}
	}
	var semErr *jsonv2.SemanticError
	if errors.As(err, &semErr) {
		return &SegmentError{Code: CodeInvalidFieldType, Field: string(semErr.JSONPointer),
			Message: "wrong JSON type: " + err.Error(), Err: err}
	}
	return &SegmentError{Code: CodeInvalidJSON, Message: "invalid JSON: " + err.Error(), Err: err}
}

// ValidateSegment checks a decoded top-level document (segment or
// independent subsegment) and everything nested in it.
func ValidateSegment(seg *Segment) error {
	if err := validateTop(seg); err != nil {
		err.ID = seg.ID
		return err
	}
	return nil
}

func validateTop(seg *Segment) *SegmentError {
	if seg.TraceID == "" {
		return &SegmentError{Code: CodeInvalidTraceID, Field: "trace_id", Message: "required"}
	}
	if !IsValidTraceID(seg.TraceID) {
		return &SegmentError{Code: CodeInvalidTraceID, Field: "trace_id",
			Message: fmt.Sprintf("%q is not of the form 1-<8 hex>-<24 hex>", clip(seg.TraceID))}
	}
	switch seg.Type {
	case "":
	case SegmentTypeSubsegment:
		if seg.ParentID == "" {
			return &SegmentError{Code: CodeInvalidParentID, Field: "parent_id",
				Message: "required on an independent subsegment"}
		}
	default:
		return &SegmentError{Code: CodeInvalidType, Field: "type",
			Message: fmt.Sprintf("%q is not \"subsegment\"", clip(seg.Type))}
	}
	annotations := 0
	return validateNode(seg, 0, &annotations)
}

// validateNode checks the fields every segment and subsegment shares, then
// recurses into the subsegments. depth is 0 for the document itself.
func validateNode(seg *Segment, depth int, annotations *int) *SegmentError {
	if depth > MaxSubsegmentDepth {
		return &SegmentError{Code: CodeTooDeep,
			Message: fmt.Sprintf("subsegments nested deeper than %d levels", MaxSubsegmentDepth)}
	}
	if !IsValidSegmentID(seg.ID) {
		return &SegmentError{Code: CodeInvalidID, Field: "id",
			Message: fmt.Sprintf("%q is not 16 hex digits", clip(seg.ID))}
	}
	if seg.ParentID != "" && !IsValidSegmentID(seg.ParentID) {
		return &SegmentError{Code: CodeInvalidParentID, Field: "parent_id",
			Message: fmt.Sprintf("%q is not 16 hex digits", clip(seg.ParentID))}
	}
	if seg.Name == "" {
		return &SegmentError{Code: CodeInvalidName, Field: "name", Message: "required"}
	}
	if n := utf8.RuneCountInString(seg.Name); n > MaxSegmentNameRunes {
		return &SegmentError{Code: CodeInvalidName, Field: "name",
			Message: fmt.Sprintf("%d characters is over the %d limit", n, MaxSegmentNameRunes)}
	}
	if seg.StartTime <= 0 {
		return &SegmentError{Code: CodeMissingStartTime, Field: "start_time", Message: "required"}
	}
	if seg.EndTime == 0 && !seg.InProgress {
		return &SegmentError{Code: CodeMissingEndTime, Field: "end_time",
			Message: "required unless in_progress is true"}
	}
	if seg.EndTime != 0 && seg.EndTime < seg.StartTime {
		return &SegmentError{Code: CodeEndBeforeStart, Field: "end_time",
			Message: fmt.Sprintf("%v is before start_time %v", seg.EndTime, seg.StartTime)}
	}
	*annotations += len(seg.Annotations)
	if *annotations > MaxAnnotationsPerDocument {
		return &SegmentError{Code: CodeTooManyAnnotations, Field: "annotations",
			Message: fmt.Sprintf("more than %d annotations in one document", MaxAnnotationsPerDocument)}
	}
	for k, v := range seg.Annotations {
		if err := validateAnnotation(k, v); err != nil {
			return err
		}
	}
	for i, sub := range seg.Subsegments {
		if sub == nil {
			return &SegmentError{Code: CodeInvalidFieldType,
				Field: fmt.Sprintf("subsegments[%d]", i), Message: "null subsegment"}
		}
		if err := validateNode(sub, depth+1, annotations); err != nil {
			if err.Field == "" {
				err.Field = fmt.Sprintf("subsegments[%d]", i)
			} else {
				err.Field = fmt.Sprintf("subsegments[%d].%s", i, err.Field)
			}
			return err
		}
	}
	return nil
}

func validateAnnotation(key string, value any) *SegmentError {
	field := "annotations." + clip(key)
	if key == "" || len(key) > MaxAnnotationKeyLen {
		return &SegmentError{Code: CodeInvalidAnnotation, Field: field,
			Message: fmt.Sprintf("key must be 1 to %d characters", MaxAnnotationKeyLen)}
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_') {
			return &SegmentError{Code: CodeInvalidAnnotation, Field: field,
				Message: "key may hold only letters, digits and underscores"}
		}
	}
	switch v := value.(type) {
	case bool, float64:
	case string:
		if len(v) > MaxAnnotationStringLen {
			return &SegmentError{Code: CodeInvalidAnnotation, Field: field,
				Message: fmt.Sprintf("string value over %d bytes", MaxAnnotationStringLen)}
		}
	default:
		return &SegmentError{Code: CodeInvalidAnnotation, Field: field,
			Message: "value must be a string, number or boolean"}
	}
	return nil
}

// clip keeps error messages short when the offending value is huge.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
