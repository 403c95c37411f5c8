// Package rumquery serves Sightline's RUM analytics as a JSON API on the
// HTTP address. Handlers parse, call query/rum, encode; no SQL here.
//
// Every call is POST /rum/{Name}/<query> where Name is the app monitor's
// name, with a JSON body (an empty body is {}; unknown fields are errors):
//
//	{
//	  "From": 1772409600000,            // epoch ms, inclusive (required)
//	  "To":   1772496000000,            // epoch ms, exclusive (required)
//	  "BucketSeconds": 300,             // time series only; default: the
//	                                    // smallest of 1m,5m,15m,1h,3h,6h,1d,7d
//	                                    // giving ≤ 300 points; ≤ 2000 buckets
//	  "GroupBy": "time" | "page",       // loadtime, vitals; default "time"
//	  "Limit": 50,                      // rows (groups, pages, sessions)
//	  "Filters": {
//	    "Page": ["/cart"], "Browser": ["Chrome"], "OS": ["Android"],
//	    "DeviceType": ["mobile"], "Country": ["DE"], "AppVersion": ["1.5.0"],
//	    "Release": ["r42"],             // metadata aws:releaseId
//	    "Metadata": {"plan": ["pro"]}   // custom attributes (metadata keys)
//	  }
//	}
//
// Values are ORed within a filter and filters ANDed. Queries:
//
//	pageloads   page views and page loads (navigation events) per bucket
//	loadtime    navigation duration p50/p75/p90/p99 and Apdex (satisfied
//	            ≤ 2 s, tolerating ≤ 8 s) per bucket or page
//	vitals      "Vital": LCP | INP | CLS | FCP | TTFB | FID: p50..p99 and
//	            web.dev good / needs-improvement / poor shares per bucket or
//	            page (LCP 2.5/4 s, INP 200/500 ms, CLS 0.1/0.25,
//	            FCP 1.8/3 s, TTFB 0.8/1.8 s, FID 100/300 ms)
//	navigation  mean, p50, p75 of each navigation phase (redirect, DNS,
//	            connect, TLS, TTFB, download, DOM processing, load event)
//	errors      js errors grouped by type + normalised message + top stack
//	            frame: count, sessions, first/last seen, browsers, app
//	            versions, sample event and session ids ("Samples", ≤ 20)
//	http        HTTP calls grouped by method + URL pattern: counts, 4xx,
//	            5xx, network errors, error rate, latency percentiles, a few
//	            linked X-Ray trace ids ("TraceIds", ≤ 20)
//	sessions    sessions, most recently started first; "NextToken" pages
//	session     "SessionId": every event of the session in order, with the
//	            X-Ray trace ids of its requests
//	journeys    top page → next page transitions, and per page the
//	            sessions that viewed it and ended on it (drop-off)
//	audience    "Dimension": browser | os | device_type | country |
//	            language | app_version: sessions and page views per value
//
//	overview    the Overview page in one call (the store answers it in
//	            one pass over the range where it can): PageLoads per
//	            bucket (every bucket, empty ones 0), LoadTime per bucket
//	            with timed loads and LoadTimeAll over the range (p50..p99,
//	            Apdex), Vitals (each vital over the range: p50..p99,
//	            ratings, thresholds), PageViews, Loads, Sessions (distinct),
//	            Errors, ErrorGroups (distinct groups), TopErrors (the
//	            "Limit" largest groups, default 5), HTTPCalls, HTTPErrors
//	            (4xx, 5xx, network errors) and HTTPErrorRate
//
// Errors follow the AWS shape: 400 ValidationException whose message
// starts with the offending field, 404 ResourceNotFoundException for an
// unknown app monitor (or a session without events in the range).
package rumquery
