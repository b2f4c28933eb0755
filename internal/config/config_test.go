package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/finding"
)

func known(id string) bool {
	return id == "pss-privileged" || id == "read-only-root-filesystem" || id == "image-digest"
}

func TestParse(t *testing.T) {
	src := `
checks:
  disable: [image-digest]
  severity:
    read-only-root-filesystem: low
parameters:
  allowedRegistries: [registry.example.com]
exemptions:
- checks: [pss-privileged]
  namespace: kube-system
  name: "cilium-*"
  container: agent
  reason: CNI agent needs host access
  expires: 2030-01-31
`
	c, err := Parse("k.yaml", []byte(src), known)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Disabled("image-digest") || c.Disabled("pss-privileged") {
		t.Errorf("Disabled: got %v", c.Checks.Disable)
	}
	if c.Checks.Severity["read-only-root-filesystem"] != finding.Low {
		t.Errorf("severity override: %v", c.Checks.Severity)
	}
	e := c.Exemptions[0]
	if e.Line != 9 {
		t.Errorf("exemption line = %d, want 9", e.Line)
	}
	tests := []struct {
		name              string
		id, kind, ns, obj string
		containers        []string
		want              bool
	}{
		{"match", "pss-privileged", "DaemonSet", "kube-system", "cilium-agent", []string{"agent"}, true},
		{"other namespace", "pss-privileged", "DaemonSet", "default", "cilium-agent", []string{"agent"}, false},
		{"other container", "pss-privileged", "DaemonSet", "kube-system", "cilium-agent", []string{"agent", "init"}, false},
		{"pod-level finding", "pss-privileged", "DaemonSet", "kube-system", "cilium-agent", nil, false},
		{"other check", "read-only-root-filesystem", "DaemonSet", "kube-system", "cilium-agent", []string{"agent"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.Matches(tt.id, tt.kind, tt.ns, tt.obj, tt.containers); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
	if e.Expired(time.Date(2030, 1, 31, 23, 0, 0, 0, time.UTC)) {
		t.Error("expired on its last day")
	}
	if !e.Expired(time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("not expired the day after")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown key", "checks:\n  disabel: [x]\n", `k.yaml:2: unknown key "disabel" under checks (want disable, severity)`},
		{"unknown top-level key", "check:\n  disable: [x]\n", `k.yaml:1: unknown key "check" at the top level (want checks, parameters, exemptions, exclude)`},
		{"unknown exemption key", "exemptions:\n- checks: [pss-privileged]\n  reason: r\n  namespaces: [a]\n", `k.yaml:4: unknown key "namespaces" in an exemption (want checks, namespace, kind, name, container, serviceAccount, image, reason, expires)`},
		{"string for a list", "checks:\n  disable: pss-privileged\n", `k.yaml:2: want a list of strings, not a string ("pss-privileged")`},
		{"list for a string", "exemptions:\n- checks: [pss-privileged]\n  reason: r\n  name: [a, b]\n", `k.yaml:4: want a string, not a list`},
		{"bad severity with its line", "checks:\n  severity:\n    pss-privileged: high\n    pss-hostPorts: urgent\n", `k.yaml:4: checks.severity.pss-hostPorts: unknown severity "urgent" (want one of info, low, medium, high, critical)`},
		{"unknown check", "checks:\n  disable: [no-such-check]\n", `k.yaml:2: checks.disable: unknown check "no-such-check"`},
		{"unknown severity", "checks:\n  severity: {pss-privileged: urgent}\n", "unknown severity"},
		{"no reason", "exemptions:\n- checks: [pss-privileged]\n  name: x\n", "k.yaml:2: exemption: reason is required"},
		{"no checks", "exemptions:\n- reason: because\n", "checks is required"},
		{"bad date", "exemptions:\n- checks: [pss-privileged]\n  reason: r\n  expires: next week\n", "not a date"},
		{"bad glob", "exemptions:\n- checks: [pss-privileged]\n  reason: r\n  name: \"[\"\n", "bad pattern"},
		{"bad exclude glob", "checks:\n  disable: []\nexclude: [vendor, \"[\"]\n", `k.yaml:3: exclude: bad pattern "["`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("k.yaml", []byte(tt.src), known)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() error = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := Parse("k.yaml", nil, known); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	deep := filepath.Join(repo, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(deep, "app.yaml")
	os.WriteFile(file, []byte("{}"), 0o644)
	cfg := filepath.Join(repo, "a", FileName)
	os.WriteFile(cfg, []byte("{}"), 0o644)
	for _, p := range []string{file, deep} {
		got, err := Find([]string{p})
		if err != nil || got != cfg {
			t.Errorf("Find(%s) = %q, %v; want %q", p, got, err, cfg)
		}
	}
}

// TestFindStopsAtRepositoryRoot: a .kubeguard.yaml above the repository
// (/tmp, $HOME, a CI workspace's parent) silently disabled checks.
func TestFindStopsAtRepositoryRoot(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, FileName), []byte("{}"), 0o644) // planted above
	repo := filepath.Join(root, "repo")
	deep := filepath.Join(repo, "k8s")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	// A worktree's .git is a file.
	os.WriteFile(filepath.Join(repo, ".git"), []byte("gitdir: /elsewhere\n"), 0o644)
	if got, err := Find([]string{deep}); err != nil || got != "" {
		t.Errorf("Find in a repository = %q, %v; want none (the file above its root is not its own)", got, err)
	}
	own := filepath.Join(repo, FileName)
	os.WriteFile(own, []byte("{}"), 0o644)
	if got, err := Find([]string{deep}); err != nil || got != own {
		t.Errorf("Find = %q, %v; want %q", got, err, own)
	}

	// Outside a repository: the directory itself only (the working
	// directory is elsewhere).
	plain := filepath.Join(root, "plain", "x")
	if err := os.MkdirAll(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := Find([]string{plain}); err != nil || got != "" {
		t.Errorf("Find outside a repository = %q, %v; want none", got, err)
	}
	here := filepath.Join(plain, FileName)
	os.WriteFile(here, []byte("{}"), 0o644)
	if got, err := Find([]string{plain}); err != nil || got != here {
		t.Errorf("Find = %q, %v; want %q", got, err, here)
	}
}

// TestFindWorkingDirectoryOutsideRepository: outside a repository, the
// working directory's file applies to paths under it.
func TestFindWorkingDirectoryOutsideRepository(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "manifests")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(root, FileName)
	os.WriteFile(cfg, []byte("{}"), 0o644)
	t.Chdir(root)
	if got, err := Find([]string{"manifests"}); err != nil || got != cfg {
		t.Errorf("Find = %q, %v; want %q", got, err, cfg)
	}
}
