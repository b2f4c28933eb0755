package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLintFixtures lints each policy under testdata/policy and compares the
// findings with the "# want: check-id ..." comments on the lines they must
// point at.
func TestLintFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/policy/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i, line := range strings.Split(string(data), "\n") {
				_, ids, ok := strings.Cut(line, "# want:")
				if !ok {
					continue
				}
				for _, id := range strings.Fields(ids) {
					want = append(want, fmt.Sprintf("%d:%s", i+1, id))
				}
			}
			p, err := LoadPolicy(file, data)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range p.Lint() {
				if f.Location.File != file {
					t.Errorf("finding in %q, want %q", f.Location.File, file)
				}
				got = append(got, fmt.Sprintf("%d:%s", f.Location.Line, f.CheckID))
			}
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				for _, f := range p.Lint() {
					t.Logf("%d %s: %s %s", f.Location.Line, f.CheckID, f.Reason, f.Detail)
				}
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLintJSONPolicy(t *testing.T) {
	data := []byte(`{
  "apiVersion": "audit.k8s.io/v1",
  "kind": "Policy",
  "omitStages": ["RequestReceived"],
  "rules": [
    {"level": "Request", "verbs": ["create"], "resources": [{"group": "authentication.k8s.io", "resources": ["tokenreviews"]}]},
    {"level": "Metadata"}
  ]
}`)
	p, err := LoadPolicy("p.json", data)
	if err != nil {
		t.Fatal(err)
	}
	fs := p.Lint()
	if len(fs) != 1 || fs[0].CheckID != PolicySensitiveBody.ID || fs[0].Location.Line != 6 {
		t.Fatalf("want one %s on line 6, got %+v", PolicySensitiveBody.ID, fs)
	}
}

func TestLoadPolicyRefused(t *testing.T) {
	for _, tc := range []struct {
		name, policy, want string
	}{
		{"bad level", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Everything\n", "p.yaml:4:"},
		{"no rules", "apiVersion: audit.k8s.io/v1\nkind: Policy\n", "no rules"},
		{"wrong version", "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n- level: Metadata\n", "p.yaml:1:"},
		{"bad stage", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  omitStages: [Whenever]\n", "p.yaml:5:"},
		{"resource and url", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  nonResourceURLs: [/x]\n  resources: [{group: \"\"}]\n", "p.yaml:"},
		{"not yaml", "{", "p.yaml"},
		// Said in the policy's terms: the outside review's p6.yaml.
		{"v1beta1", "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n- level: Metadata\n", "p.yaml:1: apiVersion audit.k8s.io/v1beta1 is no longer read: the API server reads only audit.k8s.io/v1"},
		{"v1alpha1", "kind: Policy\napiVersion: audit.k8s.io/v1alpha1\nrules:\n- level: Metadata\n", "p.yaml:2: apiVersion audit.k8s.io/v1alpha1 is no longer read"},
		{"other kind", "apiVersion: v1\nkind: Pod\n", `p.yaml:2: kind "Pod" is not an audit policy`},
		{"no apiVersion", "kind: Policy\nrules:\n- level: None\n", "p.yaml:1: no apiVersion"},
		{"no kind", "apiVersion: audit.k8s.io/v1\nrules:\n- level: None\n", "p.yaml:1: no kind"},
		{"empty", "", "p.yaml:1: not an audit policy"},
		{"list", "- level: None\n", "p.yaml:1: not an audit policy"},
		{"rules not a list", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: x\n", "p.yaml:3: rules is a string where a list of mappings is wanted"},
		{"users not a list", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n- level: None\n  users: alice\n", "p.yaml:6: rules[1].users is a string where a list of strings is wanted"},
		{"level not a string", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: [None]\n", "p.yaml:4: rules[0].level is a list where a string is wanted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadPolicy("p.yaml", []byte(tc.policy))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			// No Go internals: the decoder's scheme, struct or type names.
			for _, internal := range []string{"scheme", "Go struct", ".go:", "__internal", "v1.Policy"} {
				if strings.Contains(err.Error(), internal) {
					t.Errorf("error %q shows %q", err, internal)
				}
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	data, err := os.ReadFile("testdata/policy/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadPolicy("good.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req  Request
		want Decision
	}{
		{Request{User: "system:kube-proxy", Verb: "watch", Resource: "endpoints"}, Decision{Level: "None", Stages: []string{}, Rule: 1, Line: 6}},
		{Request{User: "system:kube-proxy", Verb: "list", Resource: "endpoints"}, Decision{Level: "Metadata", Stages: []string{"ResponseComplete"}, Rule: 7, Line: 32}},
		{Request{User: "alice", Verb: "get", Resource: "secrets", Namespace: "a", Name: "s"}, Decision{Level: "Metadata", Stages: []string{"ResponseComplete"}, Rule: 3, Line: 14}},
		{Request{User: "alice", Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "a", Name: "p"}, Decision{Level: "Request", Stages: []string{"ResponseStarted", "ResponseComplete"}, Rule: 5, Line: 24}},
		{Request{User: "alice", Verb: "watch", APIGroup: "apps", Resource: "deployments", Namespace: "a"}, Decision{Level: "RequestResponse", Stages: []string{"ResponseStarted", "ResponseComplete"}, Rule: 6, Line: 28}},
		{Request{User: "alice", Verb: "get", Path: "/healthz/etcd"}, Decision{Level: "None", Stages: []string{}, Rule: 2, Line: 12}},
	} {
		t.Run(tc.req.String(), func(t *testing.T) {
			if diff := cmp.Diff(tc.want, p.Evaluate(&tc.req)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateDefault(t *testing.T) {
	p, err := LoadPolicy("p.yaml", []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  users: [bob]\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := p.Evaluate(&Request{User: "alice", Verb: "get", Resource: "pods"})
	if d.Level != LevelNone || d.Rule != 0 {
		t.Fatalf("got %+v, want the default None", d)
	}
	d = p.Evaluate(&Request{User: "bob", Verb: "get", Resource: "pods"})
	if d.Level != LevelMetadata || d.Rule != 1 || !slices.Equal(d.Stages, []string{StageRequestReceived, StageResponseComplete}) {
		t.Fatalf("got %+v, want rule 1 at Metadata with RequestReceived", d)
	}
}

// TestLintBounded holds the lint to a bound on a policy that names many
// values in every dimension: it reports that the policy is too large
// instead of evaluating without end.
func TestLintBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n")
	for i := range 200 {
		fmt.Fprintf(&b, "- level: Metadata\n  users: [u%d]\n  userGroups: [g%d]\n  namespaces: [n%d]\n  verbs: [v%d]\n  resources: [{group: g%d, resources: [r%d], resourceNames: [x%d]}]\n", i, i, i, i, i, i, i)
	}
	p, err := LoadPolicy("big.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	fs := p.Lint()
	if len(fs) == 0 || !strings.Contains(fs[len(fs)-1].Reason, "too many") {
		t.Fatalf("want a too-large finding, got %d findings", len(fs))
	}
}

// TestLintBoundedPairs gives one rule many users and many groups, whose
// pairs the probe space would hold: it stops building them and reports.
func TestLintBoundedPairs(t *testing.T) {
	var users, groups []string
	for i := range 2000 {
		users = append(users, fmt.Sprintf("u%d", i))
		groups = append(groups, fmt.Sprintf("g%d", i))
	}
	policy := fmt.Sprintf("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  users: [%s]\n  userGroups: [%s]\n", strings.Join(users, ","), strings.Join(groups, ","))
	p, err := LoadPolicy("pairs.yaml", []byte(policy))
	if err != nil {
		t.Fatal(err)
	}
	fs := p.Lint()
	if len(fs) == 0 || !strings.Contains(fs[len(fs)-1].Reason, "too many") {
		t.Fatalf("want a too-large finding, got %+v", fs)
	}
}

// TestLintWrongGroupFix: the fix names the group of the resource found,
// not the check's example (the outside review's pol2.yaml names pods under
// apps).
func TestLintWrongGroupFix(t *testing.T) {
	p, err := LoadPolicy("p.yaml", []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: None\n  resources:\n  - group: apps\n    resources: [pods]\n  - group: \"\"\n    resources: [deployments, jobs]\n- level: Metadata\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pods":        `Name pods under the group that serves it: group "" (the core group).`,
		"deployments": `Name deployments under the group that serves it: group "apps".`,
		"jobs":        `Name jobs under the group that serves it: group "batch".`,
	}
	for _, f := range p.Lint() {
		if f.CheckID != PolicyWrongGroup.ID {
			continue
		}
		for res, fix := range want {
			if strings.Contains(f.Reason, "names "+res+" ") {
				if f.Remediation != fix {
					t.Errorf("%s: fix %q, want %q", res, f.Remediation, fix)
				}
				delete(want, res)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("no wrong-group finding for %v", want)
	}
}

func FuzzLoadPolicy(f *testing.F) {
	for _, name := range []string{"good.yaml", "bad.yaml", "lenient.yaml"} {
		data, err := os.ReadFile("testdata/policy/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  nonResourceURLs: ['*']\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := LoadPolicy("f.yaml", data)
		if err != nil {
			return
		}
		for _, f := range p.Lint() {
			if f.Location.Line < 1 || f.CheckID == "" {
				t.Fatalf("finding without line or check: %+v", f)
			}
		}
		r := Request{User: "u", Verb: "get", Resource: "pods", Namespace: "n"}
		if d := p.Evaluate(&r); d.Rule < 0 || d.Rule > len(p.Rules) {
			t.Fatalf("rule %d of %d", d.Rule, len(p.Rules))
		}
	})
}

// FuzzPolicyErrors holds LoadPolicy's refusals (without the lint, which is
// slow) to their form: a file:line a user can go to, in the policy's terms.
func FuzzPolicyErrors(f *testing.F) {
	for _, name := range []string{"good.yaml", "bad.yaml", "lenient.yaml", "unknown-field.yaml"} {
		data, err := os.ReadFile("testdata/policy/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n- level: Metadata\n"))
	f.Add([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  users: alice\n"))
	f.Add([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  resources:\n  - group: \"\"\n    resourcez: [pods]\n  omitStages: [RequestReceived]\n  omitStages: [RequestReceived]\n"))
	f.Add([]byte(`{"apiVersion":"audit.k8s.io/v1","kind":"Policy","rules":[{"level":"None","verbs":"get"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := LoadPolicy("f.yaml", data)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "f.yaml") {
				t.Fatalf("error without the file: %q", msg)
			}
			if strings.Contains(msg, "Go struct") || strings.Contains(msg, "scheme.go") || strings.Contains(msg, "__internal") {
				t.Fatalf("Go internals in %q", msg)
			}
			return
		}
		for _, fp := range p.Lenient {
			if fp.Line < 1 {
				t.Fatalf("unknown field without a line: %+v", fp)
			}
		}
	})
}
