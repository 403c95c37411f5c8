package xray

import "net/http"

// The service graph operations are filled in with internal/query/servicegraph.
func (a *API) serviceGraph(w http.ResponseWriter, r *http.Request) { a.notYet(w) }
func (a *API) traceGraph(w http.ResponseWriter, r *http.Request)   { a.notYet(w) }
func (a *API) timeSeries(w http.ResponseWriter, r *http.Request)   { a.notYet(w) }

func (a *API) notYet(w http.ResponseWriter) {
	invalid(w, "not implemented yet")
}
