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
	order    int // position in graph.order
	terminal *Step
	edges    []edge
	// spread are the moves to every ServiceAccount of a namespace (or of
	// all): one each, however many ServiceAccounts, so that a subject
	// that may create pods everywhere does not make an edge to each.
	spread []spread
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
				m.spread(c.namespace, func(sa Identity) string {
					return "binds any role to itself " + where(c.namespace) + ", then runs pods as " + sa.String()
				}, c.grant, rb.grant)
				break
			}
		}
	}
	for _, c := range pw.find(probeEscalateRoles, false) {
		for up := range pw.all {
			if up.probe.name == probeWriteRoles && (up.namespace == "" || up.namespace == c.namespace) {
				m.spread(c.namespace, func(sa Identity) string {
					return "escalates a Role bound to it " + where(c.namespace) + ", then runs pods as " + sa.String()
				}, c.grant, up.grant)
				break
			}
		}
	}
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

// mover adds a node's moves, the first move found to a target winning.
type mover struct {
	n       *node
	targets map[Identity]bool
	spreads namespaces // what the spreads added cover
	seq     int
}

// covered reports whether a spread added already reaches to.
func (m *mover) covered(to Identity) bool {
	return to.Kind == rbacv1.ServiceAccountKind && m.spreads.covers(to.Namespace)
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
	// Spreads already followed: each of their ServiceAccounts is a node.
	var followed namespaces
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
			i, j := 0, 0
			for i < len(n.edges) || j < len(n.spread) {
				if j == len(n.spread) || i < len(n.edges) && n.edges[i].seq < n.spread[j].seq {
					add(*n.edges[i].step.To)
					i++
					continue
				}
				sp := &n.spread[j]
				j++
				if followed.add(sp.ns) {
					for _, sa := range g.serviceAccounts(sp.ns) {
						add(sa)
					}
				}
			}
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
		sp   *spread // a spread's, for the node reached
	}
	rev := map[*node][]back{}
	revNS := map[string][]back{}
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
		preds := rev[m]
		if m.id.Kind == rbacv1.ServiceAccountKind {
			// A spread reaches its first ServiceAccount found here; the
			// later ones find its node taken.
			if more := slices.Concat(revNS[m.id.Namespace], revAll); len(more) > 0 {
				preds = slices.Concat(preds, more)
				slices.SortStableFunc(preds, func(a, b back) int { return cmp.Or(a.from.order-b.from.order, a.seq-b.seq) })
				delete(revNS, m.id.Namespace)
				revAll = nil
			}
		}
		for _, b := range preds {
			if _, ok := next[b.from]; ok {
				continue
			}
			var s Step
			if b.step != nil {
				s = *b.step
			} else {
				s = b.sp.step(b.from.id, m.id)
			}
			next[b.from] = &s
			bfs = append(bfs, b.from)
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
