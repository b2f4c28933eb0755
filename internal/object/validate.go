package object

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/scheme"
	netutils "k8s.io/utils/net"
)

// Validate refuses the values the API server's validation would refuse in
// what kubeguard's analyses read: the object's name (by its kind's rule),
// its labels and annotations, and the ports, peers and selectors of a
// NetworkPolicy or the ports of a Service, where a wrong value would
// otherwise change a verdict (a policy with protocol DNS is no policy, not
// a default deny). It is not the whole of the API server's validation. Run
// it after CheckTypes. The error is a *FieldError at the first offending
// field, worded as the API server words it, without the value.
func (o *Object) Validate() error {
	known := builtin(o.Ref.APIVersion, o.Ref.Kind)
	if err := o.validateMeta(known); err != nil {
		return err
	}
	if !known {
		return nil
	}
	switch o.Ref.Kind {
	case "NetworkPolicy":
		var np networkingv1.NetworkPolicy
		if o.Decode(Path{}, &np) != nil {
			return nil // CheckTypes reports it
		}
		return o.validateNetworkPolicy(&np.Spec)
	case "Service":
		var svc corev1.Service
		if o.Decode(Path{}, &svc) != nil {
			return nil
		}
		return o.validateServicePorts(svc.Spec.Ports)
	}
	return nil
}

// builtin reports whether apiVersion and kind name a kind built into
// Kubernetes, rather than a custom resource of the same kind name.
func builtin(apiVersion, kind string) bool {
	gv, err := schema.ParseGroupVersion(apiVersion)
	return err == nil && scheme.Scheme.Recognizes(gv.WithKind(kind))
}

// nameRules are the rules the API server holds the names of built-in kinds
// to, where they are not a DNS-1123 subdomain (the rule of most kinds):
// each is upstream's ValidateXName for the kind.
var nameRules = map[string]func(string, bool) []string{
	"Namespace": apivalidation.ValidateNamespaceName,
	// A DNS-1123 label since the relaxed Service name validation (a
	// DNS-1035 label before it: no leading digit).
	"Service":                   apivalidation.NameIsDNSLabel,
	"Role":                      pathSegmentName,
	"ClusterRole":               pathSegmentName,
	"RoleBinding":               pathSegmentName,
	"ClusterRoleBinding":        pathSegmentName,
	"CertificateSigningRequest": pathSegmentName,
}

// pathSegmentName is upstream's rule for RBAC and CSR names: any name a
// URL path segment can carry.
func pathSegmentName(name string, _ bool) []string { return content.IsPathSegmentName(name) }

// subdomainNamed are the built-in kinds whose names are DNS-1123
// subdomains, the kinds a manifest commonly holds. Kinds not listed here or
// in nameRules are not held to a name rule: refusing a name the API server
// takes would make a gate fail on a good manifest.
var subdomainNamed = map[string]bool{
	"Pod": true, "Deployment": true, "ReplicaSet": true, "StatefulSet": true, "DaemonSet": true,
	"Job": true, "CronJob": true, "ReplicationController": true, "PodTemplate": true,
	"ConfigMap": true, "Secret": true, "ServiceAccount": true, "NetworkPolicy": true,
	"Ingress": true, "IngressClass": true, "PersistentVolumeClaim": true, "PersistentVolume": true,
	"PodDisruptionBudget": true, "LimitRange": true, "ResourceQuota": true, "PriorityClass": true,
	"StorageClass": true, "ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true,
	"HorizontalPodAutoscaler": true,
}

// validateMeta holds the name, labels and annotations to the API server's
// rules. Labels and annotations are validated for every object, custom
// resources too, as the API server validates every object's metadata.
func (o *Object) validateMeta(known bool) error {
	meta := Path{}.Key("metadata")
	if name := o.Ref.Name; name != "" && known {
		rule := nameRules[o.Ref.Kind]
		if rule == nil && subdomainNamed[o.Ref.Kind] {
			rule = apivalidation.NameIsDNSSubdomain
		}
		if rule != nil {
			if msgs := rule(name, false); len(msgs) > 0 {
				return o.invalid(meta.Key("name"), "invalid name: "+strings.Join(msgs, "; "))
			}
		}
	}
	if k, why := firstRefused(o.Labels, func(k, v string) string {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			return "invalid label key: " + strings.Join(msgs, "; ")
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			return "invalid label value: " + strings.Join(msgs, "; ")
		}
		return ""
	}); why != "" {
		return o.invalid(meta.Keys("labels", k), why)
	}
	if k, why := firstRefused(o.Annotations, func(k, _ string) string {
		if msgs := validation.IsQualifiedName(strings.ToLower(k)); len(msgs) > 0 {
			return "invalid annotation key: " + strings.Join(msgs, "; ")
		}
		return ""
	}); why != "" {
		return o.invalid(meta.Keys("annotations", k), why)
	}
	if err := apivalidation.ValidateAnnotationsSize(o.Annotations); err != nil {
		return o.invalid(meta.Key("annotations"), fmt.Sprintf("annotations too long: must have at most %d bytes", apivalidation.TotalAnnotationSizeLimitB))
	}
	return nil
}

// firstRefused is the first key, in sorted order, of the entries of m
// that refused says why it refuses (empty: accepted), and why: the error
// names one entry, the same on every run, without sorting the maps of
// every object, which hold none.
func firstRefused(m map[string]string, refused func(k, v string) string) (key, why string) {
	for k, v := range m {
		if w := refused(k, v); w != "" && (why == "" || k < key) {
			key, why = k, w
		}
	}
	return key, why
}

// validateNetworkPolicy is the part of upstream's ValidateNetworkPolicySpec
// that decides what a policy selects and allows.
func (o *Object) validateNetworkPolicy(spec *networkingv1.NetworkPolicySpec) error {
	at := Path{}.Key("spec")
	if err := o.validateSelector(at.Key("podSelector"), &spec.PodSelector); err != nil {
		return err
	}
	for i, r := range spec.Ingress {
		if err := o.validateRule(at.Key("ingress").Index(i), "from", r.Ports, r.From); err != nil {
			return err
		}
	}
	for i, r := range spec.Egress {
		if err := o.validateRule(at.Key("egress").Index(i), "to", r.Ports, r.To); err != nil {
			return err
		}
	}
	if len(spec.PolicyTypes) > 2 {
		return o.invalid(at.Key("policyTypes"), "invalid policyTypes: may not have more than 2 items")
	}
	for i, t := range spec.PolicyTypes {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			return o.invalid(at.Key("policyTypes").Index(i), `invalid policy type: supported values: "Ingress", "Egress"`)
		}
	}
	return nil
}

func (o *Object) validateRule(at Path, peersKey string, ports []networkingv1.NetworkPolicyPort, peers []networkingv1.NetworkPolicyPeer) error {
	for i, p := range ports {
		pp := at.Key("ports").Index(i)
		if p.Protocol != nil {
			if err := o.validateProtocol(pp.Key("protocol"), *p.Protocol); err != nil {
				return err
			}
		}
		if p.Port != nil {
			if err := o.validatePort(pp.Key("port"), *p.Port); err != nil {
				return err
			}
		}
		if p.EndPort == nil {
			continue
		}
		switch {
		case p.Port == nil:
			return o.invalid(pp.Key("endPort"), "invalid endPort: port must be specified when endPort is specified")
		case p.Port.Type == intstr.String:
			return o.invalid(pp.Key("endPort"), "invalid endPort: may not be specified when port is non-numeric")
		case *p.EndPort < p.Port.IntVal:
			return o.invalid(pp.Key("endPort"), "invalid endPort: must be greater than or equal to port")
		}
		if msgs := validation.IsValidPortNum(int(*p.EndPort)); len(msgs) > 0 {
			return o.invalid(pp.Key("endPort"), "invalid endPort: "+strings.Join(msgs, "; "))
		}
	}
	for i, peer := range peers {
		pa := at.Key(peersKey).Index(i)
		kinds := 0
		if peer.PodSelector != nil {
			kinds++
			if err := o.validateSelector(pa.Key("podSelector"), peer.PodSelector); err != nil {
				return err
			}
		}
		if peer.NamespaceSelector != nil {
			kinds++
			if err := o.validateSelector(pa.Key("namespaceSelector"), peer.NamespaceSelector); err != nil {
				return err
			}
		}
		if peer.IPBlock != nil {
			if kinds > 0 {
				return o.invalid(pa, "invalid peer: may not specify more than 1 peer type")
			}
			kinds++
			if err := o.validateIPBlock(pa.Key("ipBlock"), peer.IPBlock); err != nil {
				return err
			}
		}
		if kinds == 0 {
			return o.invalid(pa, "invalid peer: must specify a peer")
		}
	}
	return nil
}

func (o *Object) validateIPBlock(at Path, b *networkingv1.IPBlock) error {
	if b.CIDR == "" {
		return o.invalid(at.Key("cidr"), "invalid ipBlock: cidr is required")
	}
	_, cidr, err := netutils.ParseCIDRSloppy(b.CIDR)
	if err != nil {
		return o.invalid(at.Key("cidr"), "invalid ipBlock cidr: must be a valid CIDR (e.g. 10.0.0.0/8 or 2001:db8::/64)")
	}
	ones, _ := cidr.Mask.Size()
	for i, e := range b.Except {
		_, ex, err := netutils.ParseCIDRSloppy(e)
		if err != nil {
			return o.invalid(at.Key("except").Index(i), "invalid ipBlock except: must be a valid CIDR")
		}
		exOnes, _ := ex.Mask.Size()
		if !cidr.Contains(ex.IP) || exOnes <= ones {
			return o.invalid(at.Key("except").Index(i), "invalid ipBlock except: must be a strict subset of cidr")
		}
	}
	return nil
}

func (o *Object) validateSelector(at Path, s *metav1.LabelSelector) error {
	errs := metavalidation.ValidateLabelSelector(s, metavalidation.LabelSelectorValidationOptions{}, field.NewPath(""))
	if len(errs) == 0 {
		return nil
	}
	return o.invalid(at, "invalid selector: "+errs[0].Type.String()+": "+errs[0].Detail)
}

// validateServicePorts is the part of upstream's Service validation that
// says which ports a Service exposes.
func (o *Object) validateServicePorts(ports []corev1.ServicePort) error {
	for i, p := range ports {
		at := Path{}.Keys("spec", "ports").Index(i)
		if msgs := validation.IsValidPortNum(int(p.Port)); len(msgs) > 0 {
			return o.invalid(at.Key("port"), "invalid port: "+strings.Join(msgs, "; "))
		}
		if p.Protocol != "" {
			if err := o.validateProtocol(at.Key("protocol"), p.Protocol); err != nil {
				return err
			}
		}
		if p.NodePort != 0 {
			if msgs := validation.IsValidPortNum(int(p.NodePort)); len(msgs) > 0 {
				return o.invalid(at.Key("nodePort"), "invalid nodePort: "+strings.Join(msgs, "; "))
			}
		}
		if p.TargetPort.Type == intstr.String || p.TargetPort.IntVal != 0 {
			if err := o.validatePort(at.Key("targetPort"), p.TargetPort); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *Object) validateProtocol(at Path, p corev1.Protocol) error {
	switch p {
	case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		return nil
	}
	return o.invalid(at, `invalid protocol: supported values: "SCTP", "TCP", "UDP"`)
}

// validatePort holds a port written as a number or a name (a container
// port's name) to the API server's rules for each.
func (o *Object) validatePort(at Path, p intstr.IntOrString) error {
	var msgs []string
	if p.Type == intstr.String {
		msgs = validation.IsValidPortName(p.StrVal)
	} else {
		msgs = validation.IsValidPortNum(int(p.IntVal))
	}
	if len(msgs) > 0 {
		return o.invalid(at, "invalid port: "+strings.Join(msgs, "; "))
	}
	return nil
}

// invalid is a FieldError at p, located at its key.
func (o *Object) invalid(p Path, msg string) *FieldError {
	loc, _ := o.Locate(p)
	return &FieldError{Path: p, Location: loc, Message: msg}
}
