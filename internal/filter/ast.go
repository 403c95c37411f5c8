package filter

import (
	"regexp"
	"strconv"
	"strings"
)

// Expr is a node of a parsed filter expression. The concrete types are
// BinaryExpr, NotExpr, Comparison, AnnotationExpr, ServiceExpr, EdgeExpr,
// GroupExpr, RootCauseExpr and RootCauseJSONExpr; store backends switch on
// them to compile SQL, and the evaluator defines their meaning.
//
// String prints the canonical form: keywords and operators in their
// documented spelling, strings quoted, parentheses only where precedence
// needs them. Parsing the canonical form gives the same tree.
type Expr interface {
	String() string
	exprNode()
}

// BoolOp joins two expressions.
type BoolOp int

const (
	OpAnd BoolOp = iota + 1
	OpOr
)

func (o BoolOp) String() string {
	if o == OpOr {
		return "OR"
	}
	return "AND"
}

// BinaryExpr is LHS AND RHS or LHS OR RHS. Juxtaposed terms ("ok !partial")
// parse as AND. Chains are left-associative.
type BinaryExpr struct {
	Op       BoolOp
	LHS, RHS Expr
}

// NotExpr is "!X" (or "NOT X"): true when X is false.
type NotExpr struct {
	X Expr
}

// CompareOp is a comparison operator; OpNone is a keyword used bare.
type CompareOp int

const (
	OpNone CompareOp = iota
	OpEq
	OpNeq
	OpLt
	OpLte
	OpGt
	OpGte
	OpContains
	OpBeginsWith
	OpEndsWith
)

var compareOpText = [...]string{"", "=", "!=", "<", "<=", ">", ">=", "CONTAINS", "BEGINSWITH", "ENDSWITH"}

func (o CompareOp) String() string { return compareOpText[o] }

// ValueKind is the type of a literal.
type ValueKind int

const (
	ValueString ValueKind = iota + 1
	ValueNumber
	ValueBool
)

func (k ValueKind) String() string {
	switch k {
	case ValueString:
		return "string"
	case ValueNumber:
		return "number"
	case ValueBool:
		return "boolean"
	}
	return "none"
}

// Value is a literal on the right of an operator. Bare words other than
// true/false are strings, as in X-Ray's own example `name = traces`.
type Value struct {
	Kind ValueKind
	Str  string
	Num  float64
	Bool bool
}

func (v Value) String() string {
	switch v.Kind {
	case ValueString:
		return quote(v.Str)
	case ValueNumber:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case ValueBool:
		return strconv.FormatBool(v.Bool)
	}
	return ""
}

// KeywordType classifies the simple keywords.
type KeywordType int

const (
	BoolKeyword KeywordType = iota + 1
	NumberKeyword
	StringKeyword
)

// Keywords lists every simple keyword with its type, in canonical
// (lower-case) spelling.
var Keywords = map[string]KeywordType{
	"ok": BoolKeyword, "error": BoolKeyword, "throttle": BoolKeyword, "fault": BoolKeyword,
	"partial": BoolKeyword, "inferred": BoolKeyword, "first": BoolKeyword, "last": BoolKeyword,
	"remote": BoolKeyword, "root": BoolKeyword,
	"responsetime": NumberKeyword, "duration": NumberKeyword, "http.status": NumberKeyword,
	"index": NumberKeyword, "coverage": NumberKeyword,
	"http.url": StringKeyword, "http.method": StringKeyword, "http.useragent": StringKeyword,
	"http.clientip": StringKeyword, "user": StringKeyword, "name": StringKeyword,
	"type": StringKeyword, "message": StringKeyword, "availabilityzone": StringKeyword,
	"instance.id": StringKeyword, "resource.arn": StringKeyword,
}

// rootCauseOnly keywords describe an element of a root-cause list and mean
// nothing elsewhere.
var rootCauseOnly = map[string]bool{"first": true, "last": true, "index": true, "coverage": true, "remote": true}

// Comparison is a simple keyword with an optional operator and value:
// "fault", "ok = false", "responsetime > 5", "http.url CONTAINS \"/v2/\"".
// Keyword is lower-case. With Op == OpNone a boolean keyword tests true and
// a string keyword tests presence (like CONTAINS "").
type Comparison struct {
	Keyword string
	Op      CompareOp
	Value   Value
}

// AnnotationExpr tests an annotation: "annotation.age" (set),
// "annotation.age > 29", "annotation[\"k\"] = true". Key is case-sensitive.
type AnnotationExpr struct {
	Key   string
	Op    CompareOp
	Value Value
}

// ServiceID selects service nodes; empty fields match anything, so the
// zero ServiceID matches every service.
type ServiceID struct {
	Name      string
	Type      string
	AccountID string
}

// IsZero reports whether the selector matches every service.
func (id ServiceID) IsZero() bool { return id == ServiceID{} }

func (id ServiceID) String() string {
	if id.Type == "" && id.AccountID == "" {
		if id.Name == "" {
			return ""
		}
		return quote(id.Name)
	}
	var parts []string
	if id.Name != "" {
		parts = append(parts, "name: "+quote(id.Name))
	}
	if id.Type != "" {
		parts = append(parts, "type: "+quote(id.Type))
	}
	if id.AccountID != "" {
		parts = append(parts, "account.id: "+quote(id.AccountID))
	}
	return "id(" + strings.Join(parts, ", ") + ")"
}

// ServiceExpr is "service(sel) { filter }": some segment of a service
// matching ID satisfies Filter (nil Filter: the trace reaches the service).
// A standalone "id(...)" parses as a ServiceExpr without filter.
type ServiceExpr struct {
	ID     ServiceID
	Filter Expr
}

// EdgeExpr is "edge(from, to) { filter }": a call from a service matching
// From to one matching To satisfies Filter (nil: the edge exists).
type EdgeExpr struct {
	From, To ServiceID
	Filter   Expr
}

// GroupExpr is "group.name = \"x\"" or "group.arn = \"arn:...\"": the
// group's own filter expression, resolved at evaluation time.
type GroupExpr struct {
	ByARN  bool
	Negate bool // "!="
	Value  string
}

// RootCauseKind is the family of a rootcause keyword.
type RootCauseKind int

const (
	RootCauseFault RootCauseKind = iota + 1
	RootCauseError
	RootCauseResponseTime
)

var rootCauseKindText = [...]string{"", "fault", "error", "responsetime"}

func (k RootCauseKind) String() string { return rootCauseKindText[k] }

// RootCauseLevel is the element of a root cause a filter applies to.
type RootCauseLevel int

const (
	LevelService RootCauseLevel = iota + 1
	LevelEntity
	LevelException
)

var rootCauseLevelText = [...]string{"", "service", "entity", "exception"}

func (l RootCauseLevel) String() string { return rootCauseLevelText[l] }

// RootCauseExpr is "rootcause.fault.service { filter }" and its siblings:
// some element at Level of the trace's Kind root causes satisfies Filter
// (nil: such a root cause exists).
type RootCauseExpr struct {
	Kind   RootCauseKind
	Level  RootCauseLevel
	Filter Expr
}

// RootCauseJSONExpr is "rootcause.json = #[...]": the trace has root causes
// matching the given JSON pattern (see the evaluator for what matches).
type RootCauseJSONExpr struct {
	// JSON is the compacted pattern text, printed back by String.
	JSON     string
	Patterns []RootCausePattern
}

// RootCausePattern is one element of a rootcause.json array, shaped like
// the API's root causes. Absent fields match anything.
type RootCausePattern struct {
	Services []PatternService `json:"Services"`
}

// PatternService is a service of a RootCausePattern.
type PatternService struct {
	Name       string          `json:"Name"`
	Type       string          `json:"Type"`
	AccountID  string          `json:"AccountId"`
	Inferred   *bool           `json:"Inferred"`
	EntityPath []PatternEntity `json:"EntityPath"`
}

// PatternEntity is an entity of a PatternService's path.
type PatternEntity struct {
	Name       string             `json:"Name"`
	Remote     *bool              `json:"Remote"`
	Exceptions []PatternException `json:"Exceptions"`
}

// PatternException is an exception a PatternEntity must carry.
type PatternException struct {
	Name    string `json:"Name"`
	Message string `json:"Message"`
}

func (*BinaryExpr) exprNode()        {}
func (*NotExpr) exprNode()           {}
func (*Comparison) exprNode()        {}
func (*AnnotationExpr) exprNode()    {}
func (*ServiceExpr) exprNode()       {}
func (*EdgeExpr) exprNode()          {}
func (*GroupExpr) exprNode()         {}
func (*RootCauseExpr) exprNode()     {}
func (*RootCauseJSONExpr) exprNode() {}

// precedence: OR < AND < everything else.
func precedence(e Expr) int {
	if b, ok := e.(*BinaryExpr); ok {
		if b.Op == OpOr {
			return 1
		}
		return 2
	}
	return 3
}

func (e *BinaryExpr) String() string {
	p := precedence(e)
	l := e.LHS.String()
	if precedence(e.LHS) < p {
		l = "(" + l + ")"
	}
	r := e.RHS.String()
	// Left-associative: an equal-precedence right operand needs parens to
	// keep its shape.
	if precedence(e.RHS) <= p {
		r = "(" + r + ")"
	}
	return l + " " + e.Op.String() + " " + r
}

func (e *NotExpr) String() string {
	if precedence(e.X) < 3 {
		return "!(" + e.X.String() + ")"
	}
	return "!" + e.X.String()
}

func (e *Comparison) String() string {
	if e.Op == OpNone {
		return e.Keyword
	}
	return e.Keyword + " " + e.Op.String() + " " + e.Value.String()
}

var simpleAnnotationKey = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

func (e *AnnotationExpr) String() string {
	var s string
	if simpleAnnotationKey.MatchString(e.Key) {
		s = "annotation." + e.Key
	} else {
		s = "annotation[" + quote(e.Key) + "]"
	}
	if e.Op == OpNone {
		return s
	}
	return s + " " + e.Op.String() + " " + e.Value.String()
}

func block(f Expr) string {
	if f == nil {
		return ""
	}
	return " { " + f.String() + " }"
}

func (e *ServiceExpr) String() string {
	return "service(" + e.ID.String() + ")" + block(e.Filter)
}

func (e *EdgeExpr) String() string {
	return "edge(" + edgeEnd(e.From) + ", " + edgeEnd(e.To) + ")" + block(e.Filter)
}

func edgeEnd(id ServiceID) string {
	if id.IsZero() {
		return "id()"
	}
	return id.String()
}

// quote writes a string literal using only the escapes the lexer reads.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte("0123456789abcdef"[r>>4])
				b.WriteByte("0123456789abcdef"[r&0xf])
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (e *GroupExpr) String() string {
	k := "group.name"
	if e.ByARN {
		k = "group.arn"
	}
	op := " = "
	if e.Negate {
		op = " != "
	}
	return k + op + quote(e.Value)
}

func (e *RootCauseExpr) String() string {
	return "rootcause." + e.Kind.String() + "." + e.Level.String() + block(e.Filter)
}

func (e *RootCauseJSONExpr) String() string {
	return "rootcause.json = #" + e.JSON
}
