package clickhouse

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/sightline/sightline/internal/model"
	"github.com/sightline/sightline/internal/store"
)

// Values are extracted from event JSON at ingest, once, because 18.16 has
// neither JSONExtract nor Map: metadata filters read two parallel arrays,
// navigation phases read typed columns, grouping keys are plain columns.

// metadataStrings returns the string-valued keys of a metadata object,
// sorted, with their values; other values (numbers, objects) are not
// matched by metadata filters and are left out. Invalid JSON yields none.
func metadataStrings(md []byte) (keys, values []string) {
	if len(md) == 0 {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(md, &m) != nil {
		return nil, nil
	}
	keys = make([]string, 0, len(m))
	for k, v := range m {
		if len(v) > 0 && v[0] == '"' {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	values = make([]string, len(keys))
	for i, k := range keys {
		_ = json.Unmarshal(m[k], &values[i])
	}
	return keys, values
}

var navFields = store.NavigationPhaseFields

// navigationPhases returns each store.NavigationPhaseFields value of a
// performance_navigation_event's details, nil where the field is missing
// or not a JSON number.
func navigationPhases(details []byte) []*float64 {
	out := make([]*float64, len(store.NavigationPhaseFields))
	var m map[string]json.RawMessage
	if json.Unmarshal(details, &m) != nil {
		return out
	}
	for i, f := range navFields {
		v := bytes.TrimSpace(m[f])
		if len(v) == 0 || !(v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
			continue
		}
		x, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			continue
		}
		out[i] = &x
	}
	return out
}

// groupKeys returns the error and HTTP grouping keys, computing them with
// the shared rules when ingest did not (older spool records).
func groupKeys(e *model.RumEvent) (msg, frame, urlPattern string) {
	msg, frame, urlPattern = e.ErrorGroupMessage, e.ErrorFrame, e.HTTPURLPattern
	switch e.Type {
	case model.EventJSError:
		if msg == "" {
			msg = store.NormalizeErrorMessage(e.ErrorMessage)
		}
		if frame == "" {
			var d struct {
				Stack string `json:"stack"`
			}
			if json.Unmarshal(e.Details, &d) == nil {
				frame = store.TopStackFrame(d.Stack)
			}
		}
	case model.EventHTTP:
		if urlPattern == "" {
			urlPattern = store.URLPattern(e.HTTPURL)
		}
	}
	return msg, frame, urlPattern
}
