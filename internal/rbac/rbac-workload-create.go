package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// WorkloadCreate reports bindings that grant creating Pods or any pod
// controller, or changing a controller's pod template.
var WorkloadCreate = check.Check{
	ID:       "rbac-workload-create",
	Title:    "Can create workloads",
	Severity: finding.Medium,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "Whoever can create a Pod, or a workload that makes Pods (Deployments, ReplicaSets, StatefulSets, DaemonSets, " +
		"Jobs, CronJobs, ReplicationControllers), can run it as any ServiceAccount of the namespace and mount any of its " +
		"Secrets, ConfigMaps and volumes: the grant implies every permission of every ServiceAccount there. Updating a " +
		"controller's pod template does the same.",
	Remediation: "Grant workload creation only in the namespaces a subject owns, keep powerful ServiceAccounts out of those " +
		"namespaces, and enforce the Baseline or Restricted Pod Security Standard there.",
	DocURL: goodPractices + "#workload-creation",
}
