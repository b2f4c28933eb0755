package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// PodExec reports bindings that grant running code inside pods that
// already run: exec, attach, ephemeral containers, or changing a running
// pod's image.
var PodExec = check.Check{
	ID:       "rbac-pod-exec",
	Title:    "Can run commands in running pods",
	Severity: finding.Medium,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "Whoever can exec or attach into a pod (create, or get over WebSocket before Kubernetes v1.35, on " +
		"pods/exec or pods/attach), add an ephemeral container to it (update or patch on pods/ephemeralcontainers), or " +
		"swap the image of its containers (update or patch on pods) runs code with the pod's ServiceAccount token and " +
		"volumes: the grant implies the permissions of every ServiceAccount whose pods it reaches.",
	Remediation: "Grant these only for debugging, in namespaces without powerful ServiceAccounts, and with resourceNames " +
		"naming the pods concerned where possible; set automountServiceAccountToken: false on pods that need no API access.",
	DocURL: goodPractices + "#workload-creation",
}
