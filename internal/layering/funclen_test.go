package layering

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// maxFuncLines is the longest a function may be, counted from its func
// line to its closing brace, before a reader wants names for its parts.
const maxFuncLines = 100

// longFuncTables are functions over maxFuncLines that are tables, one
// entry a line or a few: a split would add names nobody looks for.
var longFuncTables = map[string]string{
	"query combineFunctions":   "registry table of the combining functions",
	"query transformFunctions": "registry table of the transforming functions",
	"query/graph ParseParams":  "the render parameters read one after the other, one or two lines each",
}

// longFuncsNotYetSplit are functions over maxFuncLines still to be split;
// an entry goes when its function is split. Empty: a new long function
// is split before it lands, or named here with the reason.
var longFuncsNotYetSplit = map[string]bool{}

// TestFunctionLength lists the module's non-test functions over
// maxFuncLines lines and fails on any not named above.
func TestFunctionLength(t *testing.T) {
	long, err := longFunctions("../..", maxFuncLines)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range long {
		found[f.Name] = true
		switch {
		case longFuncTables[f.Name] != "":
			t.Logf("%s: %d lines (table: %s)", f.Name, f.Lines, longFuncTables[f.Name])
		case longFuncsNotYetSplit[f.Name]:
			t.Logf("%s: %d lines (not yet split)", f.Name, f.Lines)
		default:
			t.Errorf("%s (%s): %d lines, over %d: split it where a reader wants a name for the part", f.Name, f.File, f.Lines, maxFuncLines)
		}
	}
	for _, m := range []map[string]bool{longFuncsNotYetSplit, tableNames()} {
		for name := range m {
			if !found[name] {
				t.Logf("%s is no longer over %d lines: remove it from the list", name, maxFuncLines)
			}
		}
	}
}

func tableNames() map[string]bool {
	m := map[string]bool{}
	for k := range longFuncTables {
		m[k] = true
	}
	return m
}

// longFunc is one function over the limit: Name is "pkgdir Recv.Func".
type longFunc struct {
	Name, File string
	Lines      int
}

// longFunctions parses every non-test Go file under root (skipping
// testdata, hidden directories and nested modules) and returns its
// functions longer than limit lines, sorted by name.
func longFunctions(root string, limit int) ([]longFunc, error) {
	var out []longFunc
	fset := token.NewFileSet()
	err := walkGoFiles(root, func(path string) error {
		if strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		for _, decl := range file.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			lines := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
			if lines <= limit {
				continue
			}
			out = append(out, longFunc{Name: filepath.ToSlash(rel) + " " + funcName(fd), File: filepath.ToSlash(path), Lines: lines})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// funcName is "Recv.Func" for a method, "Func" otherwise.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	typ := fd.Recv.List[0].Type
	for {
		switch x := typ.(type) {
		case *ast.StarExpr:
			typ = x.X
			continue
		case *ast.IndexExpr:
			typ = x.X
			continue
		case *ast.IndexListExpr:
			typ = x.X
			continue
		}
		break
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}

// TestLongFunctions: the listing counts from the func line to the
// closing brace, names methods by receiver and skips test files.
func TestLongFunctions(t *testing.T) {
	dir := t.TempDir()
	body := strings.Repeat("\t_ = 1\n", 3)
	src := "package p\n\ntype T struct{}\n\nfunc (t *T) M() {\n" + body + "}\n\nfunc F() {\n" + body[:7] + "}\n\nfunc G() {\n" + body + "}\n"
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p_test.go"), []byte("package p\n\nfunc H() {\n"+body+body+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := longFunctions(dir, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []longFunc{
		{Name: ". G", File: filepath.ToSlash(filepath.Join(dir, "p.go")), Lines: 5},
		{Name: ". T.M", File: filepath.ToSlash(filepath.Join(dir, "p.go")), Lines: 5},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
