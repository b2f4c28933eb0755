package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"k8s.io/client-go/tools/clientcmd"
)

// TestEmptyScan: input without any Kubernetes object fails the scan with
// exit 2 and says so, unless --allow-empty; a mistyped path in CI must not
// pass the gate.
func TestEmptyScan(t *testing.T) {
	empty := t.TempDir()
	noManifests := t.TempDir()
	writeFile(t, noManifests, "README.md", "# not a manifest\n")
	onlyComments := writeFile(t, t.TempDir(), "c.yaml", "# nothing here\n---\n")
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
	}{
		{"empty directory", []string{empty}, ""},
		{"directory without manifests", []string{noManifests}, ""},
		{"comments only", []string{onlyComments}, ""},
		{"empty standard input", []string{"-"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(append([]string{"scan"}, tc.args...), tc.stdin)
			if code != ExitError || !strings.Contains(stderr, "no Kubernetes object found") || !strings.Contains(stderr, "--allow-empty") {
				t.Errorf("exit %d, stderr %q; want %d and a message", code, stderr, ExitError)
			}
			code, _, stderr = runCLI(append([]string{"scan", "--allow-empty"}, tc.args...), tc.stdin)
			if code != ExitOK || stderr != "" {
				t.Errorf("--allow-empty: exit %d, stderr %q; want 0", code, stderr)
			}
		})
	}
	// A mistyped path is an input error, whatever --allow-empty says.
	code, _, stderr := runCLI([]string{"scan", "--allow-empty", filepath.Join(empty, "typo")}, "")
	if code != ExitError || !strings.Contains(stderr, "typo") {
		t.Errorf("mistyped path: exit %d, stderr %q", code, stderr)
	}
}

// TestSamePathTwice: a file named twice is scanned once.
func TestSamePathTwice(t *testing.T) {
	dir := t.TempDir()
	pod := writeFile(t, dir, "pod.yaml", privilegedPod)
	code, stdout, stderr := runCLI([]string{"scan", "-o", "json", pod, dir, pod}, "")
	if code != ExitFindings {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	r := decodeReport(t, stdout)
	if r.Summary.Objects != 1 {
		t.Errorf("%d objects, want 1", r.Summary.Objects)
	}
	seen := map[string]int{}
	for _, f := range r.Findings {
		seen[f.CheckID]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%s reported %d times", id, n)
		}
	}
}

// TestInputErrorsOnce: when the text report and standard error land in the
// same place (a terminal, 2>&1), each input error is printed once, by the
// report; when they do not, standard error says it too.
func TestInputErrorsOnce(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "bad.yaml", "kind: [unclosed\n")
	writeFile(t, dir, "pod.yaml", privilegedPod)
	f, err := os.Create(filepath.Join(t.TempDir(), "tty"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code := Run(context.Background(), []string{"scan", dir}, IO{Stdin: strings.NewReader(""), Stdout: f, Stderr: f})
	if code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	out, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "bad.yaml:1"); n != 1 {
		t.Errorf("the error is printed %d times, want once:\n%s", n, out)
	}
	// Apart, each stream says it.
	_, stdout, stderr := runCLI([]string{"scan", dir}, "")
	if !strings.Contains(stdout, "bad.yaml:1") || !strings.Contains(stderr, "bad.yaml:1") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}

// TestVersion: the version comes from the build information (the module
// version 'go install ...@v' stamps, the VCS revision of a build in a
// clone), what -ldflags sets wins, and --version is version.
func TestVersion(t *testing.T) {
	installed := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/kubeguard/kubeguard", Version: "v1.4.0"}}
	clone := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20261206232539-75eef695935c+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "75eef695935cb9a18f687bd0f344e90c9c34b0fb"}, {Key: "vcs.time", Value: "2026-12-06T23:25:39Z"}, {Key: "vcs.modified", Value: "true"}}}
	unstamped := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}}
	for _, tc := range []struct {
		name       string
		set        string
		bi         *debug.BuildInfo
		short, all string
	}{
		{"go install @version", "", installed, "v1.4.0", "v1.4.0 (go1.26.0)"},
		{"build in a clone", "", clone, "v0.0.0-20261206232539-75eef695935c+dirty",
			"v0.0.0-20261206232539-75eef695935c+dirty (revision 75eef695935cb9a18f687bd0f344e90c9c34b0fb, 2026-12-06T23:25:39Z, modified, go1.26.0)"},
		{"-ldflags -X", "v2.0.0", installed, "v2.0.0", "v2.0.0 (go1.26.0)"},
		{"no VCS stamp", "", unstamped, "dev", "dev (go1.26.0)"},
		{"no build information", "", nil, "dev", "dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionOf(tc.set, tc.bi); got != tc.short {
				t.Errorf("versionOf = %q, want %q", got, tc.short)
			}
			if got := versionDetails(tc.set, tc.bi); got != tc.all {
				t.Errorf("versionDetails = %q, want %q", got, tc.all)
			}
		})
	}
	code, a, _ := runCLI([]string{"version"}, "")
	_, b, _ := runCLI([]string{"--version"}, "")
	if code != ExitOK || a != b || !strings.HasPrefix(a, "kubeguard "+version()) {
		t.Errorf("version %q, --version %q", a, b)
	}
}

// TestFlagValues: values that would be accepted silently and mean
// something else are refused, in every command that takes them, with one
// wording.
func TestFlagValues(t *testing.T) {
	pod := writeFile(t, t.TempDir(), "pod.yaml", privilegedPod)
	newest := pss.NewestVersion()
	next := fmt.Sprintf("v1.%d", newest.Minor()+1)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--workers", "0", pod}, "invalid --workers 0 (want 1 or more)"},
		{[]string{"scan", "--workers=-1", pod}, "invalid --workers -1 (want 1 or more)"},
		{[]string{"cluster", "--workers", "0"}, "invalid --workers 0 (want 1 or more)"},
		{[]string{"scan", "--pss-version", next, pod}, fmt.Sprintf("invalid --pss-version: policy version %q is newer than %v", next, newest)},
		{[]string{"scan", "--pss-version", "1.30", pod}, fmt.Sprintf(`invalid --pss-version: unknown Pod Security Standards version "1.30" (want latest or v1.0 ... %v)`, newest)},
		{[]string{"cluster", "--pss-version", "v1.99"}, `invalid --pss-version: policy version "v1.99"`},
		{[]string{"scan", "--level", "privileged", pod}, `invalid --level: unknown level "privileged"`},
		{[]string{"scan", "--fail-on", "severe", pod}, `invalid --fail-on "severe" (want one of info, low, medium, high, critical)`},
		{[]string{"cluster", "--fail-on", "severe"}, `invalid --fail-on "severe" (want one of info, low, medium, high, critical)`},
		{[]string{"rbac", "risks", "--fail-on", "severe", "-f", pod}, `invalid --fail-on "severe" (want one of info, low, medium, high, critical)`},
		{[]string{"webhook", "serve", "--cert", pod, "--key", pod, "--deny-severity", "severe"}, `invalid --deny-severity "severe" (want one of info, low, medium, high, critical)`},
		{[]string{"scan", "-o", "xml", pod}, `invalid --output "xml" (want one of text, json, sarif, junit)`},
		{[]string{"cluster", "-o", "xml"}, `invalid --output "xml" (want one of text, json, sarif, junit, policyreport)`},
		{[]string{"checks", "-o", "xml"}, `invalid --output "xml" (want one of text, json, markdown)`},
		{[]string{"rbac", "risks", "-o", "xml", "-f", pod}, `invalid --output "xml" (want one of text, json, sarif, junit)`},
		{[]string{"rbac", "paths", "-o", "xml", "-f", pod}, `invalid --output "xml" (want one of text, json)`},
		{[]string{"rbac", "who-can", "get", "pods", "-o", "xml", "-f", pod}, `invalid --output "xml" (want one of text, json)`},
		// -o/--output is the format, as in kubectl; a file name there was
		// the report's file before --output-file.
		{[]string{"scan", "--output", "report.sarif", pod}, `invalid --output "report.sarif" (want one of text, json, sarif, junit); a report file is --output-file FILE`},
		{[]string{"node", "--format", "xml", pod}, `invalid --output "xml"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(tc.args, "")
			if code != ExitError || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, ExitError, tc.want)
			}
		})
	}
	// The help lists the values every command takes alike.
	for _, cmd := range [][]string{{"scan"}, {"cluster"}, {"rbac", "risks"}} {
		_, stdout, _ := runCLI(append(cmd, "--help"), "")
		if !strings.Contains(stdout, "--fail-on severity") || !strings.Contains(stdout, "info, low, medium, high or critical") {
			t.Errorf("%s --help does not list the --fail-on values:\n%s", cmd, stdout)
		}
	}
}

// TestCompact: --compact writes one line per finding that is not
// suppressed, and no fix; explain has the fix.
func TestCompact(t *testing.T) {
	insecure := filepath.Join("..", "..", "examples", "insecure")
	_, full, _ := runCLI([]string{"scan", "-o", "json", insecure}, "")
	want := len(decodeReport(t, full).Findings)
	code, stdout, stderr := runCLI([]string{"scan", "--compact", insecure}, "")
	if code != ExitFindings {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	findingLines := 0
	for _, l := range lines[:len(lines)-1] {
		if l == "" {
			continue
		}
		findingLines++
		// FILE:LINE:COL: SEVERITY CHECK-ID OBJECT: REASON
		if !strings.HasPrefix(l, filepath.Join(insecure, "shop.yaml")+":") && !strings.HasPrefix(l, "<stdin>:") && !strings.Contains(l, "(<stdin>:") {
			t.Errorf("line does not start with its location: %q", l)
		}
	}
	if findingLines != want {
		t.Errorf("%d finding lines, want %d (one per finding)\n%s", findingLines, want, stdout)
	}
	if strings.Contains(stdout, "fix:") || !strings.Contains(lines[len(lines)-1], "kubeguard explain CHECK-ID") {
		t.Errorf("compact output has fixes or lacks the pointer to explain:\n%s", stdout)
	}
	if !strings.Contains(stdout, ": CRITICAL pss-privileged Deployment/shop/web [log-shipper]: privileged\n") {
		t.Errorf("no compact line for the privileged pod:\n%s", stdout)
	}
}

// TestExplain: explain and checks ID show a check whole, its rationale
// included; an unknown ID names the closest.
func TestExplain(t *testing.T) {
	for _, args := range [][]string{{"explain", "pss-privileged"}, {"checks", "pss-privileged"}} {
		code, stdout, stderr := runCLI(args, "")
		if code != ExitOK || stderr != "" {
			t.Fatalf("%q: exit %d\n%s", args, code, stderr)
		}
		for _, want := range []string{"pss-privileged: Privileged container", "Why:\n  Baseline: privileged pods", "Fix:\n", "Documentation: https://kubernetes.io/"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%q lacks %q:\n%s", args, want, stdout)
			}
		}
	}
	code, _, stderr := runCLI([]string{"explain", "pss-privilegd"}, "")
	if code != ExitError || !strings.Contains(stderr, `unknown check "pss-privilegd" (did you mean pss-privileged?)`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := runCLI([]string{"explain"}, ""); code != ExitError {
		t.Errorf("explain without an ID: exit %d", code)
	}
}

// TestChecksJSONKeys: checks -o json names its keys as the JSON report
// names a check's (docs/json-report.md).
func TestChecksJSONKeys(t *testing.T) {
	_, stdout, _ := runCLI([]string{"checks", "-o", "json"}, "")
	var list []map[string]any
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || len(list) == 0 {
		t.Fatalf("not a JSON list: %v", err)
	}
	for _, k := range []string{"id", "title", "severity", "category", "docURL", "rationale", "remediation"} {
		if _, ok := list[0][k]; !ok {
			t.Errorf("key %q missing: %v", k, list[0])
		}
	}
	for k := range list[0] {
		if k != strings.ToLower(k[:1])+k[1:] {
			t.Errorf("key %q is not lowerCamelCase", k)
		}
	}
}

// TestTablesFitWidth: the text tables fit the terminal's width; who-can,
// whose grants cannot be cut, turns into blocks instead.
func TestTablesFitWidth(t *testing.T) {
	t.Setenv("COLUMNS", "80")
	_, stdout, _ := runCLI([]string{"checks"}, "")
	for _, l := range strings.Split(stdout, "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("checks line of %d runes: %q", n, l)
		}
	}
	_, stdout, _ = runCLI([]string{"rbac", "who-can", "get", "secrets", "-n", "shop", "--with-defaults", "-f", filepath.Join("..", "..", "examples", "insecure")}, "")
	for _, l := range strings.Split(stdout, "\n") {
		if n := utf8.RuneCountInString(l); n > 80 && !strings.HasPrefix(l, "    ") {
			t.Errorf("who-can line of %d runes that is not a grant: %q", n, l)
		}
	}
	if !strings.Contains(stdout, "ServiceAccount shop/default  cluster-wide\n    ClusterRoleBinding/shop-ci → ClusterRole/cluster-admin") {
		t.Errorf("who-can blocks:\n%s", stdout)
	}
	t.Setenv("COLUMNS", "1000")
	_, stdout, _ = runCLI([]string{"checks"}, "")
	if !strings.Contains(stdout, "Privileged container") {
		t.Errorf("wide terminal: titles cut:\n%s", stdout)
	}
}

// closedPort is an address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestClusterConnectionErrors: a missing kubeconfig or an unreachable API
// server is one line that names the kubeconfig and context tried, not
// client-go's advice about KUBERNETES_MASTER, an error per resource type,
// an empty report and a guess at permissions.
func TestClusterConnectionErrors(t *testing.T) {
	dir := t.TempDir()
	addr := closedPort(t)
	kc := writeFile(t, dir, "kubeconfig", `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "http://`+addr+`"}
users:
- name: u
  user: {}
contexts:
- name: dev
  context: {cluster: c, user: u}
current-context: dev
`)
	missing := filepath.Join(dir, "missing.yaml")
	t.Setenv("HOME", dir)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	for _, tc := range []struct {
		name, kubeconfigEnv string
		args                []string
		want                string
	}{
		{"unreachable", "", []string{"cluster", "--kubeconfig", kc},
			`kubeguard cluster: cannot reach the API server at http://` + addr + ` (kubeconfig ` + kc + `, context "dev"): dial tcp ` + addr + `: connect: connection refused` + "\n"},
		{"unreachable, rbac", "", []string{"rbac", "paths", "--cluster", "--kubeconfig", kc},
			`kubeguard rbac paths: cannot reach the API server at http://` + addr + ` (kubeconfig ` + kc + `, context "dev")`},
		{"missing --kubeconfig", "", []string{"cluster", "--kubeconfig", missing}, "kubeguard cluster: no kubeconfig at " + missing + " (--kubeconfig)\n"},
		{"missing $KUBECONFIG", missing, []string{"cluster"}, "kubeguard cluster: no kubeconfig at " + missing + " ($KUBECONFIG)\n"},
		{"no kubeconfig at all", "", []string{"cluster"}, "kubeguard cluster: no cluster to connect to: no kubeconfig at " + clientcmd.RecommendedHomeFile + " (give --kubeconfig FILE or set KUBECONFIG), and not running in a pod\n"},
		{"unknown context", "", []string{"cluster", "--kubeconfig", kc, "--context", "prod"}, `kubeguard cluster: kubeconfig ` + kc + `, context "prod": context "prod" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(clientcmd.RecommendedHomeFile); err == nil && tc.name == "no kubeconfig at all" {
				t.Skip("this machine has a kubeconfig at", clientcmd.RecommendedHomeFile)
			}
			t.Setenv("KUBECONFIG", tc.kubeconfigEnv)
			code, stdout, stderr := runCLI(tc.args, "")
			if code != ExitError || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, ExitError, tc.want)
			}
			if strings.Contains(stderr, "KUBERNETES_MASTER") || strings.Count(stderr, "refused") > 1 || strings.Contains(stderr, "allowed to list") {
				t.Errorf("stderr %q", stderr)
			}
			if tc.args[0] == "cluster" && stdout != "" {
				t.Errorf("a report was written:\n%s", stdout)
			}
		})
	}
}

// TestREADMEFirstCommand holds the README's first commands to what they
// print: the insecure example's compact lines and counts, exit 1, and the
// hardened twin's clean scan.
func TestREADMEFirstCommand(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := runCLI([]string{"scan", "--compact", filepath.Join("..", "..", "examples", "insecure") + "/"}, "")
	// The README runs from the repository's root; the test runs two
	// levels down, so its paths start with ../../.
	stdout = strings.ReplaceAll(stdout, filepath.Join("..", "..")+"/", "")
	if code != ExitFindings {
		t.Errorf("exit %d, want %d", code, ExitFindings)
	}
	_, block, _ := strings.Cut(string(readme), "go run ./cmd/kubeguard scan --compact examples/insecure/\n```\n\n```\n")
	block, _, _ = strings.Cut(block, "```")
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		if line != "..." && !strings.Contains(stdout, line+"\n") {
			t.Errorf("the README shows %q, the scan does not print it:\n%s", line, stdout)
		}
	}
	if !strings.Contains(string(readme), "scan examples/hardened/   # 14 objects scanned, no findings; exit 0") {
		t.Fatal("the README no longer shows the hardened twin's scan")
	}
	code, stdout, _ = runCLI([]string{"scan", filepath.Join("..", "..", "examples", "hardened")}, "")
	if code != ExitOK || stdout != "14 objects scanned, no findings\n" {
		t.Errorf("hardened: exit %d, %q", code, stdout)
	}
}

// TestServiceAccountNames: every output writes a ServiceAccount as
// namespace/name, never as a bare quoted name or namespace:name.
func TestServiceAccountNames(t *testing.T) {
	insecure := filepath.Join("..", "..", "examples", "insecure")
	bare := regexp.MustCompile(`ServiceAccount "[^"/]*"|ServiceAccount [a-z0-9-]+:[a-z0-9-]+`)
	for _, args := range [][]string{
		{"scan", insecure},
		{"scan", "-o", "json", insecure},
		{"rbac", "risks", "-f", insecure},
		{"rbac", "who-can", "get", "secrets", "-n", "shop", "-f", insecure},
		{"rbac", "paths", "-f", insecure},
	} {
		_, stdout, stderr := runCLI(args, "")
		if m := bare.FindAllString(stdout+stderr, 3); len(m) > 0 {
			t.Errorf("%q writes %q", args, m)
		}
	}
	_, stdout, _ := runCLI([]string{"scan", insecure}, "")
	if !strings.Contains(stdout, "its ServiceAccount shop/default is not in the input") {
		t.Errorf("the automount finding does not name shop/default:\n%s", stdout)
	}
}

// TestClusterAllNamespaces: cluster takes kubectl's -A, which cannot be
// given with -n.
func TestClusterAllNamespaces(t *testing.T) {
	code, _, stderr := runCLI([]string{"cluster", "-A", "-n", "x"}, "")
	if code != ExitError || !strings.Contains(stderr, "-n and -A exclude each other") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	_, stdout, _ := runCLI([]string{"cluster", "--help"}, "")
	if !strings.Contains(stdout, "-A, --all-namespaces") || !strings.Contains(stdout, "-n, --namespace") {
		t.Errorf("cluster help lacks -A or -n:\n%s", stdout)
	}
}

// TestUnknownCommand: a mistyped command names the closest one.
func TestUnknownCommand(t *testing.T) {
	code, stdout, stderr := runCLI([]string{"sacn", "x"}, "")
	if code != ExitError || stdout != "" || !strings.Contains(stderr, `unknown command "sacn" (did you mean scan?)`) || strings.Count(stderr, "\n") > 2 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestOutputIsTheFormat holds -o, --output and --format to one flag, the
// report's format as kubectl's -o is, and --output-file to the report's
// file.
func TestOutputIsTheFormat(t *testing.T) {
	dir := t.TempDir()
	pod := writeFile(t, dir, "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers: [{name: c, image: nginx:1.27}]\n")
	for _, flag := range []string{"-o", "--output", "--format"} {
		code, stdout, stderr := runCLI([]string{"scan", flag, "json", pod}, "")
		if code == ExitError || !strings.HasPrefix(stdout, "{") {
			t.Errorf("scan %s json: exit %d, stdout %.40q, stderr %q", flag, code, stdout, stderr)
		}
	}
	file := filepath.Join(dir, "report.json")
	if code, stdout, stderr := runCLI([]string{"scan", "--output=json", "--output-file", file, pod}, ""); code == ExitError || stdout != "" {
		t.Fatalf("scan --output-file: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if b, err := os.ReadFile(file); err != nil || !bytes.HasPrefix(b, []byte("{")) {
		t.Errorf("report file: %v, %.40q", err, b)
	}
}
