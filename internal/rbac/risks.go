package rbac

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	rbacv1 "k8s.io/api/rbac/v1"
)

// userFacingRoles are the built-in ClusterRoles meant for binding.
var userFacingRoles = []string{"cluster-admin", "admin", "edit", "view"}

// builtinRoles are the built-in roles of the embedded data, as
// kind/namespace/name (see Role.Ref).
var builtinRoles = sync.OnceValue(func() map[string]bool {
	objs, _ := Defaults()
	m := map[string]bool{}
	for _, o := range objs {
		if o.Ref.Kind == KindRole || o.Ref.Kind == KindClusterRole {
			m[ref(o.Ref.Kind, o.Ref.Namespace, o.Ref.Name)] = true
		}
	}
	return m
})

// builtinRoleName reports whether a role a binding of namespace ns refers
// to is one the API server creates: a ClusterRole meant for binding or
// named system:*, or a Role of the built-in data
// (kube-system/extension-apiserver-authentication-reader, say).
func builtinRoleName(kind, ns, name string) bool {
	if kind == KindClusterRole && (slices.Contains(userFacingRoles, name) || strings.HasPrefix(name, "system:")) {
		return true
	}
	if kind == KindClusterRole {
		ns = ""
	}
	return builtinRoles()[ref(kind, ns, name)]
}

// Risks evaluates the RBAC checks (rbac-*.go, this package) over the
// policy. Built-in roles and bindings are used to resolve grants but are
// not reported. Findings point at the binding (its roleRef, or the subject
// at fault), at the rule for wildcards, and at the workload's
// serviceAccountName for powerful tokens; they are not sorted.
func Risks(p *Policy) []finding.Finding { return risks(p, 0) }

// risks evaluates the checks on up to workers goroutines (every core when
// workers <= 0): the bindings in chunks, each chunk's findings in a slot of
// its own, and the powers of each ServiceAccount a workload runs as once;
// the findings are put together in the order one goroutine finds them.
func risks(p *Policy, workers int) []finding.Finding {
	ans := newAnalyses(p, workers)
	ans.reach = newReach(p, ans, workers)
	// The graph made some analyses before reach was known.
	for _, an := range ans.ans {
		if an != nil {
			an.reach = ans.reach
		}
	}
	var bindings []*Binding
	for _, b := range p.Bindings {
		if !b.Default && !b.refused {
			bindings = append(bindings, b)
		}
	}
	// The ServiceAccounts whose token a workload mounts, each once.
	sas := serviceAccountsByIdentity(p)
	var mounted []Identity
	index := map[Identity]int{}
	for _, w := range p.Workloads {
		id := w.identity()
		if _, ok := index[id]; !ok && mountsToken(w, sas[id]) {
			index[id] = len(mounted)
			mounted = append(mounted, id)
		}
	}
	const chunk = 64
	var (
		byBinding = make([][]finding.Finding, chunks(len(bindings), chunk))
		powers    = make([]riskyPower, len(mounted))
		csr, wild []finding.Finding
	)
	// The two single jobs are the largest: they are handed out first.
	jobs := []func(an *analysis){
		func(an *analysis) { csr = an.csrRisks() },
		func(an *analysis) { wild = an.wildcards() },
	}
	for c := range byBinding {
		jobs = append(jobs, func(an *analysis) {
			for _, b := range chunkOf(bindings, c, chunk) {
				byBinding[c] = append(byBinding[c], an.bindingRisks(b)...)
			}
		})
	}
	for c := range chunks(len(mounted), chunk) {
		jobs = append(jobs, func(an *analysis) {
			for i := c * chunk; i < min(len(mounted), (c+1)*chunk); i++ {
				what, via, narrow := an.riskyPowers(an.powersOf(mounted[i]))
				if len(what) > 0 {
					powers[i] = riskyPower{what: strings.Join(what, "; "), via: strings.Join(via, "; "), distance: ans.reach.dist[mounted[i]], narrow: narrow}
				}
			}
		})
	}
	forEach(len(jobs), workers, func(w, i int) { jobs[i](ans.get(w)) })
	out := slices.Concat(byBinding...)
	out = append(append(out, csr...), wild...)
	return append(out, workloadRisks(p.Workloads, sas, func(id Identity) riskyPower { return powers[index[id]] })...)
}

// chunks is the number of chunks of size that n items make.
func chunks(n, size int) int { return (n + size - 1) / size }

// chunkOf is chunk c of s.
func chunkOf[T any](s []T, c, size int) []T { return s[c*size : min(len(s), (c+1)*size)] }

// report makes a finding about the object ref, read from o (nil for typed
// input, which has no location).
func report(c *check.Check, ref finding.ObjectRef, o *Origin, path object.Path, sev *finding.Severity, reason, detail string) finding.Finding {
	var loc finding.Location
	if o != nil {
		loc = o.Locate(path)
	}
	s := c.Severity
	if sev != nil {
		s = *sev
	}
	return finding.Finding{
		CheckID: c.ID, Title: c.Title, Severity: s, Category: c.Category,
		Object: ref, Path: path.String(), Location: loc,
		Reason: reason, Detail: detail, Remediation: c.Remediation, DocURL: c.DocURL,
	}
}

func severity(s finding.Severity) *finding.Severity { return &s }

// subjects names a binding's subjects.
func subjects(b *Binding) string {
	var parts []string
	for i, s := range b.Subjects {
		if id, ok := b.Identity(i); ok {
			parts = append(parts, id.String())
		} else {
			parts = append(parts, fmt.Sprintf("%s %s (matches no one)", s.Kind, s.Name))
		}
	}
	if len(parts) == 0 {
		return "no subject"
	}
	return strings.Join(parts, ", ")
}

func scope(b *Binding) string {
	if b.Cluster() {
		return "cluster-wide"
	}
	return "in namespace " + b.Namespace
}

// RuleString renders a rule compactly, each field that is set with its
// values quoted: {verbs: ["get"], apiGroups: [""], resources: ["pods"]}.
func RuleString(r *rbacv1.PolicyRule) string {
	b := make([]byte, 0, 128)
	b = append(b, '{')
	for _, f := range [...]struct {
		name string
		l    []string
	}{{"verbs", r.Verbs}, {"apiGroups", r.APIGroups}, {"resources", r.Resources}, {"resourceNames", r.ResourceNames}, {"nonResourceURLs", r.NonResourceURLs}} {
		if len(f.l) == 0 {
			continue
		}
		if len(b) > 1 {
			b = append(b, ", "...)
		}
		b = append(append(b, f.name...), ": ["...)
		for i, s := range f.l {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = strconv.AppendQuote(b, s)
		}
		b = append(b, ']')
	}
	return string(append(b, '}'))
}

// grantDetail renders a grant path with the rule and where it is written.
func (an *analysis) grantDetail(g Grant) string {
	// All but the binding is the same for every grant of the rule: the
	// role, the rule, the role it was aggregated from, where it is
	// written.
	k := ruleRef{g.Role, g.Rule}
	rule, ok := an.rules[k]
	if !ok {
		rule = g.roleRule() + " " + RuleString(g.PolicyRule())
		if loc, ok := g.Source().Location(); ok {
			if loc.File == DefaultsFile {
				// Where kubeguard keeps its copy means nothing to a user:
				// the role is the API server's own.
				rule += " (" + g.Source().Role.Ref() + " is built into the API server)"
			} else {
				rule += " at " + loc.String()
			}
		}
		an.rules[k] = rule
	}
	return g.Binding.Ref() + rule
}

// subjects names a binding's subjects, once per binding.
func (an *analysis) subjects(b *Binding) string {
	s, ok := an.names[b]
	if !ok {
		s = subjects(b)
		an.names[b] = s
	}
	return s
}

func (an *analysis) bindingRisks(b *Binding) []finding.Finding {
	var out []finding.Finding
	o := b.Origin
	who := an.subjects(b)
	for i, s := range b.Subjects {
		path := subjectPath(i)
		switch {
		case s.Kind == rbacv1.GroupKind && s.Name == SystemMasters:
			out = append(out, report(&SystemMastersBinding, b.ObjectRef(), o, path, nil,
				fmt.Sprintf("%s binds %s to Group %s", b.Ref(), b.RoleRefString(), SystemMasters),
				"members of system:masters are allowed everything before RBAC is consulted"))
		case s.Kind == rbacv1.GroupKind && s.Name == AllUnauthenticated, s.Kind == rbacv1.UserKind && s.Name == Anonymous:
			var sev *finding.Severity
			if b.role != nil && publicInfoOnly(b.role) {
				// What the API server grants anonymous requests anyway.
				sev = severity(finding.Info)
			}
			out = append(out, report(&AnonymousBinding, b.ObjectRef(), o, path, sev,
				fmt.Sprintf("%s grants %s to %s %s: anyone who can reach the API server", b.Ref(), b.RoleRefString(), s.Kind, s.Name),
				roleSummary(b)))
		case s.Kind == rbacv1.GroupKind && (s.Name == AllAuthenticated || s.Name == AllServiceAccounts):
			who := "every authenticated user and ServiceAccount"
			if s.Name == AllServiceAccounts {
				who = "every ServiceAccount of every namespace"
			}
			out = append(out, report(&AuthenticatedBinding, b.ObjectRef(), o, path, nil,
				fmt.Sprintf("%s grants %s %s to Group %s: %s", b.Ref(), b.RoleRefString(), scope(b), s.Name, who),
				roleSummary(b)))
		}
	}
	r := b.role
	if r == nil {
		if f, ok := an.missingRole(b); ok {
			out = append(out, f)
		}
		if b.RoleRef.Kind == KindClusterRole && b.RoleRef.Name == "cluster-admin" {
			out = append(out, clusterAdmin(b, who, "ClusterRole cluster-admin"))
		}
		return out
	}
	if i, ok := an.superRule(r); ok || (b.RoleRef.Kind == KindClusterRole && b.RoleRef.Name == "cluster-admin") {
		what := r.Ref()
		if ok {
			what += " (" + an.grantDetail(Grant{Binding: b, Role: r, Rule: i}) + ")"
		}
		out = append(out, clusterAdmin(b, who, what))
		if ok {
			// Every other permission is implied: one finding says it all.
			return out
		}
	}
	byCheck := map[*check.Check][]capability{}
	var order []*check.Check
	for _, c := range an.bindingCaps(b, 0) {
		if c.probe.check == nil {
			continue
		}
		if _, ok := byCheck[c.probe.check]; !ok {
			order = append(order, c.probe.check)
		}
		byCheck[c.probe.check] = append(byCheck[c.probe.check], c)
	}
	for _, chk := range order {
		caps := byCheck[chk]
		var what, via []string
		seen := map[int]bool{}
		for _, c := range caps {
			if d := c.describe(); !slices.Contains(what, d) {
				what = append(what, d)
			}
			if !seen[c.rule] {
				seen[c.rule] = true
				via = append(via, an.grantDetail(c.grant))
			}
		}
		reason := fmt.Sprintf("%s can %s", who, strings.Join(what, "; "))
		if chk == &NamespaceModify && !b.Cluster() {
			reason += " (its own Namespace object only)"
		}
		var sev *finding.Severity
		if chk == &SecretsRead && !slices.ContainsFunc(caps, func(c capability) bool { return len(c.names) == 0 }) {
			// Named Secrets are the recommended narrow grant.
			sev = severity(finding.Low)
		}
		switch chk {
		case &SecretsRead:
			// As severe as the token Secrets it reads open.
			if s, d := an.reach.powerfulSecret(caps); s != nil {
				sev = severity(finding.Critical)
				reason += fmt.Sprintf("; that includes token Secret %s/%s of ServiceAccount %s/%s, %s", s.Namespace, s.Name, s.Namespace, s.ServiceAccount, reachWords(d))
			}
		case &Impersonate:
			switch {
			case !an.impersonatesUsers(b, caps):
				sev = severity(finding.Medium)
				reason += " (without impersonating a user, which no binding lets them do, the API server refuses these)"
			case !slices.ContainsFunc(caps, func(c capability) bool { return len(c.names) == 0 }):
				// Only the identities named: as much as they hold,
				// which the chain below raises when it leads to power.
				sev = severity(finding.Medium)
			case !slices.ContainsFunc(caps, func(c capability) bool { return c.probe.name != probeImpSAs || c.namespace == "" }):
				// Every ServiceAccount of a namespace (the built-in edit
				// and admin roles grant it): as much as they hold.
				sev = severity(finding.High)
			}
		}
		if d, ok := an.reach.opens(caps); ok {
			// A grant is as severe as the chain it is a move of.
			rated := chk.Severity
			if sev != nil {
				rated = *sev
			}
			if opened := chainSeverity(d); opened > rated {
				sev = severity(opened)
				reason += "; it is a move on a chain to cluster-admin power, " + movesWords(d) + " (see rbac paths)"
			}
		}
		out = append(out, report(chk, b.ObjectRef(), o, roleRefPath, sev, reason, "granted by "+strings.Join(via, "; ")))
	}
	if f, ok := an.mintRisk(b, who); ok {
		out = append(out, f)
	}
	if b.Cluster() {
		if f, ok := an.namespacedOnly(b, who); ok {
			out = append(out, f)
		}
	}
	return out
}

func clusterAdmin(b *Binding, who, what string) finding.Finding {
	sev := severity(finding.Critical)
	reason := fmt.Sprintf("%s can do everything to every resource, cluster-wide, through %s", who, b.Ref())
	if !b.Cluster() {
		sev = nil
		reason = fmt.Sprintf("%s can do everything in namespace %s, Roles and Secrets included, through %s", who, b.Namespace, b.Ref())
	}
	return report(&ClusterAdminBinding, b.ObjectRef(), b.Origin, roleRefPath, sev, reason, "role: "+what)
}

// roleSummary says what a binding's role grants, briefly.
func roleSummary(b *Binding) string {
	r := b.role
	if r == nil {
		return b.RoleRefString() + " is not in the input"
	}
	var rules []string
	for i := range r.Rules {
		rules = append(rules, RuleString(&r.Rules[i]))
	}
	if len(rules) == 0 {
		return r.Ref() + " has no rules"
	}
	return r.Ref() + " grants " + strings.Join(rules, ", ")
}

func (an *analysis) missingRole(b *Binding) (finding.Finding, bool) {
	if b.RoleRef.Kind != KindRole && b.RoleRef.Kind != KindClusterRole || b.Cluster() && b.RoleRef.Kind == KindRole {
		return finding.Finding{}, false // reported as invalid input
	}
	path := roleRefNamePath
	if !an.p.DefaultsLoaded && builtinRoleName(b.RoleRef.Kind, b.Namespace, b.RoleRef.Name) {
		return report(&BindingMissingRole, b.ObjectRef(), b.Origin, path, severity(finding.Info),
			fmt.Sprintf("%s refers to the built-in %s, whose rules are not in the input", b.Ref(), b.RoleRefString()),
			"analyse without --no-defaults to resolve the API server's built-in roles"), true
	}
	return report(&BindingMissingRole, b.ObjectRef(), b.Origin, path, nil,
		fmt.Sprintf("%s refers to %s, which is not in the input", b.Ref(), b.RoleRefString()),
		"subjects: "+an.subjects(b)+"; whoever creates that role decides what they get"), true
}

// namespacedOnly reports a ClusterRoleBinding whose role grants nothing
// but namespaced resources of known scope.
func (an *analysis) namespacedOnly(b *Binding, who string) (finding.Finding, bool) {
	r := b.role
	if len(r.Rules) == 0 {
		return finding.Finding{}, false
	}
	var res []string
	for i := range r.Rules {
		rule := &r.Rules[i]
		if len(rule.NonResourceURLs) > 0 || len(rule.Resources) == 0 || len(rule.APIGroups) == 0 {
			return finding.Finding{}, false
		}
		for _, g := range rule.APIGroups {
			for _, rs := range rule.Resources {
				base, _, _ := strings.Cut(rs, "/")
				if g == "*" || base == "*" {
					return finding.Finding{}, false
				}
				if namespaced, known := an.p.Namespaced(g, base); !namespaced || !known {
					return finding.Finding{}, false
				}
				if !slices.Contains(res, rs) {
					res = append(res, rs)
				}
			}
		}
	}
	return report(&ClusterBindingNamespacedOnly, b.ObjectRef(), b.Origin, kindPath, nil,
		fmt.Sprintf("%s grants %s only namespaced resources (%s), in every namespace", b.Ref(), who, strings.Join(res, ", ")),
		"role: "+r.Ref()), true
}

// csrRisks reports subjects that hold, through ClusterRoleBindings, all
// three rights that issue client certificates, at the binding that grants
// approval on the signer, unless every part comes from built-in bindings.
func (an *analysis) csrRisks() []finding.Finding {
	var out []finding.Finding
	done := map[Identity]bool{}
	// Only the subjects of bindings that grant one of the parts can hold
	// all three.
	csrPart := func(h hit) bool {
		return h.probe.csrPart > 0
	}
	for _, b := range an.p.Bindings {
		if !b.Cluster() || b.role == nil || !slices.ContainsFunc(an.roleHits(b.role), csrPart) {
			continue
		}
		for j := range b.Subjects {
			id, ok := b.Identity(j)
			if !ok || done[id] {
				continue
			}
			done[id] = true
			pw := an.powersOf(id)
			if pw.super != nil {
				continue // reported as cluster-admin
			}
			caps := pw.csr()
			var at *Binding
			var via []string
			for _, c := range caps {
				via = append(via, c.probe.name+": "+an.grantDetail(c.grant))
			}
			// The approval on the signer is the rarest part: point there,
			// or at the next part the input grants itself.
			for _, c := range slices.Backward(caps) {
				if cb := c.grant.Binding; at == nil && !cb.Default {
					at = cb
				}
			}
			if at == nil {
				continue
			}
			out = append(out, report(&CSRSigning, at.ObjectRef(), at.Origin, roleRefPath, nil,
				fmt.Sprintf("%s can request and approve client certificates for any user or group, system:masters included", id),
				strings.Join(via, "; ")))
		}
	}
	return out
}

// wildcards reports each rule with "*" in verbs, apiGroups or resources,
// in roles of the input.
func (an *analysis) wildcards() []finding.Finding {
	var roles []*Role
	for _, m := range []map[string]*Role{an.p.ClusterRoles, an.p.Roles} {
		for _, r := range m {
			if !r.Default && !r.Aggregated() && slices.ContainsFunc(r.Rules, func(rule rbacv1.PolicyRule) bool { return len(wildcardFields(&rule)) > 0 }) {
				roles = append(roles, r)
			}
		}
	}
	slices.SortFunc(roles, func(a, b *Role) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	bound := make(map[*Role][]string, len(roles))
	for _, r := range roles {
		bound[r] = nil
	}
	for _, b := range an.p.Bindings {
		if bs, ok := bound[b.role]; ok && b.role != nil {
			bound[b.role] = append(bs, b.Ref()+" ("+an.subjects(b)+")")
		}
	}
	var out []finding.Finding
	for _, r := range roles {
		detail := "not bound in the input"
		if bs := bound[r]; len(bs) > 0 {
			detail = "bound by " + strings.Join(bs, "; ")
		}
		for i := range r.Rules {
			rule := &r.Rules[i]
			fields := wildcardFields(rule)
			if len(fields) == 0 {
				continue
			}
			out = append(out, report(&Wildcard, r.ObjectRef(), r.Origin, rulePath(i).Key(fields[0]), nil,
				fmt.Sprintf("%s rules[%d] %s grants a wildcard in %s", r.Ref(), i, RuleString(rule), strings.Join(fields, ", ")), detail))
		}
	}
	return out
}

// wildcardFields names the fields of a rule that hold "*" (or "*/sub").
func wildcardFields(rule *rbacv1.PolicyRule) []string {
	var fields []string
	for _, f := range [...]struct {
		key  string
		vals []string
	}{{"verbs", rule.Verbs}, {"apiGroups", rule.APIGroups}, {"resources", rule.Resources}} {
		if slices.ContainsFunc(f.vals, func(v string) bool { return v == "*" || strings.HasPrefix(v, "*/") }) {
			fields = append(fields, f.key)
		}
	}
	return fields
}

// riskyPowers describes what makes a ServiceAccount powerful, one line
// per kind of permission with where it holds, and a grant of each; empty
// when nothing does. narrow says that all of it is reading Secrets named
// by resourceNames, the narrow grant the RBAC good practices recommend
// (rated low, as rbac-secrets-read rates it).
func (an *analysis) riskyPowers(pw powers) (what, via []string, narrow bool) {
	if pw.super != nil {
		return []string{"do everything (cluster-admin)"}, []string{an.grantDetail(*pw.super)}, false
	}
	// kind is what is held of one kind of permission: where first, then
	// the number of namespaces and the first three. The capabilities come
	// binding by binding in the policy's order, which sorts bindings by
	// namespace, so a namespace seen before is the last one counted. A
	// ServiceAccount's powers span most namespaces, and this loop runs
	// over every capability of every mounted ServiceAccount: a set of
	// namespaces here was a seventh of what the analysis allocated.
	type kind struct {
		first   *capability
		cluster bool
		n       int
		nss     [3]string
		last    string
		// unnamed says a capability of the kind is not limited by
		// resourceNames.
		unnamed bool
	}
	var order []int
	kinds := make([]kind, probeNames)
	for c := range pw.all {
		if c.probe.check == nil {
			continue
		}
		k := &kinds[c.probe.id]
		if k.first == nil {
			k.first = c
			order = append(order, c.probe.id)
		}
		k.unnamed = k.unnamed || len(c.names) == 0
		switch {
		case c.namespace == "":
			k.cluster = true
		case k.n == 0 || k.last != c.namespace:
			if k.n < len(k.nss) {
				k.nss[k.n] = c.namespace
			}
			k.n++
			k.last = c.namespace
		}
	}
	narrow = len(order) > 0
	for _, id := range order {
		k := &kinds[id]
		name := k.first.probe.name
		if named := !k.unnamed && k.first.probe.check == &SecretsRead; named {
			name = "get secrets named " + strings.Join(k.first.names, ", ")
			if k.n > 1 || k.cluster {
				name += " and others"
			}
		} else {
			narrow = false
		}
		where := "cluster-wide"
		if !k.cluster {
			where = "in namespace " + strings.Join(k.nss[:min(len(k.nss), k.n)], ", ")
			if k.n > len(k.nss) {
				where += fmt.Sprintf(" and %d more", k.n-len(k.nss))
			}
		}
		what = append(what, name+" "+where)
		via = append(via, an.grantDetail(k.first.grant))
	}
	if caps := pw.csr(); caps != nil {
		narrow = false
		what = append(what, "issue client certificates")
		for _, c := range caps {
			via = append(via, an.grantDetail(c.grant))
		}
	}
	return what, via, narrow
}

// serviceAccountsByIdentity indexes the input's ServiceAccounts.
func serviceAccountsByIdentity(p *Policy) map[Identity]*ServiceAccount {
	sas := make(map[Identity]*ServiceAccount, len(p.ServiceAccounts))
	for _, sa := range p.ServiceAccounts {
		sas[Identity{Kind: rbacv1.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name}] = sa
	}
	return sas
}

// riskyPower is what makes a ServiceAccount powerful and the grants that
// do, as the findings about its workloads say them (see riskyPowers):
// joined once, for every workload that runs as it. Empty when nothing
// does.
type riskyPower struct {
	what, via string
	// distance is the ServiceAccount's distance to cluster-admin power,
	// 0 when it has no chain.
	distance int
	// narrow says all of it is reading Secrets named by resourceNames.
	narrow bool
}

// workloadRisks reports the workloads that mount the token of a
// ServiceAccount holding a risky permission; powers tells, for the
// ServiceAccount of each workload that mounts its token, what it can do.
func workloadRisks(workloads []*Workload, sas map[Identity]*ServiceAccount, powers func(Identity) riskyPower) []finding.Finding {
	var out []finding.Finding
	for _, w := range workloads {
		id := w.identity()
		if !mountsToken(w, sas[id]) {
			continue
		}
		r := powers(id)
		if r.what == "" {
			continue
		}
		// The finding is as severe as what the token reaches.
		sev, reason := (*finding.Severity)(nil), "runs as "+id.String()+", which can "+r.what
		if r.narrow {
			sev = severity(finding.Low)
		}
		switch {
		case r.distance == 1:
			sev, reason = severity(finding.Critical), reason+"; the token holds cluster-admin power"
		case r.distance > 1:
			sev, reason = severity(finding.High), reason+fmt.Sprintf("; the token reaches cluster-admin power in %d steps (see rbac paths)", r.distance)
		}
		out = append(out, report(&PrivilegedTokenWorkload, w.Origin.Ref, w.Origin, w.serviceAccountPath(), sev,
			reason, "granted by "+r.via))
	}
	return out
}

// mountsToken reports whether a workload's pods get their ServiceAccount's
// token: the pod's automountServiceAccountToken wins over the
// ServiceAccount's, and the default is true.
func mountsToken(w *Workload, sa *ServiceAccount) bool {
	if w.Automount != nil {
		return *w.Automount
	}
	if sa != nil && sa.Automount != nil {
		return *sa.Automount
	}
	return true
}

// publicInfoOnly reports whether a role grants nothing but what the
// built-in system:public-info-viewer grants every request, authenticated
// or not: get on /healthz, /livez, /readyz, /version and /version/.
func publicInfoOnly(r *Role) bool {
	public := []string{"/healthz", "/livez", "/readyz", "/version", "/version/"}
	for i := range r.Rules {
		rule := &r.Rules[i]
		if len(rule.Resources) > 0 || len(rule.APIGroups) > 0 || len(rule.ResourceNames) > 0 || len(rule.NonResourceURLs) == 0 {
			return false
		}
		for _, v := range rule.Verbs {
			if v != "get" {
				return false
			}
		}
		for _, u := range rule.NonResourceURLs {
			if !slices.Contains(public, u) {
				return false
			}
		}
	}
	return true
}

// impersonatesUsers reports whether impersonation granted by a binding
// can be used: the grant includes users or ServiceAccounts, or a subject
// of the binding may impersonate some through another.
func (an *analysis) impersonatesUsers(b *Binding, caps []capability) bool {
	for _, c := range caps {
		if c.probe.name == probeImpUsers || c.probe.name == probeImpSAs {
			return true
		}
	}
	for i := range b.Subjects {
		id, ok := b.Identity(i)
		if !ok {
			continue
		}
		pw := an.powersOf(id)
		if len(pw.find(probeImpUsers, true)) > 0 || len(pw.find(probeImpSAs, false)) > 0 {
			return true
		}
	}
	return false
}

// mintRisk reports a binding that grants creating Secrets where a subject
// of it may also read them: it creates a Secret of type
// kubernetes.io/service-account-token for any ServiceAccount there, which
// the token controller fills with a token, and reads the token back.
func (an *analysis) mintRisk(b *Binding, who string) (finding.Finding, bool) {
	for _, c := range an.bindingCaps(b, 0) {
		if c.probe.name != probeCreateSecrets {
			continue
		}
		for i := range b.Subjects {
			id, ok := b.Identity(i)
			if !ok {
				continue
			}
			for r := range an.powersOf(id).all {
				ns, ok := meet(c.namespace, r.namespace)
				if r.probe.name != probeSecrets || !ok {
					continue
				}
				reason := fmt.Sprintf("%s can mint a token of any ServiceAccount %s: create a Secret of type kubernetes.io/service-account-token naming it, "+
					"which the token controller fills, then read it (%s can %s)", who, where(ns), id, r.describe())
				detail := "granted by " + an.grantDetail(c.grant) + "; read by " + an.grantDetail(r.grant)
				return report(&TokenRequest, b.ObjectRef(), b.Origin, roleRefPath, nil, reason, detail), true
			}
		}
	}
	return finding.Finding{}, false
}

// reach is what the risks know of the escalation graph: the distance to
// cluster-admin power of each ServiceAccount whose token a workload
// mounts or a token Secret holds (absent when it has no chain), and the
// token Secrets of those that have one, by namespace.
type reach struct {
	dist    map[Identity]int
	secrets map[string][]*TokenSecret
	all     []*TokenSecret
	// named and namedNS are the index in all of the first Secret of each
	// name, and of each namespace and name: read access limited to names
	// looks up those, not every token Secret.
	named   map[string]int
	namedNS map[[2]string]int
	// steps is, for each rule a binding grants that is a move on a chain
	// to cluster-admin power, the fewest moves from it to power, this one
	// included: the grant is as severe as the chain it opens.
	steps map[grantKey]int
}

// grantKey is a rule granted by a binding, whatever its subject.
type grantKey struct {
	binding *Binding
	role    *Role
	rule    int
}

// opens reports the fewest moves to cluster-admin power of a chain that
// one of caps's grants is a move of.
func (r *reach) opens(caps []capability) (int, bool) {
	best := 0
	for _, c := range caps {
		if d, ok := r.steps[grantKey{c.grant.Binding, c.grant.Role, c.grant.Rule}]; ok && (best == 0 || d < best) {
			best = d
		}
	}
	return best, best > 0
}

func newReach(p *Policy, ans *analyses, workers int) *reach {
	r := &reach{dist: map[Identity]int{}, secrets: map[string][]*TokenSecret{}, named: map[string]int{}, namedNS: map[[2]string]int{}, steps: map[grantKey]int{}}
	var starts []Identity
	seen := map[Identity]bool{}
	add := func(id Identity) {
		if !seen[id] {
			seen[id] = true
			starts = append(starts, id)
		}
	}
	for _, s := range p.TokenSecrets {
		if s.ServiceAccount != "" {
			add(Identity{Kind: rbacv1.ServiceAccountKind, Namespace: s.Namespace, Name: s.ServiceAccount})
		}
	}
	sas := serviceAccountsByIdentity(p)
	for _, w := range p.Workloads {
		if mountsToken(w, sas[w.identity()]) {
			add(w.identity())
		}
	}
	// The subjects of the bindings too, as rbac paths starts from them:
	// the moves of their chains rate the grants that allow them.
	for _, id := range pathStarts(p) {
		add(id)
	}
	if len(starts) == 0 {
		return r
	}
	slices.SortFunc(starts, compareIdentity)
	for _, h := range newGraphOf(ans, workers).hops(starts) {
		r.dist[h.Subject] = h.Distance
		for _, g := range h.Step.Grants {
			k := grantKey{g.Binding, g.Role, g.Rule}
			if d, ok := r.steps[k]; !ok || h.Distance < d {
				r.steps[k] = h.Distance
			}
		}
	}
	for _, s := range p.TokenSecrets {
		if r.dist[Identity{Kind: rbacv1.ServiceAccountKind, Namespace: s.Namespace, Name: s.ServiceAccount}] > 0 {
			if _, ok := r.named[s.Name]; !ok {
				r.named[s.Name] = len(r.all)
			}
			if _, ok := r.namedNS[[2]string{s.Namespace, s.Name}]; !ok {
				r.namedNS[[2]string{s.Namespace, s.Name}] = len(r.all)
			}
			r.secrets[s.Namespace] = append(r.secrets[s.Namespace], s)
			r.all = append(r.all, s)
		}
	}
	return r
}

// powerfulSecret finds a token Secret that read access covers whose
// ServiceAccount has a chain to power, and its distance.
func (r *reach) powerfulSecret(caps []capability) (*TokenSecret, int) {
	if r == nil {
		return nil, 0
	}
	for _, c := range caps {
		// The first Secret, in the input's order, that c reads.
		first := -1
		switch {
		case len(c.names) == 0 && c.namespace == "":
			if len(r.all) > 0 {
				first = 0
			}
		case len(c.names) == 0:
			if l := r.secrets[c.namespace]; len(l) > 0 {
				return r.found(l[0])
			}
		default:
			for _, n := range c.names {
				i, ok := r.named[n]
				if c.namespace != "" {
					i, ok = r.namedNS[[2]string{c.namespace, n}]
				}
				if ok && (first < 0 || i < first) {
					first = i
				}
			}
		}
		if first >= 0 {
			return r.found(r.all[first])
		}
	}
	return nil, 0
}

func (r *reach) found(s *TokenSecret) (*TokenSecret, int) {
	return s, r.dist[Identity{Kind: rbacv1.ServiceAccountKind, Namespace: s.Namespace, Name: s.ServiceAccount}]
}

// reachWords says a distance to power.
// chainSeverity is the severity of a move d moves from cluster-admin
// power, this one included: the last move is power itself, and the one
// before it reaches an identity that holds power (a cluster-admin token,
// as rbac-privileged-token-workload rates it), so both are critical.
func chainSeverity(d int) finding.Severity {
	if d <= 2 {
		return finding.Critical
	}
	return finding.High
}

// movesWords says how far a move is from cluster-admin power.
func movesWords(d int) string {
	if d == 1 {
		return "the last one"
	}
	return fmt.Sprintf("%d moves from it", d)
}

func reachWords(d int) string {
	if d == 1 {
		return "which holds cluster-admin power"
	}
	return fmt.Sprintf("which reaches cluster-admin power in %d steps (see rbac paths)", d)
}
