package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	psaconfig "k8s.io/pod-security-admission/admission/api"
	"k8s.io/utils/ptr"

	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/cputime"
	"github.com/kubeguard/kubeguard/internal/run"
)

// fakeCluster answers namespace and pod look-ups from maps.
type fakeCluster struct {
	namespaces map[string]*corev1.Namespace
	pods       map[string][]*corev1.Pod
}

func (f *fakeCluster) GetNamespace(_ context.Context, name string) (*corev1.Namespace, error) {
	if ns, ok := f.namespaces[name]; ok {
		return ns, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("namespaces"), name)
}

func (f *fakeCluster) ListPods(_ context.Context, ns string) ([]*corev1.Pod, error) {
	return f.pods[ns], nil
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func enforce(level string) map[string]string {
	return map[string]string{"pod-security.kubernetes.io/enforce": level}
}

// restrictedPod passes the restricted level at every version.
func restrictedPod(name string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team"},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1.0", SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
		},
	}
}

func privilegedPod(name string) *corev1.Pod {
	p := restrictedPod(name)
	p.Spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
	return p
}

func raw(t *testing.T, obj runtime.Object) runtime.RawExtension {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return runtime.RawExtension{Raw: b}
}

func podRequest(t *testing.T, op admissionv1.Operation, ns string, pod, old *corev1.Pod) *admissionv1.AdmissionRequest {
	r := &admissionv1.AdmissionRequest{
		UID:       "uid-1",
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Name:      pod.Name,
		Namespace: ns,
		Operation: op,
		UserInfo:  authnv1.UserInfo{Username: "alice"},
		Object:    raw(t, pod),
	}
	if old != nil {
		r.OldObject = raw(t, old)
	}
	return r
}

func deploymentRequest(t *testing.T, ns string, pod *corev1.Pod) *admissionv1.AdmissionRequest {
	d := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: pod.Spec}}}
	return &admissionv1.AdmissionRequest{
		UID:       "uid-2",
		Kind:      metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
		Resource:  metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"},
		Name:      "web",
		Namespace: ns,
		Operation: admissionv1.Create,
		UserInfo:  authnv1.UserInfo{Username: "alice"},
		Object:    raw(t, d),
	}
}

func namespaceRequest(t *testing.T, op admissionv1.Operation, ns, old *corev1.Namespace) *admissionv1.AdmissionRequest {
	r := &admissionv1.AdmissionRequest{
		UID:       "uid-3",
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Namespace"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "namespaces"},
		Name:      ns.Name,
		Namespace: ns.Name,
		Operation: op,
		Object:    raw(t, ns),
	}
	if old != nil {
		r.OldObject = raw(t, old)
	}
	return r
}

// staticConfig is a ConfigSource that never changes.
type staticConfig struct{ c *config.Config }

func (s staticConfig) Current() *config.Config { return s.c }

// countingRecorder records decisions as "mode/level/result".
type countingRecorder struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingRecorder) Record(mode, level, result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[mode+"/"+level+"/"+result]++
}

func parseConfig(t *testing.T, src string) *config.Config {
	t.Helper()
	c, err := config.Parse("kubeguard.yaml", []byte(src), func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newReviewer(t *testing.T, cfg Config) *Reviewer {
	t.Helper()
	if cfg.Namespaces == nil {
		cl := &fakeCluster{namespaces: map[string]*corev1.Namespace{
			"team":       namespace("team", enforce("baseline")),
			"strict":     namespace("strict", enforce("restricted")),
			"open":       namespace("open", nil),
			"warned":     namespace("warned", map[string]string{"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "baseline"}),
			"checked":    namespace("checked", map[string]string{ModeLabel: "warn"}),
			"gated":      namespace("gated", map[string]string{ModeLabel: "deny"}),
			"exempt-me":  namespace("exempt-me", enforce("restricted")),
			"misspelled": namespace("misspelled", map[string]string{ModeLabel: "dney"}),
		}}
		cfg.Namespaces, cfg.Pods = cl, cl
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// forbidden is the status the library puts in a denial.
func forbidden(resource, name, msg string) *metav1.Status {
	return &metav1.Status{Status: metav1.StatusFailure, Message: fmt.Sprintf("%s %q is forbidden: %s", resource, name, msg),
		Reason: metav1.StatusReasonForbidden, Code: 403, Details: &metav1.StatusDetails{Name: name, Kind: resource}}
}

func TestPodSecurity(t *testing.T) {
	exemptions := &psaconfig.PodSecurityConfiguration{
		Defaults:   psaconfig.PodSecurityDefaults{Enforce: "privileged", EnforceVersion: "latest", Audit: "privileged", AuditVersion: "latest", Warn: "privileged", WarnVersion: "latest"},
		Exemptions: psaconfig.PodSecurityExemptions{Usernames: []string{"ops"}, Namespaces: []string{"exempt-me"}, RuntimeClasses: []string{"kata"}},
	}
	withRuntime := privilegedPod("kata")
	withRuntime.Spec.RuntimeClassName = ptr.To("kata")
	relabelled := privilegedPod("p")
	relabelled.Labels = map[string]string{"x": "y"}
	tests := []struct {
		name string
		req  func(t *testing.T) *admissionv1.AdmissionRequest
		want *admissionv1.AdmissionResponse
	}{
		{"restricted pod in baseline namespace", func(t *testing.T) *admissionv1.AdmissionRequest {
			return podRequest(t, admissionv1.Create, "team", restrictedPod("p"), nil)
		}, &admissionv1.AdmissionResponse{Allowed: true, AuditAnnotations: map[string]string{"enforce-policy": "baseline:latest"}}},
		{"privileged pod denied", func(t *testing.T) *admissionv1.AdmissionRequest {
			return podRequest(t, admissionv1.Create, "team", privilegedPod("p"), nil)
		}, &admissionv1.AdmissionResponse{Allowed: false,
			Result:           forbidden("pods", "p", `violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true)`),
			AuditAnnotations: map[string]string{"enforce-policy": "baseline:latest"}}},
		{"warn and audit levels", func(t *testing.T) *admissionv1.AdmissionRequest {
			p := restrictedPod("p")
			p.Spec.SecurityContext = nil
			return podRequest(t, admissionv1.Create, "warned", p, nil)
		}, &admissionv1.AdmissionResponse{Allowed: true,
			Warnings:         []string{`would violate PodSecurity "restricted:latest": runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`},
			AuditAnnotations: map[string]string{"enforce-policy": "privileged:latest"}}},
		{"exempt user", func(t *testing.T) *admissionv1.AdmissionRequest {
			r := podRequest(t, admissionv1.Create, "strict", privilegedPod("p"), nil)
			r.UserInfo.Username = "ops"
			return r
		}, &admissionv1.AdmissionResponse{Allowed: true, AuditAnnotations: map[string]string{"exempt": "user"}}},
		{"exempt namespace", func(t *testing.T) *admissionv1.AdmissionRequest {
			return podRequest(t, admissionv1.Create, "exempt-me", privilegedPod("p"), nil)
		}, &admissionv1.AdmissionResponse{Allowed: true, AuditAnnotations: map[string]string{"exempt": "namespace"}}},
		{"exempt runtime class", func(t *testing.T) *admissionv1.AdmissionRequest {
			return podRequest(t, admissionv1.Create, "strict", withRuntime, nil)
		}, &admissionv1.AdmissionResponse{Allowed: true, AuditAnnotations: map[string]string{"exempt": "runtimeClass"}}},
		{"insignificant update of a violating pod", func(t *testing.T) *admissionv1.AdmissionRequest {
			return podRequest(t, admissionv1.Update, "team", relabelled, privilegedPod("p"))
		}, &admissionv1.AdmissionResponse{Allowed: true}},
		{"status subresource ignored", func(t *testing.T) *admissionv1.AdmissionRequest {
			r := podRequest(t, admissionv1.Update, "team", privilegedPod("p"), privilegedPod("p"))
			r.SubResource = "status"
			return r
		}, &admissionv1.AdmissionResponse{Allowed: true}},
		{"ephemeral containers judged", func(t *testing.T) *admissionv1.AdmissionRequest {
			p := restrictedPod("p")
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debug", Image: "busybox", SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}}
			r := podRequest(t, admissionv1.Update, "team", p, restrictedPod("p"))
			r.SubResource = "ephemeralcontainers"
			return r
		}, &admissionv1.AdmissionResponse{Allowed: false,
			Result:           forbidden("pods", "p", `violates PodSecurity "baseline:latest": privileged (container "debug" must not set securityContext.privileged=true)`),
			AuditAnnotations: map[string]string{"enforce-policy": "baseline:latest"}}},
		{"workload warned not denied", func(t *testing.T) *admissionv1.AdmissionRequest {
			// warn takes the enforce level when unset
			return deploymentRequest(t, "team", privilegedPod("p"))
		}, &admissionv1.AdmissionResponse{Allowed: true, AuditAnnotations: map[string]string{},
			Warnings: []string{`would violate PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true)`}}},
		{"delete admitted", func(t *testing.T) *admissionv1.AdmissionRequest {
			r := podRequest(t, admissionv1.Delete, "team", privilegedPod("p"), nil)
			return r
		}, &admissionv1.AdmissionResponse{Allowed: true}},
		{"invalid namespace label", func(t *testing.T) *admissionv1.AdmissionRequest {
			return namespaceRequest(t, admissionv1.Create, namespace("bad", enforce("strictest")), nil)
		}, &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{Status: metav1.StatusFailure,
			Message: `Namespace "bad" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strictest": must be one of privileged, baseline, restricted`,
			Reason:  metav1.StatusReasonInvalid, Code: 422,
			Details: &metav1.StatusDetails{Name: "bad", Kind: "Namespace", Causes: []metav1.StatusCause{{Type: metav1.CauseTypeFieldValueInvalid,
				Message: `Invalid value: "strictest": must be one of privileged, baseline, restricted`, Field: "metadata.labels[pod-security.kubernetes.io/enforce]"}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReviewer(t, Config{PodSecurity: exemptions})
			req := tt.req(t)
			got := r.Review(context.Background(), req)
			tt.want.UID = req.UID
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("response (-want +got):\n%s", d)
			}
		})
	}
}

func TestNamespaceEnforceRaisedWarnsAboutPods(t *testing.T) {
	cl := &fakeCluster{
		namespaces: map[string]*corev1.Namespace{},
		pods:       map[string][]*corev1.Pod{"team": {privilegedPod("b"), privilegedPod("a"), restrictedPod("ok")}},
	}
	r := newReviewer(t, Config{Namespaces: cl, Pods: cl})
	got := r.Review(context.Background(), namespaceRequest(t, admissionv1.Update, namespace("team", enforce("baseline")), namespace("team", nil)))
	want := []string{
		`existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest"`,
		`a (and 1 other pod): privileged`,
	}
	if !got.Allowed {
		t.Fatalf("denied: %v", got.Result)
	}
	if d := cmp.Diff(want, got.Warnings); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
}

func TestDenyWorkloads(t *testing.T) {
	tests := []struct {
		name, ns string
		pod      *corev1.Pod
		allowed  bool
		message  string
	}{
		{"violating template denied", "team", privilegedPod("p"), false,
			`deployments.apps "web" is forbidden: pod template violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true) (kubeguard denies workloads whose pods Pod Security would reject)`},
		{"compliant template admitted", "strict", restrictedPod("p"), true, ""},
		{"privileged namespace admits", "open", privilegedPod("p"), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &countingRecorder{}
			r := newReviewer(t, Config{DenyWorkloads: true, Recorder: rec})
			got := r.Review(context.Background(), deploymentRequest(t, tt.ns, tt.pod))
			if got.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%v)", got.Allowed, tt.allowed, got.Result)
			}
			if !tt.allowed && got.Result.Message != tt.message {
				t.Errorf("message:\n got %s\nwant %s", got.Result.Message, tt.message)
			}
			if !tt.allowed && rec.n["workload/baseline/deny"] != 1 {
				t.Errorf("metrics: %v", rec.n)
			}
		})
	}
}

func TestChecksModes(t *testing.T) {
	all, err := checks.All()
	if err != nil {
		t.Fatal(err)
	}
	latest := restrictedPod("p")
	latest.Spec.Containers[0].Image = "nginx:latest"
	tests := []struct {
		name, ns    string
		defaultMode Mode
		allowed     bool
		warning     string // one warning expected to be present
		denyMessage string
	}{
		{"off by default", "open", "", true, "", ""},
		{"namespace label warn", "checked", "", true, "kubeguard: image-tag-latest (medium): ", ""},
		{"default warn", "open", ModeWarn, true, "kubeguard: image-tag-latest (medium): ", ""},
		{"deny mode denies at high", "gated", "", false, "kubeguard: image-tag-latest (medium): ", "kubeguard: image-registry (high)"},
		{"misspelt label keeps default", "misspelled", ModeWarn, true, "kubeguard: image-tag-latest (medium): ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReviewer(t, Config{Checks: all, ChecksMode: tt.defaultMode,
				Exemptions: staticConfig{&config.Config{Parameters: config.Parameters{AllowedRegistries: []string{"registry.example.com"}}}}})
			p := latest.DeepCopy()
			p.Namespace = tt.ns
			got := r.Review(context.Background(), podRequest(t, admissionv1.Create, tt.ns, p, nil))
			if got.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v: %v", got.Allowed, tt.allowed, got.Result)
			}
			if tt.warning == "" && len(got.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", got.Warnings)
			}
			if tt.warning != "" && !hasPrefix(got.Warnings, tt.warning) {
				t.Errorf("warnings %q lack %q", got.Warnings, tt.warning)
			}
			if tt.denyMessage != "" && !contains(got.Result.Message, tt.denyMessage) {
				t.Errorf("deny message %q lacks %q", got.Result.Message, tt.denyMessage)
			}
		})
	}
}

func TestExemptions(t *testing.T) {
	all, err := checks.All()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	sidecar := restrictedPod("p")
	sidecar.Namespace = "gated"
	sidecar.Spec.ServiceAccountName = "agent"
	sidecar.Spec.Containers = append(sidecar.Spec.Containers, corev1.Container{Name: "proxy", Image: "mesh.example.com/proxy:1", SecurityContext: &corev1.SecurityContext{
		Privileged: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}})
	tests := []struct {
		name    string
		ns      string
		config  string
		allowed bool
	}{
		{"no exemption", "strict", ``, false},
		{"container scoped pss exemption", "strict", `
exemptions:
- checks: [pss-privileged]
  container: proxy
  reason: mesh sidecar needs it`, true},
		{"image scoped pss exemption", "strict", `
exemptions:
- checks: [pss-privileged]
  image: "mesh.example.com/*"
  reason: mesh sidecar needs it`, true},
		{"image scope not matching", "strict", `
exemptions:
- checks: [pss-privileged]
  image: "other.example.com/*"
  reason: other`, false},
		{"service account scoped", "strict", `
exemptions:
- checks: ["pss-*"]
  serviceAccount: agent
  namespace: strict
  reason: node agent`, true},
		{"other namespace", "strict", `
exemptions:
- checks: ["pss-*"]
  serviceAccount: agent
  namespace: elsewhere
  reason: node agent`, false},
		{"expired", "strict", `
exemptions:
- checks: [pss-privileged]
  container: proxy
  reason: mesh sidecar needs it
  expires: 2026-05-31`, false},
		{"kubeguard check exempt by image", "gated", `
parameters:
  allowedRegistries: [registry.example.com]
exemptions:
- checks: [image-registry]
  image: "mesh.example.com/*"
  reason: mesh images are mirrored
- checks: [pss-privileged]
  container: proxy
  reason: mesh`, true},
		{"kubeguard check not exempt", "gated", `
parameters:
  allowedRegistries: [registry.example.com]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := parseConfig(t, tt.config)
			r := newReviewer(t, Config{Checks: all, Exemptions: staticConfig{cfg}, Now: func() time.Time { return now }})
			p := sidecar.DeepCopy()
			p.Namespace = tt.ns
			if tt.ns == "gated" {
				// gated enforces nothing; the kubeguard catalogue denies.
				p.Spec.Containers[1].SecurityContext.Privileged = nil
			}
			got := r.Review(context.Background(), podRequest(t, admissionv1.Create, tt.ns, p, nil))
			if got.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v: %v", got.Allowed, tt.allowed, got.Result)
			}
		})
	}
}

func hasPrefix(list []string, prefix string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestDenyWorkloadsWithoutObject: a workload review without an object (the
// API server never sends one on CREATE, but anyone reaching the webhook
// can) is answered, not a panic.
func TestDenyWorkloadsWithoutObject(t *testing.T) {
	for _, op := range []admissionv1.Operation{admissionv1.Create, admissionv1.Update} {
		t.Run(string(op), func(t *testing.T) {
			r := newReviewer(t, Config{DenyWorkloads: true})
			req := deploymentRequest(t, "team", privilegedPod("p"))
			req.Operation = op
			if op == admissionv1.Update {
				req.OldObject = req.Object
			}
			req.Object = runtime.RawExtension{}
			got := r.Review(context.Background(), req)
			if got == nil || got.UID != req.UID || got.Allowed || got.Result == nil || got.Result.Code != 400 {
				t.Fatalf("response %+v, want a denial with code 400", got)
			}
		})
	}
}

// TestManyLabelsAtAdmission: a pod with 80,000 labels and annotations is
// reviewed, catalogue included, in time linear in them (pairwise
// duplicate-key look-ups took seconds per review).
func TestManyLabelsAtAdmission(t *testing.T) {
	all, err := checks.All()
	if err != nil {
		t.Fatal(err)
	}
	r := newReviewer(t, Config{Checks: all, ChecksMode: ModeWarn})
	pod := restrictedPod("many")
	pod.Labels, pod.Annotations = map[string]string{}, map[string]string{}
	for i := range 80000 {
		pod.Labels[fmt.Sprint("l", i)] = "v"
		pod.Annotations[fmt.Sprint("a", i)] = "v"
	}
	req := podRequest(t, admissionv1.Create, "team", pod, nil)
	// CPU time, not wall time: the bound must hold on a shared machine.
	start := cputime.Used()
	if got := r.Review(context.Background(), req); !got.Allowed {
		t.Fatalf("denied: %v", got.Result)
	}
	if d := cputime.Used() - start; d > 8*time.Second {
		t.Errorf("review took %s of CPU", d)
	}
}

// TestAdmissionChecksByScope pins which checks the webhook runs: every
// per-object check that does not say why it is skipped, and nothing that
// needs more of the input than a request carries.
func TestAdmissionChecksByScope(t *testing.T) {
	all, err := checks.All()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, c := range run.Checks(all, run.FrontAdmission) {
		got[c.ID] = true
	}
	for _, c := range all {
		perObject := c.Run != nil && !slices.ContainsFunc(c.Needs, func(k string) bool { return k != "Namespace" })
		want := perObject && !strings.HasPrefix(c.ID, "pss-") && c.ID != "invalid-suppression" && c.ID != "duplicate-field"
		if got[c.ID] != want {
			t.Errorf("%s (scope %s): at admission = %v, want %v", c.ID, c.Scope, got[c.ID], want)
		}
	}
	for _, id := range []string{"privileged-unenforced", "memory-limit", "hardcoded-credential"} {
		if !got[id] {
			t.Errorf("%s does not run at admission", id)
		}
	}
	for _, id := range []string{"pss-privileged", "pod-no-network-policy", "rbac-wildcard", "expired-exemption"} {
		if got[id] {
			t.Errorf("%s runs at admission", id)
		}
	}
}
