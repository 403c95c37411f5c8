// Package tracing continues browser and service traces in Go HTTP services and sends
// the recorded segments to an AWS X-Ray daemon or to Sightline, which speaks the same
// UDP protocol.
//
// A Recorder owns everything: the segment sender (a bounded queue and one goroutine
// writing UDP datagrams to AWS_XRAY_DAEMON_ADDRESS, default 127.0.0.1:2000) and, unless
// another Sampler is given, the centralized sampling poller (GetSamplingRules every
// 300 s, SamplingTargets every 10 s, on the daemon's TCP side; 1/s + 5% while no rules
// are known). Create one with New and stop it with Close.
//
// Recorder.Middleware continues the trace of the incoming X-Amzn-Trace-Id header (or
// W3C traceparent, mapped to an X-Ray trace id), records one segment per sampled
// request, recovers panics as faults with their stack, and answers with
// X-Amzn-Trace-Id. An invalid header starts a new trace; an unsampled request records
// nothing but still propagates "Sampled=0" downstream.
//
// Inside a handler, Start opens subsegments, Transport records outbound HTTP calls and
// propagates the header, and DB records SQL statements. All Span methods accept a nil
// or unsampled span, so code does not need to check whether tracing is on.
//
// Browsers only send trace headers to other origins if the preflight allows them. CORS
// answers preflights with the trace headers allowed; AllowTraceHeaders adds them to an
// existing CORS middleware's answers instead.
package tracing
