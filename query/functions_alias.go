package query

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/plumbago/plumbago/query/target"
)

func init() {
	Register("alias", fnAlias, FuncMeta{
		Group:       "Alias",
		Description: "Takes one metric or a wildcard seriesList and a string in quotes. Prints the string instead of the metric name in the legend.",
		Params: []Param{
			{Name: "seriesList", Type: TypeSeriesList, Required: true},
			{Name: "newName", Type: TypeString, Required: true},
		},
	})
	Register("aliasByNode", fnAliasByNode, FuncMeta{
		Group:       "Alias",
		Description: "Takes a seriesList and applies an alias derived from one or more \"node\" portion/s of the target name or tags. Node indices are 0 indexed.",
		Params: []Param{
			{Name: "seriesList", Type: TypeSeriesList, Required: true},
			{Name: "nodes", Type: TypeNodeOrTag, Required: true, Multiple: true},
		},
	})
	Register("aliasSub", fnAliasSub, FuncMeta{
		Group:       "Alias",
		Description: "Runs series names through a regex search/replace.",
		Params: []Param{
			{Name: "seriesList", Type: TypeSeriesList, Required: true},
			{Name: "search", Type: TypeString, Required: true},
			{Name: "replace", Type: TypeString, Required: true},
		},
	})
}

func fnAlias(e *Env, a *Args) ([]*Series, error) {
	name := a.String(1, "")
	list := a.SeriesList(0)
	for _, s := range list {
		s.Name = name
	}
	return list, nil
}

func fnAliasByNode(e *Env, a *Args) ([]*Series, error) {
	nodes := a.Multi(1)
	list := a.SeriesList(0)
	for _, s := range list {
		s.Name = aggKey(s, nodes)
	}
	return list, nil
}

// aggKey is graphite-web's aggKey(): the chosen nodes (ints index the
// metric path, taken from inside a function-wrapped name; anything else
// names a tag) joined by dots.
func aggKey(s *Series, nodes []Value) string {
	path := ""
	if strings.HasSuffix(s.Name, ")") {
		if n, err := target.ParsePrefix(s.Name); err == nil {
			path = target.FirstPath(n)
		}
	}
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = nodeOrTag(s, n, path)
	}
	return strings.Join(parts, ".")
}

// nodeOrTag is graphite-web's getNodeOrTag().
func nodeOrTag(s *Series, n Value, path string) string {
	if n.Kind == ValNumber && n.IsInt {
		p := path
		if p == "" {
			p = s.Name
		}
		p, _, _ = strings.Cut(p, ";")
		elems := strings.Split(p, ".")
		i := int(n.Num)
		if i < 0 {
			i += len(elems)
		}
		if i >= 0 && i < len(elems) {
			return elems[i]
		}
	}
	v, _ := s.Tags.Get(n.PyStr())
	return v
}

func fnAliasSub(e *Env, a *Args) ([]*Series, error) {
	re, err := CompilePythonRegexp(a.String(1, ""))
	if err != nil {
		return nil, err
	}
	repl, err := PythonReplacement(a.String(2, ""), re)
	if err != nil {
		return nil, err
	}
	list := a.SeriesList(0)
	for _, s := range list {
		s.Name = re.ReplaceAllString(s.Name, repl)
	}
	return list, nil
}

// CompilePythonRegexp compiles a Python re pattern with Go's RE2 (the
// common subset; lookarounds and backreferences are rejected).
func CompilePythonRegexp(p string) (*regexp.Regexp, error) {
	if len(p) > 4096 {
		return nil, inputErrorf("regular expression longer than 4096 bytes")
	}
	p = strings.ReplaceAll(p, `\Z`, `\z`)
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, inputErrorf("invalid regular expression %q: %v", p, err)
	}
	return re, nil
}

// PythonReplacement converts a Python re.sub replacement (\1, \g<name>,
// \g<1>, \n, \\) into a Go Expand template.
func PythonReplacement(r string, re *regexp.Regexp) (string, error) {
	var b strings.Builder
	groupOK := func(g string) bool {
		if n, err := strconv.Atoi(g); err == nil {
			return n <= re.NumSubexp()
		}
		return re.SubexpIndex(g) >= 0
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c == '$' {
			b.WriteString("$$")
			continue
		}
		if c != '\\' || i+1 >= len(r) {
			b.WriteByte(c)
			continue
		}
		i++
		c = r[i]
		switch {
		case c >= '1' && c <= '9':
			g := string(c)
			if i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9' {
				g += string(r[i+1])
				i++
			}
			if !groupOK(g) {
				return "", inputErrorf("invalid group reference %s in replacement %q", g, r)
			}
			b.WriteString("${" + g + "}")
		case c == 'g' && i+1 < len(r) && r[i+1] == '<':
			end := strings.IndexByte(r[i:], '>')
			if end < 0 {
				return "", inputErrorf("missing > in group reference in replacement %q", r)
			}
			g := r[i+2 : i+end]
			if !groupOK(g) {
				return "", inputErrorf("invalid group reference %s in replacement %q", g, r)
			}
			b.WriteString("${" + g + "}")
			i += end
		case c == '\\':
			b.WriteByte('\\')
		case c == 'n':
			b.WriteByte('\n')
		case c == 't':
			b.WriteByte('\t')
		case c == 'r':
			b.WriteByte('\r')
		case c == 'f':
			b.WriteByte('\f')
		case c == 'v':
			b.WriteByte('\v')
		case c == 'a':
			b.WriteByte('\a')
		case c == 'b':
			b.WriteByte('\b')
		case c == '0':
			b.WriteByte(0)
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			return "", inputErrorf("bad escape \\%c in replacement %q", c, r)
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
