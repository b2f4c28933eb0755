package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/kubeguard/kubeguard/internal/finding"
)

const nodeScannerDir = "../../deploy/node-scanner"

// TestNodeScannerPassesScan holds the node-scanner DaemonSet to kubeguard
// scan at the restricted level: every finding left is below high, and the
// ones it waives (hostPath, uid 0) are waived with a reason.
func TestNodeScannerPassesScan(t *testing.T) {
	var out, errw bytes.Buffer
	code := Run(context.Background(), []string{"scan", nodeScannerDir, "--level", "restricted", "-o", "json"}, IO{Stdout: &out, Stderr: &errw})
	if code != ExitOK {
		t.Fatalf("kubeguard scan deploy/node-scanner exit %d\n%s", code, errw.String())
	}
	var r struct {
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	suppressed := 0
	for _, f := range r.Findings {
		if f.Suppressed != nil {
			suppressed++
			if f.Suppressed.Reason == "" {
				t.Errorf("%s waived without a reason", f.CheckID)
			}
			continue
		}
		if f.Severity >= finding.Medium {
			t.Errorf("%s %s at %s", f.Severity, f.CheckID, f.Location)
		}
	}
	if suppressed == 0 {
		t.Error("nothing waived: the hostPath volumes should be")
	}
}

// TestNodeScannerReadsOnly holds the DaemonSet to what it promises: read-only
// host mounts, no host namespaces, no privilege, no capabilities, no token.
func TestNodeScannerReadsOnly(t *testing.T) {
	ds := decodeDocs[appsv1.DaemonSet](t, filepath.Join("node-scanner", "daemonset.yaml"), "DaemonSet")
	if len(ds) != 1 {
		t.Fatalf("%d DaemonSets", len(ds))
	}
	spec := ds[0].Spec.Template.Spec
	if spec.HostPID || spec.HostNetwork || spec.HostIPC {
		t.Error("shares a host namespace")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("mounts a ServiceAccount token")
	}
	hostPaths := map[string]bool{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = true
		}
	}
	if len(spec.Containers) != 1 || len(spec.InitContainers) > 0 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.Privileged == nil || *sc.Privileged || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.Capabilities == nil ||
		len(sc.Capabilities.Add) > 0 || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("security context %+v", sc)
	}
	for _, m := range c.VolumeMounts {
		if hostPaths[m.Name] && (!m.ReadOnly || !strings.HasPrefix(m.MountPath, "/host/")) {
			t.Errorf("host mount %s at %s is not read-only under /host", m.Name, m.MountPath)
		}
	}
	if got := strings.Join(c.Args, " "); !strings.Contains(got, "node --root /host") {
		t.Errorf("args %q", got)
	}
}
