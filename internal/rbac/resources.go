package rbac

import (
	"fmt"
	"strings"
)

// builtin lists the resources a Kubernetes API server serves, by group,
// with whether they are namespaced: what kubectl learns from discovery,
// which an offline analysis cannot ask. "Virtual" resources that exist only
// for authorization (users, groups, signers, userextras) are included.
var builtin = []struct {
	group      string
	namespaced []string
	cluster    []string
}{
	{"", []string{"pods", "services", "endpoints", "configmaps", "secrets", "serviceaccounts", "persistentvolumeclaims",
		"replicationcontrollers", "podtemplates", "limitranges", "resourcequotas", "events", "bindings"},
		[]string{"nodes", "namespaces", "persistentvolumes", "componentstatuses", "users", "groups"}},
	{"apps", []string{"deployments", "replicasets", "statefulsets", "daemonsets", "controllerrevisions"}, nil},
	{"batch", []string{"jobs", "cronjobs"}, nil},
	{"autoscaling", []string{"horizontalpodautoscalers"}, nil},
	{"policy", []string{"poddisruptionbudgets"}, nil},
	{"networking.k8s.io", []string{"networkpolicies", "ingresses"}, []string{"ingressclasses", "ipaddresses", "servicecidrs"}},
	{"rbac.authorization.k8s.io", []string{"roles", "rolebindings"}, []string{"clusterroles", "clusterrolebindings"}},
	{"storage.k8s.io", []string{"csistoragecapacities"}, []string{"storageclasses", "csidrivers", "csinodes", "volumeattachments", "volumeattributesclasses"}},
	{"certificates.k8s.io", nil, []string{"certificatesigningrequests", "clustertrustbundles", "signers"}},
	{"admissionregistration.k8s.io", nil, []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations",
		"validatingadmissionpolicies", "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings"}},
	{"apiextensions.k8s.io", nil, []string{"customresourcedefinitions"}},
	{"apiregistration.k8s.io", nil, []string{"apiservices"}},
	{"scheduling.k8s.io", nil, []string{"priorityclasses"}},
	{"node.k8s.io", nil, []string{"runtimeclasses"}},
	{"coordination.k8s.io", []string{"leases", "leasecandidates"}, nil},
	{"discovery.k8s.io", []string{"endpointslices"}, nil},
	{"events.k8s.io", []string{"events"}, nil},
	{"flowcontrol.apiserver.k8s.io", nil, []string{"flowschemas", "prioritylevelconfigurations"}},
	{"authentication.k8s.io", nil, []string{"tokenreviews", "selfsubjectreviews", "uids", "userextras"}},
	{"authorization.k8s.io", []string{"localsubjectaccessreviews"}, []string{"subjectaccessreviews", "selfsubjectaccessreviews", "selfsubjectrulesreviews"}},
	{"resource.k8s.io", []string{"resourceclaims", "resourceclaimtemplates"}, []string{"deviceclasses", "resourceslices"}},
}

type scopeKey struct{ group, resource string }

var (
	builtinScopes = map[scopeKey]bool{}
	// builtinGroups maps a resource to its group; the first group listed
	// wins, as kubectl prefers the core group for events.
	builtinGroups = map[string]string{}
)

func init() {
	for _, g := range builtin {
		for _, list := range []struct {
			names      []string
			namespaced bool
		}{{g.namespaced, true}, {g.cluster, false}} {
			for _, r := range list.names {
				builtinScopes[scopeKey{g.group, r}] = list.namespaced
				if _, ok := builtinGroups[r]; !ok {
					builtinGroups[r] = g.group
				}
			}
		}
	}
}

func builtinScope(group, resource string) (namespaced, known bool) {
	namespaced, known = builtinScopes[scopeKey{group, resource}]
	return namespaced, known
}

// Request builds the attributes of a request as kubectl auth can-i does,
// from a verb, a resource written RESOURCE[.GROUP][/SUBRESOURCE] (or a
// non-resource URL starting with "/"), an optional name and a namespace.
// A resource without a group is looked up among the built-in resources and
// the CustomResourceDefinitions of the policy, and left in the core group
// when unknown. The namespace is dropped for cluster-scoped resources; for
// a namespace itself it is the namespace's name, as the API server sets it.
func (p *Policy) Request(verb, resource, name, namespace string) (Attributes, error) {
	if verb == "" {
		return Attributes{}, fmt.Errorf("no verb")
	}
	if strings.HasPrefix(resource, "/") {
		if name != "" {
			return Attributes{}, fmt.Errorf("a non-resource URL takes no name")
		}
		return Attributes{Verb: verb, Path: resource}, nil
	}
	res, sub, _ := strings.Cut(resource, "/")
	res, group, hasGroup := strings.Cut(res, ".")
	if res == "" {
		return Attributes{}, fmt.Errorf("no resource in %q", resource)
	}
	if !hasGroup {
		group = p.groupOf(res)
	}
	a := Attributes{Verb: verb, ResourceRequest: true, APIGroup: group, Resource: res, Subresource: sub, Name: name, Namespace: namespace}
	if group == "" && res == "namespaces" {
		a.Namespace = name
	} else if namespaced, known := p.Namespaced(group, res); known && !namespaced {
		a.Namespace = ""
	}
	return a, nil
}

func (p *Policy) groupOf(resource string) string {
	if g, ok := builtinGroups[resource]; ok {
		return g
	}
	group, found := "", false
	for k := range p.scopes {
		if g, r, _ := strings.Cut(k, "/"); r == resource && (!found || g < group) {
			group, found = g, true
		}
	}
	return group
}
