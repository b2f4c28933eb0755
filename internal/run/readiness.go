package run

import (
	"cmp"
	"maps"
	"slices"
	"sync"

	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// NamespaceReadiness says which Pod Security level a namespace's running
// pods satisfy: whether enforcing a level there would let them all be
// re-created.
type NamespaceReadiness struct {
	Namespace string `json:"namespace"`
	Pods      int    `json:"pods"`
	// Level is the highest level every running pod satisfies at the
	// latest version: restricted, baseline or privileged.
	Level string `json:"level"`
	// Version is the newest policy version at which every pod satisfies
	// Level: "latest", or v1.N when only older versions of restricted pass
	// (enforce-version=v1.N would admit the pods).
	Version string `json:"version"`
	// Restricted and Baseline are the pods that violate that level at the
	// latest version, grouped by what owns them.
	Restricted []Violation `json:"restricted"`
	Baseline   []Violation `json:"baseline"`
	// Enforce is the namespace's current pod-security.kubernetes.io/enforce
	// label, empty when unset.
	Enforce string `json:"enforce,omitempty"`
}

// Violation is a set of pods of one owner that violate a level.
type Violation struct {
	Owner finding.ObjectRef `json:"owner"`
	Pods  int               `json:"pods"`
	// Checks are the upstream check IDs that fail.
	Checks []string `json:"checks"`
}

// Readiness evaluates running pods with the upstream evaluator, namespace
// by namespace. Memory holds one entry per namespace and owner.
type Readiness struct {
	eval     *pss.Evaluator
	versions []api.Version // the newest version of each stretch with the same checks, newest first

	mu  sync.Mutex
	ns  map[string]*nsState
	ver map[finding.ObjectRef]int // owner -> index in versions of newest restricted pass, -1 none
}

type nsState struct {
	pods       int
	enforce    string
	seen       bool
	fails      [2]map[finding.ObjectRef]*Violation // baseline, restricted
	restricted int                                 // min over pods of newest passing version index; 0 latest
}

// NewReadiness returns an empty evaluation.
func NewReadiness(e *pss.Evaluator) *Readiness {
	// A verdict changes only where some check gains a version, so the
	// newest version of each stretch between those is the one just below
	// where the next stretch starts; latest stands for the newest stretch.
	vs := map[api.Version]bool{}
	for _, c := range policy.DefaultChecks() {
		for _, v := range c.Versions {
			if m := v.MinimumVersion; m.Minor() > 0 {
				vs[api.MajorMinorVersion(m.Major(), m.Minor()-1)] = true
			}
		}
	}
	newestFirst := func(a, b api.Version) int { return cmp.Compare(b.Minor(), a.Minor()) }
	versions := append([]api.Version{api.LatestVersion()}, slices.SortedFunc(maps.Keys(vs), newestFirst)...)
	return &Readiness{eval: e, versions: versions, ns: map[string]*nsState{}, ver: map[finding.ObjectRef]int{}}
}

func (r *Readiness) state(ns string) *nsState {
	s := r.ns[ns]
	if s == nil {
		s = &nsState{fails: [2]map[finding.ObjectRef]*Violation{{}, {}}}
		r.ns[ns] = s
	}
	return s
}

// Namespace records a namespace, with its labels, so that namespaces
// without pods are listed too.
func (r *Readiness) Namespace(name string, labels map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.state(name)
	s.seen = true
	s.enforce = labels[api.EnforceLevelLabel]
}

var levels = [2]api.Level{api.LevelBaseline, api.LevelRestricted}

// Pod evaluates one running pod attributed to owner.
func (r *Readiness) Pod(ns string, owner finding.ObjectRef, t *object.PodTemplate) {
	var failed [2][]string
	for i, l := range levels {
		for _, res := range r.eval.Evaluate(api.LevelVersion{Level: l, Version: api.LatestVersion()}, &t.Metadata, &t.Spec) {
			failed[i] = append(failed[i], string(res.ID))
		}
	}
	newest := 0
	if len(failed[1]) > 0 {
		newest = r.restrictedVersion(owner, t)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.state(ns)
	s.pods++
	for i := range levels {
		if len(failed[i]) == 0 {
			continue
		}
		v := s.fails[i][owner]
		if v == nil {
			v = &Violation{Owner: owner}
			s.fails[i][owner] = v
		}
		v.Pods++
		for _, id := range failed[i] {
			if !slices.Contains(v.Checks, id) {
				v.Checks = append(v.Checks, id)
			}
		}
	}
	if newest < 0 || (s.restricted >= 0 && newest > s.restricted) {
		s.restricted = newest
	}
}

// restrictedVersion is the index of the newest version at which the pod
// satisfies restricted, -1 when none. Pods of one owner share a template,
// so the search runs once per owner.
func (r *Readiness) restrictedVersion(owner finding.ObjectRef, t *object.PodTemplate) int {
	r.mu.Lock()
	v, ok := r.ver[owner]
	r.mu.Unlock()
	if ok && owner.Kind != cluster.Pods.Kind {
		return v
	}
	v = -1
	for i := 1; i < len(r.versions); i++ {
		if len(r.eval.Evaluate(api.LevelVersion{Level: api.LevelRestricted, Version: r.versions[i]}, &t.Metadata, &t.Spec)) == 0 {
			v = i
			break
		}
	}
	if owner.Kind != cluster.Pods.Kind {
		r.mu.Lock()
		r.ver[owner] = v
		r.mu.Unlock()
	}
	return v
}

// Result lists the namespaces by name.
func (r *Readiness) Result() []NamespaceReadiness {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []NamespaceReadiness
	for _, name := range slices.Sorted(maps.Keys(r.ns)) {
		s := r.ns[name]
		nr := NamespaceReadiness{Namespace: name, Pods: s.pods, Enforce: s.enforce, Version: "latest",
			Baseline: violations(s.fails[0]), Restricted: violations(s.fails[1])}
		switch {
		case len(nr.Restricted) == 0:
			nr.Level = string(api.LevelRestricted)
		case s.restricted > 0:
			// Every pod satisfies an older version of restricted: the
			// namespace can enforce it with enforce-version pinned.
			nr.Level, nr.Version = string(api.LevelRestricted), r.versions[s.restricted].String()
		case len(nr.Baseline) == 0:
			nr.Level = string(api.LevelBaseline)
		default:
			nr.Level = string(api.LevelPrivileged)
		}
		out = append(out, nr)
	}
	return out
}

func violations(m map[finding.ObjectRef]*Violation) []Violation {
	out := make([]Violation, 0, len(m))
	for _, v := range m {
		slices.Sort(v.Checks)
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(a.Owner.Kind, b.Owner.Kind), cmp.Compare(a.Owner.Name, b.Owner.Name))
	})
	return out
}
