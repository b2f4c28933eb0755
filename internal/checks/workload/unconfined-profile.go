package workload

import (
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
)

// UnconfinedProfile reports seccomp and AppArmor profiles set to
// Unconfined in a namespace whose Pod Security Admission enforce level is
// privileged, by label or for want of one: there the API server lets the
// pod in, and the pss- findings on the same fields are advice only.
//
// It looks at the securityContext fields at pod and container level and at
// the deprecated AppArmor annotation, which Pod Security Admission still
// checks; the seccomp annotations no longer take effect and are ignored.
// It says nothing when the input does not hold the Namespace (see
// namespaceOf).
var UnconfinedProfile = check.Check{
	ID:       "unconfined-profile",
	Title:    "Unconfined seccomp or AppArmor where nothing enforces",
	Severity: finding.High,
	Category: "Pod Security Admission",
	Rationale: "The Pod Security Standards forbid Unconfined seccomp and AppArmor profiles from the baseline level up, and the Kubernetes " +
		"security checklist asks for both to be enabled and for an appropriate level to be enforced in every namespace. In a namespace " +
		"that enforces privileged, explicitly or by default, Pod Security Admission admits the pod, and the container runs with every " +
		"system call and no mandatory access control.",
	Remediation: "Use the runtime's default profiles (at pod level; remove container-level Unconfined overrides):\n" +
		"  securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n    appArmorProfile:\n      type: RuntimeDefault\n" +
		"and enforce at least baseline in the namespace:\n" +
		"  metadata:\n    labels:\n      pod-security.kubernetes.io/enforce: baseline",
	DocURL: "https://kubernetes.io/docs/concepts/security/security-checklist/#pod-security",
	Kinds:  []string{check.PodTemplates},
	Needs:  []string{"Namespace"},
	Run: func(p *check.Pass) {
		ns := namespaceOf(p)
		if ns == nil || enforcedLevel(ns.Labels) != api.LevelPrivileged {
			return
		}
		why := "namespace " + quote(ns.Ref.Name) + " enforces privileged, so Pod Security Admission lets it run"
		if _, ok := ns.Labels[api.EnforceLevelLabel]; !ok {
			why = "namespace " + quote(ns.Ref.Name) + " has no " + api.EnforceLevelLabel + " label, so Pod Security Admission lets it run"
		}
		t := p.Template
		report := func(path object.Path, containers []string, reason, subject string) {
			// The fix replaces the Unconfined setting where it is written:
			// a container's own setting wins over the pod's.
			v := "RuntimeDefault"
			if path[len(path)-1].Key != "type" {
				v = corev1.DeprecatedAppArmorBetaProfileRuntimeDefault // the annotation
			}
			p.Report(check.Diagnostic{Path: path, Containers: containers, Reason: reason, Detail: subject + ", and " + why,
				Remediation: fix(p, "Use the runtime's default profile", set(path, v)) +
					"\nand enforce at least baseline in namespace " + ns.Ref.Name + ":\n" + enforceIn(ns.Ref.Name, "baseline")})
		}
		podSC := t.Spec.SecurityContext
		podSeccomp := t.SpecPath().Keys("securityContext", "seccompProfile", "type")
		podAppArmor := t.SpecPath().Keys("securityContext", "appArmorProfile", "type")
		var seccompInherit, appArmorInherit []string
		for _, c := range t.Containers() {
			sc := c.SecurityContext
			if sc != nil && sc.SeccompProfile != nil {
				if sc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
					report(c.Path.Keys("securityContext", "seccompProfile", "type"), []string{c.Name}, "seccomp profile Unconfined",
						"container "+quote(c.Name)+" runs with no seccomp filter")
				}
			} else {
				seccompInherit = append(seccompInherit, c.Name)
			}
			key := corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + c.Name
			annotation, annotated := t.Metadata.Annotations[key]
			// A Pod's field may be the API server's copy of the annotation
			// (object.PodTemplate applies it): the annotation is then what
			// the manifest says, and where to fix it.
			fieldInSource := p.Object.Field(c.Path.Keys("securityContext", "appArmorProfile")) != nil
			switch {
			case sc != nil && sc.AppArmorProfile != nil && (fieldInSource || !annotated):
				if sc.AppArmorProfile.Type == corev1.AppArmorProfileTypeUnconfined {
					report(c.Path.Keys("securityContext", "appArmorProfile", "type"), []string{c.Name}, "AppArmor profile Unconfined",
						"container "+quote(c.Name)+" runs with no AppArmor profile")
				}
			case annotated:
				if annotation == corev1.DeprecatedAppArmorBetaProfileNameUnconfined {
					report(t.MetadataPath().Keys("annotations", key), []string{c.Name}, "AppArmor profile unconfined",
						"container "+quote(c.Name)+" runs with no AppArmor profile (by annotation)")
				}
			default:
				appArmorInherit = append(appArmorInherit, c.Name)
			}
		}
		if podSC != nil && podSC.SeccompProfile != nil && podSC.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
			report(podSeccomp, seccompInherit, "seccomp profile Unconfined", "the pod's default seccomp profile is Unconfined"+inheritedBy(seccompInherit))
		}
		if podSC != nil && podSC.AppArmorProfile != nil && podSC.AppArmorProfile.Type == corev1.AppArmorProfileTypeUnconfined {
			report(podAppArmor, appArmorInherit, "AppArmor profile Unconfined", "the pod's default AppArmor profile is Unconfined"+inheritedBy(appArmorInherit))
		}
	},
}

// inheritedBy names the containers a pod-level setting applies to.
func inheritedBy(containers []string) string {
	if len(containers) == 0 {
		return " (every container overrides it)"
	}
	quoted := make([]string, len(containers))
	for i, n := range containers {
		quoted[i] = quote(n)
	}
	return " for container " + strings.Join(quoted, ", ")
}
