package rbac

import (
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	rbacchecks "github.com/kubeguard/kubeguard/internal/checks/rbac"
)

// A probe is a kind of risky permission: verbs on resources of one group.
type probe struct {
	name string // what it allows, for people: "create pods"
	// check reports the permission; nil for those only the escalation
	// graph uses (pods/exec).
	check     *check.Check
	verbs     []string
	group     string
	resources []string // "res" or "res/sub"; "res/*" is any subresource
	// cluster marks cluster-scoped resources: only a ClusterRoleBinding
	// grants them.
	cluster bool
	// names, when set, is the resource names that make the permission
	// risky; a rule limited to other names does not count.
	names []string
}

// Probe names the analysis keys on.
const (
	probeSecrets         = "read secrets"
	probePods            = "create pods"
	probeControllers     = "create or change pod controllers"
	probeBind            = "bind roles"
	probeEscalateRoles   = "escalate roles"
	probeEscalateCluster = "escalate clusterroles"
	probeImpUsers        = "impersonate users"
	probeImpGroups       = "impersonate groups"
	probeImpSAs          = "impersonate serviceaccounts"
	probeTokens          = "create serviceaccount tokens"
	probeCSRCreate       = "create certificatesigningrequests"
	probeCSRApproval     = "update certificatesigningrequests/approval"
	probeCSRApprove      = "approve kube-apiserver-client certificates"
	probeExec            = "exec into pods"
	probeNodesProxy      = "reach the kubelet API (nodes/proxy)"
	probeCreateCRB       = "create clusterrolebindings"
	probeCreateRB        = "create rolebindings"
	probeWriteCR         = "update clusterroles"
	probeWriteRoles      = "update roles"
)

var probes = []probe{
	{name: probeSecrets, check: &rbacchecks.SecretsRead, verbs: []string{"get", "list", "watch"}, resources: []string{"secrets"}},
	{name: probePods, check: &rbacchecks.WorkloadCreate, verbs: []string{"create"}, resources: []string{"pods"}},
	{name: probeControllers, check: &rbacchecks.WorkloadCreate, verbs: []string{"create", "update", "patch"}, resources: []string{"replicationcontrollers"}},
	{name: probeControllers, check: &rbacchecks.WorkloadCreate, verbs: []string{"create", "update", "patch"}, group: "apps",
		resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}},
	{name: probeControllers, check: &rbacchecks.WorkloadCreate, verbs: []string{"create", "update", "patch"}, group: "batch",
		resources: []string{"jobs", "cronjobs"}},
	{name: "create persistentvolumes", check: &rbacchecks.PersistentVolumeCreate, verbs: []string{"create"}, resources: []string{"persistentvolumes"}, cluster: true},
	{name: probeNodesProxy, check: &rbacchecks.NodesProxy, verbs: []string{"get", "create"}, resources: []string{"nodes/proxy"}, cluster: true},
	{name: probeEscalateRoles, check: &rbacchecks.EscalateVerb, verbs: []string{"escalate"}, group: rbacGroup, resources: []string{"roles"}},
	{name: probeEscalateCluster, check: &rbacchecks.EscalateVerb, verbs: []string{"escalate"}, group: rbacGroup, resources: []string{"clusterroles"}, cluster: true},
	// bind is checked in the namespace of a RoleBinding for the Role or
	// ClusterRole it refers to, cluster-wide for a ClusterRoleBinding.
	{name: probeBind, check: &rbacchecks.BindVerb, verbs: []string{"bind"}, group: rbacGroup, resources: []string{"roles", "clusterroles"}},
	{name: probeImpUsers, check: &rbacchecks.Impersonate, verbs: []string{"impersonate"}, resources: []string{"users"}, cluster: true},
	{name: probeImpGroups, check: &rbacchecks.Impersonate, verbs: []string{"impersonate"}, resources: []string{"groups"}, cluster: true},
	{name: probeImpSAs, check: &rbacchecks.Impersonate, verbs: []string{"impersonate"}, resources: []string{"serviceaccounts"}},
	{name: "impersonate uids and user extras", check: &rbacchecks.Impersonate, verbs: []string{"impersonate"}, group: "authentication.k8s.io",
		resources: []string{"uids", "userextras/*"}, cluster: true},
	{name: probeTokens, check: &rbacchecks.TokenRequest, verbs: []string{"create"}, resources: []string{"serviceaccounts/token"}},
	{name: "write admission webhook configurations", check: &rbacchecks.AdmissionWebhookWrite,
		verbs: []string{"create", "update", "patch", "delete", "deletecollection"}, group: "admissionregistration.k8s.io",
		resources: []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}, cluster: true},
	{name: "modify namespaces", check: &rbacchecks.NamespaceModify, verbs: []string{"update", "patch"}, resources: []string{"namespaces"}},
	{name: probeCSRCreate, verbs: []string{"create"}, group: "certificates.k8s.io", resources: []string{"certificatesigningrequests"}, cluster: true},
	{name: probeCSRApproval, verbs: []string{"update"}, group: "certificates.k8s.io", resources: []string{"certificatesigningrequests/approval"}, cluster: true},
	{name: probeCSRApprove, verbs: []string{"approve"}, group: "certificates.k8s.io", resources: []string{"signers"}, cluster: true,
		names: []string{"kubernetes.io/kube-apiserver-client", "kubernetes.io/*"}},
	{name: probeExec, verbs: []string{"create"}, resources: []string{"pods/exec"}},
	{name: probeCreateCRB, verbs: []string{"create"}, group: rbacGroup, resources: []string{"clusterrolebindings"}, cluster: true},
	{name: probeCreateRB, verbs: []string{"create"}, group: rbacGroup, resources: []string{"rolebindings"}},
	{name: probeWriteCR, verbs: []string{"update", "patch"}, group: rbacGroup, resources: []string{"clusterroles"}, cluster: true},
	{name: probeWriteRoles, verbs: []string{"update", "patch"}, group: rbacGroup, resources: []string{"roles"}},
}

// hit is one rule of a role that grants (part of) a probe.
type hit struct {
	probe     *probe
	rule      int
	verbs     []string
	resources []string
	// names are the rule's resourceNames: the permission holds for those
	// only; empty means every name.
	names []string
}

// roleHits evaluates every probe against a role's rules.
func roleHits(r *Role) []hit {
	var out []hit
	for pi := range probes {
		pr := &probes[pi]
		for i := range r.Rules {
			rule := &r.Rules[i]
			if len(pr.names) > 0 && len(rule.ResourceNames) > 0 && !slices.ContainsFunc(rule.ResourceNames, func(n string) bool { return slices.Contains(pr.names, n) }) {
				continue
			}
			h := hit{probe: pr, rule: i, names: rule.ResourceNames}
			for _, res := range pr.resources {
				for _, v := range pr.verbs {
					if covers(rule, v, pr.group, res) {
						if !slices.Contains(h.verbs, v) {
							h.verbs = append(h.verbs, v)
						}
						if !slices.Contains(h.resources, res) {
							h.resources = append(h.resources, res)
						}
					}
				}
			}
			if len(h.verbs) > 0 {
				out = append(out, h)
			}
		}
	}
	return out
}

// superRole reports whether a role holds cluster-admin's rule, and which.
func superRole(r *Role) (int, bool) {
	for i := range r.Rules {
		if superRule(&r.Rules[i]) {
			return i, true
		}
	}
	return 0, false
}

// capability is a risky permission an identity holds through one grant.
type capability struct {
	hit
	grant Grant
	// namespace is where it applies; empty for cluster-wide.
	namespace string
}

func (c capability) describe() string {
	s := strings.Join(c.verbs, "/") + " " + strings.Join(c.resources, ", ")
	if c.probe.group != "" {
		s += " (" + c.probe.group + ")"
	}
	if len(c.names) > 0 {
		s += " named " + strings.Join(c.names, ", ")
	}
	if c.namespace != "" {
		return s + " in namespace " + c.namespace
	}
	return s + " cluster-wide"
}

// analysis memoizes per-role evaluation across questions.
type analysis struct {
	p     *Policy
	hits  map[*Role][]hit
	super map[*Role]int // index+1 of the super rule, 0 when none
	caps  map[subjectRef][]capability
}

func newAnalysis(p *Policy) *analysis {
	return &analysis{p: p, hits: map[*Role][]hit{}, super: map[*Role]int{}, caps: map[subjectRef][]capability{}}
}

func (an *analysis) roleHits(r *Role) []hit {
	h, ok := an.hits[r]
	if !ok {
		h = roleHits(r)
		an.hits[r] = h
	}
	return h
}

func (an *analysis) superRule(r *Role) (int, bool) {
	v, ok := an.super[r]
	if !ok {
		if i, is := superRole(r); is {
			v = i + 1
		}
		an.super[r] = v
	}
	return v - 1, v > 0
}

// bindingCaps are the risky permissions a binding grants where it
// applies, through one of its subjects. The slice is shared.
func (an *analysis) bindingCaps(b *Binding, subject int) []capability {
	if b.role == nil {
		return nil
	}
	k := subjectRef{b, subject}
	if c, ok := an.caps[k]; ok {
		return c
	}
	out := []capability{}
	defer func() { an.caps[k] = out }()
	for _, h := range an.roleHits(b.role) {
		if h.probe.cluster && !b.Cluster() {
			continue
		}
		out = append(out, capability{hit: h, grant: Grant{Binding: b, Subject: subject, Role: b.role, Rule: h.rule}, namespace: b.Namespace})
	}
	return out
}

// powers is what an identity can do, in every namespace.
type powers struct {
	an *analysis
	// refs are the bindings that apply, through the subject that applies.
	refs []subjectRef
	// super is a grant of cluster-admin's rule through a
	// ClusterRoleBinding, nil when none.
	super *Grant
	// masters is set for members of system:masters.
	masters bool
}

func (an *analysis) powers(u User) powers {
	pw := powers{an: an, masters: slices.Contains(u.Groups, SystemMasters)}
	for _, c := range an.p.candidates(u, func(*Binding) bool { return true }) {
		if c.b.role == nil {
			continue
		}
		if i, ok := an.superRule(c.b.role); ok && c.b.Cluster() && pw.super == nil {
			pw.super = &Grant{Binding: c.b, Subject: c.i, Role: c.b.role, Rule: i}
		}
		pw.refs = append(pw.refs, c)
	}
	return pw
}

// all yields every risky permission held, binding by binding.
func (pw powers) all(yield func(*capability) bool) {
	for _, r := range pw.refs {
		caps := pw.an.bindingCaps(r.b, r.i)
		for i := range caps {
			if !yield(&caps[i]) {
				return
			}
		}
	}
}

// find returns the capabilities of a probe name, cluster-wide ones only
// when cluster is set.
func (pw powers) find(name string, cluster bool) []capability {
	var out []capability
	for c := range pw.all {
		if c.probe.name == name && (!cluster || c.namespace == "") {
			out = append(out, *c)
		}
	}
	return out
}

// csr returns the three grants that together issue client certificates,
// or nil.
func (pw powers) csr() []capability {
	parts := []string{probeCSRCreate, probeCSRApproval, probeCSRApprove}
	out := make([]capability, len(parts))
	found := 0
	for c := range pw.all {
		if c.namespace != "" {
			continue
		}
		if i := slices.Index(parts, c.probe.name); i >= 0 && out[i].probe == nil {
			out[i] = *c
			if found++; found == len(parts) {
				return out
			}
		}
	}
	return nil
}

// allows reports whether a capability's names include name (every name
// when the rule names none).
func (c capability) allows(name string) bool {
	return len(c.names) == 0 || slices.Contains(c.names, name)
}
