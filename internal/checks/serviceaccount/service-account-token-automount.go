package serviceaccount

import (
	"slices"
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/internal/rbac"
)

// TokenAutomount reports pods and pod templates that get their
// ServiceAccount's API token mounted automatically: the pod's
// automountServiceAccountToken is not false and, when the pod does not set
// it, neither is the ServiceAccount's (the pod's setting wins, as in the
// API server's ServiceAccount admission plugin).
//
// It is rated by what the token can do beyond what the workload evidently
// needs. A workload whose own ServiceAccount (not the namespace's shared
// default) is named by a binding of the input evidently calls the API: the
// install grants it access on purpose, and turning the token off would
// break it (ingress-nginx, cert-manager, argo-cd, kube-state-metrics). Its
// token gets no finding for those grants, or a low one naming the risky
// ones for review; `kubeguard rbac risks` judges the grants themselves. A risky permission the token carries otherwise (the
// default ServiceAccount's, a group's such as system:serviceaccounts, a
// user name's) is beyond that need: the finding then has the severity
// `rbac risks` gives the permission and says which. Rules limited by
// resourceNames count only for the names they give (get on one named
// Secret is not reading Secrets). A workload with no grant in the input
// gets a low finding: most applications never call the API.
//
// The finding points at the pod's automountServiceAccountToken, or where
// it belongs: the pod spec is where the fix for this pod goes, even when
// the ServiceAccount's setting is what turns mounting on.
var TokenAutomount = check.Check{
	ID:       "service-account-token-automount",
	Title:    "ServiceAccount token mounted automatically",
	Severity: finding.Low,
	Category: Category,
	Rationale: "The Kubernetes security checklist asks that ServiceAccount tokens not be mounted in pods that do not need them, " +
		"and the ServiceAccount documentation shows how to opt out of automounting. Every container of a pod that mounts one can " +
		"act as its ServiceAccount against the API server, and so can whoever runs code in it; most applications never call the " +
		"API. The RBAC good practices add that tokens of powerful ServiceAccounts should reach as few pods as possible: a token " +
		"carrying a risky permission the workload was not evidently granted is the escalation path from one compromised " +
		"container to the cluster (rated as `kubeguard rbac risks` rates the permission).",
	Remediation: "Turn automounting off in the pod spec (or on the ServiceAccount, for every pod that uses it):\n" +
		"  spec:\n    automountServiceAccountToken: false\n" +
		"and where a container does call the API, give it alone a short-lived token, with the CA bundle and the namespace " +
		"that client libraries read beside it:\n" + underSpec(object.Path{}.Key("spec"), projectedToken("app")),
	DocURL: "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting",
	Kinds:  []string{check.PodTemplates},
	Scope:  check.ScopeInput,
	Needs:  slices.Concat([]string{serviceAccountKind}, rbacKinds),
	Run: func(p *check.Pass) {
		t := p.Template
		name, _, _ := podServiceAccountName(t)
		sa := serviceAccount(p, name)
		var why string
		switch {
		case t.Spec.AutomountServiceAccountToken != nil:
			if !*t.Spec.AutomountServiceAccountToken {
				return
			}
			why = "the pod sets automountServiceAccountToken: true"
		case sa != nil && sa.AutomountServiceAccountToken != nil:
			if !*sa.AutomountServiceAccountToken {
				return
			}
			why = sa.ref() + " sets automountServiceAccountToken: true and the pod does not override it"
		case sa != nil:
			why = "neither the pod nor " + sa.ref() + " sets automountServiceAccountToken: false"
		default:
			why = "the pod does not set automountServiceAccountToken: false (its ServiceAccount " + saRef(p.Object.Ref.Namespace, name) +
				" is not in the input, and mounts by default)"
		}
		powers, named := tokenPowers(p, sa, name)
		evident := named && name != defaultName
		var beyond, granted []rbac.TokenPower
		worst := finding.Low
		for _, pw := range powers {
			if evident && pw.Direct {
				granted = append(granted, pw)
				continue
			}
			beyond = append(beyond, pw)
			worst = max(worst, pw.Severity)
		}
		d := check.Diagnostic{
			Path:   t.SpecPath().Key("automountServiceAccountToken"),
			Reason: "ServiceAccount token mounted automatically",
			Detail: "every container gets an API token of ServiceAccount " + saRef(p.Object.Ref.Namespace, name) + ": " + why,
		}
		switch {
		case len(beyond) > 0:
			d.Severity = &worst
			d.Reason = "token carries powers beyond the workload's own grants"
			d.Detail = why + "; the token of ServiceAccount " + saRef(p.Object.Ref.Namespace, name) + " can " + describePowers(beyond)
			if name == defaultName {
				d.Detail += ": the namespace's default ServiceAccount is shared by every pod that names none"
			}
		case evident && len(granted) > 0:
			// The token is needed; what it may do is for the grants'
			// review, not a reason to fail the workload.
			d.Reason = "token of a ServiceAccount granted risky permissions"
			d.Detail = why + "; the input grants ServiceAccount " + saRef(p.Object.Ref.Namespace, name) + " API access, so the workload needs its token, " +
				"which can " + describePowers(granted) + ": review those grants with kubeguard rbac risks"
			d.Remediation = fix(t, true)
		case evident:
			return // the install grants this ServiceAccount API access: the workload needs its token
		}
		if d.Remediation == "" {
			d.Remediation = fix(t, false)
		}
		p.Report(d)
	},
}

// projectedToken is a projected volume holding what automounting gives a
// container: a token, the cluster's CA bundle and the namespace, at the
// path client libraries read them from. Its lines are at the pod spec's
// level; container names the container that calls the API.
func projectedToken(container string) string {
	return "volumes:\n- name: api-token\n  projected:\n    sources:\n" +
		"    - serviceAccountToken:\n        path: token\n        expirationSeconds: 3600\n" +
		"    - configMap:\n        name: kube-root-ca.crt\n        items:\n        - key: ca.crt\n          path: ca.crt\n" +
		"    - downwardAPI:\n        items:\n        - path: namespace\n          fieldRef:\n            fieldPath: metadata.namespace\n" +
		"containers:\n- name: " + container + "\n  volumeMounts:\n  - name: api-token\n" +
		"    mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n    readOnly: true"
}

// underSpec writes lines (YAML at the pod spec's level) under the keys of
// spec, where the object keeps its pod spec (spec of a Pod,
// spec.template.spec of a Deployment), indented as a manifest is.
func underSpec(spec object.Path, lines string) string {
	var b strings.Builder
	indent := "  "
	for _, e := range spec {
		b.WriteString(indent + e.Key + ":\n")
		indent += "  "
	}
	for i, l := range strings.Split(lines, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(indent + l)
	}
	return b.String()
}

// fix is the finding's remediation for template t: turn automounting off
// and, where a container calls the API, mount a token in it alone; the
// snippets are written where t's object keeps its pod spec and name its
// first container.
func fix(t *object.PodTemplate, keep bool) string {
	// The token goes to a container of the pod's own, under the list
	// it is in: an init container named under containers would be a new
	// container without an image.
	container := "<container>"
	for _, c := range t.Containers() {
		if c.Kind == "containers" && c.Name != "" {
			container = c.Name
			break
		}
	}
	off := underSpec(t.SpecPath(), "automountServiceAccountToken: false")
	mount := underSpec(t.SpecPath(), projectedToken(container))
	if keep {
		return "Keep the token: the workload calls the API. Review the grants (kubeguard rbac risks), and when only " +
			"one container calls the API, turn automounting off and mount the token in that container alone, with the CA " +
			"bundle and the namespace beside it:\n" + underSpec(t.SpecPath(), "automountServiceAccountToken: false\n"+projectedToken(container))
	}
	return "Turn automounting off in the pod spec (or on the ServiceAccount, for every pod that uses it):\n" + off +
		"\nWhere a container does call the API, give it alone a short-lived token, with the CA bundle and the namespace " +
		"that client libraries read beside it:\n" + mount
}

// maxPowers bounds the permissions a finding names.
const maxPowers = 4

// describePowers names a token's risky permissions, one grant of each,
// the worst first; cluster-admin's rule says it all.
func describePowers(powers []rbac.TokenPower) string {
	powers = slices.Clone(powers)
	slices.SortStableFunc(powers, func(a, b rbac.TokenPower) int { return int(b.Severity) - int(a.Severity) })
	var parts []string
	seen := map[string]bool{}
	for _, pw := range powers {
		if seen[pw.Power] {
			continue
		}
		seen[pw.Power] = true
		if len(parts) < maxPowers {
			parts = append(parts, pw.Power+" ("+pw.Grant+", by "+pw.Binding.String()+")")
		}
		if pw.Power == rbac.PowerAll {
			break
		}
	}
	if more := len(seen) - len(parts); more > 0 {
		parts = append(parts, strconv.Itoa(more)+" more")
	}
	return strings.Join(parts, "; ")
}
