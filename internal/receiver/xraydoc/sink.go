// Package xraydoc holds what the X-Ray receivers (UDP daemon protocol and
// PutTraceSegments) share: the hand-off of accepted segment documents.
package xraydoc

import (
	"context"
	"errors"

	"github.com/sightline/sightline/internal/model"
)

// Sink takes accepted segment documents durably (the spool). An error means
// the documents were not taken: the caller drops and counts them (UDP) or
// tells the client (HTTP).
type Sink interface {
	AcceptSegments(ctx context.Context, recs []model.SegmentRecord) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, recs []model.SegmentRecord) error

// AcceptSegments calls f.
func (f SinkFunc) AcceptSegments(ctx context.Context, recs []model.SegmentRecord) error {
	return f(ctx, recs)
}

// ErrSinkFull is what a Sink wraps when it is full for now (spool at its
// bound): PutTraceSegments answers 429 ThrottledException for it so clients
// retry, instead of a 5xx.
var ErrSinkFull = errors.New("segment sink full")
