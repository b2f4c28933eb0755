package audit

// builtinResources maps the resources a Kubernetes API server serves to
// their groups and scope: what discovery says, which an offline lint cannot
// ask. A test in test/e2e holds it to a real server's discovery.
var builtinResources = map[string][]groupScope{}

type groupScope struct {
	group      string
	namespaced bool
}

// builtinGroups are the API groups of the built-in resources.
var builtinGroups = map[string]bool{}

func init() {
	for _, g := range []struct {
		group      string
		namespaced []string
		cluster    []string
	}{
		{"", []string{"pods", "services", "endpoints", "configmaps", "secrets", "serviceaccounts", "persistentvolumeclaims",
			"replicationcontrollers", "podtemplates", "limitranges", "resourcequotas", "events", "bindings"},
			[]string{"nodes", "namespaces", "persistentvolumes", "componentstatuses"}},
		{"apps", []string{"deployments", "replicasets", "statefulsets", "daemonsets", "controllerrevisions"}, nil},
		{"batch", []string{"jobs", "cronjobs"}, nil},
		{"autoscaling", []string{"horizontalpodautoscalers"}, nil},
		{"policy", []string{"poddisruptionbudgets"}, nil},
		{"networking.k8s.io", []string{"networkpolicies", "ingresses"}, []string{"ingressclasses", "ipaddresses", "servicecidrs"}},
		{"rbac.authorization.k8s.io", []string{"roles", "rolebindings"}, []string{"clusterroles", "clusterrolebindings"}},
		{"storage.k8s.io", []string{"csistoragecapacities"}, []string{"storageclasses", "csidrivers", "csinodes", "volumeattachments", "volumeattributesclasses"}},
		{"certificates.k8s.io", nil, []string{"certificatesigningrequests", "clustertrustbundles"}},
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
		{"authentication.k8s.io", nil, []string{"tokenreviews", "selfsubjectreviews"}},
		{"authorization.k8s.io", []string{"localsubjectaccessreviews"}, []string{"subjectaccessreviews", "selfsubjectaccessreviews", "selfsubjectrulesreviews"}},
		{"resource.k8s.io", []string{"resourceclaims", "resourceclaimtemplates"}, []string{"deviceclasses", "resourceslices"}},
	} {
		builtinGroups[g.group] = true
		for _, r := range g.namespaced {
			builtinResources[r] = append(builtinResources[r], groupScope{g.group, true})
		}
		for _, r := range g.cluster {
			builtinResources[r] = append(builtinResources[r], groupScope{g.group, false})
		}
	}
}

// BuiltinGroups returns the groups that serve a built-in resource.
func BuiltinGroups(resource string) []string {
	var out []string
	for _, g := range builtinResources[resource] {
		out = append(out, g.group)
	}
	return out
}

// namespaced reports whether a resource is namespaced in group, and
// whether it is known at all.
func namespaced(group, resource string) (ns, known bool) {
	for _, g := range builtinResources[resource] {
		if g.group == group {
			return g.namespaced, true
		}
	}
	return false, false
}
