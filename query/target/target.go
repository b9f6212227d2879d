package target

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kind is the kind of a Node.
type Kind uint8

// Node kinds.
const (
	KindPath   Kind = iota + 1 // a path expression (Str)
	KindCall                   // a function call (Str = name, Args, Kwargs, Raw)
	KindString                 // a quoted string (Str = content without quotes)
	KindInt                    // an integer literal (Int, Str = text)
	KindFloat                  // a float or scientific literal (Float, Str = text)
	KindBool                   // true / false (Bool)
	KindNone                   // None
	KindInf                    // inf
)

func (k Kind) String() string {
	switch k {
	case KindPath:
		return "path"
	case KindCall:
		return "call"
	case KindString:
		return "string"
	case KindInt:
		return "integer"
	case KindFloat:
		return "float"
	case KindBool:
		return "boolean"
	case KindNone:
		return "None"
	case KindInf:
		return "inf"
	}
	return "unknown"
}

// Node is one node of a parsed target.
type Node struct {
	Kind   Kind
	Str    string
	Int    int64
	Float  float64
	Bool   bool
	Args   []*Node
	Kwargs []Kwarg
	// Raw is the source text of a call (graphite-web passes seriesByTag
	// calls verbatim to the tag database).
	Raw string
}

// Kwarg is a keyword argument of a call.
type Kwarg struct {
	Name  string
	Value *Node
}

// Default limits on hostile input (Bounds' zero values).
const (
	MaxLen   = 64 << 10 // bytes of one target
	MaxDepth = 64       // nesting of calls
)

// Bounds are the limits of one parse; a zero field is its default
// (MaxLen, MaxDepth).
type Bounds struct {
	MaxLen   int // bytes of one target
	MaxDepth int // nesting of calls
}

func (b Bounds) withDefaults() Bounds {
	if b.MaxLen <= 0 {
		b.MaxLen = MaxLen
	}
	if b.MaxDepth <= 0 {
		b.MaxDepth = MaxDepth
	}
	return b
}

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("syntax error")

// Parse parses one target within the default Bounds.
func Parse(s string) (*Node, error) {
	return ParseBounded(s, Bounds{})
}

// ParseBounded parses one target within b: a longer target or deeper
// nesting is a syntax error naming the bound.
func ParseBounded(s string, b Bounds) (*Node, error) {
	b = b.withDefaults()
	if len(s) > b.MaxLen {
		return nil, fmt.Errorf("target longer than %d bytes: %w", b.MaxLen, ErrSyntax)
	}
	p := parser{s: s, maxDepth: b.MaxDepth}
	n, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, p.errf("unexpected %q", p.rest())
	}
	return n, nil
}

type parser struct {
	s        string
	i        int
	maxDepth int
}

func (p *parser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("parsing target %q at offset %d: %s: %w", truncate(p.s), p.i, fmt.Sprintf(format, args...), ErrSyntax)
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *parser) ws() {
	for p.i < len(p.s) && isWS(p.s[p.i]) {
		p.i++
	}
}

func (p *parser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdent(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// ident returns the identifier at i (without consuming).
func (p *parser) identAt(i int) string {
	if i >= len(p.s) || !isIdentStart(p.s[i]) {
		return ""
	}
	j := i + 1
	for j < len(p.s) && isIdent(p.s[j]) {
		j++
	}
	return p.s[i:j]
}

// nextNonWS returns the index of the first non-whitespace byte at or after i.
func (p *parser) nextNonWS(i int) int {
	for i < len(p.s) && isWS(p.s[i]) {
		i++
	}
	return i
}

// expression = (call | path) { '|' call }
func (p *parser) expression(depth int) (*Node, error) {
	if depth > p.maxDepth {
		return nil, p.errf("nesting deeper than %d", p.maxDepth)
	}
	p.ws()
	var n *Node
	var err error
	if name := p.identAt(p.i); name != "" {
		if j := p.nextNonWS(p.i + len(name)); j < len(p.s) && p.s[j] == '(' {
			n, err = p.call(depth)
		}
	}
	if n == nil && err == nil {
		n, err = p.path()
	}
	if err != nil {
		return nil, err
	}
	for {
		j := p.nextNonWS(p.i)
		if j >= len(p.s) || p.s[j] != '|' {
			return n, nil
		}
		p.i = p.nextNonWS(j + 1)
		name := p.identAt(p.i)
		if name == "" {
			return nil, p.errf("expected a function call after '|'")
		}
		if k := p.nextNonWS(p.i + len(name)); k >= len(p.s) || p.s[k] != '(' {
			return nil, p.errf("expected a function call after '|'")
		}
		c, err := p.call(depth)
		if err != nil {
			return nil, err
		}
		c.Args = append([]*Node{n}, c.Args...)
		n = c
	}
}

// call = name '(' [args] ')'; p.i is at the name.
func (p *parser) call(depth int) (*Node, error) {
	start := p.i
	name := p.identAt(p.i)
	p.i = p.nextNonWS(p.i+len(name)) + 1 // past '('
	n := &Node{Kind: KindCall, Str: name}
	p.ws()
	if p.peek() == ')' {
		p.i++
		n.Raw = p.s[start:p.i]
		return n, nil
	}
	for {
		p.ws()
		// keyword argument: name '=' value
		if kw := p.identAt(p.i); kw != "" {
			if j := p.nextNonWS(p.i + len(kw)); j < len(p.s) && p.s[j] == '=' {
				p.i = j + 1
				v, err := p.arg(depth)
				if err != nil {
					return nil, err
				}
				n.Kwargs = append(n.Kwargs, Kwarg{Name: kw, Value: v})
				goto sep
			}
		}
		if len(n.Kwargs) > 0 {
			return nil, p.errf("positional argument after keyword argument")
		}
		{
			v, err := p.arg(depth)
			if err != nil {
				return nil, err
			}
			n.Args = append(n.Args, v)
		}
	sep:
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case ')':
			p.i++
			n.Raw = p.s[start:p.i]
			return n, nil
		default:
			if p.i >= len(p.s) {
				return nil, p.errf("unclosed call to %s", name)
			}
			return nil, p.errf("expected ',' or ')' in call to %s, found %q", name, p.rest())
		}
	}
}

// endsArg reports whether the literal ending at j is followed by ',' or ')'
// or the end of input (graphite-web's afterNumber lookahead).
func (p *parser) endsArg(j int) bool {
	j = p.nextNonWS(j)
	return j >= len(p.s) || p.s[j] == ',' || p.s[j] == ')'
}

func (p *parser) arg(depth int) (*Node, error) {
	p.ws()
	if p.i >= len(p.s) {
		return nil, p.errf("missing argument")
	}
	c := p.s[p.i]
	if c == '"' || c == '\'' {
		return p.str()
	}
	if w := p.identAt(p.i); w != "" && p.endsArg(p.i+len(w)) {
		switch strings.ToLower(w) {
		case "true", "false":
			p.i += len(w)
			return &Node{Kind: KindBool, Bool: strings.EqualFold(w, "true"), Str: w}, nil
		case "none":
			p.i += len(w)
			return &Node{Kind: KindNone, Str: w}, nil
		case "inf":
			p.i += len(w)
			return &Node{Kind: KindInf, Str: w}, nil
		}
	}
	if c == '-' || (c >= '0' && c <= '9') {
		if n, j, ok := p.number(p.i); ok && p.endsArg(j) {
			p.i = j
			return n, nil
		}
	}
	return p.expression(depth + 1)
}

func digits(s string, i int) int {
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return j
}

// number matches -?\d+(\.\d+)?([eE]-?\d+)? at i.
func (p *parser) number(i int) (*Node, int, bool) {
	s := p.s
	j := i
	if j < len(s) && s[j] == '-' {
		j++
	}
	k := digits(s, j)
	if k == j {
		return nil, 0, false
	}
	j = k
	isFloat := false
	if j+1 < len(s) && s[j] == '.' {
		if k := digits(s, j+1); k > j+1 {
			j = k
			isFloat = true
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		e := j + 1
		if e < len(s) && s[e] == '-' {
			e++
		}
		if k := digits(s, e); k > e {
			j = k
			isFloat = true
		}
	}
	text := s[i:j]
	if !isFloat {
		v, err := strconv.ParseInt(text, 10, 64)
		if err == nil {
			return &Node{Kind: KindInt, Int: v, Str: text}, j, true
		}
		// Python ints are unbounded; beyond int64 keep the float value.
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, 0, false
	}
	return &Node{Kind: KindFloat, Float: f, Str: text}, j, true
}

// str parses a pyparsing quotedString: the content is returned verbatim
// (no escape processing); a backslash protects the next character and a
// doubled quote does not end the string.
func (p *parser) str() (*Node, error) {
	q := p.s[p.i]
	j := p.i + 1
	for {
		if j >= len(p.s) {
			return nil, p.errf("unterminated string")
		}
		c := p.s[j]
		switch {
		case c == '\\':
			if j+1 >= len(p.s) {
				return nil, p.errf("unterminated string")
			}
			j += 2
		case c == q:
			if j+1 < len(p.s) && p.s[j+1] == q {
				j += 2
				continue
			}
			n := &Node{Kind: KindString, Str: p.s[p.i+1 : j]}
			p.i = j + 1
			return n, nil
		case c == '\n' || c == '\r':
			return nil, p.errf("newline in string")
		default:
			j++
		}
	}
}

const symbols = "(){},.'\"\\|"

func validPathByte(c byte) bool {
	if c >= 0x80 {
		return true
	}
	if c < 33 || c > 126 {
		return false
	}
	return strings.IndexByte(symbols, c) < 0
}

// partial appends one partialPathElem (valid bytes and backslash escapes)
// to b; it reports false if nothing matched.
func (p *parser) partial(b *strings.Builder) bool {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if validPathByte(c) {
			b.WriteByte(c)
			p.i++
			continue
		}
		if c == '\\' && p.i+1 < len(p.s) {
			e := p.s[p.i+1]
			if e == '=' || strings.IndexByte(symbols, e) >= 0 {
				b.WriteByte(e)
				p.i += 2
				continue
			}
		}
		break
	}
	return p.i > start
}

// path parses dot-separated path elements; each element is a run of
// partial elements and {a,b} lists.
func (p *parser) path() (*Node, error) {
	var b strings.Builder
	// A name's usual length, at most the rest of the target (not more:
	// a target of many paths would pay its length squared): one
	// allocation for most paths instead of a doubling series of them.
	b.Grow(min(len(p.s)-p.i, 128))
	for {
		elemStart := p.i
		for {
			if p.peek() == '{' {
				save, blen := p.i, b.Len()
				b.WriteByte('{')
				p.i++
				ok := true
				for {
					if !p.partial(&b) {
						ok = false
						break
					}
					if p.peek() == ',' {
						b.WriteByte(',')
						p.i++
						continue
					}
					break
				}
				if !ok || p.peek() != '}' {
					p.i = save
					s := b.String()[:blen]
					b.Reset()
					b.WriteString(s)
					return nil, p.errf("bad {} list in path")
				}
				b.WriteByte('}')
				p.i++
				continue
			}
			if !p.partial(&b) {
				break
			}
		}
		if p.i == elemStart {
			if p.i >= len(p.s) {
				return nil, p.errf("expected a path expression")
			}
			return nil, p.errf("unexpected %q", p.rest())
		}
		if p.peek() == '.' && p.i+1 < len(p.s) && (validPathByte(p.s[p.i+1]) || p.s[p.i+1] == '{' || p.s[p.i+1] == '\\') {
			b.WriteByte('.')
			p.i++
			continue
		}
		return &Node{Kind: KindPath, Str: b.String()}, nil
	}
}

// String formats the node back into target syntax (strings in double quotes
// unless they contain one).
func (n *Node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *Node) write(b *strings.Builder) {
	switch n.Kind {
	case KindPath:
		b.WriteString(n.Str)
	case KindString:
		// Double quotes unless the string holds one and single quotes
		// round-trip; a string holding both kinds keeps the quote it
		// round-trips with.
		q := byte('"')
		if strings.IndexByte(n.Str, '"') >= 0 && quotable(n.Str, '\'') {
			q = '\''
		}
		b.WriteByte(q)
		b.WriteString(n.Str)
		b.WriteByte(q)
	case KindInt, KindFloat:
		b.WriteString(n.Str)
	case KindBool:
		if n.Bool {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case KindNone:
		b.WriteString("None")
	case KindInf:
		b.WriteString("inf")
	case KindCall:
		b.WriteString(n.Str)
		b.WriteByte('(')
		for i, a := range n.Args {
			if i > 0 {
				b.WriteByte(',')
			}
			a.write(b)
		}
		for i, kw := range n.Kwargs {
			if i > 0 || len(n.Args) > 0 {
				b.WriteByte(',')
			}
			b.WriteString(kw.Name)
			b.WriteByte('=')
			kw.Value.write(b)
		}
		b.WriteByte(')')
	}
}

// quotable reports whether s, written between q quotes, parses back to s:
// every q in it is doubled or follows a backslash, a backslash never ends
// it, and it has no newline. A string parsed with either quote is quotable
// with that quote; one holding both kinds (A(0,"""'0") holds `""'0`) is
// not quotable with the other.
func quotable(s string, q byte) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			if i+1 >= len(s) {
				return false
			}
			i++
		case c == q:
			if i+1 >= len(s) || s[i+1] != q {
				return false
			}
			i++
		case c == '\n' || c == '\r':
			return false
		}
	}
	return true
}

// FirstPath returns the first path expression of n, following first
// arguments into calls (graphite-web's _getFirstPathExpression); "" if none.
func FirstPath(n *Node) string {
	for n != nil {
		switch n.Kind {
		case KindPath:
			return n.Str
		case KindCall:
			if len(n.Args) == 0 {
				return ""
			}
			n = n.Args[0]
		default:
			return ""
		}
	}
	return ""
}

// ParsePrefix parses the longest valid target at the start of s and ignores
// the rest, as pyparsing's parseString does. It is used on series names
// (aliasByNode on function-wrapped names).
func ParsePrefix(s string) (*Node, error) {
	if len(s) > MaxLen {
		return nil, fmt.Errorf("target longer than %d bytes: %w", MaxLen, ErrSyntax)
	}
	p := parser{s: s, maxDepth: MaxDepth}
	return p.expression(0)
}
