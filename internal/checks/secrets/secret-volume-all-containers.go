package secrets

import (
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	corev1 "k8s.io/api/core/v1"
)

// SecretVolumeAllContainers reports a volume that holds a Secret (a secret
// volume, or a projected volume with a secret source) when a pod has two or
// more containers and every one of them mounts it.
//
// The rule is narrow on purpose. A scan cannot know which container needs
// a Secret, only how widely it is handed out: a Secret mounted in some
// containers and not others has evidently been placed, and is not
// reported; one mounted in all of them is the copy-pasted volumeMounts
// block the good practice is about, and the reader decides whether every
// container needs it (suppress with the container-scoped or object
// kubeguard.io/ignore annotation when they do). Only regular containers
// count: init containers run before them, one at a time, and ephemeral
// containers are added by hand to debug. A pod with one container has no
// other container to keep the Secret from.
var SecretVolumeAllContainers = check.Check{
	ID:       "secret-volume-all-containers",
	Title:    "Secret mounted into every container",
	Severity: finding.Low,
	Category: Category,
	Rationale: "The Kubernetes Secrets good practices ask to restrict Secret access to specific containers: when only one " +
		"container of a Pod needs a Secret, mount it (or set the environment variable) in that container only, so that a " +
		"compromise of a sidecar, a log shipper or a proxy does not disclose it.",
	Remediation: "Keep the volume in the pod and the volumeMount only in the containers that read the Secret:\n" +
		"  containers:\n  - name: <container that reads it>\n    volumeMounts:\n    - name: <volume>\n      mountPath: <path>\n      readOnly: true\n" +
		"  - name: <container that does not>\n    # no mount of <volume>\n" +
		"  volumes:\n  - name: <volume>\n    secret:\n      secretName: <secret>",
	DocURL: goodPractices + "#restrict-secret-access-to-specific-containers",
	Kinds:  []string{check.PodTemplates},
	Run: func(p *check.Pass) {
		t := p.Template
		if len(t.Spec.Containers) < 2 {
			return
		}
		for i, v := range t.Spec.Volumes {
			secrets := volumeSecrets(&v)
			if len(secrets) == 0 {
				continue
			}
			names := make([]string, 0, len(t.Spec.Containers))
			for _, c := range t.Spec.Containers {
				if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == v.Name }) {
					names = nil
					break
				}
				names = append(names, c.Name)
			}
			if names == nil {
				continue
			}
			what := "Secret " + quote(secrets[0])
			if len(secrets) > 1 {
				what = "Secrets " + strings.Join(quoteAll(secrets), ", ")
			}
			p.Report(check.Diagnostic{
				Path:       t.SpecPath().Key("volumes").Index(i),
				Containers: names,
				Reason:     "Secret mounted into every container",
				Detail: "volume " + quote(v.Name) + " holds " + what + " and all " + itoa(len(names)) + " containers (" +
					strings.Join(quoteAll(names), ", ") + ") mount it: mount it only in those that read it",
			})
		}
	},
}

// volumeSecrets names the Secrets a volume holds.
func volumeSecrets(v *corev1.Volume) []string {
	var out []string
	if v.Secret != nil && v.Secret.SecretName != "" {
		out = append(out, v.Secret.SecretName)
	}
	if v.Projected != nil {
		for _, s := range v.Projected.Sources {
			if s.Secret != nil && s.Secret.Name != "" {
				out = append(out, s.Secret.Name)
			}
		}
	}
	return out
}
