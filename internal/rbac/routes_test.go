package rbac

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// routes lists the route test set of testdata/routes, one subject per
// route, each file with what issue it covers: a file not listed, or listed
// and missing, fails the test.
var routes = map[string]string{
	// Routes that must be found, in paths and as a finding of risks.
	"ephemeral-containers":               "update/patch pods/ephemeralcontainers",
	"attach":                             "pods/attach with get",
	"update-pods":                        "update/patch pods: swap a running pod's image",
	"exec":                               "pods/exec reported by risks",
	"exec-named-pod":                     "exec limited to a Pod's name reaches it",
	"mint-token-secret":                  "create + get secrets: mint a token Secret",
	"bind-combined":                      "bind and create rolebindings from two bindings",
	"mutating-webhook":                   "mutating webhook write as a path step",
	"mutating-webhook-update":            "mutating webhook update, no create, as a path step",
	"node-privileged-namespace":          "node escape where Pod Security allows it; DaemonSet placement",
	"node-relabel-namespace":             "node escape after relabelling the namespace",
	"node-hostpath-volume":               "node escape through a hostPath PersistentVolume; nodeName placement",
	"group-authenticated":                "system:authenticated as a start",
	"group-serviceaccounts-token-secret": "system:serviceaccounts:<ns> as a start; token Secret read is critical",
	"csr-patch-approval":                 "patch on certificatesigningrequests/approval, signer by name",
	"escalate-own-role":                  "escalate + update on the named Role bound to it",
	"impersonate-groups-with-user":       "group impersonation with a user to impersonate",
	"update-rolebinding":                 "bind with update on a RoleBinding whose role runs pods",
	// Routes that must not be invented.
	"exec-named-deployment":      "exec named after a Deployment reaches none of its pods",
	"mint-without-read":          "create secrets alone mints nothing usable",
	"bind-named":                 "bind limited to a role that runs no pods",
	"escalate-named":             "escalate limited to a Role not bound to the subject",
	"node-restricted-namespace":  "no escape where Restricted is enforced",
	"csr-other-signer":           "approve on another signer issues no client certificate",
	"impersonate-groups-only":    "groups without a user: no route, not critical",
	"create-named":               "create limited by names allows no create",
	"update-rolebinding-no-pods": "update on a RoleBinding whose role runs no pods",
	// Severities.
	"anonymous-public-info":        "anonymous binding to public info is informational",
	"token-workload-cluster-admin": "privileged-token-workload critical for cluster-admin",
	"token-workload-two-steps":     "privileged-token-workload high for a two-step chain",
}

// routeSpec is what a route file's header comments expect.
type routeSpec struct {
	start          string
	want           string // "path" or "none"
	steps          []string
	risks, norisks [][]string // check ID, then optional severity and object
}

func readRouteSpec(t *testing.T, data string) routeSpec {
	t.Helper()
	var s routeSpec
	for line := range strings.Lines(data) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "# ")
		if !ok {
			continue
		}
		key, val, ok := strings.Cut(rest, ": ")
		if !ok {
			continue
		}
		switch key {
		case "start":
			s.start = val
		case "want":
			s.want = val
		case "step":
			s.steps = append(s.steps, val)
		case "risk":
			s.risks = append(s.risks, strings.Fields(val))
		case "norisk":
			s.norisks = append(s.norisks, strings.Fields(val))
		}
	}
	if s.start == "" || s.want != "path" && s.want != "none" {
		t.Fatalf("header needs # start: SUBJECT and # want: path|none")
	}
	return s
}

// matches reports whether a finding is of the check, and of the severity
// and object when given.
func matches(f finding.Finding, want []string) bool {
	if f.CheckID != want[0] {
		return false
	}
	if len(want) > 1 && f.Severity.String() != want[1] {
		return false
	}
	if len(want) > 2 {
		o := f.Object
		ref := o.Kind + "/" + o.Namespace + "/" + o.Name
		if o.Namespace == "" {
			ref = o.Kind + "/" + o.Name
		}
		return ref == want[2]
	}
	return true
}

// TestRoutes runs paths and risks over each file of the route test set:
// the start has a chain (with the steps named) or none, and risks reports
// (or does not report) the findings named.
func TestRoutes(t *testing.T) {
	files, err := filepath.Glob("testdata/routes/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	for name := range routes {
		if !slices.Contains(names, name) {
			t.Errorf("route %s (%s): no file testdata/routes/%s.yaml", name, routes[name], name)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if _, ok := routes[name]; !ok {
				t.Fatalf("testdata/routes/%s.yaml is not listed in routes", name)
			}
			data, err := os.ReadFile(filepath.Join("testdata/routes", name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			spec := readRouteSpec(t, string(data))
			p := build(t, string(data))
			for _, e := range append(p.Problems, p.Warnings...) {
				t.Errorf("input problem: %s", e.Error())
			}
			var chain *Chain
			for _, c := range Paths(p) {
				if c.Subject.String() == spec.start {
					chain = &c
				}
			}
			switch {
			case spec.want == "none" && chain != nil:
				var steps []string
				for _, s := range chain.Steps {
					steps = append(steps, s.Action)
				}
				t.Errorf("%s: invented chain:\n  %s", spec.start, strings.Join(steps, "\n  "))
			case spec.want == "path" && chain == nil:
				t.Errorf("%s: no chain found", spec.start)
			case chain != nil:
				for _, want := range spec.steps {
					if !slices.ContainsFunc(chain.Steps, func(s Step) bool { return strings.Contains(s.Action, want) }) {
						var steps []string
						for _, s := range chain.Steps {
							steps = append(steps, s.Action)
						}
						t.Errorf("%s: no step %q in chain:\n  %s", spec.start, want, strings.Join(steps, "\n  "))
					}
				}
			}
			findings := Risks(p)
			for _, want := range spec.risks {
				if !slices.ContainsFunc(findings, func(f finding.Finding) bool { return matches(f, want) }) {
					t.Errorf("no finding %v among:\n%s", want, describe(findings))
				}
			}
			for _, not := range spec.norisks {
				if slices.ContainsFunc(findings, func(f finding.Finding) bool { return matches(f, not) }) {
					t.Errorf("unexpected finding %v among:\n%s", not, describe(findings))
				}
			}
		})
	}
}

func describe(fs []finding.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.CheckID + " " + f.Severity.String() + " " + f.Object.Kind + "/" + f.Object.Name + ": " + f.Reason + "\n")
	}
	return b.String()
}

// TestBuiltinRolesNamed: a binding to a built-in Role is named as built
// in, as one to a built-in ClusterRole is: without the built-in data, as
// an informational missing role; with it, by the role, not by a place in
// kubeguard's copy of the data.
func TestBuiltinRolesNamed(t *testing.T) {
	const yaml = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: auth-reader, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects: [{kind: ServiceAccount, name: metrics, namespace: monitoring}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: own, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: not-built-in}
subjects: [{kind: ServiceAccount, name: metrics, namespace: monitoring}]
`
	sev := map[string]finding.Severity{}
	for _, f := range Risks(build(t, yaml)) {
		if f.CheckID == "rbac-binding-missing-role" {
			sev[f.Object.Name] = f.Severity
			if f.Object.Name == "auth-reader" && !strings.Contains(f.Reason, "refers to the built-in Role/kube-system/extension-apiserver-authentication-reader") {
				t.Errorf("auth-reader: %s", f.Reason)
			}
		}
	}
	if sev["auth-reader"] != finding.Info || sev["own"] != finding.Medium {
		t.Errorf("missing-role severities %v, want info for the built-in Role, medium for the other", sev)
	}
	defs, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	var b Builder
	b.AddDefaults(defs)
	for _, o := range parse(t, yaml+`---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: kube-system}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: secrets, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects: [{kind: User, name: eve}]
`) {
		b.Add(o)
	}
	an := newAnalysis(b.Build(), nil)
	var g *Grant
	for _, x := range an.p.Bindings {
		if x.Name == "secrets" {
			g = &Grant{Binding: x, Role: x.Role(), Rule: 0}
		}
	}
	if g == nil || g.Role == nil {
		t.Fatal("the binding to the built-in Role does not resolve")
	}
	d := an.grantDetail(*g)
	if !strings.Contains(d, "(Role/kube-system/extension-apiserver-authentication-reader is built into the API server)") || strings.Contains(d, "defaults.yaml") {
		t.Errorf("grant detail %q does not name the built-in Role", d)
	}
}
