// Package netpoltest generates clusters of workloads and NetworkPolicies
// for the netpol benchmarks: the same options and seed always give the
// same cluster.
package netpoltest

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Options size a generated cluster.
type Options struct {
	Namespaces, Workloads, Policies int
	Seed                            uint64
}

// Large is the benchmark's cluster: 1,000 workloads and 500 policies in 20
// namespaces.
var Large = Options{Namespaces: 20, Workloads: 1000, Policies: 500, Seed: 1}

var tiers = []string{"web", "api", "db", "cache", "batch"}

// Workload is one generated Deployment.
type Workload struct {
	Namespace, Name, Tier string
	// IP is the address its (one) pod has in the cyclonus model.
	IP string
}

// Cluster is a generated cluster.
type Cluster struct {
	Namespaces []string
	Envs       map[string]string // env label per namespace
	Workloads  []Workload
	// Policies are NetworkPolicy documents, YAML.
	Policies []string
}

// Generate makes a cluster. Every namespace gets a default deny of both
// directions and an egress rule to DNS in the first namespace; the other
// policies select a tier or an app and allow, from pods of a tier, from
// namespaces of an environment (alone or with a pod selector), or from an
// ipBlock, on numbered, named, ranged or all ports; a third of them also
// restrict egress.
func Generate(o Options) *Cluster {
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	c := &Cluster{Envs: map[string]string{}}
	for i := range o.Namespaces {
		ns := fmt.Sprintf("ns-%02d", i)
		c.Namespaces = append(c.Namespaces, ns)
		c.Envs[ns] = []string{"prod", "dev", "staging"}[i%3]
	}
	for i := range o.Workloads {
		ns := c.Namespaces[i%len(c.Namespaces)]
		c.Workloads = append(c.Workloads, Workload{
			Namespace: ns, Name: fmt.Sprintf("app-%04d", i), Tier: tiers[rng.IntN(len(tiers))],
			IP: fmt.Sprintf("10.%d.%d.%d", 1+i/65536, (i/256)%256, i%256),
		})
	}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	for _, ns := range c.Namespaces {
		if len(c.Policies) >= o.Policies {
			break
		}
		c.Policies = append(c.Policies, fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: %s}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: %s}}, podSelector: {matchLabels: {tier: web}}}]
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
`, ns, c.Namespaces[0]))
	}
	for i := 0; len(c.Policies) < o.Policies; i++ {
		ns := pick(c.Namespaces)
		var b strings.Builder
		fmt.Fprintf(&b, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-%04d, namespace: %s}\nspec:\n", i, ns)
		if rng.IntN(4) == 0 {
			w := c.Workloads[rng.IntN(len(c.Workloads))]
			fmt.Fprintf(&b, "  podSelector: {matchLabels: {app: %s}}\n", w.Name)
		} else {
			fmt.Fprintf(&b, "  podSelector: {matchLabels: {tier: %s}}\n", pick(tiers))
		}
		egress := rng.IntN(3) == 0
		if egress {
			b.WriteString("  policyTypes: [Ingress, Egress]\n")
		}
		b.WriteString("  ingress:\n")
		for range 1 + rng.IntN(2) {
			b.WriteString("  - from:\n")
			writePeer(&b, rng, c, pick)
			writePorts(&b, rng)
		}
		if egress {
			b.WriteString("  egress:\n  - to:\n")
			writePeer(&b, rng, c, pick)
			writePorts(&b, rng)
		}
		c.Policies = append(c.Policies, b.String())
	}
	return c
}

func writePeer(b *strings.Builder, rng *rand.Rand, c *Cluster, pick func([]string) string) {
	switch rng.IntN(5) {
	case 0:
		fmt.Fprintf(b, "    - podSelector: {matchLabels: {tier: %s}}\n", pick(tiers))
	case 1:
		fmt.Fprintf(b, "    - namespaceSelector: {matchLabels: {env: %s}}\n", pick([]string{"prod", "dev", "staging"}))
	case 2:
		fmt.Fprintf(b, "    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: %s}}\n      podSelector: {matchExpressions: [{key: tier, operator: In, values: [%s, %s]}]}\n", pick(c.Namespaces), pick(tiers), pick(tiers))
	case 3:
		fmt.Fprintf(b, "    - podSelector: {matchLabels: {tier: %s}}\n    - namespaceSelector: {matchLabels: {env: %s}}\n", pick(tiers), pick([]string{"prod", "dev"}))
	default:
		second := rng.IntN(2)
		fmt.Fprintf(b, "    - ipBlock: {cidr: 10.%d.0.0/16, except: [10.%d.%d.0/24]}\n", second, second, rng.IntN(4))
	}
}

func writePorts(b *strings.Builder, rng *rand.Rand) {
	switch rng.IntN(5) {
	case 0:
		b.WriteString("    ports: [{port: 8080}]\n")
	case 1:
		b.WriteString("    ports: [{port: http}, {port: metrics}]\n")
	case 2:
		b.WriteString("    ports: [{port: 9000, endPort: 9100}]\n")
	case 3:
		b.WriteString("    ports: [{protocol: UDP}]\n")
	}
}

// YAML is the whole cluster as one multi-document file: Namespaces,
// Deployments (containers web, http 8080/TCP, and metrics, 9090/TCP), then
// policies.
func (c *Cluster) YAML() []byte {
	var b strings.Builder
	for _, ns := range c.Namespaces {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: {env: %s}}\n", ns, c.Envs[ns])
	}
	for _, w := range c.Workloads {
		fmt.Fprintf(&b, `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: %s}
spec:
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s, tier: %s}}
    spec:
      containers:
      - {name: web, image: nginx, ports: [{name: http, containerPort: 8080}]}
      - {name: metrics, image: exporter, ports: [{name: metrics, containerPort: 9090}]}
`, w.Name, w.Namespace, w.Name, w.Name, w.Tier)
	}
	for _, p := range c.Policies {
		b.WriteString("---\n")
		b.WriteString(p)
	}
	return []byte(b.String())
}

// PodsYAML is the cluster with a running Pod (with its address) in place
// of each Deployment, as a live cluster would list it.
func (c *Cluster) PodsYAML() []byte {
	var b strings.Builder
	for _, ns := range c.Namespaces {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: {env: %s}}\n", ns, c.Envs[ns])
	}
	for _, w := range c.Workloads {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s, labels: {app: %s, tier: %s}}
spec:
  containers:
  - {name: web, image: nginx, ports: [{name: http, containerPort: 8080}]}
  - {name: metrics, image: exporter, ports: [{name: metrics, containerPort: 9090}]}
status: {podIP: %s}
`, w.Name, w.Namespace, w.Name, w.Tier, w.IP)
	}
	for _, p := range c.Policies {
		b.WriteString("---\n")
		b.WriteString(p)
	}
	return []byte(b.String())
}
