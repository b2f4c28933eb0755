package rbac

import (
	"github.com/kubeguard/kubeguard/internal/finding"
	rbacv1 "k8s.io/api/rbac/v1"
)

// TokenPower is a risky permission an identity's token carries, through
// one binding.
type TokenPower struct {
	// Power says what it allows, for people: "read secrets".
	Power string
	// Severity is the severity `kubeguard rbac risks` gives the grant:
	// that of the RBAC check reporting it, critical for cluster-admin's
	// rule.
	Severity finding.Severity
	// Grant says what is granted where: "get/list secrets in namespace
	// shop".
	Grant string
	// Binding is the binding that grants it.
	Binding finding.ObjectRef
	// Direct is set when the binding names the identity itself, rather
	// than a group it belongs to or its user name.
	Direct bool
}

// PowerAll is the TokenPower of cluster-admin's rule granted cluster-wide.
const PowerAll = "do anything (cluster-admin's rule)"

// TokenPowers answers, narrowly, which risky permissions an identity holds
// in a policy, for the ServiceAccount-token checks: the same probes the
// risk analysis rates, each with the severity it gives them. A rule limited
// by resourceNames is not the general permission (get on one named Secret
// does not read secrets) unless the probe itself is about names; such
// grants are left out.
func TokenPowers(p *Policy, id Identity) []TokenPower {
	an := newAnalysis(p, newRoleTable(p, 1))
	pw := an.powersOf(id)
	var out []TokenPower
	direct := func(g Grant) bool {
		sid, ok := g.Binding.Identity(g.Subject)
		return ok && sid.Kind == rbacv1.ServiceAccountKind && sid == id
	}
	if pw.super != nil {
		out = append(out, TokenPower{Power: PowerAll, Severity: finding.Critical,
			Grant: "* on * cluster-wide", Binding: pw.super.Binding.ObjectRef(), Direct: direct(*pw.super)})
	}
	seen := map[TokenPower]bool{} // a set, not a search of out: a pod may hold many grants
	for c := range pw.all {
		if c.probe.check == nil || len(c.names) > 0 && len(c.probe.names) == 0 {
			continue
		}
		tp := TokenPower{Power: c.probe.name, Severity: c.probe.check.Severity, Grant: c.describe(),
			Binding: c.grant.Binding.ObjectRef(), Direct: direct(c.grant)}
		if !seen[tp] {
			seen[tp] = true
			out = append(out, tp)
		}
	}
	return out
}
