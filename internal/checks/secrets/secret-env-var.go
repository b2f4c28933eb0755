package secrets

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// SecretEnvVar reports Secret values handed to containers as environment
// variables (env valueFrom.secretKeyRef, envFrom secretRef), each at the
// reference.
var SecretEnvVar = check.Check{
	ID:       "secret-env-var",
	Title:    "Secret passed as an environment variable",
	Severity: finding.Low,
	Category: Category,
	Rationale: "The Kubernetes security checklist asks that pods needing Secrets have them mounted through volumes, and the " +
		"Secrets good practices ask applications to protect Secret data after reading it. An environment " +
		"variable is hard to protect: every child process inherits it, it shows in /proc/<pid>/environ, in crash reports and in " +
		"the logs of programs that print their environment, and, as the Secrets documentation notes, it is not updated when the " +
		"Secret changes, so rotation needs a restart. A Secret mounted as a volume is a file on tmpfs, readable only by the " +
		"containers that mount it, and kept up to date by the kubelet. Low severity: the value stays in a Secret either way.",
	Remediation: "Mount the Secret as a read-only volume in the container that needs it and read the file:\n" +
		"  containers:\n  - name: app\n    volumeMounts:\n    - name: db-credentials\n      mountPath: /etc/db\n      readOnly: true\n" +
		"  volumes:\n  - name: db-credentials\n    secret:\n      secretName: db-credentials\n" +
		"Many programs accept the file directly (POSTGRES_PASSWORD_FILE=/etc/db/password).",
	DocURL: "https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables",
	Kinds:  []string{check.PodTemplates},
	Run: func(p *check.Pass) {
		for _, r := range References(p.Template) {
			if r.Source != EnvVar && r.Source != EnvFrom {
				continue
			}
			detail := r.Where() + " takes the value of a key of Secret " + quote(r.Secret)
			if r.Source == EnvFrom {
				detail = r.Where() + " turns every key of Secret " + quote(r.Secret) + " into an environment variable"
			}
			p.Report(check.Diagnostic{
				Remediation: mountInstead(p.Template, r),
				// The secretKeyRef or secretRef, not its name.
				Path:       r.Path[:len(r.Path)-1],
				Containers: []string{r.Container},
				Reason:     "Secret passed as an environment variable",
				Detail:     detail + ": environment variables are inherited by child processes and often logged",
			})
		}
	},
}

// mountInstead is the secret-env-var advice for reference r, in the pod's
// own names: the Secret as a read-only volume of its own, mounted in the
// container that read it into its environment.
func mountInstead(t *object.PodTemplate, r Reference) string {
	where := t.SpecPath().String()
	mount := "/etc/secrets/" + r.Secret
	return "Mount the Secret as a read-only volume in the container that needs it, read the file, and drop the variable; in " + where + ":\n" +
		"  containers:\n  - name: " + r.Container + "\n    volumeMounts:\n    - name: " + r.Secret + "\n      mountPath: " + mount + "\n      readOnly: true\n" +
		"  volumes:\n  - name: " + r.Secret + "\n    secret:\n      secretName: " + r.Secret + "\n" +
		"Many programs accept the file directly (POSTGRES_PASSWORD_FILE=" + mount + "/<key>)."
}
