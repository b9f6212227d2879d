package layering

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/plumbago/plumbago"

// TestModuleImports checks every Go file of the module against rules.txt.
func TestModuleImports(t *testing.T) {
	f, err := os.Open("rules.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rules, err := Parse(f)
	if err != nil {
		t.Fatalf("rules.txt: %v", err)
	}
	imports := moduleImports(t, "../..")
	if len(imports) < 100 {
		t.Fatalf("found only %d imports: is ../.. the module root?", len(imports))
	}
	violations, unused := rules.Check(imports)
	for _, v := range violations {
		t.Error(v)
	}
	for _, e := range unused {
		t.Logf("rules.txt line %d: allow %s %s is no longer needed; remove it", e.Line, e.Importer, e.Import)
	}
}

// moduleImports parses the imports of every Go file under root, skipping
// testdata, hidden directories and nested modules.
func moduleImports(t *testing.T, root string) []Import {
	t.Helper()
	var out []Import
	fset := token.NewFileSet()
	err := walkGoFiles(root, func(path string) error {
		file, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		from := filepath.ToSlash(rel)
		for _, is := range file.Imports {
			to, _ := strconv.Unquote(is.Path.Value)
			if p, ok := strings.CutPrefix(to, module+"/"); ok {
				to = p
			}
			out = append(out, Import{From: from, To: to, Test: strings.HasSuffix(path, "_test.go"), File: filepath.ToSlash(path)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCheck: each rule kind catches what it should, exceptions apply to
// one package and import only, and unused exceptions are reported.
func TestCheck(t *testing.T) {
	rules, err := Parse(strings.NewReader(`
deny query/...   ingest/...  tests
deny storage/... query/...   tests
deny !cmd/...    flag        # not in tests
allow query/api  ingest/tagged
allow tuning     flag
`))
	if err != nil {
		t.Fatal(err)
	}
	imports := []Import{
		{From: "query", To: "ingest", File: "a.go"},                         // denied
		{From: "query/api", To: "ingest/tagged", File: "b.go"},              // allowed
		{From: "query/api", To: "ingest/line", File: "c.go"},                // denied: another import
		{From: "query", To: "ingest/statsd", Test: true, File: "d_test.go"}, // denied in tests too
		{From: "queryx", To: "ingest", File: "e.go"},                        // not under query/
		{From: "storage/pebble", To: "query/api", File: "f.go"},             // denied
		{From: "storage", To: "flag", File: "g.go"},                         // denied
		{From: "storage", To: "flag", Test: true, File: "h_test.go"},        // tests may parse flags
		{From: "cmd/plumbago", To: "flag", File: "i.go"},                    // cmd may
		{From: "cmd", To: "flag", File: "j.go"},                             // cmd itself too
		{From: "ingest", To: "query/target", File: "k.go"},                  // no rule
	}
	got, unused := rules.Check(imports)
	want := []string{
		"a.go: query imports ingest (rule on line 2: deny query/... ingest/...)",
		"c.go: query/api imports ingest/line (rule on line 2: deny query/... ingest/...)",
		"d_test.go: query imports ingest/statsd (rule on line 2: deny query/... ingest/...)",
		"f.go: storage/pebble imports query/api (rule on line 3: deny storage/... query/...)",
		"g.go: storage imports flag (rule on line 4: deny !cmd/... flag)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(unused) != 1 || unused[0].Importer != "tuning" || unused[0].Line != 6 {
		t.Errorf("unused exceptions %+v, want the tuning one on line 6", unused)
	}
	for _, bad := range []string{"deny a", "allow a b c", "permit a b", "deny a b everything"} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
