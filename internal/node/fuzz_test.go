package node

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// seedFiles adds every fixture file as a seed.
func seedFiles(f *testing.F) {
	filepath.WalkDir("testdata/cases", func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
	f.Add([]byte("kube-apiserver\x00--anonymous-auth=false\x00--authorization-mode\x00RBAC\x00"))
}

// FuzzReadPaths reads any file as kubeguard node would be given it, and
// judges the result: no panic, no hang, and no EncryptionConfiguration key
// in any message.
func FuzzReadPaths(f *testing.F) {
	seedFiles(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "input")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		n := ReadPaths(Host{Root: dir}, []string{p})
		fs, errs := Evaluate(n, Checks(), Options{Now: now})
		for _, c := range n.Encryption {
			for _, r := range judgedResources(c) {
				Encryption(c, r)
			}
		}
		secrets := keySecrets(string(data))
		for _, e := range errs {
			for _, s := range secrets {
				if strings.Contains(e.Message, s) {
					t.Errorf("key %q in error %q", s, e.Message)
				}
			}
		}
		for _, fd := range fs {
			for _, s := range secrets {
				if strings.Contains(fd.Reason+fd.Detail, s) {
					t.Errorf("key %q in finding %q", s, fd.Reason)
				}
			}
		}
	})
}

// keySecrets returns the values of "secret:" keys of a YAML text that are
// long enough not to occur by chance.
func keySecrets(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if _, v, ok := strings.Cut(l, "secret:"); ok {
			v = strings.Trim(strings.TrimSpace(v), "}\"' ")
			if len(v) >= 12 {
				out = append(out, v)
			}
		}
	}
	return out
}

// FuzzShellWords splits unit and environment lines: no panic, and the
// words never hold more than the input.
func FuzzShellWords(f *testing.F) {
	f.Add(`"KUBELET_ARGS=--a=b --c=d" 'x y' z\ w`)
	f.Add(`ExecStart=/usr/bin/kubelet $A ${B} \`)
	f.Fuzz(func(t *testing.T, s string) {
		n := 0
		for _, w := range shellWords(s) {
			n += len(w)
		}
		if n > len(s) {
			t.Errorf("words of %q hold %d bytes", s, n)
		}
		for _, l := range joinContinuations(s) {
			parseArgs([]token{{text: l.text}})
		}
	})
}

// TestLargeEncryptionConfig reads configurations just under the size
// limit, naming 140,000 resources in one list and 55,000 in as many lists:
// every pass over them must be linear (a pairwise one would not end in the
// test's time).
func TestLargeEncryptionConfig(t *testing.T) {
	for _, oneList := range []bool{true, false} {
		n := 55000
		if oneList {
			n = 140000
		}
		var b strings.Builder
		b.WriteString("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n")
		if oneList {
			b.WriteString("- providers: [{identity: {}}]\n  resources:\n")
			for i := range n {
				b.WriteString("  - r" + itoa(i) + ".example.com\n")
			}
		} else {
			for i := range n {
				b.WriteString("- {resources: [r" + itoa(i) + ".example.com], providers: [{identity: {}}]}\n")
			}
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "enc.yaml")
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		node := ReadPaths(Host{}, []string{p})
		if len(node.Errors) > 0 {
			t.Fatal(node.Errors[0])
		}
		if len(node.Encryption) != 1 {
			t.Fatal("not read")
		}
		Evaluate(node, Checks(), Options{Now: now})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
