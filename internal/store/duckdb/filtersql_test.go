package duckdb

import (
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/filter"
)

// TestCompileFilterExactness pins which expressions compile exactly, and
// that NOT compiles only over exact parts.
func TestCompileFilterExactness(t *testing.T) {
	tests := []struct {
		expr      string
		exact     bool
		constant  string // "TRUE" or "FALSE" when the whole condition folds
		irregular bool
	}{
		{`annotation.tenant = "acme"`, true, "", false},
		{`user = "alice"`, true, "", false},
		{`throttle`, true, "", false},
		{`!throttle`, true, "", true},
		{`partial = false`, true, "", true},
		{`inferred`, true, "", false},
		{`root`, true, "TRUE", false},
		{`root = false`, true, "FALSE", false},
		{`service("api") { fault AND http.status >= 500 }`, true, "", false},
		{`service("api") { annotation.n > 2 }`, true, "", true},
		{`service(id(name: "api", account.id: "1"))`, false, "", false},
		{`service("api") { root }`, false, "", false},
		{`fault`, false, "", false},
		{`!fault`, false, "", false}, // as fault = false: some node without fault
		{`!ok`, false, "", false},
		{`!(ok)`, false, "", false},
		{`!!ok`, false, "", false},
		{`responsetime > 1`, false, "", false},
		{`duration > 1`, false, "TRUE", false},
		{`message CONTAINS "x"`, false, "TRUE", false},
		{`group.name = "g"`, false, "TRUE", false},
		{`rootcause.fault.service { name = "api" }`, false, "TRUE", false},
		{`edge("api", "db")`, false, "", false},
		{`annotation.n OR fault`, false, "", false},
		{`annotation.n AND !user`, true, "", true},
		{`duration > 1 AND user = "bob"`, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			c := compileFilter(filter.MustParse(tt.expr))
			if c.cond.exact != tt.exact {
				t.Errorf("exact = %v, want %v (SQL %s)", c.cond.exact, tt.exact, c.cond.sql)
			}
			if tt.constant != "" && c.cond.sql != tt.constant {
				t.Errorf("SQL %s, want %s", c.cond.sql, tt.constant)
			}
			if tt.constant == "" && (c.cond.sql == "TRUE" || c.cond.sql == "FALSE") {
				t.Errorf("folded to %s", c.cond.sql)
			}
			if c.irregular != tt.irregular {
				t.Errorf("irregular = %v, want %v", c.irregular, tt.irregular)
			}
			if n := strings.Count(c.cond.sql, "?"); n != len(c.cond.args) {
				t.Errorf("%d placeholders, %d args", n, len(c.cond.args))
			}
		})
	}
}
