package serviceaccount

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// DefaultServiceAccount reports pods and pod templates that run as their
// namespace's default ServiceAccount: serviceAccountName empty (the API
// server then sets "default") or "default". It points at
// serviceAccountName, or where it belongs.
var DefaultServiceAccount = check.Check{
	ID:       "service-account-default",
	Title:    "Workload uses the default ServiceAccount",
	Severity: finding.Low,
	Category: Category,
	Rationale: "Every pod that names no ServiceAccount runs as its namespace's default one, so they all share one identity: the " +
		"RBAC documentation warns that permissions granted to the default ServiceAccount are available to any pod in the " +
		"namespace that does not specify a serviceAccountName, and recommends granting roles to an application-specific " +
		"ServiceAccount instead. A dedicated ServiceAccount per workload keeps its permissions, its token's audience in audit " +
		"logs and its imagePullSecrets its own.",
	Remediation: "Create a ServiceAccount for the workload and run it as that one:\n" +
		"  apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: web\n    namespace: shop\n" +
		"  automountServiceAccountToken: false\n" +
		"and in the pod spec:\n" +
		"  spec:\n    serviceAccountName: web",
	DocURL: "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#service-account-permissions",
	Kinds:  []string{check.PodTemplates},
	Run: func(p *check.Pass) {
		name, path, set := podServiceAccount(p.Template)
		if name != defaultName {
			return
		}
		detail := "the pod names no ServiceAccount, so the API server runs it as \"default\""
		if set {
			detail = path.String() + " is \"default\""
		}
		// The fix is the object's own: a ServiceAccount named after it,
		// in its namespace, and its pod spec (wherever the kind keeps
		// it) running as that one.
		sa := p.Object.Ref.Name
		p.Report(check.Diagnostic{
			Path:   path,
			Reason: "runs as the default ServiceAccount",
			Remediation: "Create a ServiceAccount for the workload:\n" +
				"  apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: " + sa + "\n    namespace: " + orDefault(p.Object.Ref.Namespace) + "\n" +
				"  automountServiceAccountToken: false\n" +
				"and run " + p.Object.Ref.Kind + " " + quote(p.Object.Ref.Name) + " as that one (its own fields; as a strategic merge patch):\n" +
				p.Object.Patch([]object.Change{{Path: p.Template.SpecPath().Key("serviceAccountName"), Value: sa}}),
			Detail: detail + ": it shares that identity, and whatever is granted to it, with every pod of the namespace that names none",
		})
	},
}
