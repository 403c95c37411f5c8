package sampling

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// MaxRequestBytes bounds a sampling API request body.
const MaxRequestBytes = 1 << 20

// Paths of the sampling operations, as aws-sdk-go-v2 calls them.
const (
	PathGetSamplingRules           = "/GetSamplingRules"
	PathSamplingTargets            = "/SamplingTargets"
	PathCreateSamplingRule         = "/CreateSamplingRule"
	PathUpdateSamplingRule         = "/UpdateSamplingRule"
	PathDeleteSamplingRule         = "/DeleteSamplingRule"
	PathSamplingStatisticSummaries = "/SamplingStatisticSummaries"
)

// Handler serves all six sampling operations (POST only) for the HTTP API
// address. Requests may be SigV4-signed; signatures are not checked.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathGetSamplingRules, s.handleGetRules)
	mux.HandleFunc("POST "+PathSamplingTargets, s.handleTargets)
	mux.HandleFunc("POST "+PathCreateSamplingRule, s.handleCreate)
	mux.HandleFunc("POST "+PathUpdateSamplingRule, s.handleUpdate)
	mux.HandleFunc("POST "+PathDeleteSamplingRule, s.handleDelete)
	mux.HandleFunc("POST "+PathSamplingStatisticSummaries, s.handleSummaries)
	return mux
}

// SDKHandler serves only what SDKs call on the daemon port:
// GetSamplingRules and SamplingTargets.
func (s *Service) SDKHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathGetSamplingRules, s.handleGetRules)
	mux.HandleFunc("POST "+PathSamplingTargets, s.handleTargets)
	return mux
}

// decode reads a JSON body; an empty body is an empty input, as the Node
// SDK sends "{}" and some clients send nothing.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, &Error{Status: http.StatusRequestEntityTooLarge, Code: "InvalidRequestException",
				Message: fmt.Sprintf("request body over %d bytes", MaxRequestBytes)})
			return false
		}
		writeError(w, invalid("read request: %v", err))
		return false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return true
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, invalid("request is not valid JSON for this operation: %v", err))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("sampling: write response", "err", err)
	}
}

// writeError answers in the AWS restJson1 error shape.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		slog.Error("sampling: internal error", "err", err)
		e = &Error{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: "internal error"}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
}

func (s *Service) handleGetRules(w http.ResponseWriter, r *http.Request) {
	var in struct{ NextToken *string }
	if !decode(w, r, &in) {
		return
	}
	tok := ""
	if in.NextToken != nil {
		tok = *in.NextToken
	}
	out, err := s.GetSamplingRules(r.Context(), tok)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, out)
}

func (s *Service) handleTargets(w http.ResponseWriter, r *http.Request) {
	var in TargetsInput
	if !decode(w, r, &in) {
		return
	}
	out, err := s.SamplingTargets(r.Context(), in)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, out)
}

func (s *Service) handleCreate(w http.ResponseWriter, r *http.Request) {
	var in struct{ SamplingRule *ruleInput }
	if !decode(w, r, &in) {
		return
	}
	rec, err := s.createRule(r.Context(), in.SamplingRule)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, map[string]any{"SamplingRuleRecord": rec})
}

func (s *Service) handleUpdate(w http.ResponseWriter, r *http.Request) {
	var in struct{ SamplingRuleUpdate *ruleUpdate }
	if !decode(w, r, &in) {
		return
	}
	rec, err := s.updateRule(r.Context(), in.SamplingRuleUpdate)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, map[string]any{"SamplingRuleRecord": rec})
}

func (s *Service) handleDelete(w http.ResponseWriter, r *http.Request) {
	var in struct{ RuleName, RuleARN string }
	if !decode(w, r, &in) {
		return
	}
	rec, err := s.DeleteRule(r.Context(), in.RuleName, in.RuleARN)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, map[string]any{"SamplingRuleRecord": rec})
}

func (s *Service) handleSummaries(w http.ResponseWriter, r *http.Request) {
	var in struct{ NextToken *string }
	if !decode(w, r, &in) {
		return
	}
	writeJSON(w, s.StatisticSummaries(r.Context()))
}
