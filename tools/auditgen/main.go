// Command auditgen writes a synthetic API server audit log (JSON lines, as
// --audit-log-format=json writes them) for whole-program runs of
// kubeguard audit log: mostly routine traffic (controllers, kubelets and
// workloads reading and watching, at Metadata), a sixth of events carrying
// request and response bodies, and a few attacks (exec, Secret harvesting,
// anonymous probing, a cluster-admin grant) spread through it. About a
// kilobyte an event:
//
//	go run ./tools/auditgen -n 1000000 -out /tmp/audit-1g.log
//	kubeguard audit log -o json /tmp/audit-1g.log
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

func main() {
	var (
		n    int
		seed uint64
		out  string
	)
	flag.IntVar(&n, "n", 1000000, "number of events")
	flag.Uint64Var(&seed, "seed", 1, "random seed; the same seed writes the same bytes")
	flag.StringVar(&out, "out", "", "`file` to write (required)")
	flag.Parse()
	if out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	f, err := os.Create(out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "auditgen: %v\n", err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	g := gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	for i := range n {
		b, err := json.Marshal(g.event(i, n))
		if err != nil {
			panic(err)
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "auditgen: %v\n", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "auditgen: %v\n", err)
		os.Exit(1)
	}
}

type gen struct {
	r *rand.Rand
	t time.Time
}

var (
	controllers = []string{"system:kube-controller-manager", "system:kube-scheduler", "system:serviceaccount:kube-system:replicaset-controller",
		"system:serviceaccount:kube-system:deployment-controller", "system:serviceaccount:kube-system:endpointslice-controller"}
	namespaces = []string{"default", "prod", "staging", "payments", "monitoring", "ingress", "kube-system", "ci"}
	resources  = []string{"pods", "configmaps", "services", "endpoints", "secrets", "events", "leases", "deployments", "replicasets", "nodes"}
)

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *gen) id() string {
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", g.r.Uint32(), g.r.Uint32()&0xffff, g.r.Uint32()&0xffff, g.r.Uint32()&0xffff, g.r.Uint64()&0xffffffffffff)
}

func group(resource string) string {
	switch resource {
	case "deployments", "replicasets":
		return "apps"
	case "leases":
		return "coordination.k8s.io"
	}
	return ""
}

func (g *gen) event(i, n int) map[string]any {
	g.t = g.t.Add(time.Duration(g.r.IntN(2000)) * time.Microsecond)
	user := map[string]any{"username": g.pick(controllers), "uid": g.id(), "groups": []string{"system:authenticated"}}
	ip := "10.0.0.10"
	verb := []string{"get", "list", "watch", "update", "patch", "create"}[g.r.IntN(6)]
	res := g.pick(resources)
	ns := g.pick(namespaces)
	name := fmt.Sprintf("%s-%d", res, g.r.IntN(500))
	if verb == "list" || verb == "watch" || verb == "create" {
		name = ""
	}
	switch g.r.IntN(4) {
	case 0: // a kubelet
		node := fmt.Sprintf("node-%d", g.r.IntN(50))
		user = map[string]any{"username": "system:node:" + node, "groups": []string{"system:nodes", "system:authenticated"}}
		ip = fmt.Sprintf("10.1.0.%d", g.r.IntN(50))
	case 1: // a workload with a bound token
		pod := fmt.Sprintf("web-%d", g.r.IntN(200))
		user = map[string]any{"username": "system:serviceaccount:prod:web", "uid": "5b3f", "groups": []string{"system:serviceaccounts", "system:serviceaccounts:prod", "system:authenticated"},
			"extra": map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=" + pod}, "authentication.kubernetes.io/pod-name": {pod}, "authentication.kubernetes.io/node-name": {"node-1"}}}
		ip = fmt.Sprintf("10.244.%d.%d", len(pod)%4, len(pod))
		ns, res, verb, name = "prod", "configmaps", "get", "web-config"
	}
	e := map[string]any{
		"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": g.id(), "stage": "ResponseComplete",
		"requestURI": fmt.Sprintf("/api/v1/namespaces/%s/%s/%s?resourceVersion=%d&timeout=9m", ns, res, name, g.r.IntN(1e7)),
		"verb":       verb, "user": user, "sourceIPs": []string{ip},
		"userAgent":                "kube-controller-manager/v1.36.3 (linux/amd64) kubernetes/4d2a1c3/system:serviceaccount:kube-system:generic-garbage-collector",
		"objectRef":                map[string]any{"resource": res, "namespace": ns, "name": name, "apiGroup": group(res), "apiVersion": "v1", "resourceVersion": "0"},
		"responseStatus":           map[string]any{"metadata": map[string]any{}, "code": 200},
		"requestReceivedTimestamp": g.t.Format("2006-01-02T15:04:05.000000Z07:00"),
		"stageTimestamp":           g.t.Add(3 * time.Millisecond).Format("2006-01-02T15:04:05.000000Z07:00"),
		"annotations": map[string]string{"authorization.k8s.io/decision": "allow",
			"authorization.k8s.io/reason": `RBAC: allowed by ClusterRoleBinding "system:controller:generic-garbage-collector" of ClusterRole "system:controller:generic-garbage-collector" to ServiceAccount "generic-garbage-collector/kube-system"`},
	}
	if g.r.IntN(6) == 0 {
		e["level"] = "RequestResponse"
		e["responseObject"] = map[string]any{"kind": "ConfigMap", "apiVersion": "v1",
			"metadata": map[string]any{"name": name, "namespace": ns, "uid": g.id(), "resourceVersion": "12345", "labels": map[string]string{"app": "web", "tier": "frontend"}},
			"data":     map[string]string{"config.yaml": strings.Repeat("key: value\n", 1+g.r.IntN(40))}}
	}
	// A few attacks, spread through the log.
	switch i {
	case n / 5:
		e["verb"], e["objectRef"], e["user"] = "create", map[string]any{"resource": "pods", "subresource": "exec", "namespace": "prod", "name": "web-1"}, map[string]any{"username": "mallory"}
		e["responseStatus"] = map[string]any{"code": 101}
	case n / 3:
		e["verb"], e["objectRef"], e["user"] = "list", map[string]any{"resource": "secrets"}, map[string]any{"username": "system:anonymous", "groups": []string{"system:unauthenticated"}}
		e["responseStatus"] = map[string]any{"code": 403}
		e["sourceIPs"] = []string{"203.0.113.50"}
	case n / 2:
		e["verb"], e["objectRef"], e["user"] = "create", map[string]any{"resource": "clusterrolebindings", "apiGroup": "rbac.authorization.k8s.io", "name": "backdoor"}, map[string]any{"username": "mallory"}
		e["requestObject"] = map[string]any{"roleRef": map[string]string{"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": []map[string]string{{"kind": "User", "name": "mallory"}}}
		e["responseStatus"] = map[string]any{"code": 201}
	}
	if i > n*2/3 && i < n*2/3+20 {
		e["verb"], e["objectRef"], e["user"] = "get", map[string]any{"resource": "secrets", "namespace": "payments", "name": fmt.Sprintf("db-%d", i)}, map[string]any{"username": "mallory"}
	}
	return e
}
