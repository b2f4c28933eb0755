package pss_test

import (
	"strings"
	"testing"

	"k8s.io/pod-security-admission/api"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
)

func parseAll(t *testing.T, src string) []*object.Object {
	t.Helper()
	var objs []*object.Object
	for _, d := range manifest.Split([]byte(src)) {
		os, errs := manifest.Parse("test.yaml", d)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		objs = append(objs, os...)
	}
	return objs
}

const privilegedPod = `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: %NS%}
spec:
  containers:
  - name: c
    image: nginx:1.27
    securityContext:
      privileged: true
`

const privilegedDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: %NS%}
spec:
  template:
    spec:
      containers:
      - name: c
        image: nginx:1.27
        securityContext:
          privileged: true
`

// TestNamespaceAdmission checks that objects in a namespace with Pod
// Security labels are judged as Pod Security Admission would: Pods are
// rejected at enforce, workload templates only warned about and audited.
func TestNamespaceAdmission(t *testing.T) {
	e, err := pss.NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	ns := `
apiVersion: v1
kind: Namespace
metadata:
  name: prod
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/enforce-version: v1.30
    pod-security.kubernetes.io/warn: restricted
---
apiVersion: v1
kind: Namespace
metadata:
  name: open
  labels:
    pod-security.kubernetes.io/enforce: privileged
`
	tests := []struct {
		name, object, ns string
		want             []string
	}{
		// A rejected Pod gets no warnings: the API server skips them.
		{name: "pod rejected", object: privilegedPod, ns: "prod", want: []string{
			"enforce=baseline:v1.30: the API server would reject this Pod",
		}},
		{name: "deployment accepted but its pods rejected", object: privilegedDeployment, ns: "prod", want: []string{
			"enforce=baseline:v1.30: Pod Security Admission does not check workload templates, so this Deployment is accepted but the API server would reject every Pod it creates",
			"warn=restricted:latest: the API server would return a warning to the client applying this Deployment",
		}},
		{name: "privileged namespace", object: privilegedPod, ns: "open", want: nil},
		{name: "namespace not in input", object: privilegedPod, ns: "elsewhere", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := parseAll(t, ns+"---\n"+strings.ReplaceAll(tt.object, "%NS%", tt.ns))
			var namespaces []*object.Object
			for _, o := range objs {
				if o.Ref.Kind == "Namespace" {
					namespaces = append(namespaces, o)
				}
			}
			ctx := check.NewContext(check.Options{PodSecurity: &api.LevelVersion{Level: api.LevelBaseline, Version: api.LatestVersion()}}, namespaces)
			fs, err := check.NewEngine(pss.Checks(e), ctx).Run(objs[len(objs)-1])
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				if f.CheckID == "pss-privileged" {
					got = f.Admission
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("admission notes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNamespaceStricterThanScan checks that a violation the scan's own
// level would not report still appears when the namespace enforces a
// stricter level.
func TestNamespaceStricterThanScan(t *testing.T) {
	e, err := pss.NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	objs := parseAll(t, `
apiVersion: v1
kind: Namespace
metadata:
  name: prod
  labels: {pod-security.kubernetes.io/enforce: restricted}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: prod}
spec:
  containers: [{name: c, image: nginx:1.27}]
`)
	ctx := check.NewContext(check.Options{PodSecurity: &api.LevelVersion{Level: api.LevelBaseline, Version: api.LatestVersion()}}, objs[:1])
	fs, err := check.NewEngine(pss.Checks(e), ctx).Run(objs[1])
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.CheckID)
		// Warn defaults to the enforce level (audit does not), but a
		// rejected Pod gets no warning: one note.
		if len(f.Admission) != 1 || !strings.Contains(f.Admission[0], "reject this Pod") {
			t.Errorf("%s: admission %q, want a rejection", f.CheckID, f.Admission)
		}
	}
	want := []string{"pss-allowPrivilegeEscalation", "pss-capabilities_restricted", "pss-runAsNonRoot", "pss-seccompProfile_restricted"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("check IDs (-want +got):\n%s", diff)
	}
}

// TestRestrictedKeepsBaselineSeverity checks that a pod breaking baseline
// controls is reported under the baseline checks, at their severity, at
// --level restricted too, where upstream reports only the restricted checks
// that override them.
func TestRestrictedKeepsBaselineSeverity(t *testing.T) {
	e, err := pss.NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	objs := parseAll(t, `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: x}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: Unconfined}
  containers:
  - name: c
    image: nginx:1.27
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        add: ["SYS_ADMIN", "NET_RAW"]
    volumeMounts: [{name: h, mountPath: /h}]
  volumes:
  - name: h
    hostPath: {path: /data}
`)
	for _, level := range []string{"baseline", "restricted"} {
		t.Run(level, func(t *testing.T) {
			lv, err := pss.LevelVersion(level, "latest")
			if err != nil {
				t.Fatal(err)
			}
			ctx := check.NewContext(check.Options{PodSecurity: &lv}, nil)
			fs, err := check.NewEngine(pss.Checks(e), ctx).Run(objs[0])
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, f := range fs {
				got[f.CheckID] = f.Severity.String()
			}
			for _, id := range []string{"pss-capabilities_baseline", "pss-hostPathVolumes", "pss-seccompProfile_baseline"} {
				if got[id] != "high" {
					t.Errorf("%s: severity %q, want high (findings %v)", id, got[id], got)
				}
			}
		})
	}
}

// TestFixText: the fixes are written in the object's own terms: a
// container's Unconfined seccomp profile is fixed in that container (a
// pod-level profile does not override it), runAsNonRoot comes with a user
// (an image that runs as root would not start otherwise), and the
// container is named.
func TestFixText(t *testing.T) {
	e, err := pss.NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	objs := parseAll(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: payments}
spec:
  template:
    spec:
      containers:
      - name: api-server
        image: nginx:1.27
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
          seccompProfile: {type: Unconfined}
`)
	ctx := check.NewContext(check.Options{PodSecurity: &api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}}, nil)
	fs, err := check.NewEngine(pss.Checks(e), ctx).Run(objs[0])
	if err != nil {
		t.Fatal(err)
	}
	fixes := map[string]string{}
	for _, f := range fs {
		fixes[f.CheckID] = f.Remediation
	}
	for id, want := range map[string][]string{
		"pss-seccompProfile_baseline": {"        containers:\n        - name: api-server\n          securityContext:\n            seccompProfile:\n              type: RuntimeDefault"},
		"pss-runAsNonRoot":            {"runAsNonRoot: true", "runAsUser: 10001", "Deployment \"api\""},
	} {
		for _, w := range want {
			if !strings.Contains(fixes[id], w) {
				t.Errorf("%s: fix lacks %q:\n%s", id, w, fixes[id])
			}
		}
	}
}
