package layering

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Rule denies imports: packages matching Importers must not import
// packages matching Imports (in test files too if Tests).
type Rule struct {
	Importers, Imports string
	Tests              bool
	Line               int
}

// Exception allows one import of one package.
type Exception struct {
	Importer, Import string
	Line             int
}

// Rules is a parsed rules file.
type Rules struct {
	Deny  []Rule
	Allow []Exception
}

// Import is one import of one package: From imports To (both
// module-relative, or a standard-library path for To), from a test file
// if Test.
type Import struct {
	From, To string
	Test     bool
	File     string
}

// Parse reads a rules file (see rules.txt for the syntax).
func Parse(r io.Reader) (*Rules, error) {
	rs := &Rules{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "deny" && (len(f) == 3 || len(f) == 4 && f[3] == "tests"):
			rs.Deny = append(rs.Deny, Rule{Importers: f[1], Imports: f[2], Tests: len(f) == 4, Line: n})
		case f[0] == "allow" && len(f) == 3:
			rs.Allow = append(rs.Allow, Exception{Importer: f[1], Import: f[2], Line: n})
		default:
			return nil, fmt.Errorf("line %d: want \"deny <importers> <imports> [tests]\" or \"allow <importer> <import>\", have %q", n, sc.Text())
		}
	}
	return rs, sc.Err()
}

// Match reports whether pkg matches pattern.
func Match(pattern, pkg string) bool {
	if neg, ok := strings.CutPrefix(pattern, "!"); ok {
		return !Match(neg, pkg)
	}
	if pattern == "*" {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// Check returns a message for every import a rule denies and no exception
// allows, and the exceptions no import needed.
func (rs *Rules) Check(imports []Import) (violations []string, unused []Exception) {
	used := make([]bool, len(rs.Allow))
	for _, im := range imports {
		for _, r := range rs.Deny {
			if (im.Test && !r.Tests) || !Match(r.Importers, im.From) || !Match(r.Imports, im.To) {
				continue
			}
			allowed := false
			for i, e := range rs.Allow {
				if e.Importer == im.From && e.Import == im.To {
					used[i], allowed = true, true
				}
			}
			if !allowed {
				violations = append(violations, fmt.Sprintf("%s: %s imports %s (rule on line %d: deny %s %s)",
					im.File, im.From, im.To, r.Line, r.Importers, r.Imports))
			}
		}
	}
	for i, e := range rs.Allow {
		if !used[i] {
			unused = append(unused, e)
		}
	}
	return violations, unused
}
