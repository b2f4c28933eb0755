package run

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	corev1 "k8s.io/api/core/v1"
)

func TestReadiness(t *testing.T) {
	e, err := pss.NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	restricted := func() *object.PodTemplate {
		return &object.PodTemplate{Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: &no, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
		}}
	}
	// Without a seccomp profile (required from v1.19) nor dropped
	// capabilities (from v1.22): restricted up to v1.18.
	old := restricted()
	old.Spec.SecurityContext.SeccompProfile = nil
	old.Spec.Containers[0].SecurityContext.Capabilities = nil
	privileged := restricted()
	privileged.Spec.Containers[0].SecurityContext.Privileged = &yes
	dep := finding.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "a", Name: "d"}
	pod := func(ns, name string) finding.ObjectRef {
		return finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: name}
	}

	r := NewReadiness(e)
	r.Namespace("empty", map[string]string{"pod-security.kubernetes.io/enforce": "baseline"})
	r.Pod("a", dep, restricted())
	r.Pod("a", dep, restricted())
	r.Pod("b", pod("b", "x"), old)
	r.Pod("b", pod("b", "y"), restricted())
	r.Pod("c", pod("c", "p"), privileged)
	r.Pod("c", pod("c", "q"), old)
	got := r.Result()
	want := []NamespaceReadiness{
		{Namespace: "a", Pods: 2, Level: "restricted", Version: "latest", Restricted: []Violation{}, Baseline: []Violation{}},
		{Namespace: "b", Pods: 2, Level: "restricted", Version: "v1.18", Baseline: []Violation{},
			Restricted: []Violation{{Owner: pod("b", "x"), Pods: 1, Checks: []string{"capabilities_restricted", "seccompProfile_restricted"}}}},
		{Namespace: "c", Pods: 2, Level: "privileged", Version: "latest",
			Baseline: []Violation{{Owner: pod("c", "p"), Pods: 1, Checks: []string{"privileged"}}},
			Restricted: []Violation{
				{Owner: pod("c", "p"), Pods: 1, Checks: []string{"privileged"}},
				{Owner: pod("c", "q"), Pods: 1, Checks: []string{"capabilities_restricted", "seccompProfile_restricted"}},
			}},
		{Namespace: "empty", Level: "restricted", Version: "latest", Enforce: "baseline", Restricted: []Violation{}, Baseline: []Violation{}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
