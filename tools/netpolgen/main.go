// Command netpolgen writes the generated cluster of the netpol benchmarks
// (netpoltest.Large: 1,000 Deployments and 500 NetworkPolicies in 20
// namespaces) for kubeguard, and the same cluster for cyclonus's offline
// analysis (its policies, and a model of one pod per workload):
//
//	go run ./tools/netpolgen -dir /tmp/netpol
//	kubeguard netpol matrix -o json -f /tmp/netpol/cluster.yaml
//	cyclonus analyze --mode probe --policy-path /tmp/netpol/policies --probe-path /tmp/netpol/model.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kubeguard/kubeguard/internal/netpol/netpoltest"
)

func main() {
	o := netpoltest.Large
	var dir string
	flag.StringVar(&dir, "dir", "", "`directory` to write into (required)")
	flag.IntVar(&o.Workloads, "workloads", o.Workloads, "number of Deployments")
	flag.IntVar(&o.Policies, "policies", o.Policies, "number of NetworkPolicies")
	flag.IntVar(&o.Namespaces, "namespaces", o.Namespaces, "number of namespaces")
	flag.Uint64Var(&o.Seed, "seed", o.Seed, "random seed; the same seed writes the same bytes")
	flag.Parse()
	if dir == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := write(dir, netpoltest.Generate(o)); err != nil {
		fmt.Fprintf(os.Stderr, "netpolgen: %v\n", err)
		os.Exit(1)
	}
}

func write(dir string, c *netpoltest.Cluster) error {
	if err := os.MkdirAll(filepath.Join(dir, "policies"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), c.YAML(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "policies", "policies.yaml"), []byte("---\n"+strings.Join(c.Policies, "---\n")), 0o644); err != nil {
		return err
	}
	// cyclonus's synthetic probe model (its cli.SyntheticProbeConnectivityConfig):
	// namespaces with their labels, one pod per workload with one port per
	// container, and the port to probe.
	type container struct {
		Name     string
		Port     int
		Protocol string
		PortName string
	}
	type pod struct {
		Namespace, Name string
		Labels          map[string]string
		IP              string
		Containers      []container
	}
	model := struct {
		Resources struct {
			Namespaces map[string]map[string]string
			Pods       []pod
		}
		Probes []map[string]any
	}{}
	model.Resources.Namespaces = map[string]map[string]string{}
	for _, ns := range c.Namespaces {
		model.Resources.Namespaces[ns] = map[string]string{"env": c.Envs[ns], "kubernetes.io/metadata.name": ns}
	}
	for _, w := range c.Workloads {
		model.Resources.Pods = append(model.Resources.Pods, pod{
			Namespace: w.Namespace, Name: w.Name, Labels: map[string]string{"app": w.Name, "tier": w.Tier}, IP: w.IP,
			Containers: []container{{"web", 8080, "TCP", "http"}, {"metrics", 9090, "TCP", "metrics"}},
		})
	}
	model.Probes = []map[string]any{{"Port": 8080, "Protocol": "TCP"}}
	b, err := json.MarshalIndent(model, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "model.json"), b, 0o644)
}
