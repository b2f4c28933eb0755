// Package smoke checks that the API server the end-to-end tests run is the
// real thing: it serves, authorizes with RBAC, and enforces Pod Security.
package smoke

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

var srv *apiserver.Server

func TestMain(m *testing.M) {
	os.Exit(apiserver.RunTests(m, apiserver.Options{}, &srv))
}

func TestServerVersion(t *testing.T) {
	v, err := srv.Client.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != srv.Version {
		t.Errorf("server version %q, want %q", v.GitVersion, srv.Version)
	}
	body, err := srv.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(t.Context())
	if err != nil || string(body) != "ok" {
		t.Errorf("/readyz: %q, %v", body, err)
	}
}

func TestAdminIdentity(t *testing.T) {
	r, err := srv.Client.AuthenticationV1().SelfSubjectReviews().Create(t.Context(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u := r.Status.UserInfo
	if u.Username != apiserver.AdminUser || !slices.Contains(u.Groups, "system:masters") {
		t.Errorf("admin token authenticates as %q in %v, want %q in system:masters", u.Username, u.Groups, apiserver.AdminUser)
	}
}

func TestUnauthenticatedForbidden(t *testing.T) {
	cfg := rest.AnonymousClientConfig(srv.Config)
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("anonymous list namespaces: got %v, want Forbidden", err)
	}
}

// TestServiceAccountToken shows the generated signing key pair is wired
// in: a token issued for the default ServiceAccount authenticates as it.
func TestServiceAccountToken(t *testing.T) {
	ns := srv.Namespace(t, "sa", nil)
	tr, err := srv.Client.CoreV1().ServiceAccounts(ns.Name).CreateToken(t.Context(), "default", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(srv.Config)
	cfg.BearerToken = tr.Status.Token
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.AuthenticationV1().SelfSubjectReviews().Create(t.Context(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "system:serviceaccount:" + ns.Name + ":default"; r.Status.UserInfo.Username != want {
		t.Errorf("token authenticates as %q, want %q", r.Status.UserInfo.Username, want)
	}
}

func privilegedPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "privileged"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:            "app",
			Image:           "registry.k8s.io/pause",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
		}}},
	}
}

// TestPodSecurityAdmission is the oracle the parity tests rely on: the
// built-in PodSecurity admission rejects, on a server-side dry run, a
// privileged Pod in a namespace enforcing restricted, and stores nothing.
func TestPodSecurityAdmission(t *testing.T) {
	ns := srv.Namespace(t, "pss", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	_, err := srv.Client.CoreV1().Pods(ns.Name).Create(t.Context(), privilegedPod(), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("got %v, want Forbidden", err)
	}
	for _, want := range []string{
		`pods "privileged" is forbidden: violates PodSecurity "restricted:latest": `,
		`privileged (container "app" must not set securityContext.privileged=true)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q\nlacks %q", err, want)
		}
	}
	if _, err := srv.Client.CoreV1().Pods(ns.Name).Get(t.Context(), "privileged", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after a dry run, get pod: %v, want NotFound", err)
	}

	// The same Pod is admitted where nothing is enforced.
	open := srv.Namespace(t, "open", nil)
	if _, err := srv.Client.CoreV1().Pods(open.Name).Create(t.Context(), privilegedPod(), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("privileged pod in an unlabelled namespace: %v", err)
	}
}

// TestSubjectAccessReview grants a user a Role in one namespace through a
// RoleBinding and asks the API server's authorizer what the user may do.
func TestSubjectAccessReview(t *testing.T) {
	ctx := t.Context()
	ns := srv.Namespace(t, "rbac", nil)
	other := srv.Namespace(t, "rbac-other", nil)
	const user = "alice"
	if _, err := srv.Client.RbacV1().Roles(ns.Name).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"},
		}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.RbacV1().RoleBindings(ns.Name).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "alice-reads-pods"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	review := func(namespace, verb, resource string) (bool, error) {
		r, err := srv.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{
				User:   user,
				Groups: []string{"system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: namespace, Verb: verb, Resource: resource,
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			return false, err
		}
		return r.Status.Allowed, nil
	}

	// The RBAC authorizer reads bindings from an informer: wait for it to
	// see the new one.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := review(ns.Name, "get", "pods")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("get pods never allowed for alice after the RoleBinding")
		}
		time.Sleep(100 * time.Millisecond)
	}

	tests := []struct {
		name           string
		namespace      string
		verb, resource string
		want           bool
	}{
		{name: "list pods", namespace: ns.Name, verb: "list", resource: "pods", want: true},
		{name: "delete pods", namespace: ns.Name, verb: "delete", resource: "pods", want: false},
		{name: "get secrets", namespace: ns.Name, verb: "get", resource: "secrets", want: false},
		{name: "get pods elsewhere", namespace: other.Name, verb: "get", resource: "pods", want: false},
		{name: "list pods cluster-wide", namespace: "", verb: "list", resource: "pods", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := review(tt.namespace, tt.verb, tt.resource)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s %s in %q: allowed=%v, want %v", tt.verb, tt.resource, tt.namespace, got, tt.want)
			}
		})
	}

	// The same answers hold for real requests made as alice.
	alice, err := srv.ClientAs(user)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.CoreV1().Pods(ns.Name).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("alice lists pods in %s: %v", ns.Name, err)
	}
	if _, err := alice.CoreV1().Pods(other.Name).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("alice lists pods in %s: %v, want Forbidden", other.Name, err)
	}
}
