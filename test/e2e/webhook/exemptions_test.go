package webhook

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// TestExemptions goes through the API server: the Pod Security exemptions
// of --pod-security-config (user, namespace), and a kubeguard exemption of
// one container that appears, and disappears, when the configuration file
// changes.
func TestExemptions(t *testing.T) {
	h := webhookUnderTest(t)
	ctx := context.Background()
	restricted := map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}
	ns := srv.Namespace(t, "exemptions", restricted)
	if _, err := createNamespace(ctx, srv.Client, exemptNamespace, restricted); err != nil {
		t.Fatal(err)
	}
	exempt, err := srv.ClientAs(exemptUser, "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	privileged := func(container string) *corev1.Pod {
		p := pod("p", restrictedSC())
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "proxy", Image: "mesh.example.com/proxy:1", SecurityContext: restrictedSC()})
		for i := range p.Spec.Containers {
			if p.Spec.Containers[i].Name == container {
				// Validation refuses privileged with allowPrivilegeEscalation
				// false, so privileged costs both checks.
				p.Spec.Containers[i].SecurityContext.Privileged = ptr.To(true)
				p.Spec.Containers[i].SecurityContext.AllowPrivilegeEscalation = nil
			}
		}
		return p
	}
	create := func(c kubernetes.Interface, ns string, p *corev1.Pod) error {
		_, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}
	setConfig := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(h.dir, "kubeguard.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// waitFor retries until the webhook's answer changes with the file.
	waitFor := func(allowed bool, p *corev1.Pod) error {
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := create(srv.Client, ns.Name, p)
			if (err == nil) == allowed || time.Now().After(deadline) {
				return err
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	defer setConfig("exemptions: []\n")

	tests := []struct {
		name    string
		run     func() error
		allowed bool
	}{
		{"not exempt", func() error { return create(srv.Client, ns.Name, privileged("proxy")) }, false},
		{"exempt user", func() error { return create(exempt, ns.Name, privileged("proxy")) }, true},
		{"exempt namespace", func() error { return create(srv.Client, exemptNamespace, privileged("proxy")) }, true},
		{"kubeguard exemption of the proxy container", func() error {
			setConfig("exemptions:\n- checks: [pss-privileged, pss-allowPrivilegeEscalation]\n  namespace: " + ns.Name + "\n  container: proxy\n  image: \"mesh.example.com/*\"\n  reason: mesh sidecar, owner team-net\n")
			return waitFor(true, privileged("proxy"))
		}, true},
		{"the exemption covers no other container", func() error { return create(srv.Client, ns.Name, privileged("app")) }, false},
		{"exemption removed", func() error {
			setConfig("exemptions: []\n")
			return waitFor(false, privileged("proxy"))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if (err == nil) != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%v)", err == nil, tt.allowed, err)
			}
			if err != nil && (!strings.Contains(err.Error(), `violates PodSecurity "restricted:latest": `) || !strings.Contains(err.Error(), "privileged (container")) {
				t.Errorf("denied for another reason: %v", err)
			}
		})
	}
}
