// Package rum serves the CloudWatch RUM control plane (app monitors,
// GetAppMonitorData) and Sightline's agent remote config over HTTP.
// Handlers parse, call the registry or store, and encode; no SQL here.
package rum

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/api/awserr"
	"github.com/sightline/sightline/internal/appmonitor"
	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// API holds the dependencies of the RUM handlers.
type API struct {
	Registry *appmonitor.Registry
	Events   store.RumReader
	Logger   *slog.Logger
}

// Register mounts the handlers on mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /appmonitor", a.create)
	mux.HandleFunc("GET /appmonitor/{Name}", a.get)
	mux.HandleFunc("PATCH /appmonitor/{Name}", a.update)
	mux.HandleFunc("DELETE /appmonitor/{Name}", a.delete)
	mux.HandleFunc("POST /appmonitors", a.list)
	mux.HandleFunc("POST /appmonitor/{Name}/data", a.data)
	mux.HandleFunc("POST /appmonitor/{Name}/cors-check", a.corsCheck)
}

type customEvents struct {
	Status string `json:"Status,omitempty"`
}

// definition is the input of CreateAppMonitor and UpdateAppMonitor.
type definition struct {
	Name                    *string                        `json:"Name"`
	Domain                  *string                        `json:"Domain"`
	DomainList              []string                       `json:"DomainList"`
	AppMonitorConfiguration *model.AppMonitorConfiguration `json:"AppMonitorConfiguration"`
	CustomEvents            *customEvents                  `json:"CustomEvents"`
	CwLogEnabled            *bool                          `json:"CwLogEnabled"`
	Tags                    map[string]string              `json:"Tags"`
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		awserr.Validation(w, "reading body: "+err.Error())
		return false
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		awserr.Validation(w, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

func (d *definition) apply(m *model.AppMonitor) error {
	if d.Domain != nil {
		m.Domain, m.DomainList = *d.Domain, nil
	}
	if d.DomainList != nil {
		m.DomainList, m.Domain = d.DomainList, ""
	}
	if d.AppMonitorConfiguration != nil {
		m.AppMonitorConfiguration = *d.AppMonitorConfiguration
	}
	if d.CustomEvents != nil {
		switch d.CustomEvents.Status {
		case "ENABLED":
			m.CustomEventsEnabled = true
		case "DISABLED", "":
			m.CustomEventsEnabled = false
		default:
			return &appmonitor.ValidationError{Field: "CustomEvents.Status", Msg: fmt.Sprintf("%q is not ENABLED or DISABLED", d.CustomEvents.Status)}
		}
	}
	if d.Tags != nil {
		m.Tags = d.Tags
	}
	return nil
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case appmonitor.IsValidation(err):
		awserr.Validation(w, err.Error())
	case errors.Is(err, store.ErrNotFound):
		awserr.NotFound(w, err.Error())
	case errors.Is(err, store.ErrConflict):
		awserr.Write(w, http.StatusConflict, "ConflictException", err.Error())
	default:
		a.Logger.ErrorContext(r.Context(), "rum api", "path", r.URL.Path, "err", err)
		awserr.Internal(w)
	}
}

func (a *API) create(w http.ResponseWriter, r *http.Request) {
	var d definition
	if !decodeBody(w, r, &d) {
		return
	}
	if d.Name == nil {
		awserr.Validation(w, "Name: required")
		return
	}
	m := &model.AppMonitor{Name: *d.Name}
	if err := d.apply(m); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.Registry.Create(r.Context(), m); err != nil {
		a.fail(w, r, err)
		return
	}
	awserr.JSON(w, map[string]string{"Id": m.ID})
}

func isoMicros(us int64) string {
	return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000Z")
}

// wireMonitor renders an app monitor in GetAppMonitor's shape.
func wireMonitor(m *model.AppMonitor) map[string]any {
	status := "DISABLED"
	if m.CustomEventsEnabled {
		status = "ENABLED"
	}
	out := map[string]any{
		"Id": m.ID, "Name": m.Name, "State": "ACTIVE", "Platform": "Web",
		"AppMonitorConfiguration": m.AppMonitorConfiguration,
		"CustomEvents":            customEvents{Status: status},
		"DataStorage":             map[string]any{"CwLog": map[string]any{"CwLogEnabled": false}},
		"Created":                 isoMicros(m.CreatedMicros),
		"LastModified":            isoMicros(m.ModifiedMicros),
	}
	if m.Domain != "" {
		out["Domain"] = m.Domain
	}
	if len(m.DomainList) > 0 {
		out["DomainList"] = m.DomainList
	}
	if len(m.Tags) > 0 {
		out["Tags"] = m.Tags
	}
	return out
}

func (a *API) get(w http.ResponseWriter, r *http.Request) {
	m, err := a.Registry.Get(r.Context(), r.PathValue("Name"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	awserr.JSON(w, map[string]any{"AppMonitor": wireMonitor(m)})
}

func (a *API) update(w http.ResponseWriter, r *http.Request) {
	m, err := a.Registry.Get(r.Context(), r.PathValue("Name"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var d definition
	if !decodeBody(w, r, &d) {
		return
	}
	if d.Name != nil && *d.Name != m.Name {
		awserr.Validation(w, "Name: an app monitor cannot be renamed")
		return
	}
	if err := d.apply(m); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.Registry.Update(r.Context(), m); err != nil {
		a.fail(w, r, err)
		return
	}
	awserr.JSON(w, struct{}{})
}

func (a *API) delete(w http.ResponseWriter, r *http.Request) {
	if err := a.Registry.Delete(r.Context(), r.PathValue("Name")); err != nil {
		a.fail(w, r, err)
		return
	}
	awserr.JSON(w, struct{}{})
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	max := 50
	if v := r.URL.Query().Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			awserr.Validation(w, "maxResults: must be 1 to 100")
			return
		}
		max = n
	}
	after := ""
	if tok := r.URL.Query().Get("nextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			awserr.Validation(w, "nextToken: not a token this server issued")
			return
		}
		after = string(b)
	}
	all, err := a.Registry.List(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	summaries := []map[string]any{}
	next := ""
	for i := range all {
		m := &all[i]
		if m.Name <= after {
			continue
		}
		if len(summaries) == max {
			next = base64.RawURLEncoding.EncodeToString([]byte(summaries[len(summaries)-1]["Name"].(string)))
			break
		}
		summaries = append(summaries, map[string]any{"Id": m.ID, "Name": m.Name, "State": "ACTIVE", "Platform": "Web",
			"Created": isoMicros(m.CreatedMicros), "LastModified": isoMicros(m.ModifiedMicros)})
	}
	out := map[string]any{"AppMonitorSummaries": summaries}
	if next != "" {
		out["NextToken"] = next
	}
	awserr.JSON(w, out)
}
