package cli

import (
	"encoding/json"
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
	if d.Level != "RequestResponse" || d.Rule != 5 || strings.Join(d.Stages, ",") != "ResponseStarted,ResponseComplete" {
		t.Fatalf("got %+v", d)
	}
}
