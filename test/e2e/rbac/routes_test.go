package rbac

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/rbac"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/keyutil"
	"k8s.io/klog/v2"
	sacontroller "k8s.io/kubernetes/pkg/controller/serviceaccount"
	"k8s.io/kubernetes/pkg/serviceaccount"
)

// routesYAML is the escalation routes the server is asked about, one
// ServiceAccount per route, in namespace NS (replaced by the test's own).
// Their names say the route; admin and victim are cluster-admins, and the
// pod web runs as admin.
const routesYAML = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: NS-god}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: NS-god}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: NS-god}
subjects:
- {kind: ServiceAccount, name: admin, namespace: NS}
- {kind: ServiceAccount, name: victim, namespace: NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: NS-imp-groups}
rules:
- {apiGroups: [""], resources: [groups], verbs: [impersonate]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: NS-imp-groups}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: NS-imp-groups}
subjects:
- {kind: ServiceAccount, name: imp-groups, namespace: NS}
- {kind: ServiceAccount, name: imp-both, namespace: NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: NS-imp-user}
rules:
- {apiGroups: [""], resources: [users], verbs: [impersonate], resourceNames: [NS-someone]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: NS-imp-user}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: NS-imp-user}
subjects:
- {kind: ServiceAccount, name: imp-both, namespace: NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: routes, namespace: NS}
rules:
- {apiGroups: [""], resources: [pods/exec], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: exec, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: routes}
subjects: [{kind: ServiceAccount, name: exec}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: attach, namespace: NS}
rules:
- {apiGroups: [""], resources: [pods/attach], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: attach, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: attach}
subjects: [{kind: ServiceAccount, name: attach}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ephemeral, namespace: NS}
rules:
- {apiGroups: [""], resources: [pods/ephemeralcontainers], verbs: [patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ephemeral, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ephemeral}
subjects: [{kind: ServiceAccount, name: ephemeral}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: swapper, namespace: NS}
rules:
- {apiGroups: [""], resources: [pods], verbs: [patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: swapper, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: swapper}
subjects: [{kind: ServiceAccount, name: swapper}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-creator, namespace: NS}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: secret-creator, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-creator}
subjects: [{kind: ServiceAccount, name: minter}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: NS}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: secret-reader, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects: [{kind: ServiceAccount, name: minter}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: binder, namespace: NS}
rules:
- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: binder, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: binder}
subjects: [{kind: ServiceAccount, name: binder}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: rolebinding-writer, namespace: NS}
rules:
- {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rolebinding-writer, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: rolebinding-writer}
subjects: [{kind: ServiceAccount, name: binder}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: NS}
spec:
  serviceAccountName: admin
  containers: [{name: web, image: registry.k8s.io/pause:3.10}]
`

// routeSAs are the ServiceAccounts of routesYAML, and whether
// kubeguard must find a chain from each.
var routeSAs = map[string]bool{
	"admin": true, "victim": true, "imp-groups": false, "imp-both": true, "exec": true, "attach": true,
	"ephemeral": true, "swapper": true, "minter": true, "binder": true,
}

// routes creates routesYAML in a namespace of its own and analyses the
// same objects, with the built-in roles, as the rbac commands do.
func routes(t *testing.T) (ns string, p *rbac.Policy) {
	t.Helper()
	ctx := t.Context()
	ns = srv.Namespace(t, "routes", nil).Name
	yaml := strings.ReplaceAll(routesYAML, "NS", ns)
	for name := range routeSAs {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		if _, err := srv.Client.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		yaml += fmt.Sprintf("---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: %s, namespace: %s}\n", name, ns)
	}
	for _, doc := range strings.Split(yaml, "\n---\n") {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("decode %q: %v", doc, err)
		}
		if err := createObject(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	defs, err := rbac.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	var b rbac.Builder
	b.AddDefaults(defs)
	for _, d := range manifest.Split([]byte(yaml)) {
		objs, errs := manifest.Parse("routes.yaml", d)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, o := range objs {
			b.Add(o)
		}
	}
	p = b.Build()
	if len(p.Problems) > 0 {
		t.Fatalf("input problems: %v", p.Problems)
	}
	return ns, p
}

// createObject creates one object of routesYAML.
func createObject(ctx context.Context, obj runtime.Object) error {
	c := srv.Client
	opts := metav1.CreateOptions{}
	var err error
	switch o := obj.(type) {
	case *rbacv1.ClusterRole:
		_, err = c.RbacV1().ClusterRoles().Create(ctx, o, opts)
	case *rbacv1.ClusterRoleBinding:
		_, err = c.RbacV1().ClusterRoleBindings().Create(ctx, o, opts)
	case *rbacv1.Role:
		_, err = c.RbacV1().Roles(o.Namespace).Create(ctx, o, opts)
	case *rbacv1.RoleBinding:
		_, err = c.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, opts)
	case *corev1.Pod:
		_, err = c.CoreV1().Pods(o.Namespace).Create(ctx, o, opts)
	case *corev1.ServiceAccount:
		// Created first, for the Pod to run as.
	default:
		return fmt.Errorf("unexpected %T", obj)
	}
	return err
}

// tokenClient is a client that authenticates with a bearer token, as the
// identity's own requests would, with no admin credentials.
func tokenClient(t *testing.T, token string, imp rest.ImpersonationConfig) *kubernetes.Clientset {
	t.Helper()
	cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: srv.CAData}, BearerToken: token, Impersonate: imp}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// saToken is a short-lived token of a ServiceAccount, from the
// TokenRequest API (the admin asks).
func saToken(t *testing.T, ns, name string) string {
	t.Helper()
	exp := int64(600)
	tr, err := srv.Client.CoreV1().ServiceAccounts(ns).CreateToken(t.Context(), name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

// chainOf is the chain kubeguard reports for a ServiceAccount, nil when
// none.
func chainOf(p *rbac.Policy, ns, name string) *rbac.Chain {
	for _, c := range rbac.Paths(p) {
		if c.Subject == (rbac.Identity{Kind: "ServiceAccount", Namespace: ns, Name: name}) {
			return &c
		}
	}
	return nil
}

// TestImpersonatingGroupsAloneRefused: the server refuses to impersonate a
// group without a user, so a ServiceAccount that may impersonate
// system:masters and nothing else gains nothing, as kubeguard says; with a
// user to impersonate as well, it is everything, as kubeguard says too.
func TestImpersonatingGroupsAloneRefused(t *testing.T) {
	ns, p := routes(t)
	waitAllowed(t, ns)
	if c := chainOf(p, ns, "imp-groups"); c != nil {
		t.Errorf("kubeguard invents a chain for imp-groups: %+v", c.Steps)
	}
	if c := chainOf(p, ns, "imp-both"); c == nil || c.Steps[0].Action != "impersonates a user in group system:masters" {
		t.Errorf("kubeguard's chain for imp-both: %+v, want a user impersonated in system:masters", c)
	}
	// Group alone: refused.
	c := tokenClient(t, saToken(t, ns, "imp-groups"), rest.ImpersonationConfig{Groups: []string{rbac.SystemMasters}})
	_, err := c.CoreV1().Secrets("kube-system").List(t.Context(), metav1.ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "without impersonating a user") {
		t.Errorf("group-only impersonation: err %v, want the server's refusal without a user", err)
	}
	// With a user it may not impersonate: refused too.
	c = tokenClient(t, saToken(t, ns, "imp-groups"), rest.ImpersonationConfig{UserName: ns + "-someone", Groups: []string{rbac.SystemMasters}})
	if _, err := c.CoreV1().Secrets("kube-system").List(t.Context(), metav1.ListOptions{}); err == nil {
		t.Error("imp-groups impersonated a user it may not impersonate")
	}
	// imp-both may impersonate the user: as a member of system:masters it
	// reads kube-system's Secrets.
	c = tokenClient(t, saToken(t, ns, "imp-both"), rest.ImpersonationConfig{UserName: ns + "-someone", Groups: []string{rbac.SystemMasters}})
	if _, err := c.CoreV1().Secrets("kube-system").List(t.Context(), metav1.ListOptions{}); err != nil {
		t.Errorf("imp-both as a user in system:masters: %v", err)
	}
}

// waitAllowed waits until the server's RBAC caches hold the routes'
// bindings: the last created grants minter get on secrets.
func waitAllowed(t *testing.T, ns string) {
	t.Helper()
	u := rbac.Identity{Kind: "ServiceAccount", Namespace: ns, Name: "binder"}.User()
	a := rbac.Attributes{Verb: "create", ResourceRequest: true, Namespace: ns, APIGroup: rbacAPI, Resource: "rolebindings"}
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := review(t.Context(), u, a)
		if err != nil {
			t.Fatal(err)
		}
		if st.Allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the routes' bindings not in effect after a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestMintedTokenRoute walks the route create + get on Secrets: minter
// creates a Secret of type kubernetes.io/service-account-token for the
// cluster-admin ServiceAccount victim, the token controller fills it, and
// minter reads the token and uses it as victim.
//
// No kube-controller-manager runs in this suite: the test runs its token
// controller, the upstream package
// k8s.io/kubernetes/pkg/controller/serviceaccount, in process, with the
// key the server signs ServiceAccount tokens with, as
// kube-controller-manager's --service-account-private-key-file would be.
// The server then authenticates the token it wrote as it would in a
// cluster.
func TestMintedTokenRoute(t *testing.T) {
	ns, p := routes(t)
	waitAllowed(t, ns)
	c := chainOf(p, ns, "minter")
	if c == nil || len(c.Steps) != 2 || !strings.HasPrefix(c.Steps[0].Action, "creates a kubernetes.io/service-account-token Secret for ServiceAccount "+ns+"/") {
		t.Fatalf("kubeguard's chain for minter: %+v", c)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	runTokenController(t, ctx)

	minter := tokenClient(t, saToken(t, ns, "minter"), rest.ImpersonationConfig{})
	if _, err := minter.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{}); err == nil {
		t.Fatal("minter reads kube-system's Secrets on its own: the test proves nothing")
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "minted", Namespace: ns,
		Annotations: map[string]string{corev1.ServiceAccountNameKey: "victim"}}, Type: corev1.SecretTypeServiceAccountToken}
	if _, err := minter.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatalf("minter creates the token Secret: %v", err)
	}
	var token string
	deadline := time.Now().Add(time.Minute)
	for token == "" {
		s, err := minter.CoreV1().Secrets(ns).Get(ctx, "minted", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("minter reads the Secret: %v", err)
		}
		token = string(s.Data[corev1.ServiceAccountTokenKey])
		if token == "" {
			if time.Now().After(deadline) {
				t.Fatal("the token controller did not fill the Secret in a minute")
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	asVictim := tokenClient(t, token, rest.ImpersonationConfig{})
	r, err := asVictim.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the minted token: %v", err)
	}
	if want := "system:serviceaccount:" + ns + ":victim"; r.Status.UserInfo.Username != want {
		t.Errorf("the minted token authenticates as %q, want %q", r.Status.UserInfo.Username, want)
	}
	if _, err := asVictim.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("the minted token does not act as the cluster-admin victim: %v", err)
	}
}

// runTokenController runs kube-controller-manager's token controller until
// ctx ends.
func runTokenController(t *testing.T, ctx context.Context) {
	t.Helper()
	key, err := keyutil.PrivateKeyFromFile(srv.ServiceAccountKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := serviceaccount.JWTTokenGenerator(serviceaccount.LegacyIssuer, key)
	if err != nil {
		t.Fatal(err)
	}
	f := informers.NewSharedInformerFactory(srv.Client, 0)
	tc, err := sacontroller.NewTokensController(klog.Background(), f.Core().V1().ServiceAccounts(), f.Core().V1().Secrets(), srv.Client,
		sacontroller.TokensControllerOptions{TokenGenerator: gen, RootCA: srv.CAData})
	if err != nil {
		t.Fatal(err)
	}
	f.Start(ctx.Done())
	go tc.Run(ctx, 1)
}

// TestChainStepsAuthorized asks the server, by SubjectAccessReview, for
// every request each step of the reported chains of routesYAML rests on,
// as the identity taking the step: each must be allowed.
func TestChainStepsAuthorized(t *testing.T) {
	ns, p := routes(t)
	waitAllowed(t, ns)
	checked := 0
	for name, want := range routeSAs {
		c := chainOf(p, ns, name)
		if (c != nil) != want {
			t.Errorf("ServiceAccount %s: chain %v, want one: %v", name, c != nil, want)
			continue
		}
		if c == nil {
			continue
		}
		for i, s := range c.Steps {
			reqs, ok := stepRequests(s, ns)
			if !ok {
				t.Errorf("%s step %d: no request known for %q", name, i, s.Action)
				continue
			}
			for _, a := range reqs {
				st, err := review(t.Context(), s.From.User(), a)
				if err != nil {
					t.Fatal(err)
				}
				if !st.Allowed {
					t.Errorf("%s step %d %q: the server denies %s to %s (%s)", name, i, s.Action, a, s.From, st.Reason)
				}
				checked++
			}
		}
	}
	t.Logf("%d requests of the chains' steps allowed by the server", checked)
	if checked < 10 {
		t.Errorf("%d requests checked: the sample proves little", checked)
	}
	// A control: what kubeguard says imp-groups lacks, the server denies.
	u := rbac.Identity{Kind: "ServiceAccount", Namespace: ns, Name: "imp-groups"}.User()
	st, err := review(t.Context(), u, rbac.Attributes{Verb: "impersonate", ResourceRequest: true, Resource: "users", Name: ns + "-someone"})
	if err != nil || st.Allowed {
		t.Errorf("imp-groups may impersonate a user: %v %v", st.Allowed, err)
	}
}

// stepRequests are the requests a step of a chain rests on.
func stepRequests(s rbac.Step, ns string) ([]rbac.Attributes, bool) {
	res := func(verb, group, resource, sub, name string) rbac.Attributes {
		return rbac.Attributes{Verb: verb, ResourceRequest: true, Namespace: ns, APIGroup: group, Resource: resource, Subresource: sub, Name: name}
	}
	a := s.Action
	switch {
	case a == "holds every verb on every resource cluster-wide":
		return []rbac.Attributes{{Verb: "*", ResourceRequest: true, APIGroup: "*", Resource: "*"}}, true
	case a == "impersonates a user in group system:masters":
		return []rbac.Attributes{
			{Verb: "impersonate", ResourceRequest: true, Resource: "groups", Name: rbac.SystemMasters},
			{Verb: "impersonate", ResourceRequest: true, Resource: "users", Name: ns + "-someone"},
		}, true
	case strings.HasPrefix(a, "execs into Pod/"+ns+"/web"):
		return []rbac.Attributes{res("create", "", "pods", "exec", "web")}, true
	case strings.HasPrefix(a, "attaches to Pod/"+ns+"/web"):
		return []rbac.Attributes{res("get", "", "pods", "attach", "web")}, true
	case strings.HasPrefix(a, "adds an ephemeral container to Pod/"+ns+"/web"):
		return []rbac.Attributes{res("patch", "", "pods", "ephemeralcontainers", "web")}, true
	case strings.HasPrefix(a, "swaps the image of Pod/"+ns+"/web"):
		return []rbac.Attributes{res("patch", "", "pods", "", "web")}, true
	case strings.HasPrefix(a, "creates a kubernetes.io/service-account-token Secret for ServiceAccount "+ns+"/"):
		return []rbac.Attributes{res("create", "", "secrets", "", ""), res("get", "", "secrets", "", "minted")}, true
	case strings.HasPrefix(a, "binds ClusterRole cluster-admin to itself in namespace "+ns):
		return []rbac.Attributes{res("bind", rbacAPI, "clusterroles", "", "cluster-admin"), res("create", rbacAPI, "rolebindings", "", "")}, true
	}
	return nil, false
}
