package object

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSyncAppArmor holds the copy of AppArmor annotations into fields to
// the API server's rules for a Pod on create (k8s.io/kubernetes
// pkg/registry/core/pod, applyAppArmorVersionSkew, v1.36).
func TestSyncAppArmor(t *testing.T) {
	localhost := "my-profile"
	unconfined := &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	runtimeDefault := &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	for _, tc := range []struct {
		name       string
		template   bool // a workload's template, not a Pod
		annotation string
		field      *corev1.AppArmorProfile // the container's own, before
		pod        *corev1.AppArmorProfile
		windows    bool
		want       *corev1.AppArmorProfile
	}{
		{name: "unconfined", annotation: "unconfined", want: unconfined},
		{name: "runtime default", annotation: "runtime/default", want: runtimeDefault},
		{name: "localhost", annotation: "localhost/my-profile", want: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &localhost}},
		{name: "field wins", annotation: "unconfined", field: runtimeDefault, want: runtimeDefault},
		{name: "same as the pod's", annotation: "unconfined", pod: unconfined, want: nil},
		{name: "unknown value", annotation: "complain", want: nil},
		{name: "empty localhost", annotation: "localhost/", want: nil},
		{name: "padded localhost", annotation: "localhost/ x", want: nil},
		{name: "windows", annotation: "unconfined", windows: true, want: nil},
		{name: "workload template", annotation: "unconfined", template: true, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := &PodTemplate{Metadata: metav1.ObjectMeta{Annotations: map[string]string{appArmorAnnotationPrefix + "c": tc.annotation}}}
			if tc.template {
				tmpl.Path = Path{}.Key("spec").Key("template")
			}
			c := corev1.Container{Name: "c"}
			if tc.field != nil {
				c.SecurityContext = &corev1.SecurityContext{AppArmorProfile: tc.field}
			}
			tmpl.Spec.Containers = []corev1.Container{c, {Name: "other"}}
			if tc.pod != nil {
				tmpl.Spec.SecurityContext = &corev1.PodSecurityContext{AppArmorProfile: tc.pod}
			}
			if tc.windows {
				tmpl.Spec.OS = &corev1.PodOS{Name: corev1.Windows}
			}
			applyDefaults(tmpl)
			var got *corev1.AppArmorProfile
			if sc := tmpl.Spec.Containers[0].SecurityContext; sc != nil {
				got = sc.AppArmorProfile
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("container profile (-want +got):\n%s", diff)
			}
			if tmpl.Spec.Containers[1].SecurityContext != nil {
				t.Errorf("a container without an annotation got %+v", tmpl.Spec.Containers[1].SecurityContext)
			}
		})
	}
}
