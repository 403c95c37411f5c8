// Package xray serves the X-Ray query API (restJson1: POST + JSON body on
// the operation's path) so aws-sdk-go-v2's xray client, the AWS CLI and
// Grafana's X-Ray data source work unchanged. Handlers parse, call the
// query layer, and encode; no SQL here.
package xray

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/api/awserr"
	"github.com/sightline/sightline/internal/filter"
	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/query/trace"
	"github.com/sightline/sightline/internal/store"
)

// API holds the handlers' dependencies.
type API struct {
	Store  store.TraceStore
	Logger *slog.Logger
	// Account is the account id shown in ARNs.
	Account string
	Region  string
	Now     func() time.Time
	// MaxGraphTraces bounds how many traces a service graph or time series
	// is built from.
	MaxGraphTraces int
}

// Register mounts every operation on mux.
func (a *API) Register(mux *http.ServeMux) {
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.Account == "" {
		a.Account = "000000000000"
	}
	if a.Region == "" {
		a.Region = "us-east-1"
	}
	if a.MaxGraphTraces <= 0 {
		a.MaxGraphTraces = 20000
	}
	mux.HandleFunc("POST /TraceSummaries", a.traceSummaries)
	mux.HandleFunc("POST /Traces", a.batchGetTraces)
	mux.HandleFunc("POST /ServiceGraph", a.serviceGraph)
	mux.HandleFunc("POST /TraceGraph", a.traceGraph)
	mux.HandleFunc("POST /TimeSeriesServiceStatistics", a.timeSeries)
	mux.HandleFunc("POST /Groups", a.getGroups)
	mux.HandleFunc("POST /GetGroup", a.getGroup)
	mux.HandleFunc("POST /CreateGroup", a.createGroup)
	mux.HandleFunc("POST /UpdateGroup", a.updateGroup)
	mux.HandleFunc("POST /DeleteGroup", a.deleteGroup)
	mux.HandleFunc("POST /InsightSummaries", func(w http.ResponseWriter, r *http.Request) {
		awserr.JSON(w, map[string]any{"InsightSummaries": []any{}})
	})
}

func invalid(w http.ResponseWriter, msg string) {
	awserr.Write(w, http.StatusBadRequest, "InvalidRequestException", msg)
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		invalid(w, "reading body: "+err.Error())
		return false
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		invalid(w, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		invalid(w, err.Error())
	case errors.Is(err, store.ErrConflict):
		invalid(w, err.Error())
	case errors.Is(err, context.Canceled):
		awserr.Write(w, 499, "RequestCanceled", "request canceled")
	default:
		a.Logger.ErrorContext(r.Context(), "xray api", "path", r.URL.Path, "err", err)
		awserr.Write(w, http.StatusInternalServerError, "InternalFailure", "internal error; see the server log")
	}
}

// timeRange reads StartTime/EndTime (epoch seconds, fractions allowed).
func timeRange(start, end *float64) (int64, int64, error) {
	if start == nil || end == nil {
		return 0, 0, errors.New("StartTime and EndTime are required")
	}
	if math.IsNaN(*start) || math.IsNaN(*end) || *end <= *start {
		return 0, 0, errors.New("EndTime must be after StartTime")
	}
	return int64(*start * 1e6), int64(*end * 1e6), nil
}

type groupResolver struct {
	ctx context.Context
	st  store.Groups
}

func (g groupResolver) GroupExpression(byARN bool, key string) (string, bool) {
	groups, err := g.st.ListGroups(g.ctx)
	if err != nil {
		return "", false
	}
	for _, gr := range groups {
		if (!byARN && gr.Name == key) || (byARN && gr.ARN == key) {
			return gr.FilterExpression, true
		}
	}
	return "", false
}

// parseFilter parses a filter expression; errors carry their position.
func parseFilter(expr string) (filter.Expr, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	e, err := filter.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("FilterExpression: %w", err)
	}
	return e, nil
}

// groupFilter resolves GroupName/GroupARN to a parsed expression; the
// Default group (or none) is every trace.
func (a *API) groupFilter(ctx context.Context, name, arn string) (filter.Expr, error) {
	if (name == "" || name == "Default") && (arn == "" || strings.HasSuffix(arn, "/Default")) {
		return nil, nil
	}
	groups, err := a.Store.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if (name != "" && g.Name == name) || (arn != "" && g.ARN == arn) {
			return parseFilter(g.FilterExpression)
		}
	}
	return nil, fmt.Errorf("group %q: %w", name+arn, store.ErrNotFound)
}

type summariesRequest struct {
	StartTime        *float64 `json:"StartTime"`
	EndTime          *float64 `json:"EndTime"`
	TimeRangeType    string   `json:"TimeRangeType"`
	FilterExpression string   `json:"FilterExpression"`
	NextToken        string   `json:"NextToken"`
	Sampling         bool     `json:"Sampling"`
}

func encodeCursor(c trace.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.StartMicros, 10) + "," + c.TraceID))
}

func decodeCursor(tok string) (trace.Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return trace.Cursor{}, errors.New("NextToken: not a token this server issued")
	}
	ts, id, ok := strings.Cut(string(raw), ",")
	n, perr := strconv.ParseInt(ts, 10, 64)
	if !ok || perr != nil || id == "" {
		return trace.Cursor{}, errors.New("NextToken: not a token this server issued")
	}
	return trace.Cursor{StartMicros: n, TraceID: id}, nil
}

func (a *API) traceSummaries(w http.ResponseWriter, r *http.Request) {
	var req summariesRequest
	if !decode(w, r, &req) {
		return
	}
	from, to, err := timeRange(req.StartTime, req.EndTime)
	if err != nil {
		invalid(w, err.Error())
		return
	}
	switch req.TimeRangeType {
	case "", store.TimeRangeEvent, store.TimeRangeTraceID, store.TimeRangeService:
	default:
		invalid(w, fmt.Sprintf("TimeRangeType: %q is not TraceId, Event or Service", req.TimeRangeType))
		return
	}
	expr, err := parseFilter(req.FilterExpression)
	if err != nil {
		invalid(w, err.Error())
		return
	}
	q := trace.SearchQuery{FromMicros: from, ToMicros: to, TimeRangeType: req.TimeRangeType, Filter: expr,
		Eval: filter.EvalContext{Groups: groupResolver{ctx: r.Context(), st: a.Store}}, PageSize: 100}
	if req.NextToken != "" {
		c, err := decodeCursor(req.NextToken)
		if err != nil {
			invalid(w, err.Error())
			return
		}
		q.Cursor = c
	}
	res, err := trace.Search(r.Context(), a.Store, q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := map[string]any{
		"TraceSummaries":       nonNil(res.Summaries),
		"ApproximateTime":      float64(a.Now().Unix()),
		"TracesProcessedCount": res.Processed,
	}
	if res.Next != nil {
		out["NextToken"] = encodeCursor(*res.Next)
	}
	awserr.JSON(w, out)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type traceIDsRequest struct {
	TraceIds  []string `json:"TraceIds"`
	NextToken string   `json:"NextToken"`
}

func (a *API) batchGetTraces(w http.ResponseWriter, r *http.Request) {
	var req traceIDsRequest
	if !decode(w, r, &req) {
		return
	}
	if len(req.TraceIds) == 0 {
		invalid(w, "TraceIds: at least one trace id is required")
		return
	}
	if len(req.TraceIds) > 100 {
		invalid(w, "TraceIds: at most 100 per request")
		return
	}
	var ids, unprocessed []string
	for _, id := range req.TraceIds {
		if !model.IsValidTraceID(id) {
			unprocessed = append(unprocessed, id)
			continue
		}
		ids = append(ids, id)
	}
	traces, err := trace.Load(r.Context(), a.Store, ids)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	type outTrace struct {
		Id            string                  `json:"Id"`
		Duration      float64                 `json:"Duration"`
		LimitExceeded bool                    `json:"LimitExceeded"`
		Segments      []trace.SegmentDocument `json:"Segments"`
	}
	out := []outTrace{}
	for _, id := range ids {
		t := traces[id]
		if t == nil {
			unprocessed = append(unprocessed, id)
			continue
		}
		docs, err := trace.Documents(t)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		sum := trace.Summarize(t)
		out = append(out, outTrace{Id: id, Duration: sum.Duration, Segments: docs})
	}
	awserr.JSON(w, map[string]any{"Traces": out, "UnprocessedTraceIds": nonNil(unprocessed)})
}

type groupRequest struct {
	GroupName             string `json:"GroupName"`
	GroupARN              string `json:"GroupARN"`
	FilterExpression      string `json:"FilterExpression"`
	InsightsConfiguration *struct {
		InsightsEnabled      bool `json:"InsightsEnabled"`
		NotificationsEnabled bool `json:"NotificationsEnabled"`
	} `json:"InsightsConfiguration"`
}

func wireGroup(g store.Group) map[string]any {
	return map[string]any{"GroupName": g.Name, "GroupARN": g.ARN, "FilterExpression": g.FilterExpression,
		"InsightsConfiguration": map[string]bool{"InsightsEnabled": g.InsightsEnabled, "NotificationsEnabled": g.NotifyEnabled}}
}

func (a *API) groupByRequest(ctx context.Context, req groupRequest) (*store.Group, error) {
	if req.GroupName != "" {
		return a.Store.GetGroup(ctx, req.GroupName)
	}
	groups, err := a.Store.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if g.ARN == req.GroupARN {
			return &g, nil
		}
	}
	return nil, fmt.Errorf("group %q: %w", req.GroupARN, store.ErrNotFound)
}

func (a *API) getGroups(w http.ResponseWriter, r *http.Request) {
	groups, err := a.Store.ListGroups(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := []map[string]any{wireGroup(store.Group{Name: "Default", ARN: a.groupARN("Default")})}
	for _, g := range groups {
		out = append(out, wireGroup(g))
	}
	awserr.JSON(w, map[string]any{"Groups": out})
}

func (a *API) groupARN(name string) string {
	return fmt.Sprintf("arn:aws:xray:%s:%s:group/%s/%s", a.Region, a.Account, name, strings.ToLower(name))
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) {
	var req groupRequest
	if !decode(w, r, &req) {
		return
	}
	if req.GroupName == "" && req.GroupARN == "" {
		invalid(w, "GroupName or GroupARN is required")
		return
	}
	g, err := a.groupByRequest(r.Context(), req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	awserr.JSON(w, map[string]any{"Group": wireGroup(*g)})
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) {
	var req groupRequest
	if !decode(w, r, &req) {
		return
	}
	if req.GroupName == "" || len(req.GroupName) > 32 || req.GroupName == "Default" {
		invalid(w, "GroupName: 1-32 characters, not Default")
		return
	}
	if _, err := parseFilter(req.FilterExpression); err != nil {
		invalid(w, err.Error())
		return
	}
	g := store.Group{Name: req.GroupName, ARN: a.groupARN(req.GroupName), FilterExpression: req.FilterExpression}
	if req.InsightsConfiguration != nil {
		g.InsightsEnabled, g.NotifyEnabled = req.InsightsConfiguration.InsightsEnabled, req.InsightsConfiguration.NotificationsEnabled
	}
	if err := a.Store.CreateGroup(r.Context(), g); err != nil {
		a.fail(w, r, err)
		return
	}
	awserr.JSON(w, map[string]any{"Group": wireGroup(g)})
}

func (a *API) updateGroup(w http.ResponseWriter, r *http.Request) {
	var req groupRequest
	if !decode(w, r, &req) {
		return
	}
	g, err := a.groupByRequest(r.Context(), req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if req.FilterExpression != "" {
		if _, err := parseFilter(req.FilterExpression); err != nil {
			invalid(w, err.Error())
			return
		}
		g.FilterExpression = req.FilterExpression
	}
	if req.InsightsConfiguration != nil {
		g.InsightsEnabled, g.NotifyEnabled = req.InsightsConfiguration.InsightsEnabled, req.InsightsConfiguration.NotificationsEnabled
	}
	if err := a.Store.UpdateGroup(r.Context(), *g); err != nil {
		a.fail(w, r, err)
		return
	}
	awserr.JSON(w, map[string]any{"Group": wireGroup(*g)})
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) {
	var req groupRequest
	if !decode(w, r, &req) {
		return
	}
	g, err := a.groupByRequest(r.Context(), req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.Store.DeleteGroup(r.Context(), g.Name); err != nil {
		a.fail(w, r, err)
		return
	}
	awserr.JSON(w, struct{}{})
}
