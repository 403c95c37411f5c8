package clickhouse

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ClickHouse 18.16's HTTP interface has no query parameters, so values
// are written into the SQL as literals; every literal goes through these.

var stringEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// quoteString is a ClickHouse string literal.
func quoteString(s string) string { return "'" + stringEscaper.Replace(s) + "'" }

// quoteIdent is a backquoted identifier.
func quoteIdent(s string) string {
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(s) + "`"
}

func quoteInt(n int64) string { return strconv.FormatInt(n, 10) }

// quoteFloat is a float literal; NaN and infinities are refused because
// they have no portable literal and make no sense as thresholds.
func quoteFloat(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("number %v is not finite", f)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if strings.ContainsAny(s, "e") {
		s = "toFloat64('" + s + "')"
	}
	return s, nil
}

// stringList is a comma-separated list of string literals.
func stringList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = quoteString(v)
	}
	return strings.Join(q, ", ")
}
