// Command apicount counts the exported identifiers of the public packages,
// as the design review counted them: exported package-level types,
// functions, variables and constants, and exported methods of exported types
// (struct fields and interface methods are not counted). It prints one line
// per package and the total; APICOUNT_LIST=1 lists the names.
//
//	go run ./internal/cmd/apicount [dir ...]
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	dirs := os.Args[1:]
	if len(dirs) == 0 {
		dirs = []string{"session", "middleware", "jwks"}
	}
	total := 0
	for _, dir := range dirs {
		n, err := count(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%-20s %d\n", dir, n)
		total += n
	}
	fmt.Printf("%-20s %d\n", "total", total)
}

// count returns the exported identifiers of the Go package in dir (test
// files excluded).
func count(dir string) (int, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return 0, err
	}
	sort.Strings(files)
	names := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return 0, err
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv != nil {
					recv := recvName(d.Recv.List[0].Type)
					if !ast.IsExported(recv) {
						continue
					}
					names["method "+recv+"."+d.Name.Name] = true
					continue
				}
				names["func "+d.Name.Name] = true
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						names["type "+s.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								names["value "+n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	if os.Getenv("APICOUNT_LIST") != "" {
		list := make([]string, 0, len(names))
		for n := range names {
			list = append(list, n)
		}
		sort.Strings(list)
		for _, n := range list {
			fmt.Println("  " + dir + ": " + n)
		}
	}
	return len(names), nil
}

func recvName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recvName(t.X)
	case *ast.IndexExpr:
		return recvName(t.X)
	case *ast.Ident:
		return t.Name
	}
	return ""
}
