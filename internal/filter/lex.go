package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokenKind is the lexical class of a token.
type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokIdent            // keywords, operators spelled as words, bare values
	tokString           // "..." with escapes decoded
	tokNumber           // 12, -3.5, 1e3
	tokJSON             // #[ ... ] : the raw text between # and the end
	tokEq               // =
	tokNeq              // !=
	tokLt               // <
	tokLte              // <=
	tokGt               // >
	tokGte              // >=
	tokBang             // !
	tokLParen
	tokRParen
	tokLBrace
	tokRBrace
	tokLBracket
	tokRBracket
	tokComma
	tokColon
)

var tokenNames = map[tokenKind]string{
	tokEOF: "end of input", tokIdent: "identifier", tokString: "string", tokNumber: "number",
	tokJSON: "JSON value", tokEq: `"="`, tokNeq: `"!="`, tokLt: `"<"`, tokLte: `"<="`,
	tokGt: `">"`, tokGte: `">="`, tokBang: `"!"`, tokLParen: `"("`, tokRParen: `")"`,
	tokLBrace: `"{"`, tokRBrace: `"}"`, tokLBracket: `"["`, tokRBracket: `"]"`,
	tokComma: `","`, tokColon: `":"`,
}

func (k tokenKind) String() string { return tokenNames[k] }

// Pos is a 1-based line and column (in characters, not bytes).
type Pos struct{ Line, Col int }

type token struct {
	kind tokenKind
	text string // source text; for strings the decoded value
	pos  Pos
}

// describe names a token the way error messages quote it.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return fmt.Sprintf("string %q", t.text)
	case tokIdent, tokNumber:
		return fmt.Sprintf("%q", t.text)
	case tokJSON:
		return "JSON value"
	}
	return t.kind.String()
}

// lexer turns the whole input into tokens up front: expressions are short
// (MaxInputLength) and a slice makes look-ahead trivial for the parser.
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func lex(src string) ([]token, error) {
	l := &lexer{src: src, line: 1, col: 1}
	var toks []token
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tokEOF {
			return toks, nil
		}
	}
}

func (l *lexer) peekRune() rune {
	if l.off >= len(l.src) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return r
}

func (l *lexer) advance() rune {
	r, w := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += w
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return r
}

func (l *lexer) errorf(p Pos, format string, args ...any) error {
	return &ParseError{Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
}

func isIdentStart(r rune) bool {
	return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || (r >= '0' && r <= '9') || r == '.'
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func (l *lexer) next() (token, error) {
	for {
		r := l.peekRune()
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			l.advance()
			continue
		}
		break
	}
	p := Pos{l.line, l.col}
	start := l.off
	r := l.peekRune()
	switch {
	case r == -1:
		return token{kind: tokEOF, pos: p}, nil
	case isIdentStart(r):
		for isIdentPart(l.peekRune()) {
			l.advance()
		}
		return token{kind: tokIdent, text: l.src[start:l.off], pos: p}, nil
	case isDigit(r) || r == '-' || (r == '.' && l.off+1 < len(l.src) && isDigit(rune(l.src[l.off+1]))):
		return l.number(p)
	case r == '"':
		return l.str(p)
	case r == '#':
		return l.json(p)
	}
	l.advance()
	two := func(next rune, with, without tokenKind) token {
		if l.peekRune() == next {
			l.advance()
			return token{kind: with, text: l.src[start:l.off], pos: p}
		}
		return token{kind: without, text: l.src[start:l.off], pos: p}
	}
	switch r {
	case '=':
		if l.peekRune() == '=' { // tolerate "==" as "="
			l.advance()
		}
		return token{kind: tokEq, text: "=", pos: p}, nil
	case '!':
		return two('=', tokNeq, tokBang), nil
	case '<':
		return two('=', tokLte, tokLt), nil
	case '>':
		return two('=', tokGte, tokGt), nil
	case '(':
		return token{kind: tokLParen, text: "(", pos: p}, nil
	case ')':
		return token{kind: tokRParen, text: ")", pos: p}, nil
	case '{':
		return token{kind: tokLBrace, text: "{", pos: p}, nil
	case '}':
		return token{kind: tokRBrace, text: "}", pos: p}, nil
	case '[':
		return token{kind: tokLBracket, text: "[", pos: p}, nil
	case ']':
		return token{kind: tokRBracket, text: "]", pos: p}, nil
	case ',':
		return token{kind: tokComma, text: ",", pos: p}, nil
	case ':':
		return token{kind: tokColon, text: ":", pos: p}, nil
	}
	return token{}, l.errorf(p, "unexpected character %q", r)
}

func (l *lexer) number(p Pos) (token, error) {
	start := l.off
	if l.peekRune() == '-' {
		l.advance()
		if r := l.peekRune(); !isDigit(r) && r != '.' {
			return token{}, l.errorf(p, `expected a number after "-"`)
		}
	}
	digits := 0
	for isDigit(l.peekRune()) {
		l.advance()
		digits++
	}
	if l.peekRune() == '.' {
		l.advance()
		for isDigit(l.peekRune()) {
			l.advance()
			digits++
		}
	}
	if digits == 0 {
		return token{}, l.errorf(p, "malformed number %q", l.src[start:l.off])
	}
	if r := l.peekRune(); r == 'e' || r == 'E' {
		l.advance()
		if r := l.peekRune(); r == '+' || r == '-' {
			l.advance()
		}
		if !isDigit(l.peekRune()) {
			return token{}, l.errorf(p, "malformed number %q: expected digits in the exponent", l.src[start:l.off])
		}
		for isDigit(l.peekRune()) {
			l.advance()
		}
	}
	if isIdentStart(l.peekRune()) {
		return token{}, l.errorf(p, "malformed number %q", l.src[start:l.off+1])
	}
	return token{kind: tokNumber, text: l.src[start:l.off], pos: p}, nil
}

func (l *lexer) str(p Pos) (token, error) {
	l.advance() // opening quote
	var b strings.Builder
	for {
		r := l.peekRune()
		switch r {
		case -1, '\n':
			return token{}, l.errorf(p, "unterminated string")
		case '"':
			l.advance()
			return token{kind: tokString, text: b.String(), pos: p}, nil
		case '\\':
			ep := Pos{l.line, l.col}
			l.advance()
			e := l.peekRune()
			if e == -1 {
				return token{}, l.errorf(p, "unterminated string")
			}
			l.advance()
			switch e {
			case '"', '\\', '/':
				b.WriteRune(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'u':
				var v rune
				for range 4 {
					h := l.peekRune()
					var d rune
					switch {
					case h >= '0' && h <= '9':
						d = h - '0'
					case h >= 'a' && h <= 'f':
						d = h - 'a' + 10
					case h >= 'A' && h <= 'F':
						d = h - 'A' + 10
					default:
						return token{}, l.errorf(ep, `invalid escape: expected 4 hex digits after "\u"`)
					}
					l.advance()
					v = v<<4 | d
				}
				b.WriteRune(v)
			default:
				return token{}, l.errorf(ep, "invalid escape %q in string", `\`+string(e))
			}
		default:
			if r == utf8.RuneError {
				return token{}, l.errorf(Pos{l.line, l.col}, "invalid UTF-8 in string")
			}
			b.WriteRune(l.advance())
		}
	}
}

// json scans "#[ ... ]" (rootcause.json's value): a JSON array written
// after '#'. Brackets are balanced outside JSON strings; the JSON itself is
// validated by the parser.
func (l *lexer) json(p Pos) (token, error) {
	l.advance() // '#'
	if l.peekRune() != '[' {
		return token{}, l.errorf(p, `expected "[" after "#"`)
	}
	start := l.off
	depth := 0
	inStr := false
	for {
		r := l.peekRune()
		if r == -1 {
			return token{}, l.errorf(p, `unterminated JSON value: expected "]"`)
		}
		l.advance()
		switch {
		case inStr && r == '\\':
			if l.peekRune() != -1 {
				l.advance()
			}
		case r == '"':
			inStr = !inStr
		case inStr:
		case r == '[' || r == '{':
			depth++
		case r == ']' || r == '}':
			depth--
			if depth == 0 {
				return token{kind: tokJSON, text: l.src[start:l.off], pos: p}, nil
			}
		}
	}
}
