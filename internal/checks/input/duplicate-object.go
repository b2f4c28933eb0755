package input

import (
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// crossKinds are the kinds other checks read across the input (a
// Namespace's labels, the NetworkPolicies selecting a pod, the bindings of
// a ServiceAccount): a name defined twice among them is ambiguous to those
// checks. Objects of other kinds are judged each on its own, so copies of
// them cannot hide one another.
var crossKinds = []string{
	"Namespace", "NetworkPolicy", "ServiceAccount", "Secret", "Certificate", "ResourceQuota", "LimitRange",
	"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
}

// maxPlaces bounds the other places a duplicate-object finding names.
const maxPlaces = 5

// DuplicateObject reports a kind/namespace/name the input defines more
// than once, on every copy after the first, naming every other place. Two
// environments' overlays scanned together (envs/prod/app.yaml beside
// envs/staging/app.yaml) are the usual cause; applied to one cluster, the
// last copy would replace the others. The cross-object checks relate each
// object to the copy nearest it (the same file, else the file sharing the
// most leading directories: check.Context.For), so neither copy hides the
// other; this finding says that they were told apart and how.
var DuplicateObject = check.Check{
	ID:       "duplicate-object",
	Title:    "Object defined more than once",
	Severity: finding.Low,
	Category: Category,
	Scope:    check.ScopeInput,
	Rationale: "An object is identified by its kind, namespace and name: applying two definitions of one name keeps only the last. " +
		"When a scan holds several (the overlays of two environments), a check that relates objects (a pod and the NetworkPolicies " +
		"that select it, a namespace and its Pod Security labels) must not let one copy stand for the other.",
	Remediation: "Scan each environment on its own (kubeguard scan envs/prod), or give the copies distinct names or namespaces. " +
		"When both are meant, know how kubeguard tells them apart: the files below the directory where two copies part (envs/prod, envs/staging) " +
		"are separate file sets, and each object is related to the objects of its own set and of none.",
	DocURL: "https://kubernetes.io/docs/concepts/overview/working-with-objects/names/",
	Kinds:  crossKinds,
	Needs:  crossKinds,
	Run: func(p *check.Pass) {
		copies := p.Context.Duplicates(p.Object)
		if len(copies) < 2 || copies[0].Source == p.Object.Source {
			return
		}
		// A few places suffice to find the rest; naming every one would
		// make the report grow with the square of the copies.
		var others []string
		for _, o := range copies {
			if o.Source != p.Object.Source && len(others) < maxPlaces {
				others = append(others, o.Source.String())
			}
		}
		if more := len(copies) - 1 - len(others); more > 0 {
			others = append(others, strconv.Itoa(more)+" more")
		}
		p.Report(check.Diagnostic{
			Path:   object.Path{}.Keys("metadata", "name"),
			Reason: "defined " + strconv.Itoa(len(copies)) + " times",
			Detail: p.Object.Ref.String() + " is also defined at " + strings.Join(others, ", ") +
				"; the files below the directory where the copies part are judged as separate file sets",
		})
	},
}
