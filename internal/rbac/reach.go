package rbac

import (
	"slices"
	"strings"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
)

// target is a ServiceAccount that a move over running pods or token
// Secrets reaches, with the object the move names: the first workload, in
// the input's order, that runs as it and mounts its token, or its first
// token Secret.
type target struct {
	sa Identity
	w  *Workload
	s  *TokenSecret
}

// targets are the distinct ServiceAccounts of a set of workloads or token
// Secrets, in the order of the first object of each in the input. A list
// is made once per graph and shared by the moves of every identity that
// reaches it, so that an identity's moves cost what it holds, not what
// the input holds.
type targets struct {
	list []target
	at   map[Identity]int // index in list
}

func (t *targets) add(x target) {
	if _, ok := t.at[x.sa]; ok {
		return
	}
	if t.at == nil {
		t.at = map[Identity]int{}
	}
	t.at[x.sa] = len(t.list)
	t.list = append(t.list, x)
}

// has reports whether the list reaches id.
func (t *targets) has(id Identity) bool {
	_, ok := t.at[id]
	return ok
}

// reachIndex indexes, once per graph, the workloads that mount their
// ServiceAccount's token and the token Secrets that name one: by
// namespace, and by the names a permission limited by resourceNames
// matches (a Pod's name, a node's name, a Secret's name).
type reachIndex struct {
	mounted    targets             // every namespace
	mountedNS  map[string]*targets // by namespace
	secrets    targets
	secretsNS  map[string]*targets
	podsByName map[string][]int // Pods that mount a token, by name: indexes in Policy.Workloads
	byNode     map[string][]int // workloads that mount a token, by spec.nodeName
	secretName map[string][]int // token Secrets that name a ServiceAccount, by name: indexes in Policy.TokenSecrets

	// named are the lists of permissions limited by resourceNames, made
	// on first use and kept by what they select; of reaches lists every
	// list made that holds a ServiceAccount.
	mu    sync.Mutex
	named map[string]*targets
	of    map[Identity][]*targets
}

func newReachIndex(p *Policy, mounts func(*Workload) bool) *reachIndex {
	x := &reachIndex{mountedNS: map[string]*targets{}, secretsNS: map[string]*targets{},
		podsByName: map[string][]int{}, byNode: map[string][]int{}, secretName: map[string][]int{},
		named: map[string]*targets{}, of: map[Identity][]*targets{}}
	for i, w := range p.Workloads {
		if !mounts(w) {
			continue
		}
		t := target{sa: w.identity(), w: w}
		x.mounted.add(t)
		list(x.mountedNS, w.Namespace).add(t)
		if w.Origin != nil && w.Origin.Ref.Kind == "Pod" {
			x.podsByName[w.Origin.Ref.Name] = append(x.podsByName[w.Origin.Ref.Name], i)
		}
		x.byNode[w.NodeName] = append(x.byNode[w.NodeName], i)
	}
	for i, s := range p.TokenSecrets {
		if s.ServiceAccount == "" {
			continue
		}
		t := target{sa: Identity{Kind: rbacv1.ServiceAccountKind, Namespace: s.Namespace, Name: s.ServiceAccount}, s: s}
		x.secrets.add(t)
		list(x.secretsNS, s.Namespace).add(t)
		x.secretName[s.Name] = append(x.secretName[s.Name], i)
	}
	x.reaches(&x.mounted)
	x.reaches(&x.secrets)
	for _, t := range x.mountedNS {
		x.reaches(t)
	}
	for _, t := range x.secretsNS {
		x.reaches(t)
	}
	return x
}

func list(m map[string]*targets, ns string) *targets {
	t := m[ns]
	if t == nil {
		t = &targets{}
		m[ns] = t
	}
	return t
}

// reaches records the ServiceAccounts of a list, for the walk back from
// power to find the moves that reach each.
func (x *reachIndex) reaches(t *targets) {
	for _, e := range t.list {
		x.of[e.sa] = append(x.of[e.sa], t)
	}
}

// lists are the lists that reach id.
func (x *reachIndex) lists(id Identity) []*targets {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.of[id]
}

// workloads are the workloads that mount a token in namespace ns ("" for
// every namespace).
func (x *reachIndex) workloads(ns string) *targets {
	if ns == "" {
		return &x.mounted
	}
	return x.mountedNS[ns]
}

// tokenSecrets are the token Secrets of namespace ns ("" for every
// namespace).
func (x *reachIndex) tokenSecrets(ns string) *targets {
	if ns == "" {
		return &x.secrets
	}
	return x.secretsNS[ns]
}

// namedList is the list of the objects that a permission limited to
// names selects in namespace ns ("" for every namespace): the indexes
// that each name finds in by, merged in the input's order, made once for
// each kind, namespace and set of names however many identities hold it.
func (x *reachIndex) namedList(kind, ns string, names []string, by map[string][]int, at func(i int) (target, bool)) *targets {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	key := kind + "\x00" + ns + "\x00" + strings.Join(names, "\x00")
	x.mu.Lock()
	defer x.mu.Unlock()
	if t, ok := x.named[key]; ok {
		return t
	}
	var idx []int
	for _, n := range names {
		idx = append(idx, by[n]...)
	}
	slices.Sort(idx)
	t := &targets{}
	for _, i := range idx {
		if e, ok := at(i); ok && (ns == "" || e.sa.Namespace == ns) {
			t.add(e)
		}
	}
	x.named[key] = t
	x.reaches(t)
	return t
}
