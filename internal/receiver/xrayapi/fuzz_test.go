package xrayapi

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzTraceSegmentsHandler(f *testing.F) {
	f.Add(`{"TraceSegmentDocuments":["{\"trace_id\":\"1-6b0611f5-a006649127e371903a2de979\",\"id\":\"70de5b6f19ff9a0a\",\"name\":\"direct-put\",\"start_time\":1795559925.421,\"end_time\":1795559925.521}"]}`)
	f.Add(`{"TraceSegmentDocuments":["THIS IS NOT JSON"]}`)
	f.Add(`{}`)
	sink := &memSink{}
	a, err := New(Options{Sink: sink, MaxBodyBytes: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	h := a.TraceSegmentsHandler()
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", PathTraceSegments, strings.NewReader(body)))
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("response is not JSON: %d %q", rec.Code, rec.Body)
		}
		if rec.Code != 200 && rec.Header().Get("X-Amzn-ErrorType") == "" {
			t.Fatalf("error %d without X-Amzn-ErrorType", rec.Code)
		}
	})
}
