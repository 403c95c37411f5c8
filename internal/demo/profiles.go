package demo

import (
	"math"
	"math/rand/v2"
)

// engine decides how a browser words its errors and prints its stacks.
type engine uint8

const (
	engineV8 engine = iota
	engineGecko
	engineWebKit
)

// clientProfile is one kind of visitor's browser and device. The
// User-Agent is what the collector parses; the other fields are what the
// agent reports in SessionMetadata.
type clientProfile struct {
	weight                          int
	userAgent                       string
	browser, browserVersion, osName string
	deviceType                      string // desktop, mobile, tablet
	engine                          engine
	paint                           float64 // render-time factor of the device
	inp                             float64 // interaction-latency factor
}

// profiles is a plausible shop audience: Chrome first, a lot of phones.
var profiles = []clientProfile{
	{24, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", "131", "Windows", "desktop", engineV8, 1.0, 1.0},
	{18, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", "Safari", "17.6", "iOS", "mobile", engineWebKit, 1.5, 1.6},
	{16, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome", "131", "Android", "mobile", engineV8, 1.9, 2.2},
	{10, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15", "Safari", "17.6", "Mac OS", "desktop", engineWebKit, 0.9, 0.9},
	{8, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", "131", "Mac OS", "desktop", engineV8, 0.85, 0.9},
	{7, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge", "131", "Windows", "desktop", engineV8, 1.05, 1.0},
	{6, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "133", "Windows", "desktop", engineGecko, 1.1, 1.1},
	{3, "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "133", "Linux", "desktop", engineGecko, 1.0, 1.0},
	{4, "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", "Samsung Internet", "26.0", "Android", "mobile", engineV8, 1.6, 1.8},
	{4, "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", "Safari", "17.6", "iOS", "tablet", engineWebKit, 1.2, 1.3},
}

// country is where a visitor is; rtt scales network latency to the shop.
type country struct {
	weight   int
	code     string
	language string
	rtt      float64
}

var countries = []country{
	{30, "US", "en-US", 1.0},
	{12, "GB", "en-GB", 1.2},
	{10, "DE", "de-DE", 1.25},
	{8, "FR", "fr-FR", 1.3},
	{8, "IN", "en-IN", 2.4},
	{7, "BR", "pt-BR", 2.0},
	{6, "JP", "ja-JP", 1.8},
	{5, "CA", "en-CA", 1.1},
	{4, "AU", "en-AU", 2.6},
	{4, "NL", "nl-NL", 1.2},
	{3, "KR", "ko-KR", 1.9},
	{3, "MX", "es-MX", 1.7},
}

// network is the connection class: latency scales TTFB, bandwidth the
// time to render once bytes arrive.
type network struct {
	weight             int
	name               string
	latency, bandwidth float64
}

var networks = []network{
	{55, "wifi", 0.8, 0.9},
	{35, "4g", 1.2, 1.1},
	{10, "3g", 3.0, 2.4},
}

// pick returns an element of items chosen by weight.
func pick[T any](rnd *rand.Rand, items []T, weight func(T) int) T {
	total := 0
	for _, it := range items {
		total += weight(it)
	}
	n := rnd.IntN(total)
	for _, it := range items {
		n -= weight(it)
		if n < 0 {
			return it
		}
	}
	return items[len(items)-1]
}

// logNormal draws from a log-normal distribution with the given median:
// web timings are skewed to the right, with a long tail of slow loads.
func logNormal(rnd *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*rnd.NormFloat64())
}

// uniform draws from [lo, hi).
func uniform(rnd *rand.Rand, lo, hi float64) float64 {
	return lo + (hi-lo)*rnd.Float64()
}

// pageTiming holds a page's median timings in ms, desktop on a fast link.
type pageTiming struct {
	ttfb, fcp, lcp float64
	// bigShift is the chance of a visible layout shift (CLS 0.08 to 0.35).
	bigShift float64
	// inp is the median interaction latency in ms.
	inp float64
}

var timings = map[string]pageTiming{
	"home":     {ttfb: 140, fcp: 650, lcp: 1300, bigShift: 0.10, inp: 70},
	"product":  {ttfb: 170, fcp: 750, lcp: 2100, bigShift: 0.30, inp: 90},
	"cart":     {ttfb: 120, fcp: 550, lcp: 950, bigShift: 0.05, inp: 80},
	"checkout": {ttfb: 220, fcp: 800, lcp: 1400, bigShift: 0.05, inp: 160},
}

// vitals are one page load's Core Web Vitals and friends, in ms (CLS unitless).
type vitals struct {
	ttfb, fcp, lcp, cls, inp float64
}

// drawVitals draws a page load's vitals for a visitor: TTFB follows the
// distance and the link, paint times the device and the bandwidth.
func drawVitals(rnd *rand.Rand, kind string, p clientProfile, c country, n network) vitals {
	t := timings[kind]
	var v vitals
	v.ttfb = logNormal(rnd, t.ttfb*c.rtt*n.latency, 0.4)
	v.fcp = v.ttfb + logNormal(rnd, (t.fcp-t.ttfb)*p.paint*n.bandwidth, 0.35)
	v.lcp = v.fcp + logNormal(rnd, (t.lcp-t.fcp)*p.paint*n.bandwidth, 0.5)
	switch {
	case rnd.Float64() < t.bigShift:
		v.cls = uniform(rnd, 0.08, 0.35)
	case rnd.Float64() < 0.6:
		v.cls = 0
	default:
		v.cls = uniform(rnd, 0, 0.05)
	}
	v.inp = logNormal(rnd, t.inp*p.inp, 0.55)
	return v
}
