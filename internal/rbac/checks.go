package rbac

// The RBAC risk checks live here, beside the analysis that finds them (one
// file each, rbac-<id>.go, metadata only). They look across objects (a
// binding, the role it refers to, the subjects' other bindings, the
// workloads that run as a ServiceAccount), so they have no per-object Run:
// Risks evaluates them, and `kubeguard rbac risks` and `kubeguard cluster`
// report them. The catalogue (package checks) lists them in
// `kubeguard checks` and docs/checks.md with the rest.

import "github.com/kubeguard/kubeguard/internal/check"

// Category is the category of every RBAC check.
const Category = "RBAC"

// goodPractices is the Kubernetes RBAC good practices document; checks
// link to its sections.
const goodPractices = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"

// Checks are the RBAC checks, in registration order.
var Checks = []check.Check{
	SecretsRead,
	WorkloadCreate,
	PodExec,
	PersistentVolumeCreate,
	NodesProxy,
	EscalateVerb,
	BindVerb,
	Impersonate,
	CSRSigning,
	TokenRequest,
	AdmissionWebhookWrite,
	NamespaceModify,
	Wildcard,
	ClusterAdminBinding,
	SystemMastersBinding,
	AnonymousBinding,
	AuthenticatedBinding,
	ClusterBindingNamespacedOnly,
	BindingMissingRole,
	PrivilegedTokenWorkload,
}
