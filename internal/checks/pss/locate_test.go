package pss_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/object"
)

// fieldKeys are, per check, the YAML keys a finding may point at: the
// offending fields, or the place a missing field must be added (the
// securityContext, or the container itself: its first line, "- name:" or
// "- image:").
var fieldKeys = map[string][]string{
	"pss-allowPrivilegeEscalation":   {"allowPrivilegeEscalation", "securityContext", "-"},
	"pss-appArmorProfile":            {"type", "container.apparmor.security.beta.kubernetes.io/*"},
	"pss-capabilities_baseline":      {"add"},
	"pss-capabilities_restricted":    {"add", "drop", "capabilities", "securityContext", "-"},
	"pss-hostNamespaces":             {"hostNetwork", "hostPID", "hostIPC"},
	"pss-hostPathVolumes":            {"hostPath"},
	"pss-hostPorts":                  {"hostPort"},
	"pss-hostProbesAndHostLifecycle": {"host"},
	"pss-privileged":                 {"privileged"},
	"pss-procMount":                  {"procMount"},
	"pss-procMount_restricted":       {"procMount"},
	"pss-restrictedVolumes":          {"*volume source*"},
	"pss-runAsNonRoot":               {"runAsNonRoot", "securityContext", "-"},
	"pss-runAsUser":                  {"runAsUser"},
	"pss-seLinuxOptions":             {"seLinuxOptions"},
	"pss-seccompProfile_baseline":    {"type", "seccomp.security.alpha.kubernetes.io/pod", "container.seccomp.security.alpha.kubernetes.io/*"},
	"pss-seccompProfile_restricted":  {"type", "seccompProfile", "securityContext", "-", "container.seccomp.security.alpha.kubernetes.io/*", "seccomp.security.alpha.kubernetes.io/pod"},
	"pss-sysctls":                    {"name"},
	"pss-windowsHostProcess":         {"hostProcess"},
}

var volumeSources = []string{"hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos"}

// lineKey returns the key a YAML line sets ("privileged" for
// "    privileged: true") and whether the line starts a list item.
func lineKey(line string) (key string, item bool) {
	s := strings.TrimSpace(line)
	item = strings.HasPrefix(s, "- ")
	s = strings.TrimPrefix(s, "- ")
	k, _, ok := strings.Cut(s, ":")
	if !ok {
		return "", item
	}
	return strings.Trim(k, `"'`), item
}

// keyAllowed matches a line's key against a check's allowed keys; "-"
// allows the first line of a container ("- name:" or "- image:").
func keyAllowed(allowed []string, key string, item bool) bool {
	for _, a := range allowed {
		switch {
		case a == key:
			return true
		case a == "-" && item && (key == "name" || key == "image"):
			return true
		case a == "*volume source*" && slices.Contains(volumeSources, key):
			return true
		case strings.HasSuffix(a, "*") && strings.HasPrefix(key, strings.TrimSuffix(a, "*")):
			return true
		}
	}
	return false
}

// TestFixtureLocations proves, for every finding on every upstream fail
// fixture, that the reported line holds the offending field or, where a
// required field is missing, the securityContext or container where it
// must be added; and that an exact path is reported at the field itself.
func TestFixtureLocations(t *testing.T) {
	e, err := pss.NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, fx := range fixtures(t) {
		if fx.pass {
			continue
		}
		name := fx.level + "/" + fx.version + "/" + filepath.Base(fx.path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(fx.path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(data), "\n")
			objs, fs := scanFile(t, e, fx.path, fx.level, fx.version)
			for _, f := range fs {
				checked++
				if f.Location.File != fx.path || f.Location.Line < 1 || f.Location.Line > len(lines) || f.Location.Column < 1 {
					t.Errorf("%s: bad location %+v", f.CheckID, f.Location)
					continue
				}
				line := lines[f.Location.Line-1]
				key, item := lineKey(line)
				if !keyAllowed(fieldKeys[f.CheckID], key, item) {
					t.Errorf("%s at line %d %q (%s): key %q is not one of %v", f.CheckID, f.Location.Line, line, f.Path, key, fieldKeys[f.CheckID])
				}
				if got := line[min(f.Location.Column-1, len(line)):]; !strings.HasPrefix(strings.TrimPrefix(got, "- "), strings.TrimPrefix(strings.TrimSpace(line), "- ")) {
					t.Errorf("%s: column %d does not start the field on line %q", f.CheckID, f.Location.Column, line)
				}
				// When the field exists in the source, the line must be
				// the field's own, not an ancestor's.
				p, err := object.ParsePath(f.Path)
				if err != nil {
					t.Errorf("%s: path %q: %v", f.CheckID, f.Path, err)
					continue
				}
				if objs[0].Field(p) != nil && p[len(p)-1].Key != "" && key != p[len(p)-1].Key {
					t.Errorf("%s: field %s exists but line %d holds %q", f.CheckID, f.Path, f.Location.Line, key)
				}
			}
		})
	}
	if checked < 1000 {
		t.Fatalf("checked only %d findings", checked)
	}
}
