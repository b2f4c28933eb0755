package object

import (
	"fmt"
	"strings"
)

// clusterScoped are the built-in kinds that have no namespace, by kind
// name (the few names shared across groups are cluster-scoped in each).
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ComponentStatus": true,
	"ClusterRole": true, "ClusterRoleBinding": true,
	"CustomResourceDefinition": true, "APIService": true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
	"MutatingAdmissionPolicy": true, "MutatingAdmissionPolicyBinding": true,
	"StorageClass": true, "CSIDriver": true, "CSINode": true, "VolumeAttachment": true, "VolumeAttributesClass": true,
	"PriorityClass": true, "RuntimeClass": true, "IngressClass": true, "CertificateSigningRequest": true,
	"ClusterTrustBundle": true, "PodSecurityPolicy": true, "FlowSchema": true, "PriorityLevelConfiguration": true,
	"DeviceClass": true, "ResourceSlice": true, "IPAddress": true, "ServiceCIDR": true,
	"TokenReview": true, "SelfSubjectReview": true, "SubjectAccessReview": true, "SelfSubjectAccessReview": true,
	"SelfSubjectRulesReview": true, "List": true,
}

// Namespaced reports whether objects of the kind live in a namespace. A
// custom kind is taken as namespaced unless its name starts with Cluster
// (ClusterIssuer, ClusterPolicy, ClusterSecretStore): without the
// CustomResourceDefinition, the name is what there is to go by.
func Namespaced(kind string) bool {
	return !clusterScoped[kind] && !strings.HasPrefix(kind, "Cluster")
}

// ApplyNamespace gives the object the namespace ns when it is of a
// namespaced kind and names none, as `kubectl apply -n ns` does. An object
// naming another namespace is refused, as kubectl refuses it, with a
// *FieldError at its metadata.namespace.
func (o *Object) ApplyNamespace(ns string) error {
	if ns == "" || !Namespaced(o.Ref.Kind) {
		return nil
	}
	switch o.Ref.Namespace {
	case "":
		o.Ref.Namespace = ns
		return nil
	case ns:
		return nil
	}
	p := Path{}.Keys("metadata", "namespace")
	loc, _ := o.Locate(p)
	return &FieldError{Path: p, Location: loc, Message: fmt.Sprintf(
		"the object's namespace %q does not match the namespace %q given with -n (kubectl apply -n refuses it)", o.Ref.Namespace, ns)}
}
