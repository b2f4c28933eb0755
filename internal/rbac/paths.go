package rbac

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Step is one move of an escalation chain: From uses a permission to act
// as To, or, on the last step (To nil), to hold cluster-admin power.
type Step struct {
	From   Identity
	To     *Identity
	Action string
	Grants []Grant
}

// Chain is the shortest way a subject reaches cluster-admin-equivalent
// power.
type Chain struct {
	Subject Identity
	Steps   []Step
}

// Paths finds, for every subject of the input's own bindings that is not
// one of the cluster's (system:* users and groups, kube-system
// ServiceAccounts), the shortest chain of identities it can take over that
// ends in cluster-admin-equivalent power. Power is cluster-admin's rule
// through a ClusterRoleBinding, membership of system:masters, issuing
// client certificates, binding cluster-admin or escalating a ClusterRole.
// Moves are:
//
//   - create pods or pod controllers in a namespace: every ServiceAccount
//     there (binding or escalating roles in a namespace leads there too);
//   - impersonate: the users, groups and ServiceAccounts allowed;
//   - read Secrets: the ServiceAccount of each legacy token Secret in the
//     input;
//   - create serviceaccounts/token: those ServiceAccounts;
//   - create or get pods/exec (get suffices over WebSocket before
//     Kubernetes v1.35): the ServiceAccounts of the input's Pods and
//     workloads there that mount their token;
//   - nodes/proxy: the ServiceAccounts of every such Pod on the nodes.
//
// Subjects with no chain are left out. Chains are sorted by subject.
//
// Paths spells every chain out, which grows with the sum of their lengths:
// Hops is the form whose size grows with the identities only.
func Paths(p *Policy) []Chain { return Chains(hops(p, 0)) }

// Hop is an identity's first move on its shortest chain to
// cluster-admin-equivalent power; following Step.To from hop to hop spells
// the chain out.
type Hop struct {
	Subject Identity
	// Start marks a subject of the input's bindings; the others are
	// identities on their chains.
	Start bool
	// Distance is the number of moves to power, this one included.
	Distance int
	Step     Step
}

// Hops finds the starts Paths does, and reports, for each start that has
// a chain and each identity on those chains, its next move and its
// distance to power, every identity once: a start's hop, then the hops of
// its chain not reported before. Starts come sorted.
func Hops(p *Policy) []Hop { return hops(p, 0) }

// Chains spells out the chain of every start of hops.
func Chains(hops []Hop) []Chain {
	by := make(map[Identity]*Hop, len(hops))
	for i := range hops {
		by[hops[i].Subject] = &hops[i]
	}
	var out []Chain
	for _, h := range hops {
		if !h.Start {
			continue
		}
		c := Chain{Subject: h.Subject}
		for x := &h; x != nil; {
			c.Steps = append(c.Steps, x.Step)
			if x.Step.To == nil {
				break
			}
			x = by[*x.Step.To]
		}
		out = append(out, c)
	}
	return out
}

// pathStarts are the subjects of the input's bindings a chain may start
// from: every one but the cluster's own users and ServiceAccounts
// (system:* users, kube-system ServiceAccounts) and system:masters. Groups
// are starts, system:authenticated and system:serviceaccounts:<ns>
// included: a route one holds is a route for each of its members.
func pathStarts(p *Policy) []Identity {
	var out []Identity
	seen := map[Identity]bool{}
	for _, b := range p.Bindings {
		if b.Default {
			continue
		}
		for i := range b.Subjects {
			id, ok := b.Identity(i)
			if !ok || seen[id] || id.Kind == rbacv1.GroupKind && id.Name == SystemMasters || id.Kind != rbacv1.GroupKind && id.System() {
				continue
			}
			seen[id] = true
			out = append(out, id)
		}
	}
	slices.SortFunc(out, compareIdentity)
	return out
}

// hops finds the hops on up to workers goroutines (every core when
// workers <= 0).
func hops(p *Policy, workers int) []Hop {
	return newGraph(p, workers).hops(pathStarts(p))
}

// paths finds the chains on up to workers goroutines.
func paths(p *Policy, workers int) []Chain { return Chains(hops(p, workers)) }

func compareIdentity(a, b Identity) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

type node struct {
	id       Identity
	order    int // position in graph.order
	terminal *Step
	edges    []edge
	// spread are the moves to every ServiceAccount of a namespace (or of
	// all): one each, however many ServiceAccounts, so that a subject
	// that may create pods everywhere does not make an edge to each.
	spread []spread
	// groups are the moves to each ServiceAccount of a shared list of
	// running pods or token Secrets, one each, for the same reason.
	groups []group
}

// edge is a move to one identity; seq orders a node's moves, edges and
// spread alike, in the order expand found them.
type edge struct {
	step Step
	seq  int
}

// spread is a move to each ServiceAccount of namespace ns, of every
// namespace when ns is empty; action renders it for one of them.
type spread struct {
	ns     string
	seq    int
	action func(sa Identity) string
	grants []Grant
}

// step is the move to sa.
func (s *spread) step(from, sa Identity) Step {
	return Step{From: from, To: &sa, Action: s.action(sa), Grants: s.grants}
}

// group is a move to each ServiceAccount of a shared list that no move
// found before reaches; action renders it for one of them.
type group struct {
	t      *targets
	seq    int
	action func(t *target) string
	grants []Grant
}

// step is the move to sa, one of the list's.
func (gr *group) step(from, sa Identity) Step {
	t := &gr.t.list[gr.t.at[sa]]
	return Step{From: from, To: &t.sa, Action: gr.action(t), Grants: gr.grants}
}

type graph struct {
	p       *Policy
	ans     *analyses
	workers int
	sas     map[string][]Identity // by namespace, sorted
	allSAs  []Identity
	saObj   map[Identity]*ServiceAccount
	saNamed map[string][]Identity // the ServiceAccounts of allSAs by name
	reach   *reachIndex
	users   []Identity
	groups  []Identity
	nodes   map[Identity]*node
	order   []*node
	// open is the namespace cluster-wide pod creation escapes from: the
	// first whose Pod Security level allows it, else kube-system.
	open string
	// roles are the Roles by namespace, built on first use.
	rolesOnce sync.Once
	roles     map[string][]*Role
	// podByNS and podAll are podBindings, built on first use.
	podOnce sync.Once
	podByNS map[string][]*Binding
	podAll  []*Binding
}

func newGraph(p *Policy, workers int) *graph { return newGraphOf(newAnalyses(p, workers), workers) }

// newGraphOf makes the graph of the analyses' policy, with their role
// table.
func newGraphOf(ans *analyses, workers int) *graph {
	p := ans.p
	g := &graph{p: p, ans: ans, workers: workers, sas: map[string][]Identity{}, nodes: map[Identity]*node{}}
	seen := map[Identity]bool{}
	addSA := func(ns, name string) {
		id := Identity{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
		if !seen[id] {
			seen[id] = true
			g.sas[ns] = append(g.sas[ns], id)
		}
	}
	for _, ns := range p.Namespaces {
		addSA(ns, "default")
	}
	g.saObj = map[Identity]*ServiceAccount{}
	for _, sa := range p.ServiceAccounts {
		addSA(sa.Namespace, sa.Name)
		g.saObj[Identity{Kind: rbacv1.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name}] = sa
	}
	for _, w := range p.Workloads {
		addSA(w.Namespace, w.ServiceAccount)
	}
	for _, s := range p.TokenSecrets {
		if s.ServiceAccount != "" {
			addSA(s.Namespace, s.ServiceAccount)
		}
	}
	g.groups = append(g.groups, Identity{Kind: rbacv1.GroupKind, Name: SystemMasters})
	seen[g.groups[0]] = true
	for _, b := range p.Bindings {
		for i := range b.Subjects {
			id, ok := b.Identity(i)
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			switch id.Kind {
			case rbacv1.ServiceAccountKind:
				g.sas[id.Namespace] = append(g.sas[id.Namespace], id)
			case rbacv1.UserKind:
				g.users = append(g.users, id)
			case rbacv1.GroupKind:
				g.groups = append(g.groups, id)
			}
		}
	}
	for _, l := range g.sas {
		slices.SortFunc(l, compareIdentity)
	}
	slices.SortFunc(g.users, compareIdentity)
	slices.SortFunc(g.groups[1:], compareIdentity)
	for _, n := range slices.Sorted(maps.Keys(g.sas)) {
		g.allSAs = append(g.allSAs, g.sas[n]...)
	}
	g.saNamed = map[string][]Identity{}
	for _, sa := range g.allSAs {
		g.saNamed[sa.Name] = append(g.saNamed[sa.Name], sa)
	}
	g.reach = newReachIndex(p, g.mounts)
	g.open = "kube-system"
	for _, ns := range p.Namespaces {
		if l, ok := p.PodSecurity[ns]; ok && (l == "" || l == "privileged") {
			g.open = ns
			break
		}
	}
	return g
}

// serviceAccounts are the known ServiceAccounts of a namespace, of every
// namespace when ns is empty.
func (g *graph) serviceAccounts(ns string) []Identity {
	if ns != "" {
		return g.sas[ns]
	}
	return g.allSAs
}

// namedSAs are the known ServiceAccounts of namespace ns (of every
// namespace when ns is empty) of the names given, sorted.
func (g *graph) namedSAs(ns string, names []string) []Identity {
	var out []Identity
	for _, n := range slices.Compact(slices.Sorted(slices.Values(names))) {
		for _, sa := range g.saNamed[n] {
			if ns == "" || sa.Namespace == ns {
				out = append(out, sa)
			}
		}
	}
	slices.SortFunc(out, compareIdentity)
	return out
}

func where(ns string) string {
	if ns == "" {
		return "in every namespace"
	}
	return "in namespace " + ns
}

func grantsOf(cs ...capability) []Grant {
	out := make([]Grant, len(cs))
	for i, c := range cs {
		out[i] = c.grant
	}
	return out
}

// expand computes a node's moves. It reads the graph and writes only the
// node, so that nodes expand on several goroutines, each with its own
// analysis.
func (g *graph) expand(an *analysis, n *node) {
	id := n.id
	m := &mover{n: n, targets: map[Identity]bool{}}
	if id.Kind == KindNode {
		g.fromNode(m)
		return
	}
	pw := an.powersOf(id)
	final := func(action string, gs ...Grant) {
		if n.terminal == nil {
			n.terminal = &Step{From: id, Action: action, Grants: uniqueGrants(gs)}
		}
	}
	if pw.masters || id.Kind == rbacv1.GroupKind && id.Name == SystemMasters {
		final("is a member of system:masters, which RBAC does not restrict")
	}
	if pw.super != nil {
		final("holds every verb on every resource cluster-wide", *pw.super)
	}
	// The API server refuses to impersonate groups, uids or extras
	// without a user ("requested ... without impersonating a user"): a
	// group is reached only with a user or ServiceAccount to impersonate.
	var asUser *capability
	if us := slices.Concat(pw.find(probeImpUsers, true), pw.find(probeImpSAs, false)); len(us) > 0 {
		asUser = &us[0]
	}
	if asUser != nil {
		for _, c := range pw.find(probeImpGroups, true) {
			if c.allows(SystemMasters) {
				final("impersonates a user in group system:masters", asUser.grant, c.grant)
			}
		}
	}
	if cs := pw.csr(); cs != nil {
		final("issues itself a client certificate in group system:masters", grantsOf(cs...)...)
	}
	if crb := pw.find(probeCreateCRB, true); len(crb) > 0 {
		for _, c := range pw.find(probeBind, true) {
			if slices.Contains(c.resources, "clusterroles") && c.allows("cluster-admin") {
				final("binds ClusterRole cluster-admin to itself with a ClusterRoleBinding", c.grant, crb[0].grant)
			}
		}
	}
	g.escalations(m, pw, final)
	if n.terminal != nil {
		return
	}
	g.takeovers(an, m, pw)
	for c := range pw.all {
		switch c.probe.name {
		case probePods, probeControllers:
			verb := "creates"
			if !slices.Contains(c.verbs, "create") {
				verb = "changes"
			}
			m.spread(c.namespace, func(sa Identity) string {
				return fmt.Sprintf("%s %s %s whose pods run as %s", verb, c.resources[0], where(c.namespace), sa)
			}, c.grant)
		case probeImpUsers:
			for _, u := range g.users {
				if c.allows(u.Name) {
					m.move(u, func() string { return "impersonates " + u.String() }, c.grant)
				}
			}
		case probeImpGroups:
			if asUser == nil {
				continue
			}
			for _, gr := range g.groups {
				if c.allows(gr.Name) {
					m.move(gr, func() string { return "impersonates a user in " + gr.String() }, asUser.grant, c.grant)
				}
			}
		case probeImpSAs, probeTokens:
			verb := "impersonates "
			if c.probe.name == probeTokens {
				verb = "requests a token for "
			}
			if len(c.names) == 0 {
				// Every ServiceAccount there: one move for all.
				m.spread(c.namespace, func(sa Identity) string { return verb + sa.String() }, c.grant)
				continue
			}
			for _, sa := range g.namedSAs(c.namespace, c.names) {
				m.move(sa, func() string { return verb + sa.String() }, c.grant)
			}
		case probeSecrets:
			m.group(g.secretsFor(c), func(t *target) string {
				return fmt.Sprintf("reads token Secret %s/%s of %s", t.s.Namespace, t.s.Name, t.sa)
			}, c.grant)
		case probeCreateSecrets:
			// The token controller fills a Secret of type
			// kubernetes.io/service-account-token with a token of the
			// ServiceAccount it names; reading it back needs read access to
			// a name the creator chooses.
			for r := range pw.all {
				ns, ok := meet(c.namespace, r.namespace)
				if r.probe.name != probeSecrets || !ok {
					continue
				}
				m.spread(ns, func(sa Identity) string {
					return fmt.Sprintf("creates a kubernetes.io/service-account-token Secret for %s %s and reads the token written into it", sa, where(ns))
				}, c.grant, r.grant)
				break
			}
		case probeExec, probeAttach, probeEphemeral, probeUpdatePods:
			verb := podVerb[c.probe.name]
			m.group(g.podsFor(c), func(t *target) string {
				return fmt.Sprintf("%s %s, which runs as %s", verb, t.w.Origin.Ref, t.sa)
			}, c.grant)
		case probeNodesProxy:
			m.group(g.nodesFor(c), func(t *target) string {
				return fmt.Sprintf("runs commands through the kubelet in %s, which runs as %s", t.w.Origin.Ref, t.sa)
			}, c.grant)
		case probeMutating:
			// With create, a new webhook configuration; with update or
			// patch only, one that exists is pointed elsewhere.
			how := "registers a mutating admission webhook"
			if !slices.Contains(c.verbs, "create") && !slices.Contains(c.verbs, "*") {
				how = "points an existing mutating admission webhook at a server it runs"
			}
			m.group(g.reach.workloads(""), func(t *target) string {
				return fmt.Sprintf("%s that rewrites the pods of %s, which run as %s, when they are next created", how, t.w.Origin.Ref, t.sa)
			}, c.grant)
		}
	}
	if action, gs, ok := g.escape(pw); ok {
		m.move(Identity{Kind: KindNode}, func() string { return action }, gs...)
	}
}

// podVerb says what each way into a running pod does.
var podVerb = map[string]string{
	probeExec:       "execs into",
	probeAttach:     "attaches to",
	probeEphemeral:  "adds an ephemeral container to",
	probeUpdatePods: "swaps the image of",
}

// podsFor are the ServiceAccounts of the running pods a way into them
// reaches, where it holds. Limited by resourceNames, it reaches only the
// Pods of the names it lists, since the pods of a controller are not
// named after it.
func (g *graph) podsFor(c *capability) *targets {
	if len(c.names) == 0 {
		return g.reach.workloads(c.namespace)
	}
	return g.reach.namedList("pod", c.namespace, c.names, g.reach.podsByName, g.workloadTarget)
}

// nodesFor are the ServiceAccounts of the pods on the nodes nodes/proxy
// reaches: every node, or those it names.
func (g *graph) nodesFor(c *capability) *targets {
	if len(c.names) == 0 {
		return g.reach.workloads("")
	}
	return g.reach.namedList("node", "", c.names, g.reach.byNode, g.workloadTarget)
}

// secretsFor are the ServiceAccounts of the token Secrets that read
// access to Secrets reaches, where it holds and of the names it lists.
func (g *graph) secretsFor(c *capability) *targets {
	if len(c.names) == 0 {
		return g.reach.tokenSecrets(c.namespace)
	}
	return g.reach.namedList("secret", c.namespace, c.names, g.reach.secretName, func(i int) (target, bool) {
		s := g.p.TokenSecrets[i]
		return target{sa: Identity{Kind: rbacv1.ServiceAccountKind, Namespace: s.Namespace, Name: s.ServiceAccount}, s: s}, true
	})
}

func (g *graph) workloadTarget(i int) (target, bool) {
	w := g.p.Workloads[i]
	return target{sa: w.identity(), w: w}, true
}

// meet is the namespace where two permissions both hold ("" for every
// namespace), ok false when nowhere.
func meet(a, b string) (string, bool) {
	switch {
	case a == "":
		return b, true
	case b == "" || a == b:
		return a, true
	}
	return "", false
}

// firstAllowing is the first capability that allows name.
func firstAllowing(cs []capability, name string) (capability, bool) {
	for _, c := range cs {
		if c.allows(name) {
			return c, true
		}
	}
	return capability{}, false
}

// escalations are the moves of escalate with update on a role bound to
// the identity: any permission written into a ClusterRole that a
// ClusterRoleBinding grants it is power; into a role a RoleBinding grants
// it, a namespace to run pods in. Only the roles the permissions name,
// when they name some, and never an aggregated ClusterRole, whose rules
// the aggregation controller rewrites.
func (g *graph) escalations(m *mover, pw powers, final func(string, ...Grant)) {
	escC, updC := pw.find(probeEscalateCluster, true), pw.find(probeWriteCR, true)
	escR, updR := pw.find(probeEscalateRoles, false), pw.find(probeWriteRoles, false)
	if len(escC)+len(escR) == 0 {
		return
	}
	for _, r := range pw.refs {
		b, role := r.b, r.b.role
		if role.Aggregated() {
			continue
		}
		esc, upd := escC, updC
		if role.Kind == KindRole {
			esc, upd = nil, nil
			for _, c := range escR {
				if c.namespace == "" || c.namespace == b.Namespace {
					esc = append(esc, c)
				}
			}
			for _, c := range updR {
				if c.namespace == "" || c.namespace == b.Namespace {
					upd = append(upd, c)
				}
			}
		}
		e, ok1 := firstAllowing(esc, role.Name)
		u, ok2 := firstAllowing(upd, role.Name)
		if !ok1 || !ok2 {
			continue
		}
		if b.Cluster() {
			final(fmt.Sprintf("escalates: writes any permission into %s, which %s grants it", role.Ref(), b.Ref()), e.grant, u.grant)
			return
		}
		m.spread(b.Namespace, func(sa Identity) string {
			return fmt.Sprintf("escalates %s, which %s grants it, then runs pods as %s", role.Ref(), b.Ref(), sa)
		}, e.grant, u.grant)
	}
}

// takeovers are the namespace takeovers through bind: a RoleBinding
// created (or an existing one updated, which adds subjects to the role it
// grants) to a role that runs pods, then pods as any ServiceAccount there.
// bind and the rolebindings permission may come from different bindings;
// bind limited to names binds only the roles named.
func (g *graph) takeovers(an *analysis, m *mover, pw powers) {
	binds := pw.find(probeBind, false)
	if len(binds) == 0 {
		return
	}
	for rb := range pw.all {
		if rb.probe.name != probeCreateRB && rb.probe.name != probeUpdateRB {
			continue
		}
		for _, c := range binds {
			ns, ok := meet(c.namespace, rb.namespace)
			if !ok {
				continue
			}
			if rb.probe.name == probeCreateRB {
				if role, ok := g.bindable(an, &c, ns); ok {
					m.spread(ns, func(sa Identity) string {
						return fmt.Sprintf("binds %s to itself %s, then runs pods as %s", role, where(ns), sa)
					}, c.grant, rb.grant)
				}
				continue
			}
			for _, x := range g.podBindings(an, ns) {
				if !rb.allows(x.Name) || !canBind(&c, x.RoleRef.Kind, x.RoleRef.Name) {
					continue
				}
				m.spread(x.Namespace, func(sa Identity) string {
					return fmt.Sprintf("adds itself to %s, which grants %s, then runs pods as %s", x.Ref(), x.role.Ref(), sa)
				}, c.grant, rb.grant)
			}
		}
	}
}

// canBind reports whether a bind capability covers a role.
func canBind(c *capability, kind, name string) bool {
	res := "roles"
	if kind == KindClusterRole {
		res = "clusterroles"
	}
	return slices.Contains(c.resources, res) && c.allows(name)
}

// bindable names a role that a bind capability lets the identity bind in
// namespace ns ("" for every namespace) and that runs pods there.
func (g *graph) bindable(an *analysis, c *capability, ns string) (string, bool) {
	if slices.Contains(c.resources, "clusterroles") {
		if len(c.names) == 0 {
			// Every cluster has it, whatever the input holds.
			return "ClusterRole cluster-admin", true
		}
		for _, name := range c.names {
			if r := g.p.ClusterRoles[name]; r != nil && runsPods(an, r) {
				return r.Ref(), true
			}
		}
	}
	if slices.Contains(c.resources, "roles") && ns != "" {
		for _, r := range g.rolesIn(ns) {
			if c.allows(r.Name) && runsPods(an, r) {
				return r.Ref(), true
			}
		}
	}
	return "", false
}

// podBindings are the RoleBindings of namespace ns (of all when empty)
// whose role runs pods there, in the policy's order: found once for the
// graph, so that each identity that may update RoleBindings looks at
// those only, not at every binding.
func (g *graph) podBindings(an *analysis, ns string) []*Binding {
	g.podOnce.Do(func() {
		g.podByNS = map[string][]*Binding{}
		for _, x := range g.p.Bindings {
			if !x.Cluster() && x.role != nil && runsPods(an, x.role) {
				g.podByNS[x.Namespace] = append(g.podByNS[x.Namespace], x)
				g.podAll = append(g.podAll, x)
			}
		}
	})
	if ns == "" {
		return g.podAll
	}
	return g.podByNS[ns]
}

// rolesIn are the Roles of a namespace, sorted by name.
func (g *graph) rolesIn(ns string) []*Role {
	g.rolesOnce.Do(func() {
		g.roles = map[string][]*Role{}
		for _, r := range g.p.Roles {
			g.roles[r.Namespace] = append(g.roles[r.Namespace], r)
		}
		for _, l := range g.roles {
			slices.SortFunc(l, func(a, b *Role) int { return cmp.Compare(a.Name, b.Name) })
		}
	})
	return g.roles[ns]
}

// runsPods reports whether a role, bound in a namespace, lets its
// subjects create pods or pod controllers there.
func runsPods(an *analysis, r *Role) bool {
	if _, ok := an.superRule(r); ok {
		return true
	}
	for _, h := range an.roleHits(r) {
		if (h.probe.name == probePods || h.probe.name == probeControllers) && slices.Contains(h.verbs, "create") {
			return true
		}
	}
	return false
}

// escape finds a way for the identity to run a pod that escapes to its
// node (privileged, hostPID, a hostPath of / or of the container runtime's
// socket): creating pods or pod controllers in a namespace whose Pod
// Security level allows such pods, or after relabelling the namespace, or
// through a hostPath PersistentVolume, which a pod mounts through a claim
// that the Baseline level allows.
func (g *graph) escape(pw powers) (string, []Grant, bool) {
	const pod = "a pod that escapes to its node (privileged, hostPID, or a hostPath of / or the container runtime's socket)"
	var relabel, pv, pvc []capability
	for c := range pw.all {
		switch c.probe.name {
		case probeNamespaces:
			relabel = append(relabel, *c)
		case probePV:
			pv = append(pv, *c)
		case probePVC:
			pvc = append(pvc, *c)
		}
	}
	for c := range pw.all {
		if c.probe.name != probePods && c.probe.name != probeControllers || !slices.Contains(c.verbs, "create") {
			continue
		}
		ns := c.namespace
		if ns == "" {
			ns = g.open
		}
		level, known := g.p.PodSecurity[ns]
		in := fmt.Sprintf("creates %s in namespace %s", c.resources[0], ns)
		switch {
		case level == "privileged":
			return in + ": " + pod + ", which its Pod Security level (privileged) allows", []Grant{c.grant}, true
		case level == "" && known:
			return in + ": " + pod + ", which no Pod Security level enforced there forbids", []Grant{c.grant}, true
		case !known:
			return in + ": " + pod + " (the input holds no Namespace " + ns +
				": no Pod Security level is enforced there unless the admission configuration sets a default)", []Grant{c.grant}, true
		}
		for _, r := range relabel {
			if r.namespace == "" && r.allows(ns) || r.namespace == ns {
				return fmt.Sprintf("relabels namespace %s to Pod Security level privileged, then %s: %s", ns, in, pod), []Grant{r.grant, c.grant}, true
			}
		}
		if level != "restricted" && len(pv) > 0 {
			for _, cl := range pvc {
				if cl.namespace == "" || cl.namespace == ns {
					return fmt.Sprintf("creates a hostPath PersistentVolume of the node's / and a claim for it, then %s: a pod that mounts the claim, which Pod Security level %s allows, and so the node's disk", in, level),
						[]Grant{pv[0].grant, cl.grant, c.grant}, true
				}
			}
		}
	}
	return "", nil, false
}

// fromNode are the moves of a node: the token of every pod on it that
// mounts one. Where the input says where a workload runs, the move says
// so; otherwise it assumes the two share a node, which spec.nodeName lets
// the escaping pod choose.
func (g *graph) fromNode(m *mover) {
	m.group(g.reach.workloads(""), func(t *target) string {
		w := t.w
		where := "assuming it shares their node, which spec.nodeName lets it choose"
		switch {
		case w.Origin != nil && w.Origin.Ref.Kind == "DaemonSet":
			where = "a DaemonSet runs on every node"
		case w.NodeName != "":
			where = "they run on node " + w.NodeName + " (spec.nodeName), where spec.nodeName places the escaping pod too"
		case len(w.NodeSelector) > 0:
			var sel []string
			for _, k := range slices.Sorted(maps.Keys(w.NodeSelector)) {
				sel = append(sel, k+"="+w.NodeSelector[k])
			}
			where = "they run on nodes labelled " + strings.Join(sel, ",") + ", where spec.nodeName places the escaping pod too"
		}
		return fmt.Sprintf("reads the token of the pods of %s from the node's disk (%s), which run as %s", w.Origin.Ref, where, t.sa)
	})
}

// moves yields a node's moves in the order found.
func (n *node) moves(edge func(*edge), spread func(*spread), group func(*group)) {
	i, j, k := 0, 0, 0
	for i < len(n.edges) || j < len(n.spread) || k < len(n.groups) {
		next, which := -1, 0
		if i < len(n.edges) {
			next, which = n.edges[i].seq, 1
		}
		if j < len(n.spread) && (next < 0 || n.spread[j].seq < next) {
			next, which = n.spread[j].seq, 2
		}
		if k < len(n.groups) && (next < 0 || n.groups[k].seq < next) {
			which = 3
		}
		switch which {
		case 1:
			edge(&n.edges[i])
			i++
		case 2:
			spread(&n.spread[j])
			j++
		default:
			group(&n.groups[k])
			k++
		}
	}
}

// mover adds a node's moves, the first move found to a target winning.
type mover struct {
	n       *node
	targets map[Identity]bool
	spreads namespaces // what the spreads added cover
	seq     int
}

// covered reports whether a spread or group added already reaches to.
func (m *mover) covered(to Identity) bool {
	if to.Kind != rbacv1.ServiceAccountKind {
		return false
	}
	if m.spreads.covers(to.Namespace) {
		return true
	}
	for _, gr := range m.n.groups {
		if gr.t.has(to) {
			return true
		}
	}
	return false
}

// namespaces is a set of namespaces, "" standing for all of them.
type namespaces struct {
	all bool
	set map[string]bool
}

func (s *namespaces) covers(ns string) bool { return s.all || s.set[ns] }

// add adds ns ("" for all), reporting false when the set covered it
// already.
func (s *namespaces) add(ns string) bool {
	if s.covers(ns) {
		return false
	}
	if ns == "" {
		s.all = true
		return true
	}
	if s.set == nil {
		s.set = map[string]bool{}
	}
	s.set[ns] = true
	return true
}

// move adds an edge to a new target. The action is rendered only then:
// a node finds many targets again and again.
func (m *mover) move(to Identity, action func() string, gs ...Grant) {
	if to == m.n.id || m.targets[to] || m.covered(to) {
		return
	}
	m.targets[to] = true
	t := to
	m.n.edges = append(m.n.edges, edge{Step{From: m.n.id, To: &t, Action: action(), Grants: uniqueGrants(gs)}, m.seq})
	m.seq++
}

// spread adds a move to every ServiceAccount of namespace ns (of all when
// ns is empty), unless one added before covers them; for a ServiceAccount
// an edge added before reaches, that edge stays the move to it.
func (m *mover) spread(ns string, action func(sa Identity) string, gs ...Grant) {
	if !m.spreads.add(ns) {
		return
	}
	m.n.spread = append(m.n.spread, spread{ns, m.seq, action, uniqueGrants(gs)})
	m.seq++
}

// group adds a move to each ServiceAccount of a shared list. Those that a
// move found before reaches keep that move: the walk back from power
// takes, for each node, its first move to a target in the order found.
func (m *mover) group(t *targets, action func(t *target) string, gs ...Grant) {
	if t == nil || len(t.list) == 0 || slices.ContainsFunc(m.n.groups, func(gr group) bool { return gr.t == t }) {
		return
	}
	m.n.groups = append(m.n.groups, group{t, m.seq, action, uniqueGrants(gs)})
	m.seq++
}

func (g *graph) mounts(w *Workload) bool {
	return mountsToken(w, g.saObj[w.identity()])
}

func (g *graph) node(id Identity) (*node, bool) {
	if n, ok := g.nodes[id]; ok {
		return n, false
	}
	n := &node{id: id, order: len(g.order)}
	g.nodes[id] = n
	g.order = append(g.order, n)
	return n, true
}

// hops explores the graph from the starts, then walks back from the
// identities that hold power to find every start's shortest chain, and
// returns the first move of each identity on those chains, once.
func (g *graph) hops(starts []Identity) []Hop {
	// Breadth first, a level at a time: the nodes of a level expand
	// together, then their targets become the next level in the order a
	// first-in first-out queue would have created them.
	var level []*node
	for _, s := range starts {
		if n, created := g.node(s); created {
			level = append(level, n)
		}
	}
	const chunk = 32
	// Spreads and lists already followed: each of their ServiceAccounts
	// is a node.
	var followed namespaces
	followedList := map[*targets]bool{}
	for len(level) > 0 {
		forEach(chunks(len(level), chunk), g.workers, func(w, c int) {
			for _, n := range chunkOf(level, c, chunk) {
				g.expand(g.ans.get(w), n)
			}
		})
		var next []*node
		add := func(id Identity) {
			if m, created := g.node(id); created {
				next = append(next, m)
			}
		}
		for _, n := range level {
			// The targets in the order the moves were found.
			n.moves(func(e *edge) { add(*e.step.To) }, func(sp *spread) {
				if followed.add(sp.ns) {
					for _, sa := range g.serviceAccounts(sp.ns) {
						add(sa)
					}
				}
			}, func(gr *group) {
				if !followedList[gr.t] {
					followedList[gr.t] = true
					for _, t := range gr.t.list {
						add(t.sa)
					}
				}
			})
		}
		level = next
	}
	// Walking back from power: a node's predecessors are those with an
	// edge to it and, for a ServiceAccount, those with a spread over its
	// namespace or all; they are visited in the order of the graph's nodes
	// and of each node's moves, and a predecessor takes the first move
	// that reaches it.
	type back struct {
		from *node
		seq  int
		step *Step   // an edge's, or
		sp   *spread // a spread's, or
		gr   *group  // a group's, for the node reached
	}
	rev := map[*node][]back{}
	revNS := map[string][]back{}
	revList := map[*targets][]back{}
	var revAll []back
	for _, n := range g.order {
		for k := range n.edges {
			e := &n.edges[k]
			m := g.nodes[*e.step.To]
			rev[m] = append(rev[m], back{from: n, seq: e.seq, step: &e.step})
		}
		for k := range n.spread {
			sp := &n.spread[k]
			b := back{from: n, seq: sp.seq, sp: sp}
			if sp.ns == "" {
				revAll = append(revAll, b)
			} else {
				revNS[sp.ns] = append(revNS[sp.ns], b)
			}
		}
		for k := range n.groups {
			gr := &n.groups[k]
			revList[gr.t] = append(revList[gr.t], back{from: n, seq: gr.seq, gr: gr})
		}
	}
	next := map[*node]*Step{}
	dist := map[*node]int{}
	var bfs []*node
	for _, n := range g.order {
		if n.terminal != nil {
			next[n] = n.terminal
			dist[n] = 1
			bfs = append(bfs, n)
		}
	}
	for len(bfs) > 0 {
		m := bfs[0]
		bfs = bfs[1:]
		preds := rev[m]
		if m.id.Kind == rbacv1.ServiceAccountKind {
			// A spread or group reaches its first ServiceAccount found
			// here; the later ones find its node taken. A node that
			// reached this one by an earlier move takes that move: it
			// comes first.
			more := slices.Concat(revNS[m.id.Namespace], revAll)
			delete(revNS, m.id.Namespace)
			revAll = nil
			for _, t := range g.reach.lists(m.id) {
				more = append(more, revList[t]...)
				delete(revList, t)
			}
			if len(more) > 0 {
				preds = slices.Concat(preds, more)
				slices.SortStableFunc(preds, func(a, b back) int { return cmp.Or(a.from.order-b.from.order, a.seq-b.seq) })
			}
		}
		for _, b := range preds {
			if _, ok := next[b.from]; ok {
				continue
			}
			var s Step
			switch {
			case b.step != nil:
				s = *b.step
			case b.sp != nil:
				s = b.sp.step(b.from.id, m.id)
			default:
				s = b.gr.step(b.from.id, m.id)
			}
			next[b.from] = &s
			dist[b.from] = dist[m] + 1
			bfs = append(bfs, b.from)
		}
	}
	// Each start's chain, then the identities on it not reported yet:
	// every identity once, so that the output grows with the identities,
	// not with the sum of the chains' lengths.
	var out []Hop
	done := map[*node]bool{}
	isStart := map[*node]bool{}
	for _, s := range starts {
		isStart[g.nodes[s]] = true
	}
	for _, s := range starts {
		for n := g.nodes[s]; n != nil && next[n] != nil && !done[n]; {
			done[n] = true
			out = append(out, Hop{Subject: n.id, Start: isStart[n], Distance: dist[n], Step: *next[n]})
			if next[n].To == nil {
				break
			}
			n = g.nodes[*next[n].To]
		}
	}
	return out
}

// uniqueGrants drops a grant repeated by several parts of one move (one
// rule granting both escalate and update).
func uniqueGrants(gs []Grant) []Grant {
	var out []Grant
	for _, g := range gs {
		if !slices.ContainsFunc(out, func(h Grant) bool { return h.Binding == g.Binding && h.Role == g.Role && h.Rule == g.Rule }) {
			out = append(out, g)
		}
	}
	return out
}
