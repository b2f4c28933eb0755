// Command rbacgen writes the generated cluster of the RBAC benchmarks
// (rbactest.Large: 10,000 Roles and ClusterRoles, 10,000 bindings,
// ServiceAccounts and Deployments) as one multi-document YAML file, for
// whole-program runs of the rbac commands:
//
//	go run ./tools/rbacgen -out /tmp/rbac-large.yaml
//	kubeguard rbac risks -o json -f /tmp/rbac-large.yaml
//
// With -chain N it writes instead the cluster of the paths scale benchmark:
// -namespaces namespaces (20,000 by default) of a ServiceAccount each, the
// first N+1 forming one chain (the ServiceAccount of ns-i may create pods
// in ns-i+1, the last one is bound to a god role), so that every
// ServiceAccount of the chain is a start whose chain runs to its end:
//
//	go run ./tools/rbacgen -chain 1000 -out /tmp/rbac-chain.yaml
//	kubeguard rbac paths -o json -f /tmp/rbac-chain.yaml
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/kubeguard/kubeguard/internal/rbac/rbactest"
)

func main() {
	o := rbactest.Large
	var out string
	flag.StringVar(&out, "out", "", "`file` to write (required)")
	flag.Uint64Var(&o.Seed, "seed", o.Seed, "random seed; the same seed writes the same bytes")
	chain := flag.Int("chain", 0, "write a chain of `n` hops instead (see the package comment)")
	namespaces := flag.Int("namespaces", 20000, "namespaces of the -chain cluster")
	flag.Parse()
	if out == "" || flag.NArg() > 0 || *chain < 0 || *chain >= *namespaces {
		flag.Usage()
		os.Exit(2)
	}
	var data []byte
	if *chain > 0 {
		data = chainYAML(*chain, *namespaces)
	} else {
		data = rbactest.Generate(o).YAML()
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "rbacgen: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "rbacgen: %d bytes to %s\n", len(data), out)
}

// chainYAML writes the -chain cluster.
func chainYAML(hops, namespaces int) []byte {
	var b strings.Builder
	doc := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("---\n")
	}
	doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: god}\nrules:\n- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n")
	doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: podmaker}\nrules:\n- {apiGroups: [''], resources: [pods], verbs: [create]}\n")
	for i := range namespaces {
		ns := fmt.Sprintf("ns-%05d", i)
		// Restricted everywhere: pods do not escape to their node, so the
		// chain is the only way.
		doc("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels: {pod-security.kubernetes.io/enforce: restricted}\n", ns)
		doc("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa, namespace: %s}\n", ns)
		switch {
		case i < hops:
			doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: next, namespace: ns-%05d}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: podmaker}\nsubjects: [{kind: ServiceAccount, name: sa, namespace: %s}]\n", i+1, ns)
		case i == hops:
			doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: god}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: god}\nsubjects: [{kind: ServiceAccount, name: sa, namespace: %s}]\n", ns)
		default:
			// A Role and binding that lead nowhere.
			doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader, namespace: %s}\nrules:\n- {apiGroups: [''], resources: [configmaps], verbs: [get]}\n", ns)
			doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: reader, namespace: %s}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}\nsubjects: [{kind: ServiceAccount, name: sa, namespace: %s}]\n", ns, ns)
		}
	}
	return []byte(b.String())
}
