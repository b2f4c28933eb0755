package workload

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"k8s.io/pod-security-admission/api"
)

// PrivilegedUnenforced reports privileged containers in a namespace with no
// pod-security.kubernetes.io/enforce label. A namespace labelled
// enforce=privileged has made the choice in the open (node agents, CNI and
// CSI plugins live in such namespaces) and is left alone; one without the
// label has made no choice, and admits the container by default. It says
// nothing when the input does not hold the Namespace (see namespaceOf):
// pss-privileged reports the container in every case.
var PrivilegedUnenforced = check.Check{
	ID:       "privileged-unenforced",
	Title:    "Privileged container in a namespace without an enforce label",
	Severity: finding.Critical,
	Category: "Pod Security Admission",
	Rationale: "The Kubernetes security checklist asks that an appropriate Pod Security Standards level be applied to every namespace " +
		"and enforced. Without a pod-security.kubernetes.io/enforce label a namespace gets the cluster's default, privileged unless " +
		"the admission configuration says otherwise, so a privileged container, with every capability and device of the host, " +
		"is admitted without anyone having decided that the namespace may run one.",
	Remediation: "Drop privileged from the container and enforce a level in the namespace:\n" +
		"  metadata:\n    labels:\n      pod-security.kubernetes.io/enforce: baseline\n" +
		"or, for a node agent that needs it, run it in a namespace of its own that says so:\n" +
		"  metadata:\n    labels:\n      pod-security.kubernetes.io/enforce: privileged",
	DocURL: "https://kubernetes.io/docs/concepts/security/pod-security-admission/",
	Kinds:  []string{check.PodTemplates},
	Needs:  []string{"Namespace"},
	Run: func(p *check.Pass) {
		ns := namespaceOf(p)
		if ns == nil {
			return
		}
		if _, ok := ns.Labels[api.EnforceLevelLabel]; ok {
			return
		}
		for _, c := range p.Template.Containers() {
			if sc := c.SecurityContext; sc == nil || sc.Privileged == nil || !*sc.Privileged {
				continue
			}
			p.Report(check.Diagnostic{
				Path:       c.Path.Keys("securityContext", "privileged"),
				Containers: []string{c.Name},
				Reason:     "privileged container, enforce label missing",
				Detail: "container " + quote(c.Name) + " is privileged and namespace " + quote(ns.Ref.Name) + " has no " +
					api.EnforceLevelLabel + " label, so Pod Security Admission admits it",
				// Both halves are the input's own: the container's field,
				// and the Namespace the input holds.
				Remediation: fix(p, "Drop privileged from the container", set(c.Path.Keys("securityContext", "privileged"), false)) +
					"\nand enforce a level in namespace " + ns.Ref.Name + ":\n" + enforceIn(ns.Ref.Name, "baseline") +
					"\nor, for a node agent that needs it, run it in a namespace of its own that says so:\n" + enforceIn("<namespace>", "privileged"),
			})
		}
	},
}
