package netpol_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/netpol"
)

// load reads manifests as the commands do and builds the network.
func load(t testing.TB, paths ...string) (*netpol.Network, []string) {
	t.Helper()
	var in netpol.Input
	var errs []string
	src := &manifest.Source{Paths: paths}
	readErrs := manifest.Ordered(context.Background(), src, 1, func(u manifest.Unit) []netpol.Decoded {
		var ds []netpol.Decoded
		for _, o := range u.Objects {
			ds = append(ds, netpol.Decode(o))
		}
		return ds
	}, func(u manifest.Unit, ds []netpol.Decoded) {
		for _, e := range u.Errors {
			errs = append(errs, e.Error())
		}
		for _, d := range ds {
			if d.Err != nil {
				errs = append(errs, d.Err.Error())
			}
			in.Add(d)
		}
	})
	for _, e := range readErrs {
		errs = append(errs, e.Error())
	}
	n, buildErrs := in.Build()
	for _, e := range buildErrs {
		errs = append(errs, e.Error())
	}
	return n, errs
}

// want is one expectation of a fixture: "# want: SRC DST PORT[/PROTO]
// yes|no|error" or "# want-error: TEXT".
type want struct {
	line   int
	fields []string
	err    string
}

func wants(t *testing.T, file string) []want {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ws []want
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(text, "# want:"); ok {
			fs := strings.Fields(rest)
			if len(fs) != 4 {
				t.Fatalf("%s:%d: want SRC DST PORT yes|no|error", file, line)
			}
			ws = append(ws, want{line: line, fields: fs})
		} else if rest, ok := strings.CutPrefix(text, "# want-error:"); ok {
			ws = append(ws, want{line: line, err: strings.TrimSpace(rest)})
		}
	}
	return ws
}

// TestFixtures checks every can-reach answer the fixtures expect, one
// fixture per rule of the NetworkPolicy semantics, and that the input
// errors are exactly those expected.
func TestFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) < 9 {
		t.Fatalf("found %d fixtures", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ws := wants(t, file)
			if len(ws) == 0 {
				t.Fatal("fixture without expectations")
			}
			n, errs := load(t, file)
			matched := make([]bool, len(errs))
			// Every answer twice: pair by pair, then with the peers
			// indexed, as the matrix does.
			for pass := range 2 {
				if pass == 1 {
					n.Matrix(func(int, int, netpol.PortSet) {})
				}
				check(t, n, ws, errs, matched)
			}
			for i, e := range errs {
				if !matched[i] {
					t.Errorf("unexpected error: %s", e)
				}
			}
		})
	}
}

func check(t *testing.T, n *netpol.Network, ws []want, errs []string, matched []bool) {
	t.Helper()
	for _, w := range ws {
		if w.err != "" {
			found := false
			for i, e := range errs {
				if strings.Contains(e, w.err) {
					found, matched[i] = true, true
				}
			}
			if !found {
				t.Errorf("line %d: no error %q among %q", w.line, w.err, errs)
			}
			continue
		}
		got := answer(n, w.fields[0], w.fields[1], w.fields[2])
		if got != w.fields[3] {
			t.Errorf("line %d: can-reach %s: got %s, want %s", w.line, strings.Join(w.fields[:3], " "), got, w.fields[3])
		}
	}
}

// answer asks both Explain and Allowed, which must agree.
func answer(n *netpol.Network, src, dst, port string) string {
	s, err := n.Lookup(src)
	if err != nil {
		return "error"
	}
	d, err := n.Lookup(dst)
	if err != nil {
		return "error"
	}
	proto, p, err := netpol.ParsePort(port)
	if err != nil {
		return "error"
	}
	v := n.Explain(s, d, proto, p)
	if v.Allowed != n.Allowed(s, d).Has(proto, p) {
		return "explain-and-allowed-disagree"
	}
	if v.Allowed {
		return "yes"
	}
	return "no"
}
