package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// NodesProxy reports grants of get or create on nodes/proxy.
var NodesProxy = check.Check{
	ID:       "rbac-nodes-proxy",
	Title:    "Access to the kubelet API (nodes/proxy)",
	Severity: finding.Critical,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "nodes/proxy reaches the kubelet API, which runs commands in every Pod of the node, bypassing audit logging " +
		"and admission control. Over a websocket the kubelet needs only get, so get on nodes/proxy is not read-only.",
	Remediation: "Remove nodes/proxy from the role; monitoring agents can read metrics from nodes/metrics and " +
		"nodes/stats instead.",
	DocURL: goodPractices + "#access-to-proxy-subresource-of-nodes",
}
