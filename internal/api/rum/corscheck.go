package rum

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/api/awserr"
	"github.com/sightline/sightline/internal/corscheck"
)

type corsCheckRequest struct {
	// Urls are API endpoints the site calls with the trace header.
	Urls []string `json:"Urls"`
	// Origin is the page's origin; default https:// + the app monitor's
	// first domain.
	Origin  string   `json:"Origin"`
	Headers []string `json:"Headers"`
	// Save adds the origins of the URLs that passed to the app monitor's
	// TraceHeaderAllowList, which the agent reads as remote config.
	Save bool `json:"Save"`
}

// corsCheck runs, from the server, the preflight a browser would send for
// each URL with the trace header, so the console can show which APIs are
// safe to trace and save them to the agent's allow-list. It sends requests
// to the given URLs: the HTTP API is an operator's interface, keep it off
// the public network.
func (a *API) corsCheck(w http.ResponseWriter, r *http.Request) {
	m, err := a.Registry.Get(r.Context(), r.PathValue("Name"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var req corsCheckRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if len(req.Urls) == 0 || len(req.Urls) > 20 {
		awserr.Validation(w, "Urls: give 1 to 20 URLs")
		return
	}
	for i, u := range req.Urls {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			awserr.Validation(w, fmt.Sprintf("Urls[%d]: %q is not an http(s) URL", i, u))
			return
		}
	}
	if req.Origin == "" {
		if ds := m.Domains(); len(ds) > 0 {
			req.Origin = "https://" + ds[0]
		}
	}
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	results := make([]corscheck.Result, 0, len(req.Urls))
	var passed []string
	for _, u := range req.Urls {
		res := corscheck.Check(r.Context(), client, u, corscheck.Options{Origin: req.Origin, Headers: req.Headers})
		results = append(results, res)
		if res.OK {
			p, _ := url.Parse(u)
			passed = append(passed, p.Scheme+"://"+p.Host)
		}
	}
	saved := []string{}
	if req.Save && len(passed) > 0 {
		list := m.AppMonitorConfiguration.TraceHeaderAllowList
		for _, o := range passed {
			if !slices.Contains(list, o) {
				list = append(list, o)
				saved = append(saved, o)
			}
		}
		m.AppMonitorConfiguration.TraceHeaderAllowList = list
		if err := a.Registry.Update(r.Context(), m); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	awserr.JSON(w, map[string]any{"Origin": req.Origin, "Results": results, "Saved": saved})
}
