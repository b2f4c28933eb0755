// Package internal_test holds the test that keeps the module's imports
// running one way: fronts -> run layer -> analysers and checks -> the
// engine's types. docs/architecture.md draws the same picture.
package internal_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/kubeguard/kubeguard/"

// layers ranks every package of the module: a package may import only
// packages of a lower rank, or of its own rank in its own area (the first
// two elements of its path: internal/checks/serviceaccount may use
// internal/checks/secrets, internal/rbac may not use internal/cluster). A
// package is ranked by its longest listed prefix, so a new package under
// checks/ is a check package at once.
var layers = map[string]int{
	// The engine's vocabulary: no imports of the module but lower ones.
	"internal/finding":    0,
	"internal/jsonstring": 0,
	"internal/cputime":    0,
	"internal/corpus":     0,
	"internal/object":     1,
	"internal/fileset":    1,
	"internal/check":      2,
	"internal/config":     2,
	"internal/manifest":   2,
	// Test helpers of the engine.
	"internal/check/checktest": 3,
	// Analysers and the I/O beside them: pure libraries over objects.
	"internal/rbac":     3,
	"internal/netpol":   3,
	"internal/audit":    3,
	"internal/node":     3,
	"internal/cluster":  3,
	"internal/report":   3,
	"internal/suppress": 3,
	// The catalogue: a check may ask an analyser.
	"internal/checks/": 4,
	"internal/checks":  5,
	// The run layer: what every front does the same way.
	"internal/run": 6,
	// Fronts.
	"internal/admission": 7,
	"internal/webhook":   8,
	"internal/cli":       9,
	"cmd/":               10,
	"tools/":             10,
}

// exceptions are imports that run the wrong way today, each to be removed;
// the test fails when one is no longer needed, so the list only shrinks.
var exceptions = map[[2]string]string{
	// None today.
}

func rank(pkg string) (int, bool) {
	best, r := -1, 0
	for prefix, n := range layers {
		if (pkg == prefix || strings.HasPrefix(pkg, prefix) && (strings.HasSuffix(prefix, "/") || pkg[len(prefix)] == '/')) && len(prefix) > best {
			best, r = len(prefix), n
		}
	}
	return r, best >= 0
}

// area is the first two elements of a package's path.
func area(pkg string) string {
	if i := strings.Index(pkg, "/"); i >= 0 {
		if j := strings.Index(pkg[i+1:], "/"); j >= 0 {
			return pkg[:i+1+j]
		}
	}
	return pkg
}

// imports reads the non-test imports of every package of the main module
// (test/e2e is a module of its own).
func imports(t *testing.T) map[string]map[string]bool {
	t.Helper()
	pkgs := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != ".." && (strings.HasPrefix(n, ".") || n == "testdata" || path == filepath.Join("..", "test")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(strings.TrimPrefix(path, "../")))
		if pkgs[pkg] == nil {
			pkgs[pkg] = map[string]bool{}
		}
		for _, spec := range f.Imports {
			p, _ := strconv.Unquote(spec.Path.Value)
			if rest, ok := strings.CutPrefix(p, module); ok {
				pkgs[pkg][rest] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestImportsRunOneWay(t *testing.T) {
	pkgs := imports(t)
	if len(pkgs) < 20 {
		t.Fatalf("read only %d packages: is the walk rooted at the module?", len(pkgs))
	}
	used := map[[2]string]bool{}
	var names []string
	for p := range pkgs {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, from := range names {
		rf, ok := rank(from)
		if !ok {
			t.Errorf("package %s has no layer: add it to layers (and to docs/architecture.md)", from)
			continue
		}
		for to := range pkgs[from] {
			rt, ok := rank(to)
			if !ok || rt < rf || rt == rf && area(to) == area(from) {
				continue
			}
			if _, ok := exceptions[[2]string{from, to}]; ok {
				used[[2]string{from, to}] = true
				continue
			}
			t.Errorf("%s (layer %d) imports %s (layer %d): imports must run down the layers", from, rf, to, rt)
		}
	}
	for e := range exceptions {
		if !used[e] {
			t.Errorf("exception %s -> %s is no longer needed: remove it", e[0], e[1])
		}
	}
}
