package rbac

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

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
func Paths(p *Policy) []Chain { return paths(p, 0) }

// paths finds the chains on up to workers goroutines (every core when
// workers <= 0).
func paths(p *Policy, workers int) []Chain {
	g := newGraph(p, workers)
	var starts []Identity
	seen := map[Identity]bool{}
	for _, b := range p.Bindings {
		if b.Default {
			continue
		}
		for i := range b.Subjects {
			if id, ok := b.Identity(i); ok && !id.System() && !seen[id] {
				seen[id] = true
				starts = append(starts, id)
			}
		}
	}
	slices.SortFunc(starts, compareIdentity)
	return g.chains(starts)
}

func compareIdentity(a, b Identity) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

type node struct {
	id       Identity
	terminal *Step
	edges    []Step
}

type graph struct {
	p       *Policy
	ans     *analyses
	workers int
	sas     map[string][]Identity // by namespace, sorted
	allSAs  []Identity
	saObj   map[Identity]*ServiceAccount
	users   []Identity
	groups  []Identity
	nodes   map[Identity]*node
	order   []*node
}

func newGraph(p *Policy, workers int) *graph {
	g := &graph{p: p, ans: newAnalyses(p, workers), workers: workers, sas: map[string][]Identity{}, nodes: map[Identity]*node{}}
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
	for _, c := range pw.find(probeImpGroups, true) {
		if c.allows(SystemMasters) {
			final("impersonates group system:masters", c.grant)
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
	if upd := pw.find(probeWriteCR, true); len(upd) > 0 {
		if esc := pw.find(probeEscalateCluster, true); len(esc) > 0 {
			final("escalates: writes any permission into a ClusterRole bound to it", esc[0].grant, upd[0].grant)
		}
	}
	if n.terminal != nil {
		return
	}
	m := &mover{n: n, targets: map[Identity]bool{}}
	// Namespace takeover: bind or escalate a role in a namespace, then run
	// pods there.
	for _, c := range pw.find(probeBind, false) {
		for rb := range pw.all {
			if rb.probe.name == probeCreateRB && (rb.namespace == "" || rb.namespace == c.namespace) {
				for _, sa := range g.serviceAccounts(c.namespace) {
					m.move(sa, func() string {
						return "binds any role to itself " + where(c.namespace) + ", then runs pods as " + sa.String()
					}, c.grant, rb.grant)
				}
				break
			}
		}
	}
	for _, c := range pw.find(probeEscalateRoles, false) {
		for up := range pw.all {
			if up.probe.name == probeWriteRoles && (up.namespace == "" || up.namespace == c.namespace) {
				for _, sa := range g.serviceAccounts(c.namespace) {
					m.move(sa, func() string {
						return "escalates a Role bound to it " + where(c.namespace) + ", then runs pods as " + sa.String()
					}, c.grant, up.grant)
				}
				break
			}
		}
	}
	for c := range pw.all {
		switch c.probe.name {
		case probePods, probeControllers:
			for _, sa := range g.serviceAccounts(c.namespace) {
				verb := "creates"
				if !slices.Contains(c.verbs, "create") {
					verb = "changes"
				}
				m.move(sa, func() string {
					return fmt.Sprintf("%s %s %s whose pods run as %s", verb, c.resources[0], where(c.namespace), sa)
				}, c.grant)
			}
		case probeImpUsers:
			for _, u := range g.users {
				if c.allows(u.Name) {
					m.move(u, func() string { return "impersonates " + u.String() }, c.grant)
				}
			}
		case probeImpGroups:
			for _, gr := range g.groups {
				if c.allows(gr.Name) {
					m.move(gr, func() string { return "impersonates " + gr.String() }, c.grant)
				}
			}
		case probeImpSAs:
			for _, sa := range g.serviceAccounts(c.namespace) {
				if c.allows(sa.Name) {
					m.move(sa, func() string { return "impersonates " + sa.String() }, c.grant)
				}
			}
		case probeTokens:
			for _, sa := range g.serviceAccounts(c.namespace) {
				if c.allows(sa.Name) {
					m.move(sa, func() string { return "requests a token for " + sa.String() }, c.grant)
				}
			}
		case probeSecrets:
			for _, s := range g.p.TokenSecrets {
				if s.ServiceAccount == "" || c.namespace != "" && s.Namespace != c.namespace || !c.allows(s.Name) {
					continue
				}
				sa := Identity{Kind: rbacv1.ServiceAccountKind, Namespace: s.Namespace, Name: s.ServiceAccount}
				m.move(sa, func() string { return fmt.Sprintf("reads token Secret %s/%s of %s", s.Namespace, s.Name, sa) }, c.grant)
			}
		case probeExec:
			for _, w := range g.p.Workloads {
				if c.namespace != "" && w.Namespace != c.namespace || !c.allows(w.Origin.Ref.Name) || !g.mounts(w) {
					continue
				}
				sa := w.identity()
				m.move(sa, func() string { return fmt.Sprintf("execs into %s, which runs as %s", w.Origin.Ref, sa) }, c.grant)
			}
		case probeNodesProxy:
			for _, w := range g.p.Workloads {
				if len(c.names) > 0 && !slices.Contains(c.names, w.NodeName) || !g.mounts(w) {
					continue
				}
				sa := w.identity()
				m.move(sa, func() string {
					return fmt.Sprintf("runs commands through the kubelet in %s, which runs as %s", w.Origin.Ref, sa)
				}, c.grant)
			}
		}
	}
}

// mover adds a node's edges, one per target, the first move found to it
// winning.
type mover struct {
	n       *node
	targets map[Identity]bool
}

// move adds an edge to a new target. The action is rendered only then:
// a node with many moves to the ServiceAccounts of every namespace finds
// most targets again and again.
func (m *mover) move(to Identity, action func() string, gs ...Grant) {
	if to == m.n.id || m.targets[to] {
		return
	}
	m.targets[to] = true
	t := to
	m.n.edges = append(m.n.edges, Step{From: m.n.id, To: &t, Action: action(), Grants: uniqueGrants(gs)})
}

func (g *graph) mounts(w *Workload) bool {
	return mountsToken(w, g.saObj[w.identity()])
}

func (g *graph) node(id Identity) (*node, bool) {
	if n, ok := g.nodes[id]; ok {
		return n, false
	}
	n := &node{id: id}
	g.nodes[id] = n
	g.order = append(g.order, n)
	return n, true
}

// chains explores the graph from the starts, then walks back from the
// identities that hold power to find every start's shortest chain.
func (g *graph) chains(starts []Identity) []Chain {
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
	for len(level) > 0 {
		forEach(chunks(len(level), chunk), g.workers, func(w, c int) {
			for _, n := range chunkOf(level, c, chunk) {
				g.expand(g.ans.get(w), n)
			}
		})
		var next []*node
		for _, n := range level {
			for _, e := range n.edges {
				if m, created := g.node(*e.To); created {
					next = append(next, m)
				}
			}
		}
		level = next
	}
	type back struct {
		from *node
		step Step
	}
	rev := map[*node][]back{}
	for _, n := range g.order {
		for _, e := range n.edges {
			m := g.nodes[*e.To]
			rev[m] = append(rev[m], back{n, e})
		}
	}
	next := map[*node]*Step{}
	var bfs []*node
	for _, n := range g.order {
		if n.terminal != nil {
			next[n] = n.terminal
			bfs = append(bfs, n)
		}
	}
	for len(bfs) > 0 {
		m := bfs[0]
		bfs = bfs[1:]
		for _, b := range rev[m] {
			if _, ok := next[b.from]; !ok {
				s := b.step
				next[b.from] = &s
				bfs = append(bfs, b.from)
			}
		}
	}
	var out []Chain
	for _, s := range starts {
		n := g.nodes[s]
		if next[n] == nil {
			continue
		}
		c := Chain{Subject: s}
		for step := next[n]; step != nil; {
			c.Steps = append(c.Steps, *step)
			if step.To == nil {
				break
			}
			step = next[g.nodes[*step.To]]
		}
		out = append(out, c)
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
