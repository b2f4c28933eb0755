package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestAuditPolicy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"bad policy fails the gate", []string{"audit", "policy", "../audit/testdata/policy/bad.yaml"}, ExitFindings,
			[]string{"audit-policy-sensitive-body", "bad.yaml:13", "audit-policy-wrong-group", "bad.yaml:19"}},
		{"good policy passes", []string{"audit", "policy", "../audit/testdata/policy/good.yaml"}, ExitOK, []string{"1 object scanned"}},
		{"sarif", []string{"audit", "policy", "-o", "sarif", "../audit/testdata/policy/bad.yaml"}, ExitFindings, []string{`"ruleId": "audit-policy-none-broad"`}},
		{"explain", []string{"audit", "policy", "../audit/testdata/policy/good.yaml", "--explain", "get", "secrets", "--namespace", "a"}, ExitOK,
			[]string{"level:   Metadata", "stages:  ResponseComplete", "good.yaml:14"}},
		{"explain default", []string{"audit", "policy", "-", "--explain", "get", "pods"}, ExitOK, []string{"level:   None", "default level None"}},
		{"missing file", []string{"audit", "policy", "nope.yaml"}, ExitError, nil},
		{"explain without request", []string{"audit", "policy", "x.yaml", "--explain"}, ExitError, nil},
		{"unknown subcommand", []string{"audit", "frob"}, ExitError, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdin := "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  users: [bob]\n"
			code, stdout, stderr := runCLI(tc.args, stdin)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.contains {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
		})
	}
}

func TestAuditPolicyRefused(t *testing.T) {
	code, _, stderr := runCLI([]string{"audit", "policy", "-"}, "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n")
	if code != ExitError || !strings.Contains(stderr, "<stdin>:4:") {
		t.Fatalf("exit %d, stderr %q: want 2 and <stdin>:4", code, stderr)
	}
}

func TestAuditPolicyExplainJSON(t *testing.T) {
	code, stdout, stderr := runCLI([]string{"audit", "policy", "../audit/testdata/policy/good.yaml", "--explain", "-o", "json", "watch", "deployments", "--namespace", "a"}, "")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var d struct {
		Level  string
		Stages []string
		Rule   int
	}
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatal(err)
	}
	// good.yaml's sixth rule (line 28), as the text and the findings
	// number it.
	if d.Level != "RequestResponse" || d.Rule != 6 || strings.Join(d.Stages, ",") != "ResponseStarted,ResponseComplete" {
		t.Fatalf("got %+v", d)
	}
	_, text, _ := runCLI([]string{"audit", "policy", "../audit/testdata/policy/good.yaml", "--explain", "watch", "deployments", "--namespace", "a"}, "")
	if want := fmt.Sprintf("rule:    %d (", d.Rule); !strings.Contains(text, want) {
		t.Errorf("text and JSON number the rule differently: JSON %d, text:\n%s", d.Rule, text)
	}
	code, stdout, _ = runCLI([]string{"audit", "policy", "-", "--explain", "-o", "json", "get", "pods"}, "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  users: [bob]\n")
	if code != ExitOK || !strings.Contains(stdout, `"rule": 0`) {
		t.Errorf("no rule matching: want rule 0, got %s", stdout)
	}
}

func auditLine(id, user, verb, resource, sub, ns, name string, code int) string {
	b, _ := json.Marshal(map[string]any{
		"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": id, "stage": "ResponseComplete",
		"verb": verb, "requestURI": "/x", "user": map[string]any{"username": user}, "sourceIPs": []string{"192.0.2.1"},
		"objectRef":                map[string]any{"resource": resource, "subresource": sub, "namespace": ns, "name": name},
		"responseStatus":           map[string]any{"code": code},
		"requestReceivedTimestamp": "2026-12-06T10:00:00.000000Z", "stageTimestamp": "2026-12-06T10:00:00.100000Z",
	})
	return string(b) + "\n"
}

func TestAuditLog(t *testing.T) {
	exec := auditLine("id-1", "alice", "create", "pods", "exec", "prod", "web", 101)
	routine := auditLine("id-2", "bob", "get", "pods", "", "prod", "web", 200)
	for _, tc := range []struct {
		name     string
		args     []string
		stdin    string
		code     int
		contains []string
		stderr   string
	}{
		{"exec found", []string{"audit", "log", "-"}, routine + exec, ExitFindings, []string{"audit-log-exec", "alice", "id-1", "192.0.2.1", "<stdin>:2"}, ""},
		{"routine passes", []string{"audit", "log", "-"}, routine, ExitOK, []string{"no findings"}, ""},
		{"malformed line", []string{"audit", "log", "-o", "json", "-"}, "{oops\n" + exec, ExitError, []string{`"checkID": "audit-log-exec"`, `"line": 1`}, "<stdin>:1: not an audit event"},
		{"until excludes", []string{"audit", "log", "--until", "2026-12-06T09:00:00Z", "-"}, routine + exec, ExitError, nil, "no audit event between"},
		{"since includes", []string{"audit", "log", "--since", "2026-12-06T09:00:00Z", "-"}, exec, ExitFindings, nil, ""},
		{"bad since", []string{"audit", "log", "--since", "yesterday", "-"}, exec, ExitError, nil, "invalid --since"},
		{"since after until", []string{"audit", "log", "--since", "2026-12-06T11:00:00Z", "--until", "2026-12-06T09:00:00Z", "-"}, exec, ExitError, nil, "--since 2026-12-06T11:00:00Z is not before --until 2026-12-06T09:00:00Z"},
		{"since equals until", []string{"audit", "log", "--since", "1h", "--until", "1h", "-"}, exec, ExitError, nil, "is not before --until"},
		{"rbac since after until", []string{"audit", "rbac", "--user", "alice", "--since", "1h", "--until", "2h", "-"}, exec, ExitError, nil, "is not before --until"},
		{"no files", []string{"audit", "log"}, "", ExitError, nil, "no log files"},
		// No input is not a pass, as for kubeguard scan (the outside
		// review's empty.yaml exited 0 with "1 object scanned").
		{"empty", []string{"audit", "log", "-"}, "", ExitError, nil, `no audit event in standard input (--allow-empty accepts that)`},
		{"blank lines", []string{"audit", "log", "-"}, "\n\n  \n", ExitError, nil, "no audit event in standard input"},
		{"empty allowed", []string{"audit", "log", "--allow-empty", "-"}, "", ExitOK, []string{"no findings"}, ""},
		{"not an audit log", []string{"audit", "log", "-"}, "apiVersion: v1\nkind: Pod\n", ExitError, nil, "<stdin> holds no audit event: is it an API server audit log"},
		{"not events", []string{"audit", "log", "--allow-empty", "-"}, `{"kind":"Pod","apiVersion":"v1"}` + "\n", ExitError, nil, "<stdin>:1: not an audit event: no auditID or stage"},
		{"nothing in the window", []string{"audit", "log", "--since", "2026-12-06T11:00:00Z", "-"}, exec, ExitError, nil, "no audit event between --since and --until (1 outside)"},
		{"nothing in the window allowed", []string{"audit", "log", "--allow-empty", "--since", "2026-12-06T11:00:00Z", "-"}, exec, ExitOK, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args, tc.stdin)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.contains {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q: %s", tc.stderr, stderr)
			}
		})
	}
}

func TestAuditRBAC(t *testing.T) {
	log := auditLine("1", "system:serviceaccount:ci:deployer", "get", "pods", "", "a", "p1", 200) +
		auditLine("2", "system:serviceaccount:ci:deployer", "list", "pods", "", "a", "", 200) +
		auditLine("3", "system:serviceaccount:ci:deployer", "create", "pods", "exec", "a", "p1", 101) +
		auditLine("4", "alice", "delete", "nodes", "", "", "n1", 200)
	dir := t.TempDir()
	logFile := dir + "/audit.log"
	existing := dir + "/rbac.yaml"
	if err := os.WriteFile(logFile, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(existing, []byte(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: lister, namespace: a}
rules: [{apiGroups: [""], resources: [pods], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: lister, namespace: a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: lister}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI([]string{"audit", "rbac", "--serviceaccount", "ci/deployer", logFile}, "")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{"kind: Role\n", "namespace: a", "- pods/exec", "resourceNames:\n  - p1", "- list", "kind: ServiceAccount", "name: deployer"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("output lacks %q:\n%s", s, stdout)
		}
	}
	if strings.Contains(stdout, "nodes") {
		t.Errorf("another user's request in the roles:\n%s", stdout)
	}
	code, stdout, stderr = runCLI([]string{"audit", "rbac", "--serviceaccount", "ci/deployer", "-f", existing, logFile}, "")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stdout, "- list") || !strings.Contains(stdout, "- get") || !strings.Contains(stdout, "pods/exec") {
		t.Errorf("with -f, want only get and exec:\n%s", stdout)
	}
	if code, _, _ := runCLI([]string{"audit", "rbac", logFile}, ""); code != ExitError {
		t.Errorf("no identity: exit %d", code)
	}
}

// TestAuditRBACUnknownUser: a user the log does not hold is an error
// naming the closest one seen, not "nothing to allow" and exit 0 (the
// outside review's audit rbac --user nobody).
func TestAuditRBACUnknownUser(t *testing.T) {
	log := auditLine("1", "dev", "get", "pods", "", "a", "p1", 200) +
		auditLine("2", "system:serviceaccount:ci:deployer", "list", "pods", "", "a", "", 200) +
		auditLine("3", "denied-only", "list", "secrets", "", "a", "", 403)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"absent user", []string{"--user", "nobody"}, ExitError, `no request of "nobody" in the logs; the closest user seen is "dev"`},
		{"typo", []string{"--user", "deb"}, ExitError, `the closest user seen is "dev"`},
		{"absent service account", []string{"--serviceaccount", "ci/deploy"}, ExitError, `the closest user seen is "system:serviceaccount:ci:deployer"`},
		{"absent in the window", []string{"--user", "dev", "--until", "2026-12-06T09:00:00Z"}, ExitError, "between --since and --until"},
		{"present", []string{"--user", "dev"}, ExitOK, ""},
		// In the log, but nothing allowed: nothing to grant is the answer.
		{"only refused", []string{"--user", "denied-only"}, ExitOK, "no requests of denied-only to allow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(append(append([]string{"audit", "rbac"}, tc.args...), "-"), log)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

// TestAuditConfig: audit policy and audit log apply .kubeguard.yaml (found
// above their inputs as scan finds it, or --config) and --baseline through
// the run layer, as every command does (docs/configuration.md).
func TestAuditConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(dir+"/.git", 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) string {
		t.Helper()
		if err := os.WriteFile(dir+"/"+name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir + "/" + name
	}
	policy := write("policy.yaml", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n")
	var harvest string
	for i := range 12 {
		harvest += auditLine(fmt.Sprintf("h%d", i), "eve", "get", "secrets", "", "prod", fmt.Sprintf("s%d", i), 200)
	}
	logFile := write("audit.log", auditLine("e1", "alice", "create", "pods", "exec", "prod", "web", 101)+harvest)

	// Without a configuration: the policy's bodies and exec fail the gate.
	code, stdout, _ := runCLI([]string{"audit", "policy", "-o", "json", policy}, "")
	if code != ExitFindings || !strings.Contains(stdout, "audit-policy-sensitive-body") || !strings.Contains(stdout, "audit-policy-request-received") {
		t.Fatalf("no configuration: exit %d\n%s", code, stdout)
	}
	write(".kubeguard.yaml", `checks:
  disable: [audit-policy-request-received, audit-log-exec]
  severity:
    audit-policy-sensitive-body: low
exemptions:
- checks: [audit-log-secret-harvest]
  kind: User
  name: eve
  reason: the quarterly restore test reads every Secret
`)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains []string
		lacks    []string
	}{
		{"policy finds the configuration", []string{"audit", "policy", "-o", "json", policy}, ExitOK,
			[]string{`"config": "` + dir + `/.kubeguard.yaml"`, `"checkID": "audit-policy-sensitive-body",` + "\n      \"title\": \"Audit policy records Secret-bearing bodies\",\n      \"severity\": \"low\""},
			[]string{`"checkID": "audit-policy-request-received"`}},
		{"log finds the configuration", []string{"audit", "log", "-o", "json", logFile}, ExitOK,
			[]string{`"config": "` + dir + `/.kubeguard.yaml"`, `"kind": "exemption"`, "the quarterly restore test"},
			[]string{`"checkID": "audit-log-exec"`}},
		{"explicit --config", []string{"audit", "log", "--config", dir + "/.kubeguard.yaml", "-"}, ExitOK, []string{"1 suppressed"}, []string{"audit-log-exec"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdin := ""
			if slices.Contains(tc.args, "-") {
				stdin = auditLine("e1", "alice", "create", "pods", "exec", "prod", "web", 101) + harvest
			}
			code, stdout, stderr := runCLI(tc.args, stdin)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.contains {
				if !strings.Contains(stdout, s) {
					t.Errorf("output lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.lacks {
				if strings.Contains(stdout, s) {
					t.Errorf("output holds %q:\n%s", s, stdout)
				}
			}
		})
	}

	// A configuration the loader refuses stops the command, as scan's does.
	bad := write("bad.yaml", "checks:\n  disable: [audit-log-nonsense]\n")
	if code, _, stderr := runCLI([]string{"audit", "log", "--config", bad, logFile}, ""); code != ExitError || !strings.Contains(stderr, "audit-log-nonsense") {
		t.Errorf("unknown check in --config: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI([]string{"audit", "policy", "--config", bad, policy}, ""); code != ExitError || !strings.Contains(stderr, "audit-log-nonsense") {
		t.Errorf("unknown check in --config: exit %d, %s", code, stderr)
	}

	// A baseline accepts what it holds, and only that.
	if err := os.Remove(dir + "/.kubeguard.yaml"); err != nil {
		t.Fatal(err)
	}
	_, base, _ := runCLI([]string{"audit", "log", "-o", "json", logFile}, "")
	baseline := write("baseline.json", base)
	if code, stdout, _ := runCLI([]string{"audit", "log", "--baseline", baseline, logFile}, ""); code != ExitOK || !strings.Contains(stdout, "2 suppressed (2 baseline)") {
		t.Errorf("with its own baseline: exit %d\n%s", code, stdout)
	}
	more := write("more.log", auditLine("e1", "alice", "create", "pods", "exec", "prod", "web", 101)+harvest+auditLine("e2", "bob", "create", "pods", "attach", "prod", "web", 101))
	if code, stdout, _ := runCLI([]string{"audit", "log", "--baseline", baseline, more}, ""); code != ExitFindings || !strings.Contains(stdout, "bob used pods/attach") {
		t.Errorf("a new finding past the baseline: exit %d\n%s", code, stdout)
	}
	_, pbase, _ := runCLI([]string{"audit", "policy", "-o", "json", policy}, "")
	if code, _, _ := runCLI([]string{"audit", "policy", "--baseline", write("pbase.json", pbase), policy}, ""); code != ExitOK {
		t.Errorf("policy with its own baseline: exit %d", code)
	}
}
