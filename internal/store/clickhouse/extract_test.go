package clickhouse

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/sightline/sightline/internal/model"
)

func TestMetadataStrings(t *testing.T) {
	for _, tc := range []struct {
		in         string
		keys, vals []string
	}{
		{`{"plan":"pro","aws:releaseId":"r1","n":3,"o":{"a":"b"},"e":""}`, []string{"aws:releaseId", "e", "plan"}, []string{"r1", "", "pro"}},
		{`{"q":"say \"hi\"\n","u":"\u00e9"}`, []string{"q", "u"}, []string{"say \"hi\"\n", "é"}},
		{``, nil, nil},
		{`not json`, nil, nil},
		{`["a"]`, nil, nil},
		{`{}`, []string{}, []string{}},
	} {
		k, v := metadataStrings([]byte(tc.in))
		if !reflect.DeepEqual(k, tc.keys) || !reflect.DeepEqual(v, tc.vals) {
			t.Errorf("metadataStrings(%s) = %q %q, want %q %q", tc.in, k, v, tc.keys, tc.vals)
		}
	}
}

func FuzzMetadataStrings(f *testing.F) {
	for _, s := range []string{`{"plan":"pro","n":1}`, `{"a":"\ud800"}`, `{"a":{"b":"c"}}`, `null`, `{"a":"x","a":"y"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, vals := metadataStrings(data)
		if len(keys) != len(vals) {
			t.Fatalf("%d keys, %d values", len(keys), len(vals))
		}
		if !slices.IsSorted(keys) {
			t.Fatalf("keys not sorted: %q", keys)
		}
		// Every extracted pair is what a JSON decoder reads for that key
		// (where a generic decode succeeds: it refuses numbers out of
		// float range that the extraction skips over).
		var m map[string]any
		if json.Unmarshal(data, &m) != nil {
			if len(keys) > 0 && !json.Valid(data) {
				t.Fatalf("pairs extracted from invalid JSON %q", data)
			}
			return
		}
		for i, k := range keys {
			if s, ok := m[k].(string); !ok || s != vals[i] {
				t.Fatalf("key %q: extracted %q, decoder has %#v", k, vals[i], m[k])
			}
		}
	})
}

func TestNavigationPhases(t *testing.T) {
	got := navigationPhases([]byte(`{"redirectTime":0,"dns":"n/a","connect":12.5,"tlsTime":-1,"timeToFirstByte":1e2,"duration":99}`))
	want := map[int]float64{0: 0, 2: 12.5, 3: -1, 4: 100}
	for i, p := range got {
		w, ok := want[i]
		if ok != (p != nil) || ok && *p != w {
			t.Errorf("phase %d: %v, want %v (present %v)", i, p, w, ok)
		}
	}
	for _, p := range navigationPhases([]byte(`{"dns":`)) {
		if p != nil {
			t.Error("phase from invalid JSON")
		}
	}
}

func FuzzNavigationPhases(f *testing.F) {
	for _, s := range []string{`{"dns":5,"connect":"x"}`, `{"dns":1e400}`, `{"dns":-0}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := navigationPhases(data)
		var m map[string]any
		if json.Unmarshal(data, &m) != nil {
			return
		}
		for i, p := range got {
			f, isNum := m[navFields[i]].(float64)
			if (p != nil) != isNum || isNum && *p != f {
				t.Fatalf("field %s: extracted %v, decoder has %#v", navFields[i], p, m[navFields[i]])
			}
		}
	})
}

func TestGroupKeysFillMissing(t *testing.T) {
	e := model.RumEvent{Type: model.EventJSError, ErrorMessage: `Request 42 failed`, Details: []byte(`{"stack":"Error: x\n    at f (https://a/app.js?v=1:1:2)"}`)}
	msg, frame, _ := groupKeys(&e)
	if msg != "Request <n> failed" || frame != "f (https://a/app.js:1:2)" {
		t.Errorf("computed keys %q %q", msg, frame)
	}
	e.ErrorGroupMessage, e.ErrorFrame = "kept", "kept too"
	if msg, frame, _ := groupKeys(&e); msg != "kept" || frame != "kept too" {
		t.Errorf("ingest's keys replaced: %q %q", msg, frame)
	}
	h := model.RumEvent{Type: model.EventHTTP, HTTPURL: "/api/users/42?x=1"}
	if _, _, u := groupKeys(&h); u != "/api/users/{id}" {
		t.Errorf("url pattern %q", u)
	}
}

// Literals are the only way values reach SQL here, so every odd string
// must come back from the server unchanged.
func TestQuoteStringRoundTrip(t *testing.T) {
	s := openTestStore(t, Options{})
	defer s.Close()
	for _, in := range []string{"", "plain", `it's`, `back\slash`, `\'`, "tab\tnew\nline\r", "nul\x00byte", "é ü 中", `'; DROP TABLE rum_events; --`, `\\\'\\`} {
		rows, err := s.conn.query(context.Background(), "SELECT "+quoteString(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got, err := str(rows[0][0]); err != nil || got != in {
			t.Errorf("%q came back as %q (%v)", in, got, err)
		}
	}
}
