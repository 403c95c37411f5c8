package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits that keep a hostile expression from costing more than a moment.
const (
	// MaxInputLength is the longest expression accepted, in bytes.
	MaxInputLength = 16 << 10
	// MaxDepth bounds nesting of parentheses, negations and { } blocks, so
	// the recursive-descent parser can never overflow its stack.
	MaxDepth = 64
)

// ParseError is a syntax or type error at a position of the input.
type ParseError struct {
	Line, Col int
	Msg       string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// scope is where a sub-expression is evaluated; some keywords only make
// sense in some scopes.
type scope int

const (
	scopeTrace scope = iota
	scopeService
	scopeEdge
	scopeRootCause
)

type parser struct {
	toks  []token
	i     int
	depth int
	scope scope
}

// Parse parses a filter expression. An empty (or blank) expression is an
// error: callers treat "no filter" before calling Parse.
func Parse(input string) (Expr, error) {
	if len(input) > MaxInputLength {
		return nil, &ParseError{Line: 1, Col: 1, Msg: fmt.Sprintf("expression is %d bytes long, the limit is %d", len(input), MaxInputLength)}
	}
	toks, err := lex(input)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tokEOF {
		return nil, p.errAt(p.peek(), "empty filter expression")
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		if t.kind == tokRParen || t.kind == tokRBrace {
			return nil, p.errAt(t, "unexpected %s", t.describe())
		}
		return nil, p.errAt(t, "unexpected %s: expected AND, OR or end of input", t.describe())
	}
	return e, nil
}

// MustParse is Parse for expressions known to be valid (tests, constants).
func MustParse(input string) Expr {
	e, err := Parse(input)
	if err != nil {
		panic(err)
	}
	return e
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) prev() token {
	if p.i == 0 {
		return p.toks[0]
	}
	return p.toks[p.i-1]
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return &ParseError{Line: t.pos.Line, Col: t.pos.Col, Msg: fmt.Sprintf(format, args...)}
}

// expected reports that what follows `after` is not what the grammar
// needs. At end of input the error points at `after` itself.
func (p *parser) expected(what string, after token) error {
	got := p.peek()
	if got.kind == tokEOF {
		return p.errAt(after, "expected %s after %q", what, after.text)
	}
	return p.errAt(got, "expected %s after %q, got %s", what, after.text, got.describe())
}

func (p *parser) expect(k tokenKind, what string) (token, error) {
	if p.peek().kind != k {
		return token{}, p.expected(what, p.prev())
	}
	return p.next(), nil
}

func isWord(t token, w string) bool { return t.kind == tokIdent && strings.EqualFold(t.text, w) }

// reserved words cannot be bare values.
func isReserved(t token) bool {
	for _, w := range []string{"and", "or", "not", "contains", "beginswith", "endswith"} {
		if isWord(t, w) {
			return true
		}
	}
	return false
}

func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(t, "expression nested deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) parseOr() (Expr, error) {
	lhs, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for isWord(p.peek(), "or") {
		op := p.next()
		if !p.startsTerm() {
			return nil, p.expected("an expression", op)
		}
		rhs, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		lhs = &BinaryExpr{Op: OpOr, LHS: lhs, RHS: rhs}
	}
	return lhs, nil
}

// startsTerm reports whether the next token can begin an operand, which is
// what makes juxtaposition ("ok !partial") an implicit AND.
func (p *parser) startsTerm() bool {
	t := p.peek()
	switch t.kind {
	case tokBang, tokLParen:
		return true
	case tokIdent:
		return !isWord(t, "and") && !isWord(t, "or")
	}
	return false
}

func (p *parser) parseAnd() (Expr, error) {
	lhs, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		if isWord(p.peek(), "and") {
			op := p.next()
			if !p.startsTerm() {
				return nil, p.expected("an expression", op)
			}
		} else if !p.startsTerm() {
			return lhs, nil
		}
		rhs, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		lhs = &BinaryExpr{Op: OpAnd, LHS: lhs, RHS: rhs}
	}
}

func (p *parser) parseUnary() (Expr, error) {
	t := p.peek()
	if t.kind == tokBang || isWord(t, "not") {
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer p.leave()
		if !p.startsTerm() {
			return nil, p.expected("an expression", t)
		}
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &NotExpr{X: x}, nil
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tokLParen:
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer p.leave()
		if !p.startsTerm() {
			return nil, p.expected("an expression", t)
		}
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tokRParen {
			return nil, p.unclosed(`")"`, t)
		}
		p.next()
		return e, nil
	case tokIdent:
		return p.parseTerm()
	}
	if t.kind == tokEOF {
		return nil, p.expected("an expression", p.prev())
	}
	return nil, p.errAt(t, "unexpected %s: expected a keyword, \"!\" or \"(\"", t.describe())
}

// unclosed reports a missing closing token, naming where it was opened.
func (p *parser) unclosed(closer string, open token) error {
	got := p.peek()
	if got.kind == tokEOF {
		return p.errAt(got, "expected %s to close %q at %d:%d, got end of input", closer, open.text, open.pos.Line, open.pos.Col)
	}
	return p.errAt(got, "expected %s to close %q at %d:%d, got %s", closer, open.text, open.pos.Line, open.pos.Col, got.describe())
}

func (p *parser) parseTerm() (Expr, error) {
	t := p.next()
	word := strings.ToLower(t.text)
	switch {
	case word == "service":
		return p.parseService(t)
	case word == "edge":
		return p.parseEdge(t)
	case word == "id":
		if err := p.topLevelOnly(t); err != nil {
			return nil, err
		}
		id, err := p.parseIDArgs(t)
		if err != nil {
			return nil, err
		}
		return &ServiceExpr{ID: id}, nil
	case word == "annotation":
		return p.parseAnnotationIndex(t)
	case strings.HasPrefix(word, "annotation."):
		key := t.text[len("annotation."):]
		if key == "" {
			return nil, p.errAt(t, `expected an annotation key after "annotation."`)
		}
		return p.parseAnnotationRest(t, key)
	case word == "group.name" || word == "group.arn":
		return p.parseGroup(t, word == "group.arn")
	case word == "rootcause.json":
		return p.parseRootCauseJSON(t)
	case strings.HasPrefix(word, "rootcause."):
		return p.parseRootCause(t, word)
	case word == "true" || word == "false":
		return nil, p.errAt(t, "unexpected %s: a boolean value needs a keyword before it", t.describe())
	case isReserved(t):
		return nil, p.errAt(t, "unexpected operator %q: expected a keyword", t.text)
	}
	kt, ok := Keywords[word]
	if !ok {
		return nil, p.errAt(t, "unknown keyword %q", t.text)
	}
	if rootCauseOnly[word] && p.scope != scopeRootCause {
		return nil, p.errAt(t, "keyword %q can only be used inside a rootcause filter", word)
	}
	switch kt {
	case BoolKeyword:
		return p.parseBoolComparison(t, word)
	case NumberKeyword:
		return p.parseNumberComparison(t, word)
	default:
		return p.parseStringComparison(t, word)
	}
}

// compareOp consumes a comparison operator if one follows.
func (p *parser) compareOp() (CompareOp, token, bool) {
	t := p.peek()
	var op CompareOp
	switch t.kind {
	case tokEq:
		op = OpEq
	case tokNeq:
		op = OpNeq
	case tokLt:
		op = OpLt
	case tokLte:
		op = OpLte
	case tokGt:
		op = OpGt
	case tokGte:
		op = OpGte
	case tokIdent:
		switch strings.ToLower(t.text) {
		case "contains":
			op = OpContains
		case "beginswith":
			op = OpBeginsWith
		case "endswith":
			op = OpEndsWith
		}
	}
	if op == OpNone {
		return OpNone, t, false
	}
	p.next()
	return op, t, true
}

func (p *parser) parseBoolComparison(kw token, word string) (Expr, error) {
	op, opTok, ok := p.compareOp()
	if !ok {
		return &Comparison{Keyword: word}, nil
	}
	if op != OpEq && op != OpNeq {
		return nil, p.errAt(opTok, "operator %q cannot be used with boolean keyword %q: use =, != or none", opTok.text, word)
	}
	v, err := p.boolValue(opTok)
	if err != nil {
		return nil, err
	}
	return &Comparison{Keyword: word, Op: op, Value: v}, nil
}

func (p *parser) boolValue(after token) (Value, error) {
	t := p.peek()
	if (t.kind == tokIdent || t.kind == tokString) && (strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")) {
		p.next()
		return Value{Kind: ValueBool, Bool: strings.EqualFold(t.text, "true")}, nil
	}
	return Value{}, p.expected("true or false", after)
}

func (p *parser) parseNumberComparison(kw token, word string) (Expr, error) {
	op, opTok, ok := p.compareOp()
	if !ok {
		return nil, p.expected("a comparison operator (=, !=, <, <=, >, >=)", kw)
	}
	if op >= OpContains {
		return nil, p.errAt(opTok, "operator %q cannot be used with number keyword %q", opTok.text, word)
	}
	v, err := p.numberValue(opTok)
	if err != nil {
		return nil, err
	}
	return &Comparison{Keyword: word, Op: op, Value: v}, nil
}

func (p *parser) numberValue(after token) (Value, error) {
	t := p.peek()
	if t.kind != tokNumber {
		return Value{}, p.expected("a number", after)
	}
	p.next()
	n, err := strconv.ParseFloat(t.text, 64)
	if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
		return Value{}, p.errAt(t, "number %s is out of range", t.text)
	}
	return Value{Kind: ValueNumber, Num: n}, nil
}

func (p *parser) parseStringComparison(kw token, word string) (Expr, error) {
	op, opTok, ok := p.compareOp()
	if !ok {
		return &Comparison{Keyword: word}, nil
	}
	if op != OpEq && op != OpNeq && op < OpContains {
		return nil, p.errAt(opTok, "operator %q cannot be used with string keyword %q: use =, !=, CONTAINS, BEGINSWITH or ENDSWITH", opTok.text, word)
	}
	v, err := p.stringValue(opTok)
	if err != nil {
		return nil, err
	}
	return &Comparison{Keyword: word, Op: op, Value: v}, nil
}

// stringValue reads a quoted string, or a bare word as X-Ray also accepts.
func (p *parser) stringValue(after token) (Value, error) {
	t := p.peek()
	if t.kind == tokString || (t.kind == tokIdent && !isReserved(t)) {
		p.next()
		return Value{Kind: ValueString, Str: t.text}, nil
	}
	return Value{}, p.expected("a string", after)
}

func (p *parser) parseAnnotationIndex(kw token) (Expr, error) {
	open, err := p.expect(tokLBracket, `"[" or "." and an annotation key`)
	if err != nil {
		return nil, err
	}
	k := p.peek()
	if k.kind != tokIdent && k.kind != tokString && k.kind != tokNumber || k.text == "" {
		return nil, p.expected("an annotation key", open)
	}
	p.next()
	if p.peek().kind != tokRBracket {
		return nil, p.unclosed(`"]"`, open)
	}
	p.next()
	return p.parseAnnotationRest(kw, k.text)
}

func (p *parser) parseAnnotationRest(kw token, key string) (Expr, error) {
	if p.scope == scopeRootCause {
		return nil, p.errAt(kw, "annotations cannot be used inside a rootcause filter")
	}
	op, opTok, ok := p.compareOp()
	if !ok {
		return &AnnotationExpr{Key: key}, nil
	}
	t := p.peek()
	var v Value
	switch {
	case t.kind == tokNumber:
		nv, err := p.numberValue(opTok)
		if err != nil {
			return nil, err
		}
		v = nv
	case (t.kind == tokIdent) && (strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")):
		p.next()
		v = Value{Kind: ValueBool, Bool: strings.EqualFold(t.text, "true")}
	case t.kind == tokString || (t.kind == tokIdent && !isReserved(t)):
		p.next()
		v = Value{Kind: ValueString, Str: t.text}
	default:
		return nil, p.expected("a value", opTok)
	}
	switch {
	case op >= OpLt && op <= OpGte && v.Kind != ValueNumber:
		return nil, p.errAt(opTok, "operator %q needs a number, got %s", opTok.text, v.Kind)
	case op >= OpContains && v.Kind != ValueString:
		return nil, p.errAt(opTok, "operator %q needs a string, got %s", opTok.text, v.Kind)
	}
	return &AnnotationExpr{Key: key, Op: op, Value: v}, nil
}

func (p *parser) topLevelOnly(kw token) error {
	if p.scope != scopeTrace {
		return p.errAt(kw, "%q cannot be used inside a service, edge or rootcause filter", strings.ToLower(kw.text))
	}
	return nil
}

func (p *parser) parseService(kw token) (Expr, error) {
	if err := p.topLevelOnly(kw); err != nil {
		return nil, err
	}
	open, err := p.expect(tokLParen, `"("`)
	if err != nil {
		return nil, err
	}
	var id ServiceID
	if p.peek().kind != tokRParen {
		if id, err = p.serviceSelector(open); err != nil {
			return nil, err
		}
	}
	if p.peek().kind != tokRParen {
		return nil, p.unclosed(`")"`, open)
	}
	p.next()
	f, err := p.parseBlock(scopeService)
	if err != nil {
		return nil, err
	}
	return &ServiceExpr{ID: id, Filter: f}, nil
}

func (p *parser) parseEdge(kw token) (Expr, error) {
	if err := p.topLevelOnly(kw); err != nil {
		return nil, err
	}
	open, err := p.expect(tokLParen, `"("`)
	if err != nil {
		return nil, err
	}
	from, err := p.serviceSelector(open)
	if err != nil {
		return nil, err
	}
	comma, err := p.expect(tokComma, `"," and the destination service`)
	if err != nil {
		return nil, err
	}
	to, err := p.serviceSelector(comma)
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tokRParen {
		return nil, p.unclosed(`")"`, open)
	}
	p.next()
	f, err := p.parseBlock(scopeEdge)
	if err != nil {
		return nil, err
	}
	return &EdgeExpr{From: from, To: to, Filter: f}, nil
}

// serviceSelector reads "name" or id(...).
func (p *parser) serviceSelector(after token) (ServiceID, error) {
	t := p.peek()
	switch {
	case t.kind == tokString:
		p.next()
		return ServiceID{Name: t.text}, nil
	case isWord(t, "id"):
		p.next()
		return p.parseIDArgs(t)
	}
	return ServiceID{}, p.expected(`a service name (a string) or id(...)`, after)
}

// parseIDArgs reads "(name: "a", type: "T", account.id: "1")" after "id".
func (p *parser) parseIDArgs(kw token) (ServiceID, error) {
	open, err := p.expect(tokLParen, `"("`)
	if err != nil {
		return ServiceID{}, err
	}
	var id ServiceID
	seen := map[string]bool{}
	for p.peek().kind != tokRParen {
		if len(seen) > 0 {
			if _, err := p.expect(tokComma, `"," or ")"`); err != nil {
				return ServiceID{}, err
			}
		}
		k := p.peek()
		key := strings.ToLower(k.text)
		if k.kind != tokIdent || (key != "name" && key != "type" && key != "account.id") {
			if k.kind == tokEOF {
				return ServiceID{}, p.unclosed(`")"`, open)
			}
			return ServiceID{}, p.errAt(k, "expected name, type or account.id in id(), got %s", k.describe())
		}
		if seen[key] {
			return ServiceID{}, p.errAt(k, "%s given twice in id()", key)
		}
		seen[key] = true
		p.next()
		colon, err := p.expect(tokColon, `":"`)
		if err != nil {
			return ServiceID{}, err
		}
		v := p.peek()
		if v.kind != tokString {
			return ServiceID{}, p.expected("a string", colon)
		}
		p.next()
		switch key {
		case "name":
			id.Name = v.text
		case "type":
			id.Type = v.text
		default:
			id.AccountID = v.text
		}
	}
	p.next()
	return id, nil
}

// parseBlock reads an optional "{ filter }" evaluated in scope s. An empty
// block is the same as none.
func (p *parser) parseBlock(s scope) (Expr, error) {
	open := p.peek()
	if open.kind != tokLBrace {
		return nil, nil
	}
	p.next()
	if p.peek().kind == tokRBrace {
		p.next()
		return nil, nil
	}
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer p.leave()
	saved := p.scope
	p.scope = s
	defer func() { p.scope = saved }()
	if !p.startsTerm() {
		return nil, p.expected("a filter expression", open)
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tokRBrace {
		return nil, p.unclosed(`"}"`, open)
	}
	p.next()
	return e, nil
}

func (p *parser) parseGroup(kw token, byARN bool) (Expr, error) {
	if err := p.topLevelOnly(kw); err != nil {
		return nil, err
	}
	op, opTok, ok := p.compareOp()
	if !ok || (op != OpEq && op != OpNeq) {
		if ok {
			return nil, p.errAt(opTok, "operator %q cannot be used with %q: use = or !=", opTok.text, strings.ToLower(kw.text))
		}
		return nil, p.expected(`"="`, kw)
	}
	v := p.peek()
	if v.kind != tokString {
		return nil, p.expected("a quoted group name", opTok)
	}
	p.next()
	return &GroupExpr{ByARN: byARN, Negate: op == OpNeq, Value: v.text}, nil
}

func (p *parser) parseRootCause(kw token, word string) (Expr, error) {
	if err := p.topLevelOnly(kw); err != nil {
		return nil, err
	}
	parts := strings.Split(word, ".")
	if len(parts) != 3 {
		return nil, p.errAt(kw, "unknown keyword %q: expected rootcause.{fault|error|responsetime}.{service|entity|exception} or rootcause.json", kw.text)
	}
	var e RootCauseExpr
	switch parts[1] {
	case "fault":
		e.Kind = RootCauseFault
	case "error":
		e.Kind = RootCauseError
	case "responsetime":
		e.Kind = RootCauseResponseTime
	default:
		return nil, p.errAt(kw, "unknown root cause kind %q: expected fault, error or responsetime", parts[1])
	}
	switch parts[2] {
	case "service":
		e.Level = LevelService
	case "entity":
		e.Level = LevelEntity
	case "exception":
		e.Level = LevelException
	default:
		return nil, p.errAt(kw, "unknown root cause level %q: expected service, entity or exception", parts[2])
	}
	if e.Kind == RootCauseResponseTime && e.Level == LevelException {
		return nil, p.errAt(kw, "response time root causes have no exceptions: use rootcause.responsetime.service or .entity")
	}
	f, err := p.parseBlock(scopeRootCause)
	if err != nil {
		return nil, err
	}
	e.Filter = f
	return &e, nil
}

func (p *parser) parseRootCauseJSON(kw token) (Expr, error) {
	if err := p.topLevelOnly(kw); err != nil {
		return nil, err
	}
	op, opTok, ok := p.compareOp()
	if !ok || op != OpEq {
		if ok {
			return nil, p.errAt(opTok, `operator %q cannot be used with "rootcause.json": use =`, opTok.text)
		}
		return nil, p.expected(`"="`, kw)
	}
	v := p.peek()
	if v.kind != tokJSON {
		return nil, p.expected("a JSON array written #[...]", opTok)
	}
	p.next()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(v.text)); err != nil {
		return nil, p.errAt(v, "invalid JSON after \"#\": %v", err)
	}
	var pats []RootCausePattern
	if err := json.Unmarshal(buf.Bytes(), &pats); err != nil {
		return nil, p.errAt(v, "rootcause.json must be an array of root causes ({\"Services\": [...]}): %v", err)
	}
	return &RootCauseJSONExpr{JSON: buf.String(), Patterns: pats}, nil
}
