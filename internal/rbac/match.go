package rbac

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Attributes describe one request as the RBAC authorizer sees it: the
// fields of a SubjectAccessReview's resourceAttributes or
// nonResourceAttributes.
type Attributes struct {
	Verb string `json:"verb"`
	// ResourceRequest is true for API object requests; false for
	// non-resource URLs such as /healthz, which use Path.
	ResourceRequest bool `json:"resourceRequest"`
	// Namespace is empty for cluster-scoped resources and for requests
	// across all namespaces. For namespaces themselves the API server sets
	// it to the namespace's name.
	Namespace   string `json:"namespace,omitempty"`
	APIGroup    string `json:"apiGroup,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	// Name is empty for create, list, watch and deletecollection.
	Name string `json:"name,omitempty"`
	Path string `json:"path,omitempty"`
}

// String renders the request the way people read it.
func (a Attributes) String() string {
	if !a.ResourceRequest {
		return a.Verb + " " + a.Path
	}
	s := a.Verb + " " + a.Resource
	if a.APIGroup != "" {
		s += "." + a.APIGroup
	}
	if a.Subresource != "" {
		s += "/" + a.Subresource
	}
	if a.Name != "" {
		s += " " + a.Name
	}
	if a.Namespace != "" {
		return s + " in namespace " + a.Namespace
	}
	return s + " cluster-wide"
}

// RuleAllows reports whether one policy rule allows a request, with the
// RBAC authorizer's semantics:
//
//   - a verb, API group or resource of "*" matches anything;
//   - a subresource request matches "resource/subresource" or
//     "*/subresource", never the bare resource;
//   - resourceNames, when set, must contain the request's name, so a
//     request without a name (create, list) never matches such a rule;
//   - non-resource URLs match exactly, or by prefix when the rule's URL
//     ends in "*"; "*" matches every path.
func RuleAllows(r *rbacv1.PolicyRule, a Attributes) bool {
	if !verbMatches(r, a.Verb) {
		return false
	}
	if !a.ResourceRequest {
		return urlMatches(r, a.Path)
	}
	combined := a.Resource
	if a.Subresource != "" {
		combined += "/" + a.Subresource
	}
	return groupMatches(r, a.APIGroup) && resourceMatches(r, combined, a.Subresource) && nameMatches(r, a.Name)
}

func verbMatches(r *rbacv1.PolicyRule, verb string) bool {
	for _, v := range r.Verbs {
		if v == rbacv1.VerbAll || v == verb {
			return true
		}
	}
	return false
}

func groupMatches(r *rbacv1.PolicyRule, group string) bool {
	for _, g := range r.APIGroups {
		if g == rbacv1.APIGroupAll || g == group {
			return true
		}
	}
	return false
}

// resourceMatches compares the rule's resources with "resource" or
// "resource/subresource" (combined); sub is the subresource alone.
func resourceMatches(r *rbacv1.PolicyRule, combined, sub string) bool {
	for _, res := range r.Resources {
		if res == rbacv1.ResourceAll || res == combined {
			return true
		}
		if sub != "" && len(res) == len(sub)+2 && strings.HasPrefix(res, "*/") && strings.HasSuffix(res, sub) {
			return true
		}
	}
	return false
}

func nameMatches(r *rbacv1.PolicyRule, name string) bool {
	if len(r.ResourceNames) == 0 {
		return true
	}
	for _, n := range r.ResourceNames {
		if n == name {
			return true
		}
	}
	return false
}

func urlMatches(r *rbacv1.PolicyRule, path string) bool {
	for _, u := range r.NonResourceURLs {
		if u == rbacv1.NonResourceAll || u == path {
			return true
		}
		// The authorizer trims every trailing "*", not just one.
		if strings.HasSuffix(u, "*") && strings.HasPrefix(path, strings.TrimRight(u, "*")) {
			return true
		}
	}
	return false
}

// covers reports whether a rule grants verb on group/resource for some
// names, ignoring resourceNames: the question risk analysis asks. resource
// may be "res/sub"; "res/*" stands for every subresource of res (the
// impersonation of user extras, "userextras/<key>", say).
func covers(r *rbacv1.PolicyRule, verb, group, resource string) bool {
	return verbMatches(r, verb) && groupMatches(r, group) && coversResource(r, resource)
}

// coversResource is the resource part of covers.
func coversResource(r *rbacv1.PolicyRule, resource string) bool {
	base, sub, _ := strings.Cut(resource, "/")
	if sub != "*" {
		return resourceMatches(r, resource, sub)
	}
	for _, res := range r.Resources {
		if res == rbacv1.ResourceAll || strings.HasPrefix(res, base+"/") || strings.HasPrefix(res, "*/") {
			return true
		}
	}
	return false
}

// superRule reports whether a rule is cluster-admin's: every verb on every
// resource of every group, for every name.
func superRule(r *rbacv1.PolicyRule) bool {
	return len(r.ResourceNames) == 0 && verbMatches(r, rbacv1.VerbAll) && groupMatches(r, rbacv1.APIGroupAll) &&
		resourceMatches(r, rbacv1.ResourceAll, "")
}
