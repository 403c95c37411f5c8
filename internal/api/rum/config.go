package rum

import (
	"context"
	"net/http"
	"strings"

	"github.com/sightline/sightline/internal/api/awserr"
	"github.com/sightline/sightline/internal/model"
)

// monitorByID is what the remote-config handler needs of the registry.
type monitorByID interface {
	AppMonitorByID(ctx context.Context, id string) (*model.AppMonitor, error)
}

// AgentConfig is the remote configuration Sightline's browser agent
// fetches at start, so operators change sampling and tracing without
// redeploying the site.
type AgentConfig struct {
	SessionSampleRate    *float64 `json:"sessionSampleRate,omitempty"`
	Telemetries          []string `json:"telemetries,omitempty"`
	IncludedPages        []string `json:"includedPages,omitempty"`
	ExcludedPages        []string `json:"excludedPages,omitempty"`
	EnableXRay           *bool    `json:"enableXRay,omitempty"`
	TraceHeaderAllowList []string `json:"traceHeaderAllowList,omitempty"`
	AllowCookies         *bool    `json:"allowCookies,omitempty"`
}

// ConfigFor derives the agent config from an app monitor.
func ConfigFor(m *model.AppMonitor) AgentConfig {
	c := m.AppMonitorConfiguration
	return AgentConfig{SessionSampleRate: c.SessionSampleRate, Telemetries: c.Telemetries, IncludedPages: c.IncludedPages,
		ExcludedPages: c.ExcludedPages, EnableXRay: c.EnableXRay, TraceHeaderAllowList: c.TraceHeaderAllowList, AllowCookies: c.AllowCookies}
}

// ConfigHandler serves GET .../appmonitors/{id}/config on the ingest
// address; the ingest handler has already resolved the id and the origin.
func ConfigHandler(monitors monitorByID) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimSuffix(r.URL.Path, "/config")
		id := p[strings.LastIndex(p, "/")+1:]
		m, err := monitors.AppMonitorByID(r.Context(), id)
		if err != nil {
			awserr.NotFound(w, "unknown app monitor")
			return
		}
		// Short caching: the agent caches per session anyway, and a change
		// must reach new page loads quickly.
		w.Header().Set("Cache-Control", "max-age=60")
		awserr.JSON(w, ConfigFor(m))
	})
}
