package rumquery

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/api/awserr"
	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/query/rum"
	"github.com/sightline/sightline/internal/store"
)

// Monitors finds an app monitor by name; *appmonitor.Registry is one.
// A missing monitor is an error wrapping store.ErrNotFound.
type Monitors interface {
	Get(ctx context.Context, name string) (*model.AppMonitor, error)
}

// API holds the dependencies of the RUM analytics handlers.
type API struct {
	Monitors Monitors
	Service  *rum.Service
	Logger   *slog.Logger
}

// maxLimit bounds every Limit so one request stays cheap.
const maxLimit = 1000

// Register mounts the handlers on mux.
func (a *API) Register(mux *http.ServeMux) {
	for name, h := range map[string]func(*call) (any, error){
		"pageloads": a.pageLoads, "loadtime": a.loadTime, "vitals": a.vitals, "navigation": a.navigation,
		"errors": a.errors, "http": a.http, "sessions": a.sessions, "session": a.session,
		"journeys": a.journeys, "audience": a.audience, "overview": a.overview,
	} {
		mux.HandleFunc("POST /rum/{Name}/"+name, a.serve(h))
	}
}

// request is the body every query accepts; each uses what it needs.
type request struct {
	From          *int64   `json:"From"`
	To            *int64   `json:"To"`
	BucketSeconds *float64 `json:"BucketSeconds"`
	GroupBy       string   `json:"GroupBy"`
	Limit         *int     `json:"Limit"`
	Filters       *filters `json:"Filters"`
	Vital         string   `json:"Vital"`
	Dimension     string   `json:"Dimension"`
	SessionID     string   `json:"SessionId"`
	NextToken     string   `json:"NextToken"`
	Samples       *int     `json:"Samples"`
	TraceIDs      *int     `json:"TraceIds"`
}

type filters struct {
	Page       []string            `json:"Page"`
	Browser    []string            `json:"Browser"`
	OS         []string            `json:"OS"`
	DeviceType []string            `json:"DeviceType"`
	Country    []string            `json:"Country"`
	AppVersion []string            `json:"AppVersion"`
	Release    []string            `json:"Release"`
	Metadata   map[string][]string `json:"Metadata"`
}

// call is one parsed request.
type call struct {
	ctx   context.Context
	req   request
	rng   store.RumRange
	limit int
}

func invalid(field, format string, args ...any) error {
	return &rum.ErrInvalid{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (a *API) serve(h func(*call) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := a.parse(w, r)
		if err == nil {
			var out any
			out, err = h(c)
			if err == nil {
				awserr.JSON(w, out)
				return
			}
		}
		var inv *rum.ErrInvalid
		switch {
		case errors.As(err, &inv):
			awserr.Validation(w, inv.Error())
		case errors.Is(err, store.ErrNotFound):
			awserr.NotFound(w, err.Error())
		default:
			a.Logger.ErrorContext(r.Context(), "rum query", "path", r.URL.Path, "err", err)
			awserr.Internal(w)
		}
	}
}

func (a *API) parse(w http.ResponseWriter, r *http.Request) (*call, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return nil, invalid("body", "reading: %v", err)
	}
	c := &call{ctx: r.Context()}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c.req); err != nil {
			return nil, invalid("body", "invalid JSON: %v", err)
		}
	}
	q := &c.req
	if q.From == nil {
		return nil, invalid("From", "required (epoch milliseconds)")
	}
	if q.To == nil {
		return nil, invalid("To", "required (epoch milliseconds)")
	}
	if *q.From < 0 || *q.From > 1<<50 || *q.To > 1<<50 {
		return nil, invalid("From", "out of range")
	}
	if *q.To <= *q.From {
		return nil, invalid("To", "must be after From")
	}
	c.rng.FromMicros, c.rng.ToMicros = *q.From*1000, *q.To*1000
	if q.Limit != nil && (*q.Limit < 1 || *q.Limit > maxLimit) {
		return nil, invalid("Limit", "must be 1 to %d", maxLimit)
	}
	if q.Limit != nil {
		c.limit = *q.Limit
	}
	if f := q.Filters; f != nil {
		c.rng.Filter = store.RumFilter{Pages: f.Page, Browsers: f.Browser, OSes: f.OS, DeviceTypes: f.DeviceType,
			Countries: f.Country, AppVersions: f.AppVersion}
		if len(f.Metadata) > 0 || len(f.Release) > 0 {
			c.rng.Filter.Metadata = map[string][]string{}
		}
		for k, v := range f.Metadata {
			if !store.ValidMetadataKey(k) {
				return nil, invalid("Filters.Metadata", "key %q: only letters, digits and _ : . - (at most 128)", k)
			}
			if len(v) == 0 {
				return nil, invalid("Filters.Metadata", "key %q: no values", k)
			}
			c.rng.Filter.Metadata[k] = v
		}
		if len(f.Release) > 0 {
			c.rng.Filter.Metadata["aws:releaseId"] = append(c.rng.Filter.Metadata["aws:releaseId"], f.Release...)
		}
	}
	m, err := a.Monitors.Get(r.Context(), r.PathValue("Name"))
	if err != nil {
		return nil, err
	}
	c.rng.AppMonitorID = m.ID
	return c, nil
}

func (c *call) bucket() (int64, error) {
	var d time.Duration
	if b := c.req.BucketSeconds; b != nil {
		if *b <= 0 || *b > 366*86400 {
			return 0, invalid("BucketSeconds", "must be between 1 and 31622400")
		}
		d = time.Duration(*b * float64(time.Second))
	}
	return rum.Bucket(c.rng, d)
}

func (c *call) group() (store.RumGroup, error) {
	switch c.req.GroupBy {
	case "", "time":
		return store.GroupByTime, nil
	case "page":
		return store.GroupByPage, nil
	}
	return 0, invalid("GroupBy", "%q is not time or page", c.req.GroupBy)
}

type series struct {
	BucketSeconds int64       `json:"BucketSeconds,omitempty"`
	GroupBy       string      `json:"GroupBy,omitempty"`
	Points        []rum.Point `json:"Points"`
}

func (a *API) distribution(c *call, fn func(store.RumGroup, int64) ([]rum.Point, error)) (any, error) {
	g, err := c.group()
	if err != nil {
		return nil, err
	}
	var b int64
	if g == store.GroupByTime {
		if b, err = c.bucket(); err != nil {
			return nil, err
		}
	}
	pts, err := fn(g, b)
	if err != nil {
		return nil, err
	}
	if pts == nil {
		pts = []rum.Point{}
	}
	out := series{BucketSeconds: b / 1e6, GroupBy: "time", Points: pts}
	if g == store.GroupByPage {
		out.GroupBy = "page"
	}
	return out, nil
}

func (a *API) pageLoads(c *call) (any, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	pts, err := a.Service.PageLoads(c.ctx, c.rng, b)
	if err != nil {
		return nil, err
	}
	return map[string]any{"BucketSeconds": b / 1e6, "Points": pts}, nil
}

func (a *API) loadTime(c *call) (any, error) {
	return a.distribution(c, func(g store.RumGroup, b int64) ([]rum.Point, error) {
		return a.Service.LoadTime(c.ctx, c.rng, g, b, c.limit)
	})
}

func (a *API) vitals(c *call) (any, error) {
	v, ok := rum.VitalByName(c.req.Vital)
	if !ok {
		return nil, invalid("Vital", "%q is not one of LCP, INP, CLS, FCP, TTFB, FID", c.req.Vital)
	}
	out, err := a.distribution(c, func(g store.RumGroup, b int64) ([]rum.Point, error) {
		return a.Service.VitalSeries(c.ctx, c.rng, v, g, b, c.limit)
	})
	if err != nil {
		return nil, err
	}
	return struct {
		series
		Vital string  `json:"Vital"`
		Unit  string  `json:"Unit"`
		Good  float64 `json:"GoodThreshold"`
		Poor  float64 `json:"PoorThreshold"`
	}{out.(series), v.Name, v.Unit, v.Good, v.Poor}, nil
}

func (a *API) navigation(c *call) (any, error) {
	phases, err := a.Service.NavigationBreakdown(c.ctx, c.rng)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Phases": phases}, nil
}

func boundedOpt(field string, v *int, max int) (int, error) {
	if v == nil {
		return 0, nil
	}
	if *v < 1 || *v > max {
		return 0, invalid(field, "must be 1 to %d", max)
	}
	return *v, nil
}

func (a *API) errors(c *call) (any, error) {
	samples, err := boundedOpt("Samples", c.req.Samples, 20)
	if err != nil {
		return nil, err
	}
	groups, err := a.Service.Stats.ErrorGroups(c.ctx, store.ErrorGroupQuery{RumRange: c.rng, Limit: c.limit, Samples: samples})
	if err != nil {
		return nil, err
	}
	if groups == nil {
		groups = []store.ErrorGroup{}
	}
	return map[string]any{"Groups": groups}, nil
}

func (a *API) http(c *call) (any, error) {
	traces, err := boundedOpt("TraceIds", c.req.TraceIDs, 20)
	if err != nil {
		return nil, err
	}
	groups, err := a.Service.HTTPGroups(c.ctx, store.HTTPGroupQuery{RumRange: c.rng, Limit: c.limit, TraceIDs: traces})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Groups": groups}, nil
}

// Session list tokens are "start µs,session id", opaque to clients.
func encodeToken(startMicros int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(startMicros, 10) + "," + id))
}

func decodeToken(tok string) (int64, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	ts, id, ok := strings.Cut(string(raw), ",")
	n, perr := strconv.ParseInt(ts, 10, 64)
	if err != nil || !ok || perr != nil || id == "" {
		return 0, "", invalid("NextToken", "not a token this server issued")
	}
	return n, id, nil
}

func (a *API) sessions(c *call) (any, error) {
	q := store.SessionListQuery{RumRange: c.rng, Limit: c.limit}
	if q.Limit == 0 {
		q.Limit = 50
	}
	if c.req.NextToken != "" {
		var err error
		if q.BeforeStartMicros, q.BeforeSessionID, err = decodeToken(c.req.NextToken); err != nil {
			return nil, err
		}
	}
	rows, err := a.Service.Stats.Sessions(c.ctx, q)
	if err != nil {
		return nil, err
	}
	out := struct {
		Sessions  []store.SessionSummary `json:"Sessions"`
		NextToken string                 `json:"NextToken,omitempty"`
	}{Sessions: rows}
	if out.Sessions == nil {
		out.Sessions = []store.SessionSummary{}
	}
	if len(rows) == q.Limit {
		last := rows[len(rows)-1]
		out.NextToken = encodeToken(last.StartMicros, last.SessionID)
	}
	return out, nil
}

func (a *API) session(c *call) (any, error) {
	if c.req.SessionID == "" || len(c.req.SessionID) > 128 {
		return nil, invalid("SessionId", "required, at most 128 characters")
	}
	return a.Service.SessionTimeline(c.ctx, c.rng, c.req.SessionID)
}

func (a *API) journeys(c *call) (any, error) {
	return a.Service.Journeys(c.ctx, store.JourneyQuery{RumRange: c.rng, Limit: c.limit})
}

func (a *API) audience(c *call) (any, error) {
	if c.req.Dimension == "" {
		return nil, invalid("Dimension", "required: one of %s", strings.Join(rum.Dimensions(), ", "))
	}
	rows, err := a.Service.Audience(c.ctx, c.rng, c.req.Dimension)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Dimension": c.req.Dimension, "Rows": rows}, nil
}

func (a *API) overview(c *call) (any, error) {
	b, err := c.bucket()
	if err != nil {
		return nil, err
	}
	return a.Service.Overview(c.ctx, c.rng, b, c.limit)
}
