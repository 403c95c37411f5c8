package filter

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// dump prints an AST with node types, so the golden file pins the tree
// shape and not only the canonical text.
func dump(e Expr) string {
	switch e := e.(type) {
	case *BinaryExpr:
		return fmt.Sprintf("(%s %s %s)", e.Op, dump(e.LHS), dump(e.RHS))
	case *NotExpr:
		return "(NOT " + dump(e.X) + ")"
	case *Comparison:
		if e.Op == OpNone {
			return "(cmp " + e.Keyword + ")"
		}
		return fmt.Sprintf("(cmp %s %s %s:%s)", e.Keyword, e.Op, e.Value.Kind, e.Value)
	case *AnnotationExpr:
		if e.Op == OpNone {
			return fmt.Sprintf("(annotation %q)", e.Key)
		}
		return fmt.Sprintf("(annotation %q %s %s:%s)", e.Key, e.Op, e.Value.Kind, e.Value)
	case *ServiceExpr:
		return fmt.Sprintf("(service %+v %s)", e.ID, dumpOpt(e.Filter))
	case *EdgeExpr:
		return fmt.Sprintf("(edge %+v %+v %s)", e.From, e.To, dumpOpt(e.Filter))
	case *GroupExpr:
		return fmt.Sprintf("(group arn=%v negate=%v %q)", e.ByARN, e.Negate, e.Value)
	case *RootCauseExpr:
		return fmt.Sprintf("(rootcause %s %s %s)", e.Kind, e.Level, dumpOpt(e.Filter))
	case *RootCauseJSONExpr:
		return fmt.Sprintf("(rootcause-json %d patterns)", len(e.Patterns))
	}
	return fmt.Sprintf("(unknown %T)", e)
}

func dumpOpt(e Expr) string {
	if e == nil {
		return "-"
	}
	return dump(e)
}

func readCases(t testing.TB, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

func TestParseGolden(t *testing.T) {
	var b strings.Builder
	for _, in := range readCases(t, "parse_cases.txt") {
		fmt.Fprintf(&b, "input:  %s\n", in)
		e, err := Parse(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("Parse(%q) error %T is not a *ParseError", in, err)
			}
			fmt.Fprintf(&b, "error:  %v\n\n", err)
			continue
		}
		fmt.Fprintf(&b, "string: %s\nast:    %s\n\n", e, dump(e))
		checkRoundTrip(t, in, e)
	}
	golden := filepath.Join("testdata", "parse.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("parse output differs from %s (run with -update and review the diff)\n%s", golden, firstDiff(got, string(want)))
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, gl, wl)
		}
	}
	return ""
}

// checkRoundTrip: the canonical form parses back to the same tree and is a
// fixed point of String.
func checkRoundTrip(t testing.TB, in string, e Expr) {
	t.Helper()
	s := e.String()
	e2, err := Parse(s)
	if err != nil {
		t.Fatalf("canonical form of %q does not parse: %q: %v", in, s, err)
	}
	if !reflect.DeepEqual(e, e2) {
		t.Fatalf("round trip of %q changed the tree:\n%s\n%s", in, dump(e), dump(e2))
	}
	if s2 := e2.String(); s2 != s {
		t.Fatalf("String is not canonical for %q: %q then %q", in, s, s2)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		line int
		col  int
		msg  string
	}{
		{"responsetime >", 1, 14, `expected a number after ">"`},
		{"responsetime > abc", 1, 16, `expected a number after ">", got "abc"`},
		{"fault AND", 1, 7, `expected an expression after "AND"`},
		{"(fault", 1, 7, `expected ")" to close "(" at 1:1, got end of input`},
		{"service(\"a\") {\n fault\n OR", 3, 2, `expected an expression after "OR"`},
		{"service(\"a\") {\n fault", 2, 7, `expected "}" to close "{" at 1:14, got end of input`},
		{"coverage > 1", 1, 1, `keyword "coverage" can only be used inside a rootcause filter`},
		{"bogus", 1, 1, `unknown keyword "bogus"`},
		{`http.url = "x`, 1, 12, "unterminated string"},
		{"ok > 1", 1, 4, `operator ">" cannot be used with boolean keyword "ok": use =, != or none`},
		{`service("a") { service("b") }`, 1, 16, `"service" cannot be used inside a service, edge or rootcause filter`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a *ParseError", tt.in, err)
			}
			if pe.Line != tt.line || pe.Col != tt.col || pe.Msg != tt.msg {
				t.Errorf("Parse(%q) error = %d:%d %q, want %d:%d %q", tt.in, pe.Line, pe.Col, pe.Msg, tt.line, tt.col, tt.msg)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	deep := strings.Repeat("(", 100000) + "ok" + strings.Repeat(")", 100000)
	if _, err := Parse(deep); err == nil || !strings.Contains(err.Error(), "too long") && !strings.Contains(err.Error(), "limit") {
		t.Errorf("huge input: err = %v, want length limit", err)
	}
	for _, in := range []string{
		strings.Repeat("(", MaxDepth+1) + "ok" + strings.Repeat(")", MaxDepth+1),
		strings.Repeat("!", MaxDepth+1) + "ok",
		`service("a") { ` + strings.Repeat("!(", 40) + "ok",
	} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), "nested deeper") {
			t.Errorf("Parse(%.30q...) = %v, want a nesting error", in, err)
		}
	}
	ok := strings.Repeat("(", MaxDepth) + "ok" + strings.Repeat(")", MaxDepth)
	if _, err := Parse(ok); err != nil {
		t.Errorf("nesting at the limit: %v", err)
	}
	long := strings.Repeat("ok AND ", 2000) + "ok"
	if _, err := Parse(long); err != nil {
		t.Errorf("long flat chain: %v", err)
	}
}

func TestPrecedence(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fault OR error AND throttle", "(OR (cmp fault) (AND (cmp error) (cmp throttle)))"},
		{"!fault AND error", "(AND (NOT (cmp fault)) (cmp error))"},
		{"!(fault AND error)", "(NOT (AND (cmp fault) (cmp error)))"},
		{"ok partial OR fault", "(OR (AND (cmp ok) (cmp partial)) (cmp fault))"},
		{"fault OR error OR throttle", "(OR (OR (cmp fault) (cmp error)) (cmp throttle))"},
		{"fault or (error or throttle)", "(OR (cmp fault) (OR (cmp error) (cmp throttle)))"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Parse(%q) succeeded, want error", tt.in)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := dump(e); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range readCases(f, "parse_cases.txt") {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("Parse(%q) error %v is not a positioned *ParseError", in, err)
			}
			return
		}
		checkRoundTrip(t, in, e)
	})
}
