package settingscheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// libraryDirs are the trees of library packages: they take Config structs
// and read no environment. pkg/config is the binaries' loader and the one
// place that does.
var libraryDirs = []string{"client", "pkg", "grape", "worker"}

// envReaders are the calls that read the process environment, by import
// path.
var envReaders = map[string][]string{
	"os":      {"Getenv", "LookupEnv", "Environ", "ExpandEnv"},
	"syscall": {"Getenv", "Environ"},
}

// envLoaders are packages whose only use is loading settings from the
// environment or a .env file.
var envLoaders = []string{"github.com/caarlos0/env/v11", "github.com/joho/godotenv"}

// No library file reads the environment: every variable is declared in a
// binary's settings struct and reaches a library as a Config field.
func TestLibrariesReadNoEnvironment(t *testing.T) {
	checked := 0
	for _, dir := range libraryDirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "testdata" || d.Name() == "node_modules" || path == filepath.Join(root, "pkg", "config") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			checked++
			for _, problem := range envUses(t, path) {
				t.Errorf("%s: the libraries read no environment (declare a setting in a binary, pass it as a Config field)", problem)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 50 {
		t.Fatalf("only %d library files checked: wrong root?", checked)
	}
}

// envUses lists where the file at path imports an environment loader or
// calls an environment reader, under whatever name it imported it.
func envUses(t *testing.T, path string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	names := map[string]string{} // local name -> import path, for envReaders
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		for _, l := range envLoaders {
			if p == l {
				out = append(out, fset.Position(imp.Pos()).String()+": imports "+p)
			}
		}
		if _, ok := envReaders[p]; ok {
			name := filepath.Base(p)
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = p
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		if p, ok := names[pkg.Name]; ok {
			for _, fn := range envReaders[p] {
				if sel.Sel.Name == fn {
					out = append(out, fset.Position(sel.Pos()).String()+": calls "+p+"."+fn)
				}
			}
		}
		return true
	})
	return out
}

// The check sees a read through a renamed import.
func TestEnvUsesFindsRenamedImports(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.go")
	src := "package x\n\nimport sys \"os\"\n\nvar _ = sys.Getenv(\"HOME\")\n"
	if err := writeFile(path, src); err != nil {
		t.Fatal(err)
	}
	if got := envUses(t, path); len(got) != 1 || !strings.Contains(got[0], "os.Getenv") {
		t.Errorf("got %q", got)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
