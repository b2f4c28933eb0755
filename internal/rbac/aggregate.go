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
//   - the rules taken from an aggregated role are its current rules, so
//     nested aggregation settles after as many passes as the nesting is
//     deep; the controller gets there by re-queuing every aggregated role
//     on any ClusterRole change, here passes run until nothing changes.
//
// A role with an invalid selector, which the API server rejects, keeps the
// rules of its manifest (the controller would fail on it and write
// nothing); a cycle that never settles is reported.
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
	// An aggregated role is recomputed when a role it selects changed in
	// the previous pass; the first pass computes them all.
	dependents := map[*Role][]*Role{}
	for _, r := range agg {
		for _, roles := range selected[r] {
			for _, c := range roles {
				if c.Aggregation != nil {
					dependents[c] = append(dependents[c], r)
				}
			}
		}
	}
	dirty := map[*Role]bool{}
	for _, r := range agg {
		dirty[r] = true
	}
	written := map[*Role]bool{} // roles whose rules the controller owns
	pass := func() (changed []*Role) {
		next := map[*Role]bool{}
		for _, r := range agg {
			if !dirty[r] && !next[r] {
				continue
			}
			rules, sources, keys := aggregateOnce(selected[r])
			if slices.Equal(keys, r.keys()) || len(rules) == 0 && !written[r] {
				continue // nothing written: the rules stay
			}
			written[r] = len(rules) > 0
			changed = append(changed, r)
			for _, d := range dependents[r] {
				next[d] = true
			}
			r.Rules, r.Sources, r.ruleKeys = rules, sources, keys
		}
		dirty = next
		return changed
	}
	for range len(agg) + 1 {
		if len(pass()) == 0 {
			return
		}
	}
	for _, r := range pass() {
		p.Warnings = append(p.Warnings, roleError(r, "aggregation does not settle: its selectors reach roles that select it back, and the controller would rewrite it forever"))
	}
}

func aggregateOnce(selectors [][]*Role) ([]rbacv1.PolicyRule, []RuleSource, []string) {
	rules := []rbacv1.PolicyRule{}
	var (
		sources []RuleSource
		keys    []string
	)
	n := 0
	for _, roles := range selectors {
		for _, c := range roles {
			n += len(c.Rules)
		}
	}
	seen := make(map[string]bool, n)
	for _, roles := range selectors {
		for _, c := range roles {
			for j, k := range c.keys() {
				if seen[k] {
					continue
				}
				seen[k] = true
				rules = append(rules, c.Rules[j])
				sources = append(sources, c.Sources[j])
				keys = append(keys, k)
			}
		}
	}
	return rules, sources, keys
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
