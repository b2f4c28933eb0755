package serviceaccount

import (
	"slices"
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks/secrets"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// enforceAnnotation restricts the Secrets a ServiceAccount's pods may
// use. The ServiceAccount admission plugin reads it with
// strconv.ParseBool, so "true", "1" and "True" all turn it on.
const enforceAnnotation = "kubernetes.io/enforce-mountable-secrets"

// MountableSecrets reports, for pods of a ServiceAccount in the input
// annotated kubernetes.io/enforce-mountable-secrets: "true", each Secret
// reference the ServiceAccount does not allow, at the field naming the
// Secret. It checks what the ServiceAccount admission plugin checks:
// secret volumes, env valueFrom.secretKeyRef and envFrom secretRef of
// init, regular and ephemeral containers against the ServiceAccount's
// secrets, and the pod's imagePullSecrets against the ServiceAccount's
// imagePullSecrets (not its secrets). The plugin rejects such a pod.
//
// Secret sources of projected volumes are reported as well, with a
// different detail: the plugin does not check them, so such a pod is
// admitted and the restriction the annotation asks for does not hold.
var MountableSecrets = check.Check{
	ID:       "service-account-mountable-secrets",
	Title:    "Pod uses a Secret its ServiceAccount does not allow",
	Severity: finding.Medium,
	Category: Category,
	Rationale: "The ServiceAccount API reference limits the pods of a ServiceAccount annotated kubernetes.io/enforce-mountable-" +
		"secrets: \"true\" to the Secrets of its secrets field, and the ServiceAccount admission plugin enforces it: it admits " +
		"only pods whose secret volumes and secret environment variables name Secrets listed in secrets, and whose " +
		"imagePullSecrets are listed in the ServiceAccount's imagePullSecrets. A pod " +
		"that names another Secret is rejected when applied (API servers before v1.27.13, v1.28.9 and v1.29.4 did not check " +
		"envFrom, CVE-2024-3177); one that reads it through a projected volume is admitted, because the plugin does not look " +
		"at projected sources, and gets around the restriction. Either way the pod and its ServiceAccount disagree.",
	Remediation: "List the Secret in the ServiceAccount, if the workload is meant to use it:\n" +
		"  apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: payments\n    annotations:\n" +
		"      kubernetes.io/enforce-mountable-secrets: \"true\"\n" +
		"  secrets:\n  - name: payments-db\n  imagePullSecrets:\n  - name: registry-credentials\n" +
		"or stop the pod from using it, and mount Secrets as secret volumes rather than projected ones, which the restriction does not cover.",
	DocURL: "https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/service-account-v1/",
	Kinds:  []string{check.PodTemplates},
	Scope:  check.ScopeInput,
	Needs:  []string{serviceAccountKind},
	Run: func(p *check.Pass) {
		name, _, _ := podServiceAccountName(p.Template)
		sa := serviceAccount(p, name)
		if sa == nil {
			return
		}
		if on, _ := strconv.ParseBool(sa.Annotations[enforceAnnotation]); !on {
			return
		}
		var mountable, pull []string
		for _, s := range sa.Secrets {
			mountable = append(mountable, s.Name)
		}
		for _, s := range sa.ImagePullSecrets {
			pull = append(pull, s.Name)
		}
		for _, r := range secrets.References(p.Template) {
			allowed, field := mountable, "secrets"
			if r.Source == secrets.ImagePull {
				allowed, field = pull, "imagePullSecrets"
			}
			if slices.Contains(allowed, r.Secret) {
				continue
			}
			listed := "lists none"
			if len(allowed) > 0 {
				listed = "lists " + strings.Join(quoteAll(allowed), ", ")
			}
			consequence := "the ServiceAccount admission plugin rejects the pod"
			if r.Source == secrets.Projected {
				consequence = "the ServiceAccount admission plugin does not check projected volumes, so the pod is admitted and the restriction does not hold"
			}
			var containers []string
			if r.Container != "" {
				containers = []string{r.Container}
			}
			p.Report(check.Diagnostic{
				Remediation: allowSecret(sa, field, append(slices.Clone(allowed), r.Secret)),
				Path:        r.Path,
				Containers:  containers,
				Reason:      "Secret not allowed by the ServiceAccount",
				Detail: r.Where() + " names Secret " + quote(r.Secret) + "; " + sa.ref() + " has " + enforceAnnotation +
					": " + quote(sa.Annotations[enforceAnnotation]) + " and its " + field + " field " + listed + ": " + consequence,
			})
		}
	},
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = quote(s)
	}
	return out
}

// allowSecret is the fix that lets the pod use a Secret: the input's own
// ServiceAccount with the Secret added to the field that must list it,
// written whole (imagePullSecrets has no merge key).
func allowSecret(sa *account, field string, names []string) string {
	var b strings.Builder
	b.WriteString("List the Secret in the ServiceAccount, if the workload is meant to use it:\n")
	b.WriteString("  apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: " + sa.Name + "\n")
	if sa.Object.Ref.Namespace != "" {
		b.WriteString("    namespace: " + sa.Object.Ref.Namespace + "\n")
	}
	b.WriteString("  " + field + ":")
	for _, n := range names {
		b.WriteString("\n  - name: " + strconv.Quote(n))
	}
	b.WriteString("\nor stop the pod from using it, and mount Secrets as secret volumes rather than projected ones, which the restriction does not cover.")
	return b.String()
}
