package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// PersistentVolumeCreate reports grants of create on PersistentVolumes.
var PersistentVolumeCreate = check.Check{
	ID:       "rbac-persistent-volume-create",
	Title:    "Can create PersistentVolumes",
	Severity: finding.High,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "Creating arbitrary PersistentVolumes includes hostPath volumes, which give a Pod the node's filesystem: " +
		"other containers' data and the kubelet's credentials.",
	Remediation: "Leave PersistentVolume creation to cluster operators and provisioners; let users claim storage with " +
		"PersistentVolumeClaims.",
	DocURL: goodPractices + "#persistent-volume-creation",
}
