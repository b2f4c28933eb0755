package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// CSRSigning reports subjects that can both request and approve client
// certificates for the API server.
var CSRSigning = check.Check{
	ID:       "rbac-csr-signing",
	Title:    "Can issue client certificates",
	Severity: finding.Critical,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "create on certificatesigningrequests, update on certificatesigningrequests/approval and approve on the " +
		"kubernetes.io/kube-apiserver-client signer together issue client certificates with any name and groups, " +
		"system:masters and the control plane's own identities included.",
	Remediation: "Split the rights: the requester must not approve, and approve on signers should name only the signers " +
		"the approver is responsible for.",
	DocURL: goodPractices + "#csrs-and-certificate-issuing",
}
