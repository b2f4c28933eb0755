package rbac

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	rbacv1 "k8s.io/api/rbac/v1"
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

	// id numbers the probe names densely (several probes share one);
	// csrPart is 1, 2 or 3 for the parts of issuing certificates. Both
	// are set by numberProbes.
	id, csrPart int
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
	probeUpdateRB        = "update rolebindings"
	probeAttach          = "attach to pods"
	probeEphemeral       = "add ephemeral containers to pods"
	probeUpdatePods      = "change running pods"
	probeCreateSecrets   = "create secrets"
	probeMutating        = "write mutating admission webhooks"
	probeNamespaces      = "modify namespaces"
	probePV              = "create persistentvolumes"
	probePVC             = "create persistentvolumeclaims"
)

var probes = []probe{
	{name: probeSecrets, check: &SecretsRead, verbs: []string{"get", "list", "watch"}, resources: []string{"secrets"}},
	{name: probePods, check: &WorkloadCreate, verbs: []string{"create"}, resources: []string{"pods"}},
	{name: probeControllers, check: &WorkloadCreate, verbs: []string{"create", "update", "patch"}, resources: []string{"replicationcontrollers"}},
	{name: probeControllers, check: &WorkloadCreate, verbs: []string{"create", "update", "patch"}, group: "apps",
		resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}},
	{name: probeControllers, check: &WorkloadCreate, verbs: []string{"create", "update", "patch"}, group: "batch",
		resources: []string{"jobs", "cronjobs"}},
	{name: probePV, check: &PersistentVolumeCreate, verbs: []string{"create"}, resources: []string{"persistentvolumes"}, cluster: true},
	{name: probeNodesProxy, check: &NodesProxy, verbs: []string{"get", "create"}, resources: []string{"nodes/proxy"}, cluster: true},
	{name: probeEscalateRoles, check: &EscalateVerb, verbs: []string{"escalate"}, group: rbacGroup, resources: []string{"roles"}},
	{name: probeEscalateCluster, check: &EscalateVerb, verbs: []string{"escalate"}, group: rbacGroup, resources: []string{"clusterroles"}, cluster: true},
	// bind is checked in the namespace of a RoleBinding for the Role or
	// ClusterRole it refers to, cluster-wide for a ClusterRoleBinding.
	{name: probeBind, check: &BindVerb, verbs: []string{"bind"}, group: rbacGroup, resources: []string{"roles", "clusterroles"}},
	{name: probeImpUsers, check: &Impersonate, verbs: []string{"impersonate"}, resources: []string{"users"}, cluster: true},
	{name: probeImpGroups, check: &Impersonate, verbs: []string{"impersonate"}, resources: []string{"groups"}, cluster: true},
	{name: probeImpSAs, check: &Impersonate, verbs: []string{"impersonate"}, resources: []string{"serviceaccounts"}},
	{name: "impersonate uids and user extras", check: &Impersonate, verbs: []string{"impersonate"}, group: "authentication.k8s.io",
		resources: []string{"uids", "userextras/*"}, cluster: true},
	{name: probeTokens, check: &TokenRequest, verbs: []string{"create"}, resources: []string{"serviceaccounts/token"}},
	{name: "write admission webhook configurations", check: &AdmissionWebhookWrite,
		verbs: []string{"create", "update", "patch", "delete", "deletecollection"}, group: "admissionregistration.k8s.io",
		resources: []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}, cluster: true},
	{name: probeNamespaces, check: &NamespaceModify, verbs: []string{"update", "patch"}, resources: []string{"namespaces"}},
	{name: probeCSRCreate, verbs: []string{"create"}, group: "certificates.k8s.io", resources: []string{"certificatesigningrequests"}, cluster: true},
	{name: probeCSRApproval, verbs: []string{"update", "patch"}, group: "certificates.k8s.io", resources: []string{"certificatesigningrequests/approval"}, cluster: true},
	{name: probeCSRApprove, verbs: []string{"approve"}, group: "certificates.k8s.io", resources: []string{"signers"}, cluster: true,
		names: []string{"kubernetes.io/kube-apiserver-client", "kubernetes.io/*"}},
	// Over WebSocket, kubectl's transport since v1.31, the API server
	// authorized exec with get until v1.35 made it ask for create too
	// (feature gate AuthorizePodWebsocketUpgradeCreatePermission, on by
	// default): either verb execs on the clusters people run.
	{name: probeExec, check: &PodExec, verbs: []string{"create", "get"}, resources: []string{"pods/exec"}},
	// attach, like exec, was authorized with get over WebSocket before
	// v1.35.
	{name: probeAttach, check: &PodExec, verbs: []string{"create", "get"}, resources: []string{"pods/attach"}},
	// An ephemeral container joins a running pod and may mount its
	// volumes, the ServiceAccount token's among them.
	{name: probeEphemeral, check: &PodExec, verbs: []string{"update", "patch"}, resources: []string{"pods/ephemeralcontainers"}},
	// A running pod's container images are the one part of its spec an
	// update may change: the new image runs with the pod's token.
	{name: probeUpdatePods, check: &PodExec, verbs: []string{"update", "patch"}, resources: []string{"pods"}},
	// Creating a Secret of type kubernetes.io/service-account-token makes
	// the token controller write a token of the ServiceAccount it names
	// into it: with read access to Secrets, a token of any ServiceAccount
	// of the namespace (reported with read access, in risks).
	{name: probeCreateSecrets, verbs: []string{"create"}, resources: []string{"secrets"}},
	{name: probeMutating, verbs: []string{"create", "update", "patch"}, group: "admissionregistration.k8s.io",
		resources: []string{"mutatingwebhookconfigurations"}, cluster: true},
	{name: probePVC, verbs: []string{"create"}, resources: []string{"persistentvolumeclaims"}},
	{name: probeCreateCRB, verbs: []string{"create"}, group: rbacGroup, resources: []string{"clusterrolebindings"}, cluster: true},
	{name: probeCreateRB, verbs: []string{"create"}, group: rbacGroup, resources: []string{"rolebindings"}},
	// Updating a RoleBinding adds subjects to the role it already grants
	// (roleRef cannot change), given bind on that role.
	{name: probeUpdateRB, verbs: []string{"update", "patch"}, group: rbacGroup, resources: []string{"rolebindings"}},
	{name: probeWriteCR, verbs: []string{"update", "patch"}, group: rbacGroup, resources: []string{"clusterroles"}, cluster: true},
	{name: probeWriteRoles, verbs: []string{"update", "patch"}, group: rbacGroup, resources: []string{"roles"}},
}

// hit is one rule of a role that grants (part of) a probe.
type hit struct {
	probe     *probe
	order     int // the probe's index in probes
	rule      int
	verbs     []string
	resources []string
	// names are the rule's resourceNames: the permission holds for those
	// only; empty means every name.
	names []string
}

// probeNames is the number of probe names; numbering them lets the
// analysis index by slice, not by map.
var probeNames = numberProbes()

func numberProbes() int {
	ids := map[string]int{}
	for i := range probes {
		p := &probes[i]
		id, ok := ids[p.name]
		if !ok {
			id = len(ids)
			ids[p.name] = id
		}
		p.id = id
		p.csrPart = 1 + slices.Index([]string{probeCSRCreate, probeCSRApproval, probeCSRApprove}, p.name)
	}
	return len(ids)
}

// probesByGroup indexes the probes by API group, as a set of their
// indexes in probes, so that a rule is tested only against the probes of
// its groups, in probe order.
var probesByGroup = func() map[string]uint64 {
	if len(probes) > 64 {
		panic("rbac: more probes than a probe set holds")
	}
	m := map[string]uint64{}
	for i := range probes {
		m[probes[i].group] |= 1 << i
	}
	return m
}()

// roleHits evaluates every probe against a role's rules; the hits are in
// probe order, then rule order.
func roleHits(r *Role) []hit {
	var out []hit
	for i := range r.Rules {
		out = ruleHits(out, &r.Rules[i], i)
	}
	return sortHits(out)
}

// sortHits puts hits appended rule by rule in probe order, then rule
// order.
func sortHits(hits []hit) []hit {
	slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(a.order, b.order) })
	return hits
}

// ruleHits appends the hits of rule i, in probe order.
func ruleHits(out []hit, rule *rbacv1.PolicyRule, i int) []hit {
	if len(rule.Resources) == 0 {
		return out
	}
	var cand uint64
	for _, g := range rule.APIGroups {
		if g == rbacv1.APIGroupAll {
			cand = 1<<len(probes) - 1
			break
		}
		cand |= probesByGroup[g]
	}
	for ; cand != 0; cand &= cand - 1 {
		if h, ok := probeHit(bits.TrailingZeros64(cand), rule, i); ok {
			out = append(out, h)
		}
	}
	return out
}

// aggregatedHits are roleHits of an aggregated role, the hits of each
// rule copied from written, the hits of the roles that are not aggregated,
// when the rule comes from one of them: those roles' rules are the ones
// they write, while an aggregated source may have been rewritten since.
func aggregatedHits(r *Role, written map[*Role][]hit) []hit {
	var out []hit
	for j, src := range r.Sources {
		hs, ok := written[src.Role]
		if !ok || src.Role.Aggregated() {
			out = ruleHits(out, &r.Rules[j], j)
			continue
		}
		for _, h := range hs {
			if h.rule == src.Index {
				h.rule = j
				out = append(out, h)
			}
		}
	}
	return sortHits(out)
}

// probeHit evaluates one probe against rule i.
func probeHit(pi int, rule *rbacv1.PolicyRule, i int) (hit, bool) {
	pr := &probes[pi]
	if len(pr.names) > 0 && len(rule.ResourceNames) > 0 && !slices.ContainsFunc(rule.ResourceNames, func(n string) bool { return slices.Contains(pr.names, n) }) {
		return hit{}, false
	}
	h := hit{probe: pr, order: pi, rule: i, names: rule.ResourceNames}
	for _, res := range pr.resources {
		if !coversResource(rule, res) {
			continue
		}
		for _, v := range pr.verbs {
			// A create request names no object (the name is in the body,
			// not the URL): a rule limited to names never allows it, but on
			// a subresource of a named object (pods/exec).
			if v == "create" && len(rule.ResourceNames) > 0 && !strings.Contains(res, "/") {
				continue
			}
			if verbMatches(rule, v) {
				if !slices.Contains(h.verbs, v) {
					h.verbs = append(h.verbs, v)
				}
				if !slices.Contains(h.resources, res) {
					h.resources = append(h.resources, res)
				}
			}
		}
	}
	return h, len(h.verbs) > 0
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

// analysis memoizes per-role and per-identity evaluation across
// questions. It is not safe for concurrent use: each goroutine of an
// analysis has its own, sharing one roleTable. Everything it memoizes is a
// pure function of the policy, so analyses that split the work give the
// results of one that does it all.
type analysis struct {
	p     *Policy
	roles *roleTable
	// caps holds bindingCaps by binding (its seq) for the subject first
	// asked about, others in capsOther.
	caps      [][]capability
	capsSubj  []int
	capsOther map[subjectRef][]capability
	powers    map[Identity]powers
	rules     map[ruleRef]string // a grant of a rule as grantDetail renders it, but the binding
	names     map[*Binding]string
	reach     *reach // set for the risks
}

// ruleRef is rule i of a role.
type ruleRef struct {
	r *Role
	i int
}

func newAnalysis(p *Policy, roles *roleTable) *analysis {
	return &analysis{p: p, roles: roles,
		caps: make([][]capability, len(p.Bindings)), capsSubj: make([]int, len(p.Bindings)), capsOther: map[subjectRef][]capability{},
		powers: map[Identity]powers{}, rules: map[ruleRef]string{}, names: map[*Binding]string{}}
}

// roleTable is what the analysis asks of every role a binding grants: the
// probes its rules hit and its cluster-admin rule. It is computed once for a policy, on
// every core, and only read afterwards, by the analyses of every
// goroutine.
type roleTable struct {
	hits  map[*Role][]hit
	super map[*Role]int // index+1 of the super rule, 0 when none
}

func newRoleTable(p *Policy, workers int) *roleTable {
	// The roles bindings grant, the analysis asks of no other, and the
	// roles their aggregated rules come from: aggregated roles hold most
	// of the rules bound (32,000 of 52,000 in BenchmarkRisks's cluster),
	// each the copy of a rule whose hits are then evaluated once.
	var roles, agg []*Role
	seen := map[*Role]bool{}
	add := func(r *Role) {
		if !seen[r] {
			seen[r] = true
			if r.Aggregated() {
				agg = append(agg, r)
			} else {
				roles = append(roles, r)
			}
		}
	}
	for _, b := range p.Bindings {
		if b.role != nil {
			add(b.role)
		}
	}
	for _, r := range agg {
		for _, src := range r.Sources {
			if !src.Role.Aggregated() {
				add(src.Role)
			}
		}
	}
	t := &roleTable{hits: make(map[*Role][]hit, len(roles)+len(agg)), super: make(map[*Role]int, len(roles)+len(agg))}
	fill := func(roles []*Role, hitsOf func(*Role) []hit) {
		hits := make([][]hit, len(roles))
		super := make([]int, len(roles))
		// Aggregated roles are few and large: small chunks spread them
		// over the workers.
		chunk := max(1, min(256, len(roles)/(8*workerCount(workers))))
		forEach(chunks(len(roles), chunk), workers, func(_, c int) {
			for i := c * chunk; i < min(len(roles), (c+1)*chunk); i++ {
				hits[i] = hitsOf(roles[i])
				if j, ok := superRole(roles[i]); ok {
					super[i] = j + 1
				}
			}
		})
		for i, r := range roles {
			t.hits[r], t.super[r] = hits[i], super[i]
		}
	}
	fill(roles, roleHits)
	fill(agg, func(r *Role) []hit { return aggregatedHits(r, t.hits) })
	return t
}

// powersOf is what a member of the subject can do, computed once per
// subject.
func (an *analysis) powersOf(id Identity) powers {
	pw, ok := an.powers[id]
	if !ok {
		pw = an.userPowers(id.User())
		an.powers[id] = pw
	}
	return pw
}

// roleHits are the probes a role's rules hit. Every role a binding
// resolves to is in the table; another is evaluated again each time.
func (an *analysis) roleHits(r *Role) []hit {
	if h, ok := an.roles.hits[r]; ok {
		return h
	}
	return roleHits(r)
}

func (an *analysis) superRule(r *Role) (int, bool) {
	v, ok := an.roles.super[r]
	if !ok {
		i, is := superRole(r)
		return i, is
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
	if c := an.caps[b.seq]; c != nil && an.capsSubj[b.seq] == subject {
		return c
	} else if c != nil {
		if c, ok := an.capsOther[k]; ok {
			return c
		}
	}
	out := []capability{}
	defer func() {
		if an.caps[b.seq] == nil {
			an.caps[b.seq], an.capsSubj[b.seq] = out, subject
		} else {
			an.capsOther[k] = out
		}
	}()
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

func (an *analysis) userPowers(u User) powers {
	pw := powers{an: an, masters: slices.Contains(u.Groups, SystemMasters)}
	pw.refs = an.p.candidates(u, func(b *Binding) bool { return b.role != nil })
	for _, c := range pw.refs {
		if i, ok := an.superRule(c.b.role); ok && c.b.Cluster() {
			pw.super = &Grant{Binding: c.b, Subject: c.i, Role: c.b.role, Rule: i}
			break
		}
	}
	return pw
}

// all yields every risky permission held, binding by binding. The
// capabilities yielded stay valid: they are the analysis's own.
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
	var parts [3]*capability
	found := 0
	for c := range pw.all {
		if c.namespace != "" || c.probe.csrPart == 0 {
			continue
		}
		if i := c.probe.csrPart - 1; parts[i] == nil {
			parts[i] = c
			if found++; found == len(parts) {
				return []capability{*parts[0], *parts[1], *parts[2]}
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
