package rbac

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// aggregate computes the rules of every ClusterRole with an aggregationRule
// as the cluster role aggregation controller of kube-controller-manager
// writes them:
//
//   - the rules are replaced, never merged: whatever the manifest lists
//     under rules is dropped when aggregation yields rules;
//   - when it yields none (no selectors, or nothing selected has rules),
//     the role keeps the rules it was created with: the controller writes
//     its result by server-side apply, and an empty rule list is an apply
//     without a rules field, which leaves the creator's rules alone. Rules
//     the controller wrote itself are removed that way, so a role whose
//     aggregation once yielded rules and then none (possible only in a
//     cycle) ends with none;
//   - for each selector in order (metav1.LabelSelectorAsSelector, so an
//     empty selector selects every ClusterRole), the selected ClusterRoles
//     sorted by name, the role itself excepted, contribute their rules in
//     order, a rule equal to one already taken being skipped;
//   - the rules taken from an aggregated role are its settled rules: roles
//     are aggregated once each, those they select first (the controller
//     gets there by re-queuing every aggregated role on any ClusterRole
//     change, one pass per level of nesting).
//
// Roles that select each other (a cycle) are aggregated together, once:
// each gets, in its own selectors' order, the rules of the roles outside
// the cycle that any of them selects, which is where the controller's
// rewrites settle, their union; when nothing outside gives rules, the
// rules the cycle's roles were created with go round, and each gets their
// union. The work is linear in the rules produced: repeating the
// controller's passes over a thousand mutually aggregating roles took
// thirty seconds and gigabytes.
//
// A role with an invalid selector, which the API server rejects, keeps the
// rules of its manifest (the controller would fail on it and write
// nothing); a cycle whose result depends on the order the controller
// syncs its roles in is reported.
func (p *Policy) aggregate() {
	var all, agg []*Role
	for _, r := range p.ClusterRoles {
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b *Role) int { return strings.Compare(a.Name, b.Name) })
	// The ClusterRoles each aggregated role selects, per selector; labels
	// never change, so selection is done once.
	selected := map[*Role][][]*Role{}
	for _, r := range all {
		if r.Aggregation == nil {
			continue
		}
		var sel [][]*Role
		valid := true
		for i := range r.Aggregation.ClusterRoleSelectors {
			s, err := metav1.LabelSelectorAsSelector(&r.Aggregation.ClusterRoleSelectors[i])
			if err != nil {
				valid = false
				p.Problems = append(p.Problems, roleError(r, fmt.Sprintf("aggregationRule.clusterRoleSelectors[%d]: %v; the API server rejects it, and the aggregation controller would fail on it", i, err)))
				break
			}
			var roles []*Role
			for _, c := range all {
				if c != r && s.Matches(labels.Set(c.Labels)) {
					roles = append(roles, c)
				}
			}
			sel = append(sel, roles)
		}
		if valid {
			selected[r] = sel
			agg = append(agg, r)
		}
	}
	if len(agg) == 0 {
		return
	}
	for _, scc := range aggregationOrder(agg, selected) {
		p.aggregateGroup(scc, selected)
	}
}

// aggregationOrder groups the aggregated roles into the strongly connected
// components of "selects" (Tarjan's algorithm, iterative so that a long
// chain of roles cannot exhaust the stack), each component after every
// one it selects from.
func aggregationOrder(agg []*Role, selected map[*Role][][]*Role) [][]*Role {
	type state struct{ index, low int }
	st := make(map[*Role]*state, len(agg))
	var (
		stack   []*Role
		onStack = map[*Role]bool{}
		out     [][]*Role
		next    int
	)
	// succ lists each role's aggregated successors once.
	succ := func(r *Role) []*Role {
		var s []*Role
		for _, roles := range selected[r] {
			for _, c := range roles {
				if _, ok := selected[c]; ok {
					s = append(s, c)
				}
			}
		}
		return s
	}
	type frame struct {
		r    *Role
		succ []*Role
		i    int
	}
	for _, root := range agg {
		if st[root] != nil {
			continue
		}
		st[root] = &state{next, next}
		next++
		stack, onStack[root] = append(stack, root), true
		frames := []frame{{r: root, succ: succ(root)}}
		for len(frames) > 0 {
			f := &frames[len(frames)-1]
			if f.i < len(f.succ) {
				c := f.succ[f.i]
				f.i++
				if st[c] == nil {
					st[c] = &state{next, next}
					next++
					stack, onStack[c] = append(stack, c), true
					frames = append(frames, frame{r: c, succ: succ(c)})
				} else if onStack[c] {
					st[f.r].low = min(st[f.r].low, st[c].index)
				}
				continue
			}
			r := f.r
			frames = frames[:len(frames)-1]
			if len(frames) > 0 {
				parent := frames[len(frames)-1].r
				st[parent].low = min(st[parent].low, st[r].low)
			}
			if st[r].low == st[r].index {
				var scc []*Role
				for {
					c := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[c] = false
					scc = append(scc, c)
					if c == r {
						break
					}
				}
				slices.SortFunc(scc, func(a, b *Role) int { return strings.Compare(a.Name, b.Name) })
				out = append(out, scc)
			}
		}
	}
	return out
}

// aggregateGroup settles the rules of one component of aggregated roles,
// every role it selects outside itself being settled already.
func (p *Policy) aggregateGroup(group []*Role, selected map[*Role][][]*Role) {
	in := make(map[*Role]bool, len(group))
	for _, r := range group {
		in[r] = true
	}
	// What the component's roles pass round among themselves: the rules
	// of the roles outside it they select, else those they were created
	// with.
	var shared ruleList
	if len(group) > 1 {
		shared.seen = map[string]bool{}
		for _, r := range group {
			for _, roles := range selected[r] {
				for _, c := range roles {
					if !in[c] {
						shared.add(c)
					}
				}
			}
		}
		if len(shared.rules) == 0 {
			withRules := 0
			for _, r := range group {
				if len(r.Rules) > 0 {
					withRules++
				}
				shared.add(r)
			}
			if withRules > 1 {
				for _, r := range group {
					p.Warnings = append(p.Warnings, roleError(r, "aggregation does not settle on one answer: its selectors reach roles that select it back, and which of their own rules each ends with depends on the order the controller syncs them in; kubeguard takes them all"))
				}
			}
		}
	}
	results := make([]ruleList, len(group))
	for i, r := range group {
		var l ruleList
		external, sharedDone := false, false
		for _, roles := range selected[r] {
			for _, c := range roles {
				switch {
				case !in[c]:
					external = true
					if l.seen == nil {
						l.seen = map[string]bool{}
					}
					l.add(c)
				case !sharedDone:
					sharedDone = true
					if l.seen == nil {
						l.seen = map[string]bool{}
					}
					l.addList(&shared)
				}
			}
		}
		if sharedDone && !external {
			// The shared list itself, not a copy: roles that select
			// only each other (the costly case) hold one list between
			// them. Rules are never modified in place.
			l = ruleList{rules: shared.rules, sources: shared.sources, keys: shared.keys}
		}
		results[i] = l
	}
	// Written after all are computed: within a component every role reads
	// the shared list, not another's result.
	for i, r := range group {
		l := &results[i]
		if len(l.rules) == 0 || slices.Equal(l.keys, r.keys()) {
			continue // nothing written: the rules stay
		}
		r.Rules, r.Sources, r.ruleKeys = l.rules, l.sources, l.keys
	}
}

// ruleList collects rules in order, each distinct rule once.
type ruleList struct {
	rules   []rbacv1.PolicyRule
	sources []RuleSource
	keys    []string
	seen    map[string]bool
}

func (l *ruleList) add(c *Role) {
	for j, k := range c.keys() {
		l.push(k, c.Rules[j], c.Sources[j])
	}
}

func (l *ruleList) addList(o *ruleList) {
	for j, k := range o.keys {
		l.push(k, o.rules[j], o.sources[j])
	}
}

func (l *ruleList) push(k string, r rbacv1.PolicyRule, s RuleSource) {
	if l.seen[k] {
		return
	}
	l.seen[k] = true
	l.rules = append(l.rules, r)
	l.sources = append(l.sources, s)
	l.keys = append(l.keys, k)
}

// keys returns the role's rule keys, computing them once.
func (r *Role) keys() []string {
	if r.ruleKeys == nil || len(r.ruleKeys) != len(r.Rules) {
		r.ruleKeys = make([]string, len(r.Rules))
		for i := range r.Rules {
			r.ruleKeys[i] = ruleKey(&r.Rules[i])
		}
	}
	return r.ruleKeys
}

// ruleKey is equal for two rules exactly when the aggregation controller
// finds them equal (equality.Semantic): field by field, order significant,
// a nil list equal to an empty one.
func ruleKey(r *rbacv1.PolicyRule) string {
	var b strings.Builder
	for _, l := range [][]string{r.Verbs, r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs} {
		for _, s := range l {
			b.WriteString(s)
			b.WriteByte(0)
		}
		b.WriteByte(1)
	}
	return b.String()
}

func roleError(r *Role, msg string) finding.InputError {
	var loc finding.Location
	if r.Origin != nil {
		loc = r.Origin.Source
	}
	return finding.InputError{Location: loc, Message: r.Ref() + ": " + msg}
}
