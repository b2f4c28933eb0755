package policy

import (
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/audit"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestBuiltinResourcesServed holds the lint's table of built-in resources
// (which audit-policy-wrong-group and the probes' scopes rest on) to the
// server's discovery: every entry is served, in its group and scope, but
// for the few behind feature gates that are off by default; and every
// resource the server serves in a group the table knows is in the table.
func TestBuiltinResourcesServed(t *testing.T) {
	_, lists, err := srv.Client.Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ group, resource string }
	served := map[key]bool{} // -> namespaced
	groups := map[string]bool{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			served[key{gv.Group, r.Name}] = r.Namespaced
			groups[gv.Group] = true
		}
	}
	gated := map[string]bool{"leasecandidates": true, "clustertrustbundles": true, "mutatingadmissionpolicies": true, "mutatingadmissionpolicybindings": true, "componentstatuses": true}
	known := map[key]bool{}
	for _, gr := range audit.BuiltinResources() {
		known[key{gr.Group, gr.Resource}] = true
		ns, ok := served[key{gr.Group, gr.Resource}]
		switch {
		case !ok && !gated[gr.Resource]:
			t.Errorf("%s in group %q is not served", gr.Resource, gr.Group)
		case ok && ns != gr.Namespaced:
			t.Errorf("%s in group %q: namespaced %v, the server says %v", gr.Resource, gr.Group, gr.Namespaced, ns)
		}
	}
	for k := range served {
		if !known[k] && groupKnown(k.group) {
			t.Errorf("the server serves %s in group %q, which the table lacks", k.resource, k.group)
		}
	}
}

func groupKnown(g string) bool {
	for _, gr := range audit.BuiltinResources() {
		if gr.Group == g {
			return true
		}
	}
	return false
}
