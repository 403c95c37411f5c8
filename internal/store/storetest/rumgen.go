package storetest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// RumDataConfig shapes a synthetic RUM data set: sessions spread evenly
// over [StartMicros, StartMicros+SpanMicros), each a few page views with
// the vitals, errors and HTTP calls a real front end sends.
type RumDataConfig struct {
	Seed         uint64
	AppMonitorID string
	StartMicros  int64
	SpanMicros   int64
	Sessions     int
}

var (
	genPages = []string{"/", "/products", "/product/detail", "/cart", "/checkout", "/checkout/payment", "/account",
		"/search", "/blog", "/blog/post", "/help", "/login", "/signup", "/orders", "/wishlist", "/compare",
		"/deals", "/stores", "/about", "/contact"}
	genBrowsers  = []string{"Chrome", "Chrome", "Chrome", "Safari", "Safari", "Firefox", "Edge", "Samsung Internet"}
	genOSes      = []string{"Windows", "Mac OS", "Android", "iOS", "Linux"}
	genDevices   = []string{"desktop", "desktop", "mobile", "mobile", "tablet"}
	genCountries = []string{"US", "US", "DE", "FR", "GB", "JP", "BR", "IN", ""}
	genLanguages = []string{"en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "pt-BR"}
	genVersions  = []string{"1.4.0", "1.4.1", "1.5.0", "2.0.0-beta"}
	genPlans     = []string{"free", "pro", "enterprise"}
)

// sessionState is what stays fixed for all events of one session.
type sessionState struct {
	id, user, browser, os, device, country, lang, version, plan, release string
	mdPrefix                                                             string
}

// GenerateRum produces a seeded synthetic data set, handing each
// session's events (time ordered, strictly increasing timestamps) to emit.
// Sessions are produced in start order so the stored rows stay close to
// time order, as real ingest leaves them.
func GenerateRum(cfg RumDataConfig, emit func([]model.RumEvent) error) error {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	var evs []model.RumEvent
	for i := 0; i < cfg.Sessions; i++ {
		start := cfg.StartMicros + int64(float64(cfg.SpanMicros)*float64(i)/float64(cfg.Sessions)) + rng.Int64N(1000)
		evs = genSession(rng, cfg.AppMonitorID, i, start, cfg.StartMicros+cfg.SpanMicros, evs[:0])
		extractGroupKeys(evs)
		if err := emit(evs); err != nil {
			return err
		}
	}
	return nil
}

func pick(rng *rand.Rand, list []string) string { return list[rng.IntN(len(list))] }

// zipfPage favours the first pages, as real traffic does.
func zipfPage(rng *rand.Rand) string {
	i := int(float64(len(genPages)) * math.Pow(rng.Float64(), 2))
	return genPages[i]
}

func hexID(rng *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[rng.IntN(16)]
	}
	return string(b)
}

func uuidish(rng *rand.Rand) string {
	h := hexID(rng, 32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:]
}

func lognormal(rng *rand.Rand, median, sigma float64) float64 {
	return math.Round(median*math.Exp(sigma*rng.NormFloat64())*10) / 10
}

func genSession(rng *rand.Rand, app string, n int, ts, end int64, evs []model.RumEvent) []model.RumEvent {
	s := sessionState{id: uuidish(rng), user: model.AllZeroUserID, browser: pick(rng, genBrowsers), os: pick(rng, genOSes),
		device: pick(rng, genDevices), country: pick(rng, genCountries), lang: pick(rng, genLanguages),
		version: pick(rng, genVersions), plan: pick(rng, genPlans), release: "r" + strconv.Itoa(1+rng.IntN(3))}
	if rng.IntN(3) == 0 {
		s.user = uuidish(rng)
	}
	s.mdPrefix = `{"browserName":"` + s.browser + `","osName":"` + s.os + `","deviceType":"` + s.device +
		`","browserLanguage":"` + s.lang + `","aws:releaseId":"` + s.release + `","plan":"` + s.plan + `","pageId":"`
	seq := 0
	add := func(typ, page string, details string) *model.RumEvent {
		ts += 1 + rng.Int64N(4_000_000)
		seq++
		e := model.RumEvent{AppMonitorID: app, EventID: fmt.Sprintf("%s-%03d", s.id[:13], seq), BatchID: s.id[:8],
			TimestampMicros: ts, Type: typ, SessionID: s.id, UserID: s.user, PageID: page, AppVersion: s.version,
			Browser: s.browser, OS: s.os, DeviceType: s.device, Country: s.country, Language: s.lang,
			Metadata: json.RawMessage(s.mdPrefix + page + `"}`), Details: json.RawMessage(details), ReceivedAtMicros: ts}
		evs = append(evs, e)
		return &evs[len(evs)-1]
	}
	add(model.EventSessionStart, "", `{"version":"1.0.0"}`)
	pages := 1 + int(rng.ExpFloat64()*2.5)
	if pages > 12 {
		pages = 12
	}
	for p := 0; p < pages && ts < end-60_000_000; p++ {
		page := zipfPage(rng)
		add(model.EventPageView, page, `{"version":"1.0.0","pageId":"`+page+`"}`)
		if p == 0 || rng.IntN(4) == 0 {
			genLoad(rng, page, add)
		}
		for h := rng.IntN(4); h > 0; h-- {
			genHTTP(rng, page, ts, add)
		}
		if rng.IntN(8) == 0 {
			genError(rng, page, n, add)
		}
		if rng.IntN(2) == 0 {
			v := lognormal(rng, 0.05, 1.2) / 10
			add(model.EventCLS, page, `{"version":"1.0.0","value":`+ftoa(v)+`}`).Value = &v
		}
		if rng.IntN(3) == 0 {
			v := lognormal(rng, 150, 0.8)
			add(model.EventINP, page, `{"version":"1.0.0","value":`+ftoa(v)+`}`).Value = &v
		}
	}
	return evs
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

type addFunc func(typ, page, details string) *model.RumEvent

func genLoad(rng *rand.Rand, page string, add addFunc) {
	dns, connect, tls := lognormal(rng, 5, 1), lognormal(rng, 20, 0.8), 0.0
	if rng.IntN(2) == 0 {
		tls = lognormal(rng, 15, 0.5)
	}
	ttfb, resp, dom, load := lognormal(rng, 200, 0.7), lognormal(rng, 40, 0.9), lognormal(rng, 600, 0.9), lognormal(rng, 5, 1)
	dur := math.Round((dns+connect+ttfb+resp+dom+load)*10) / 10
	d := `{"version":"1.0.0","initiatorType":"navigation","navigationType":"navigate","startTime":0,"redirectTime":0,` +
		`"dns":` + ftoa(dns) + `,"connect":` + ftoa(connect) + `,"tlsTime":` + ftoa(tls) +
		`,"timeToFirstByte":` + ftoa(ttfb) + `,"responseTime":` + ftoa(resp) + `,"domProcessingTime":` + ftoa(dom) +
		`,"loadEventTime":` + ftoa(load) + `,"duration":` + ftoa(dur) + `,"navigationTimingLevel":2}`
	if rng.IntN(10) == 0 {
		// Level 1 timing: fewer fields, and one that is not a number.
		d = `{"version":"1.0.0","initiatorType":"navigation","dns":"n/a","duration":` + ftoa(dur) + `,"navigationTimingLevel":1}`
	}
	add(model.EventNavigation, page, d).DurationMillis = &dur
	for _, v := range []struct {
		typ    string
		median float64
	}{{model.EventTTFB, ttfb}, {model.EventFCP, dur * 0.7}, {model.EventLCP, dur * 1.2}} {
		val := lognormal(rng, v.median, 0.3)
		add(v.typ, page, `{"version":"1.0.0","value":`+ftoa(val)+`}`).Value = &val
	}
	if rng.IntN(3) == 0 {
		v := lognormal(rng, 40, 1)
		add(model.EventFID, page, `{"version":"1.0.0","value":`+ftoa(v)+`}`).Value = &v
	}
}

var genAPIs = []struct{ method, url string }{
	{"GET", "/api/users/%d"}, {"GET", "https://api.example.com/orders/%u/items?page=%d"}, {"POST", "/api/cart"},
	{"GET", "/api/search?q=shoes&n=%d"}, {"GET", "/api/products/%h"}, {"POST", "https://api.example.com:8443/v2/checkout"},
	{"GET", "http://127.0.0.1:8080/api/stock/%d/levels"},
}

func genHTTP(rng *rand.Rand, page string, ts int64, add addFunc) {
	api := genAPIs[rng.IntN(len(genAPIs))]
	url := ""
	for i := 0; i < len(api.url); i++ {
		if api.url[i] != '%' {
			url += string(api.url[i])
			continue
		}
		i++
		switch api.url[i] {
		case 'd':
			url += strconv.Itoa(rng.IntN(5000))
		case 'u':
			url += uuidish(rng)
		case 'h':
			url += hexID(rng, 12)
		}
	}
	traceID := fmt.Sprintf("1-%08x-%s", ts/1_000_000, hexID(rng, 24))
	sub, segID := hexID(rng, 16), hexID(rng, 16)
	latency := lognormal(rng, 120, 0.8)
	status := 200
	switch r := rng.IntN(40); {
	case r == 0:
		status = 500
	case r == 1:
		status = 503
	case r <= 3:
		status = 404
	case r == 4:
		status = 0
	}
	d := `{"version":"1.0.0","request":{"method":"` + api.method + `","url":"` + url + `"}`
	if status != 0 {
		d += `,"response":{"status":` + strconv.Itoa(status) + `,"statusText":""}`
	} else {
		d += `,"error":{"version":"1.0.0","type":"TypeError","message":"Failed to fetch"}`
	}
	traced := rng.IntN(5) != 0
	if traced {
		d += `,"trace_id":"` + traceID + `","segment_id":"` + sub + `"`
	}
	e := add(model.EventHTTP, page, d+`}`)
	e.HTTPMethod, e.HTTPURL, e.HTTPStatus = api.method, url, status
	if status == 0 {
		e.ErrorType, e.ErrorMessage = "TypeError", "Failed to fetch"
	}
	if traced {
		e.TraceID, e.SegmentID = traceID, sub
	}
	if rng.IntN(2) == 0 {
		// Sightline's agent measures the call itself.
		e.DurationMillis = &latency
	} else if traced {
		startS := float64(e.TimestampMicros)/1e6 - latency/1000
		xd := fmt.Sprintf(`{"name":"rum.aws.amazon.com","origin":"AWS::RUM::AppMonitor","id":"%s","trace_id":"%s","start_time":%.6f,"end_time":%.6f}`,
			segID, traceID, startS, startS+latency/1000)
		x := add(model.EventXRayTrace, page, xd)
		x.TraceID, x.SegmentID = traceID, segID
		dur := latency
		x.DurationMillis = &dur
	}
}

var genErrors = []struct{ typ, msg string }{
	{"TypeError", "Cannot read properties of undefined (reading '%w')"},
	{"Error", "Request %u failed after %d ms"},
	{"SyntaxError", `Unexpected token < in JSON at position %d`},
	{"Error", "Chunk load failed: 0x%h"},
	{"", "Script error."},
}

var genWords = []string{"price", "items", "user", "length", "map"}

func genError(rng *rand.Rand, page string, n int, add addFunc) {
	tpl := genErrors[rng.IntN(len(genErrors))]
	msg := ""
	for i := 0; i < len(tpl.msg); i++ {
		if tpl.msg[i] != '%' {
			msg += string(tpl.msg[i])
			continue
		}
		i++
		switch tpl.msg[i] {
		case 'w':
			msg += pick(rng, genWords)
		case 'd':
			msg += strconv.Itoa(rng.IntN(100000))
		case 'u':
			msg += uuidish(rng)
		case 'h':
			msg += hexID(rng, 10)
		}
	}
	fn := []string{"renderCart", "loadPrices", "t.onClick", "Object.parse"}[rng.IntN(4)]
	file := fmt.Sprintf("https://cdn.example.com/app.%d.js?v=%s", rng.IntN(2), hexID(rng, 6))
	line, col := 1+rng.IntN(3), 100+rng.IntN(3)
	var stack string
	switch rng.IntN(3) {
	case 0:
		stack = fmt.Sprintf("%s: %s\n    at %s (%s:%d:%d)\n    at main (%s:1:1)", tpl.typ, msg, fn, file, line, col, file)
	case 1:
		stack = fmt.Sprintf("%s@%s:%d:%d\nmain@%s:1:1\n", fn, file, line, col, file)
	default:
		stack = ""
	}
	details := map[string]any{"version": "1.0.0", "type": tpl.typ, "message": msg, "filename": file, "lineno": line, "colno": col}
	if stack != "" {
		details["stack"] = stack
	}
	b, _ := json.Marshal(details)
	e := add(model.EventJSError, page, string(b))
	e.ErrorType, e.ErrorMessage = tpl.typ, msg
}

// extractGroupKeys fills the grouping keys ingest computes, for every
// other event only: stores must answer alike for rows that carry them and
// for older rows that do not.
func extractGroupKeys(evs []model.RumEvent) {
	for i := range evs {
		if i%2 == 1 {
			continue
		}
		e := &evs[i]
		switch e.Type {
		case model.EventJSError:
			var d struct {
				Stack string `json:"stack"`
			}
			_ = json.Unmarshal(e.Details, &d)
			e.ErrorGroupMessage = store.NormalizeErrorMessage(e.ErrorMessage)
			e.ErrorFrame = store.TopStackFrame(d.Stack)
		case model.EventHTTP:
			e.HTTPURLPattern = store.URLPattern(e.HTTPURL)
		}
	}
}
