package storetest

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// The reference answers below are computed from the events in plain Go,
// independently of any SQL, and define what the RumStats queries mean.

// Quantile is the linear-interpolation quantile (type 7) of sorted values.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	lo := math.Floor(pos)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-lo)*(sorted[i+1]-sorted[i])
}

func percentilesOf(vals []float64) store.Percentiles {
	s := slices.Clone(vals)
	slices.Sort(s)
	return store.Percentiles{P50: Quantile(s, 0.5), P75: Quantile(s, 0.75), P90: Quantile(s, 0.9), P99: Quantile(s, 0.99)}
}

type refData struct {
	events []model.RumEvent
	md     []map[string]any // parsed metadata, by index
}

func newRefData(events []model.RumEvent) *refData {
	slices.SortFunc(events, func(a, b model.RumEvent) int {
		return cmp.Or(cmp.Compare(a.TimestampMicros, b.TimestampMicros), cmp.Compare(a.EventID, b.EventID))
	})
	d := &refData{events: events, md: make([]map[string]any, len(events))}
	for i := range events {
		_ = json.Unmarshal(events[i].Metadata, &d.md[i])
	}
	return d
}

func oneOf(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }

func (d *refData) inRange(r store.RumRange, i int) bool {
	e := &d.events[i]
	return e.AppMonitorID == r.AppMonitorID && e.TimestampMicros >= r.FromMicros && e.TimestampMicros < r.ToMicros
}

func (d *refData) passes(r store.RumRange, i int) bool {
	if !d.inRange(r, i) {
		return false
	}
	e, f := &d.events[i], r.Filter
	if !oneOf(f.Pages, e.PageID) || !oneOf(f.Browsers, e.Browser) || !oneOf(f.OSes, e.OS) ||
		!oneOf(f.DeviceTypes, e.DeviceType) || !oneOf(f.Countries, e.Country) || !oneOf(f.AppVersions, e.AppVersion) {
		return false
	}
	for k, vals := range f.Metadata {
		v, ok := d.md[i][k].(string)
		if !ok || !slices.Contains(vals, v) {
			return false
		}
	}
	// An empty filter value never matches a missing column (SQL NULL).
	for _, c := range []struct {
		vals []string
		v    string
	}{{f.Pages, e.PageID}, {f.Browsers, e.Browser}, {f.OSes, e.OS}, {f.DeviceTypes, e.DeviceType}, {f.Countries, e.Country}, {f.AppVersions, e.AppVersion}} {
		if len(c.vals) > 0 && c.v == "" {
			return false
		}
	}
	return true
}

// each calls fn with the index of every event passing the filter.
func (d *refData) each(r store.RumRange, fn func(i int, e *model.RumEvent)) {
	for i := range d.events {
		if d.passes(r, i) {
			fn(i, &d.events[i])
		}
	}
}

// eachScoped calls fn for every event in range of the sessions with an
// event passing the filter.
func (d *refData) eachScoped(r store.RumRange, fn func(e *model.RumEvent)) {
	sessions := map[string]bool{}
	d.each(r, func(_ int, e *model.RumEvent) { sessions[e.SessionID] = true })
	for i := range d.events {
		if d.inRange(r, i) && sessions[d.events[i].SessionID] {
			fn(&d.events[i])
		}
	}
}

func limitOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

func head[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (d *refData) distribution(q store.DistributionQuery) []store.DistributionRow {
	type acc struct {
		key  string
		b    int64
		vals []float64
	}
	groups := map[any]*acc{}
	d.each(q.RumRange, func(_ int, e *model.RumEvent) {
		if e.Type != q.EventType {
			return
		}
		v := e.Value
		if q.EventType == model.EventNavigation {
			v = e.DurationMillis
		}
		if v == nil {
			return
		}
		var k any = e.PageID
		if q.GroupBy == store.GroupByTime {
			k = e.TimestampMicros / q.BucketMicros * q.BucketMicros
		}
		a := groups[k]
		if a == nil {
			a = &acc{key: e.PageID, b: e.TimestampMicros / q.BucketMicros * q.BucketMicros}
			groups[k] = a
		}
		a.vals = append(a.vals, *v)
	})
	var out []store.DistributionRow
	for _, a := range groups {
		r := store.DistributionRow{Count: int64(len(a.vals)), Percentiles: percentilesOf(a.vals)}
		for _, v := range a.vals {
			if v <= q.Good {
				r.AtMostGood++
			}
			if v <= q.Poor {
				r.AtMostPoor++
			}
		}
		if q.GroupBy == store.GroupByTime {
			r.BucketMicros = a.b
		} else {
			r.Page = a.key
		}
		out = append(out, r)
	}
	if q.GroupBy == store.GroupByTime {
		slices.SortFunc(out, func(a, b store.DistributionRow) int { return cmp.Compare(a.BucketMicros, b.BucketMicros) })
		return out
	}
	slices.SortFunc(out, func(a, b store.DistributionRow) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Page, b.Page))
	})
	return head(out, limitOr(q.Limit, 100))
}

func (d *refData) eventCounts(q store.CountQuery) []store.CountRow {
	counts := map[store.CountRow]int64{}
	d.each(q.RumRange, func(_ int, e *model.RumEvent) {
		if oneOf(q.EventTypes, e.Type) {
			counts[store.CountRow{BucketMicros: e.TimestampMicros / q.BucketMicros * q.BucketMicros, EventType: e.Type}]++
		}
	})
	var out []store.CountRow
	for k, n := range counts {
		k.Count = n
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b store.CountRow) int {
		return cmp.Or(cmp.Compare(a.BucketMicros, b.BucketMicros), cmp.Compare(a.EventType, b.EventType))
	})
	return out
}

func (d *refData) navigationPhases(q store.RumRange) []store.PhaseStat {
	vals := make([][]float64, len(store.NavigationPhaseFields))
	d.each(q, func(_ int, e *model.RumEvent) {
		if e.Type != model.EventNavigation {
			return
		}
		var m map[string]any
		if json.Unmarshal(e.Details, &m) != nil {
			return
		}
		for i, f := range store.NavigationPhaseFields {
			if v, ok := m[f].(float64); ok {
				vals[i] = append(vals[i], v)
			}
		}
	})
	out := make([]store.PhaseStat, len(vals))
	for i, vs := range vals {
		p := store.PhaseStat{Field: store.NavigationPhaseFields[i], Count: int64(len(vs))}
		if len(vs) > 0 {
			sum := 0.0
			for _, v := range vs {
				sum += v
			}
			pc := percentilesOf(vs)
			p.Mean, p.P50, p.P75 = sum/float64(len(vs)), pc.P50, pc.P75
		}
		out[i] = p
	}
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func (d *refData) errorGroups(q store.ErrorGroupQuery) []store.ErrorGroup {
	type acc struct {
		g                  store.ErrorGroup
		sessions, browsers map[string]bool
		versions           map[string]bool
	}
	groups := map[[3]string]*acc{}
	samples := limitOr(q.Samples, 3)
	d.each(q.RumRange, func(_ int, e *model.RumEvent) {
		if e.Type != model.EventJSError {
			return
		}
		var det struct {
			Stack string `json:"stack"`
		}
		_ = json.Unmarshal(e.Details, &det)
		key := [3]string{e.ErrorType, store.NormalizeErrorMessage(e.ErrorMessage), store.TopStackFrame(det.Stack)}
		a := groups[key]
		if a == nil {
			a = &acc{g: store.ErrorGroup{Type: key[0], Message: key[1], Frame: key[2], FirstMicros: e.TimestampMicros},
				sessions: map[string]bool{}, browsers: map[string]bool{}, versions: map[string]bool{}}
			groups[key] = a
		}
		a.g.Count++
		a.g.LastMicros = e.TimestampMicros // events are visited in time order
		a.sessions[e.SessionID], a.browsers[e.Browser], a.versions[e.AppVersion] = true, true, true
		if len(a.g.SampleEventIDs) < samples {
			a.g.SampleEventIDs = append(a.g.SampleEventIDs, e.EventID)
			a.g.SampleSessions = append(a.g.SampleSessions, e.SessionID)
		}
	})
	var out []store.ErrorGroup
	for _, a := range groups {
		a.g.Sessions = int64(len(a.sessions))
		a.g.Browsers, a.g.AppVersions = sortedSet(a.browsers), sortedSet(a.versions)
		out = append(out, a.g)
	}
	slices.SortFunc(out, func(a, b store.ErrorGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Message, b.Message), cmp.Compare(a.Frame, b.Frame))
	})
	return head(out, limitOr(q.Limit, 50))
}

func (d *refData) httpGroups(q store.HTTPGroupQuery) []store.HTTPGroup {
	xray := map[string]float64{}
	for i := range d.events {
		e := &d.events[i]
		if d.inRange(q.RumRange, i) && e.Type == model.EventXRayTrace && e.TraceID != "" && e.DurationMillis != nil {
			if old, ok := xray[e.TraceID]; !ok || *e.DurationMillis > old {
				xray[e.TraceID] = *e.DurationMillis
			}
		}
	}
	type acc struct {
		g      store.HTTPGroup
		lat    []float64
		traces map[string]bool
	}
	groups := map[[2]string]*acc{}
	d.each(q.RumRange, func(_ int, e *model.RumEvent) {
		if e.Type != model.EventHTTP {
			return
		}
		key := [2]string{e.HTTPMethod, store.URLPattern(e.HTTPURL)}
		a := groups[key]
		if a == nil {
			a = &acc{g: store.HTTPGroup{Method: key[0], URLPattern: key[1]}, traces: map[string]bool{}}
			groups[key] = a
		}
		a.g.Count++
		switch {
		case e.HTTPStatus >= 400 && e.HTTPStatus <= 499:
			a.g.Status4xx++
		case e.HTTPStatus >= 500 && e.HTTPStatus <= 599:
			a.g.Status5xx++
		case e.HTTPStatus == 0 && (e.ErrorType != "" || e.ErrorMessage != ""):
			a.g.NetworkErrors++
		}
		if e.DurationMillis != nil {
			a.lat = append(a.lat, *e.DurationMillis)
		} else if v, ok := xray[e.TraceID]; ok && e.TraceID != "" {
			a.lat = append(a.lat, v)
		}
		a.traces[e.TraceID] = true
	})
	var out []store.HTTPGroup
	for _, a := range groups {
		a.g.LatencyCount = int64(len(a.lat))
		if len(a.lat) > 0 {
			a.g.Latency = percentilesOf(a.lat)
		}
		t := sortedSet(a.traces)
		slices.Reverse(t)
		a.g.TraceIDs = head(t, limitOr(q.TraceIDs, 3))
		out = append(out, a.g)
	}
	slices.SortFunc(out, func(a, b store.HTTPGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Method, b.Method), cmp.Compare(a.URLPattern, b.URLPattern))
	})
	return head(out, limitOr(q.Limit, 50))
}

func firstNonEmpty(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

func (d *refData) sessions(q store.SessionListQuery) []store.SessionSummary {
	byID := map[string]*store.SessionSummary{}
	var order []string
	d.eachScoped(q.RumRange, func(e *model.RumEvent) {
		s := byID[e.SessionID]
		if s == nil {
			s = &store.SessionSummary{SessionID: e.SessionID, StartMicros: e.TimestampMicros}
			byID[e.SessionID] = s
			order = append(order, e.SessionID)
		}
		s.EndMicros = e.TimestampMicros
		s.Events++
		firstNonEmpty(&s.UserID, e.UserID)
		firstNonEmpty(&s.Browser, e.Browser)
		firstNonEmpty(&s.OS, e.OS)
		firstNonEmpty(&s.DeviceType, e.DeviceType)
		firstNonEmpty(&s.Country, e.Country)
		firstNonEmpty(&s.AppVersion, e.AppVersion)
		switch e.Type {
		case model.EventPageView:
			s.PageViews++
			if e.PageID != "" {
				firstNonEmpty(&s.EntryPage, e.PageID)
				s.ExitPage = e.PageID
			}
		case model.EventJSError:
			s.Errors++
		}
	})
	var out []store.SessionSummary
	for _, id := range order {
		s := byID[id]
		if q.BeforeSessionID != "" && cmp.Or(cmp.Compare(s.StartMicros, q.BeforeStartMicros), cmp.Compare(s.SessionID, q.BeforeSessionID)) >= 0 {
			continue
		}
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b store.SessionSummary) int {
		return cmp.Or(cmp.Compare(b.StartMicros, a.StartMicros), cmp.Compare(b.SessionID, a.SessionID))
	})
	return head(out, limitOr(q.Limit, 50))
}

// pageViews returns, per scoped session, its page views in order.
func (d *refData) pageViews(r store.RumRange) map[string][]string {
	out := map[string][]string{}
	d.eachScoped(r, func(e *model.RumEvent) {
		if e.Type == model.EventPageView && e.PageID != "" {
			out[e.SessionID] = append(out[e.SessionID], e.PageID)
		}
	})
	return out
}

func (d *refData) transitions(q store.JourneyQuery) []store.Transition {
	counts := map[[2]string]int64{}
	for _, pages := range d.pageViews(q.RumRange) {
		for i := 1; i < len(pages); i++ {
			counts[[2]string{pages[i-1], pages[i]}]++
		}
	}
	var out []store.Transition
	for k, n := range counts {
		out = append(out, store.Transition{From: k[0], To: k[1], Count: n})
	}
	slices.SortFunc(out, func(a, b store.Transition) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return head(out, limitOr(q.Limit, 50))
}

func (d *refData) pageExits(q store.JourneyQuery) []store.PageExit {
	byPage := map[string]*store.PageExit{}
	for _, pages := range d.pageViews(q.RumRange) {
		seen := map[string]bool{}
		for _, p := range pages {
			if byPage[p] == nil {
				byPage[p] = &store.PageExit{Page: p}
			}
			if !seen[p] {
				seen[p] = true
				byPage[p].Sessions++
			}
		}
		byPage[pages[len(pages)-1]].Exits++
	}
	var out []store.PageExit
	for _, p := range byPage {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b store.PageExit) int {
		return cmp.Or(cmp.Compare(b.Exits, a.Exits), cmp.Compare(a.Page, b.Page))
	})
	return head(out, limitOr(q.Limit, 50))
}

func (d *refData) audience(q store.RumRange, dim string) []store.AudienceRow {
	type acc struct {
		sessions map[string]bool
		views    int64
	}
	groups := map[string]*acc{}
	d.each(q, func(_ int, e *model.RumEvent) {
		v := map[string]string{"browser": e.Browser, "os": e.OS, "device_type": e.DeviceType, "country": e.Country,
			"language": e.Language, "app_version": e.AppVersion}[dim]
		a := groups[v]
		if a == nil {
			a = &acc{sessions: map[string]bool{}}
			groups[v] = a
		}
		a.sessions[e.SessionID] = true
		if e.Type == model.EventPageView {
			a.views++
		}
	})
	var out []store.AudienceRow
	for v, a := range groups {
		out = append(out, store.AudienceRow{Value: v, Sessions: int64(len(a.sessions)), PageViews: a.views})
	}
	slices.SortFunc(out, func(a, b store.AudienceRow) int {
		return cmp.Or(cmp.Compare(b.Sessions, a.Sessions), cmp.Compare(a.Value, b.Value))
	})
	return out
}
