package jwkstest_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The kit's surface stays small, and each exported name has a doc comment
// and appears in a runnable Example (example_test.go).
func TestAPIDocumentedAndExemplified(t *testing.T) {
	const maxExported = 35
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{} // name → has a doc comment
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil && !ast.IsExported(recvName(d.Recv.List[0].Type)) {
					continue // a method of an unexported type, such as the transport's RoundTrip
				}
				if d.Name.IsExported() {
					exported[d.Name.Name] = d.Doc != nil
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							exported[s.Name.Name] = d.Doc != nil || s.Doc != nil
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								exported[n.Name] = d.Doc != nil || s.Doc != nil
							}
						}
					}
				}
			}
		}
	}
	if len(exported) > maxExported {
		t.Errorf("%d exported identifiers, more than %d", len(exported), maxExported)
	}

	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := parser.ParseFile(fset, "example_test.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, decl := range ex.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || !strings.HasPrefix(fn.Name.Name, "Example") {
			continue
		}
		if !strings.Contains(string(src[fset.Position(fn.Body.Pos()).Offset:fset.Position(fn.Body.End()).Offset]), "// Output:") {
			t.Errorf("%s has no // Output: comment, so it is compiled but not run", fn.Name.Name)
		}
		ast.Inspect(fn, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				used[id.Name] = true
			}
			return true
		})
	}
	// Helpers of the examples count when an Example calls them.
	for _, decl := range ex.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && !strings.HasPrefix(fn.Name.Name, "Example") {
			ast.Inspect(fn, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && used[fn.Name.Name] {
					used[id.Name] = true
				}
				return true
			})
		}
	}
	var names []string
	for name := range exported {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !exported[name] {
			t.Errorf("%s has no doc comment", name)
		}
		if !used[name] {
			t.Errorf("%s appears in no Example", name)
		}
	}
	t.Logf("%d exported identifiers: %s", len(names), strings.Join(names, " "))
}

func recvName(e ast.Expr) string {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}
