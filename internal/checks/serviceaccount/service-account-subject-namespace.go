package serviceaccount

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/rbac"
	rbacv1 "k8s.io/api/rbac/v1"
)

// SubjectNamespace reports a binding subject naming a ServiceAccount in a
// namespace when the input holds a ServiceAccount of that name with no
// namespace and none in the namespace named. Such installs (argo-cd's
// install.yaml) are applied with kubectl apply -n: scanned as they are,
// their objects are judged in no namespace, and the binding seems to grant
// nothing to the workloads it is written for.
var SubjectNamespace = check.Check{
	ID:       "service-account-subject-namespace",
	Title:    "Binding names a ServiceAccount in a namespace the input does not set",
	Severity: finding.Low,
	Category: Category,
	Scope:    check.ScopeInput,
	Rationale: "A ServiceAccount subject of a RoleBinding or ClusterRoleBinding names its namespace; a ServiceAccount whose " +
		"manifest names none lands in the namespace it is applied to. When the two are meant to meet (an install applied with " +
		"kubectl apply -n), an analysis of the manifests as they are written cannot relate the binding to the workloads that " +
		"use the ServiceAccount, and judges their tokens without the permissions the binding grants.",
	Remediation: "Scan as the manifests are applied: kubeguard scan -n <namespace> (as kubectl apply -n <namespace>), or set " +
		"metadata.namespace on the install's namespaced objects.",
	DocURL: "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects",
	Kinds:  []string{rbac.KindRoleBinding, rbac.KindClusterRoleBinding},
	Needs:  []string{serviceAccountKind},
	Run: func(p *check.Pass) {
		var subjects []rbacv1.Subject
		if p.Object.Decode(subjectsPath, &subjects) != nil {
			return
		}
		for i, s := range subjects {
			if s.Kind != rbacv1.ServiceAccountKind || s.Namespace == "" || s.Name == "" {
				continue
			}
			if p.Context.Lookup(serviceAccountKind, s.Namespace, s.Name) != nil || p.Context.Lookup(serviceAccountKind, "", s.Name) == nil {
				continue
			}
			p.Report(check.Diagnostic{
				Path:   subjectsPath.Index(i).Key("namespace"),
				Reason: "ServiceAccount " + quote(s.Name) + " has no namespace in the input",
				Detail: p.Object.Ref.String() + " names ServiceAccount " + s.Namespace + "/" + s.Name + ", but the input's ServiceAccount " +
					quote(s.Name) + " names no namespace: scanned as written, the binding grants nothing to the pods that use it; " +
					"scan with -n " + s.Namespace + " if the manifests are applied with kubectl apply -n " + s.Namespace,
				Remediation: "Scan as the manifests are applied:\n  kubeguard scan -n " + s.Namespace + " " + scanArg(p.Object.Source.File),
			})
		}
	},
}

// scanArg is how a command line names the file an object came from:
// standard input is "-".
func scanArg(file string) string {
	if file == finding.StdinName {
		return "-"
	}
	return file
}
