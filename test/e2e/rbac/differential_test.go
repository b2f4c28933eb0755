package rbac

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kubeguard/kubeguard/internal/cli"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/rbac/rbactest"
	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// TestAggregationMatchesController compares, for every aggregated
// ClusterRole of the generated set and of the built-in roles, the rules
// the upstream controller wrote with those kubeguard computes: the same
// rules in the same order.
func TestAggregationMatchesController(t *testing.T) {
	w := setup(t)
	var n, kept, empty int
	for name, r := range w.policy.ClusterRoles {
		if !r.Aggregated() {
			continue
		}
		n++
		s, ok := w.server[name]
		if !ok {
			t.Errorf("ClusterRole %s: not on the server", name)
			continue
		}
		if diff := cmp.Diff(s.Rules, r.Rules, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ClusterRole %s %v: rules (-controller +kubeguard):\n%s", name, r.Aggregation.ClusterRoleSelectors, diff)
		}
		if len(r.Rules) == 0 {
			empty++
		} else if slices.ContainsFunc(r.Sources, func(s rbac.RuleSource) bool { return s.Role == r }) {
			kept++
		}
	}
	t.Logf("%d aggregated ClusterRoles agree with the controller (%d keep their own rules, %d have none)", n, kept, empty)
	if n < 30 {
		t.Errorf("only %d aggregated ClusterRoles", n)
	}
}

// A case is one request, kubeguard's decision and the server's.
type verdict struct {
	user     rbac.User
	attrs    rbac.Attributes
	decision rbac.Decision
	status   authorizationv1.SubjectAccessReviewStatus
}

// reviewAll asks the server every request, eight at a time.
func reviewAll(ctx context.Context, w *world, reqs []rbactest.Request) ([]verdict, error) {
	out := make([]verdict, len(reqs))
	err := createAll(ctx, len(reqs), func(ctx context.Context, i int) error {
		r := reqs[i]
		st, err := review(ctx, r.User, r.Attributes)
		out[i] = verdict{user: r.User, attrs: r.Attributes, decision: w.az.Decide(r.User, r.Attributes), status: st}
		return err
	})
	return out, err
}

var notFound = regexp.MustCompile(`(clusterrole|role)\.rbac\.authorization\.k8s\.io "([^"]+)" not found`)

// compare checks kubeguard's decision against the server's: the answer;
// when one binding alone grants, the server's reason names it; when
// denied, the server names exactly the missing roles kubeguard found.
func compare(v verdict) []string {
	var bad []string
	d, st := v.decision, v.status
	if d.Allowed != st.Allowed {
		bad = append(bad, fmt.Sprintf("kubeguard allowed=%v (%s), server allowed=%v (%q)", d.Allowed, d.Reason(), st.Allowed, st.Reason))
		return bad
	}
	if d.Allowed && !d.Superuser && len(d.Grants) == 1 && st.Reason != d.Grants[0].Reason() {
		bad = append(bad, fmt.Sprintf("reason: kubeguard %q, server %q", d.Grants[0].Reason(), st.Reason))
	}
	if !d.Allowed {
		var want []string
		for _, b := range d.Unresolved {
			want = append(want, strings.ToLower(b.RoleRef.Kind)+"/"+b.RoleRef.Name)
		}
		// The server's reason aggregates the errors, naming a role that
		// several bindings miss once.
		slices.Sort(want)
		want = slices.Compact(want)
		var got []string
		for _, m := range notFound.FindAllStringSubmatch(st.Reason, -1) {
			got = append(got, m[1]+"/"+m[2])
		}
		slices.Sort(got)
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			bad = append(bad, fmt.Sprintf("missing roles (-kubeguard +server %q):\n%s", st.Reason, diff))
		}
	}
	return bad
}

type tally struct {
	allowed, denied, superuser, aggregated, builtin, missing, reasons int
}

func (s *tally) add(v verdict) {
	d := v.decision
	switch {
	case d.Superuser:
		s.superuser++
	case d.Allowed:
		s.allowed++
	default:
		s.denied++
	}
	if len(d.Unresolved) > 0 {
		s.missing++
	}
	if d.Allowed && !d.Superuser && len(d.Grants) == 1 {
		s.reasons++
	}
	for _, g := range d.Grants {
		if g.Source().Role != g.Role {
			s.aggregated++
			break
		}
	}
	for _, g := range d.Grants {
		if g.Binding.Default {
			s.builtin++
			break
		}
	}
}

func runDifferential(t *testing.T, reqs []rbactest.Request) {
	w := setup(t)
	verdicts, err := reviewAll(t.Context(), w, reqs)
	if err != nil {
		t.Fatal(err)
	}
	var s tally
	failures := 0
	for i, v := range verdicts {
		s.add(v)
		if bad := compare(v); len(bad) > 0 {
			failures++
			if failures <= 25 {
				t.Errorf("request %d: %s as %s %v:\n  %s", i, v.attrs, v.user.Name, v.user.Groups, strings.Join(bad, "\n  "))
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d requests disagree", failures, len(verdicts))
	}
	t.Logf("%d requests: %d allowed by RBAC (%d through aggregated rules, %d through built-in bindings, %d reasons compared), %d by system:masters, %d denied; %d named missing roles",
		len(verdicts), s.allowed, s.aggregated, s.builtin, s.reasons, s.superuser, s.denied, s.missing)
	if s.allowed < len(verdicts)/10 || s.denied < len(verdicts)/10 {
		t.Errorf("the requests do not exercise both answers")
	}
}

// TestSubjectAccessReviewRandom holds kubeguard to the server for requests
// drawn at random from the generator's pools: most are denied, many by
// near misses (a subresource, a name, a namespace).
func TestSubjectAccessReviewRandom(t *testing.T) {
	w := setup(t)
	runDifferential(t, w.cluster.Requests(11, 3000))
}

// TestSubjectAccessReviewDirected holds kubeguard to the server for
// requests aimed at the rules of the policy, built-in ones included: each
// starts from a binding's subject and a rule of its role, and half are
// then changed in one attribute.
func TestSubjectAccessReviewDirected(t *testing.T) {
	w := setup(t)
	runDifferential(t, directed(w, 12, 3000))
}

var (
	verbPool     = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "impersonate", "bind", "escalate", "approve", "use", "proxy"}
	groupPool    = []string{"", "apps", "batch", rbacAPI, "certificates.k8s.io", "authorization.k8s.io", "example.com", "policy"}
	resourcePool = []string{"pods", "secrets", "deployments", "nodes", "namespaces", "clusterroles", "widgets", "serviceaccounts"}
	subPool      = []string{"", "", "", "status", "scale", "log", "exec", "proxy", "token", "approval"}
	namePool     = []string{"", "", "a", "b", "default", "kubernetes.io/kube-apiserver-client", "kube-system"}
)

// directed draws requests aimed at the policy's rules.
func directed(w *world, seed uint64, n int) []rbactest.Request {
	r := rand.New(rand.NewPCG(seed, 0x646972656374))
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	namespaces := append(slices.Clone(w.policy.Namespaces), "kube-system", "kube-public")
	bindings := w.policy.Bindings
	out := make([]rbactest.Request, 0, n)
	for len(out) < n {
		b := bindings[r.IntN(len(bindings))]
		if len(b.Subjects) == 0 {
			continue
		}
		id, ok := b.Identity(r.IntN(len(b.Subjects)))
		if !ok {
			continue
		}
		var u rbac.User
		switch {
		case id.Kind == rbacv1.ServiceAccountKind:
			u = rbac.Authenticated(rbac.ServiceAccountUsername(id.Namespace, id.Name))
		case id.Kind == rbacv1.UserKind:
			u = rbac.Authenticated(id.Name)
		case id.Name == rbac.AllUnauthenticated:
			u = rbac.Authenticated(rbac.Anonymous)
		case id.Name == rbac.AllServiceAccounts:
			u = rbac.Authenticated(rbac.ServiceAccountUsername(pick(namespaces), "e2e-sa"))
		case strings.HasPrefix(id.Name, "system:serviceaccounts:"):
			u = rbac.Authenticated(rbac.ServiceAccountUsername(strings.TrimPrefix(id.Name, "system:serviceaccounts:"), "e2e-sa"))
		default:
			u = rbac.Authenticated("e2e-member", id.Name)
		}
		if r.IntN(40) == 0 {
			u.Groups = append(u.Groups, rbac.SystemMasters)
		}
		var rule rbacv1.PolicyRule
		if role := b.Role(); role != nil && len(role.Rules) > 0 {
			rule = role.Rules[r.IntN(len(role.Rules))]
		} else {
			rule = rbacv1.PolicyRule{Verbs: []string{pick(verbPool)}, APIGroups: []string{pick(groupPool)}, Resources: []string{pick(resourcePool)}}
		}
		ns := b.Namespace
		if ns == "" || r.IntN(4) == 0 {
			ns = pick(append(namespaces, ""))
		}
		a := aim(r, rule, ns)
		if r.IntN(2) == 0 {
			a = perturb(r, a, namespaces)
		}
		out = append(out, rbactest.Request{User: u, Attributes: a})
	}
	return out
}

// aim makes a request the rule allows, drawing among its values and
// filling its wildcards.
func aim(r *rand.Rand, rule rbacv1.PolicyRule, ns string) rbac.Attributes {
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	orPool := func(l, pool []string) string {
		if len(l) == 0 {
			return pick(pool)
		}
		v := pick(l)
		if v == "*" {
			return pick(pool)
		}
		return v
	}
	verb := orPool(rule.Verbs, verbPool)
	if len(rule.NonResourceURLs) > 0 {
		path := pick(rule.NonResourceURLs)
		switch {
		case path == "*":
			path = "/" + pick([]string{"api", "healthz", "x/y"})
		case strings.HasSuffix(path, "*"):
			path = strings.TrimRight(path, "*") + pick([]string{"", "v1", "x/y"})
		}
		return rbac.Attributes{Verb: verb, Path: path}
	}
	a := rbac.Attributes{Verb: verb, ResourceRequest: true, Namespace: ns, APIGroup: orPool(rule.APIGroups, groupPool)}
	res := orPool(rule.Resources, resourcePool)
	if rest, ok := strings.CutPrefix(res, "*/"); ok {
		res = pick(resourcePool) + "/" + rest
	}
	a.Resource, a.Subresource, _ = strings.Cut(res, "/")
	if len(rule.ResourceNames) > 0 {
		a.Name = pick(rule.ResourceNames)
	} else {
		a.Name = pick(namePool)
	}
	return a
}

// perturb changes one attribute of a request: the near misses.
func perturb(r *rand.Rand, a rbac.Attributes, namespaces []string) rbac.Attributes {
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	if !a.ResourceRequest {
		switch r.IntN(3) {
		case 0:
			a.Verb = pick([]string{"get", "post", "put", "delete"})
		case 1:
			a.Path += pick([]string{"/", "x", "/sub"})
		default:
			a.Path = strings.TrimSuffix(a.Path, "/")
		}
		return a
	}
	switch r.IntN(7) {
	case 0:
		a.Verb = pick(append(verbPool, "*"))
	case 1:
		a.APIGroup = pick(groupPool)
	case 2:
		a.Resource = pick(resourcePool)
	case 3:
		a.Subresource = pick(subPool)
	case 4:
		a.Name = pick(namePool)
	case 5:
		a.Namespace = pick(append(namespaces, ""))
	default:
		a.Resource = "*"
	}
	return a
}

// TestAuthenticatedIdentities makes requests as really authenticated
// identities: ServiceAccounts with tokens from the TokenRequest API, users
// by impersonation, anonymous requests, the admin token (system:masters). The server's SelfSubjectReview
// must show the groups kubeguard assumes (rbac.Authenticated), and its
// SelfSubjectAccessReview kubeguard's answer.
func TestAuthenticatedIdentities(t *testing.T) {
	w := setup(t)
	ctx := t.Context()
	clients := map[string]kubernetes.Interface{}
	clientFor := func(u rbac.User) (kubernetes.Interface, error) {
		key := u.Name + "\x00" + strings.Join(u.Groups, ",")
		if c, ok := clients[key]; ok {
			return c, nil
		}
		cfg := rest.AnonymousClientConfig(srv.Config)
		switch ns, name, isSA := rbac.ParseServiceAccountUsername(u.Name); {
		case u.Name == apiserver.AdminUser:
			return srv.Client, nil // its token is in system:masters
		case u.Name == rbac.Anonymous:
		case isSA:
			tr, err := srv.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{
				Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)},
			}, metav1.CreateOptions{})
			if err != nil {
				return nil, fmt.Errorf("token for %s: %w", u.Name, err)
			}
			cfg.BearerToken = tr.Status.Token
		default:
			// Impersonation adds system:authenticated itself.
			cfg = rest.CopyConfig(srv.Config)
			cfg.Impersonate = rest.ImpersonationConfig{UserName: u.Name,
				Groups: slices.DeleteFunc(slices.Clone(u.Groups), func(g string) bool { return g == rbac.AllAuthenticated })}
		}
		c, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		clients[key] = c
		return c, nil
	}
	var reqs []rbactest.Request
	for _, r := range append(w.cluster.Requests(21, 400), directed(w, 22, 400)...) {
		// Only identities that exist: the generated ServiceAccounts.
		if ns, name, ok := rbac.ParseServiceAccountUsername(r.User.Name); ok &&
			!slices.ContainsFunc(w.cluster.ServiceAccounts, func(sa corev1.ServiceAccount) bool { return sa.Namespace == ns && sa.Name == name }) {
			continue
		}
		reqs = append(reqs, r)
	}
	reqs = reqs[:min(len(reqs), 300)]
	for _, r := range w.cluster.Requests(23, 20) {
		reqs = append(reqs, rbactest.Request{User: rbac.Authenticated(apiserver.AdminUser, rbac.SystemMasters), Attributes: r.Attributes})
	}
	seen := map[string]bool{}
	kinds := map[string]int{}
	var disagree int
	for i, r := range reqs {
		c, err := clientFor(r.User)
		if err != nil {
			t.Fatal(err)
		}
		if key := r.User.Name + strings.Join(r.User.Groups, ","); !seen[key] {
			seen[key] = true
			ssr, err := c.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("SelfSubjectReview as %s: %v", r.User.Name, err)
			}
			got := rbac.User{Name: ssr.Status.UserInfo.Username, Groups: ssr.Status.UserInfo.Groups}
			if diff := cmp.Diff(r.User, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("authenticated identity (-kubeguard +server):\n%s", diff)
			}
			switch _, _, isSA := rbac.ParseServiceAccountUsername(r.User.Name); {
			case r.User.Name == apiserver.AdminUser:
				kinds["system:masters token"]++
			case isSA:
				kinds["ServiceAccount token"]++
			case r.User.Name == rbac.Anonymous:
				kinds["anonymous"]++
			default:
				kinds["impersonated user"]++
			}
		}
		a := r.Attributes
		ssar := &authorizationv1.SelfSubjectAccessReview{}
		if a.ResourceRequest {
			ssar.Spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Namespace: a.Namespace, Verb: a.Verb,
				Group: a.APIGroup, Resource: a.Resource, Subresource: a.Subresource, Name: a.Name}
		} else {
			ssar.Spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: a.Path, Verb: a.Verb}
		}
		res, err := c.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, ssar, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("SelfSubjectAccessReview as %s: %v", r.User.Name, err)
		}
		if got, _ := w.az.Allowed(r.User.Name, r.User.Groups, a); got != res.Status.Allowed {
			disagree++
			t.Errorf("request %d: %s as %s %v: kubeguard %v, server %v (%s)", i, a, r.User.Name, r.User.Groups, got, res.Status.Allowed, res.Status.Reason)
		}
	}
	t.Logf("%d requests by %d authenticated identities (%v), %d disagree", len(reqs), len(seen), kinds, disagree)
	for _, k := range []string{"ServiceAccount token", "anonymous", "impersonated user", "system:masters token"} {
		if kinds[k] == 0 {
			t.Errorf("no request as %s", k)
		}
	}
}

// TestCLICanI runs `kubeguard rbac can-i --with-defaults -o json` (the flag now a no-op: the built-in roles are included by default) over the
// world's manifests for a sample of requests, and holds its answer (and
// exit status) to a SubjectAccessReview of the request the CLI says it
// asked, which must be the one intended up to the namespace the CLI drops
// for cluster-scoped resources.
func TestCLICanI(t *testing.T) {
	w := setup(t)
	ctx := t.Context()
	var reqs []rbactest.Request
	for _, r := range append(w.cluster.Requests(31, 150), directed(w, 32, 150)...) {
		// The CLI names the core group by leaving it out, so a core
		// resource it knows in another group (deployments, say) cannot be
		// asked for in the core group.
		if a := r.Attributes; a.ResourceRequest && a.APIGroup == "" {
			if p, err := w.policy.Request(a.Verb, a.Resource, a.Name, a.Namespace); err != nil || p.APIGroup != "" {
				continue
			}
		}
		reqs = append(reqs, r)
	}
	reqs = reqs[:min(len(reqs), 200)]
	var mu sync.Mutex
	var yes, no int
	err := createAll(ctx, len(reqs), func(ctx context.Context, i int) error {
		r := reqs[i]
		a := r.Attributes
		args := []string{"rbac", "can-i", a.Verb}
		if a.ResourceRequest {
			res := a.Resource
			if a.APIGroup != "" {
				res += "." + a.APIGroup
			}
			if a.Subresource != "" {
				res += "/" + a.Subresource
			}
			args = append(args, res)
			if a.Name != "" {
				args = append(args, a.Name)
			}
			if a.Namespace == "" {
				args = append(args, "-A")
			} else {
				args = append(args, "-n", a.Namespace)
			}
		} else {
			args = append(args, a.Path)
		}
		if ns, name, ok := rbac.ParseServiceAccountUsername(r.User.Name); ok {
			args = append(args, "--as-sa", ns+":"+name)
		} else {
			args = append(args, "--as", r.User.Name)
		}
		for _, g := range r.User.Groups {
			args = append(args, "--as-group", g)
		}
		args = append(args, "--with-defaults", "-o", "json", "-f", w.dir)
		var stdout, stderr bytes.Buffer
		code := cli.Run(ctx, args, cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
		var out struct {
			Allowed bool            `json:"allowed"`
			User    rbac.User       `json:"user"`
			Request rbac.Attributes `json:"request"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || stderr.Len() > 0 {
			return fmt.Errorf("kubeguard %s: exit %d, %v\n%s%s", strings.Join(args, " "), code, err, stdout.Bytes(), stderr.Bytes())
		}
		want := a
		if out.Request.Namespace != a.Namespace && (out.Request.Namespace == "" || a.Resource == "namespaces" && out.Request.Namespace == a.Name) {
			want.Namespace = out.Request.Namespace // cluster-scoped, or a namespace itself
		}
		var bad []string
		if diff := cmp.Diff(want, out.Request); diff != "" {
			bad = append(bad, "request (-intended +cli):\n"+diff)
		}
		if diff := cmp.Diff(r.User, out.User, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			bad = append(bad, "user (-intended +cli):\n"+diff)
		}
		st, err := review(ctx, out.User, out.Request)
		if err != nil {
			return err
		}
		wantCode := cli.ExitFindings
		if st.Allowed {
			wantCode = cli.ExitOK
		}
		if out.Allowed != st.Allowed || code != wantCode {
			bad = append(bad, fmt.Sprintf("kubeguard allowed=%v exit %d, server allowed=%v (%s)", out.Allowed, code, st.Allowed, st.Reason))
		}
		mu.Lock()
		defer mu.Unlock()
		if out.Allowed {
			yes++
		} else {
			no++
		}
		if len(bad) > 0 {
			t.Errorf("kubeguard %s:\n  %s", strings.Join(args, " "), strings.Join(bad, "\n  "))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d CLI runs: %d yes, %d no, all as the server answers", len(reqs), yes, no)
}
