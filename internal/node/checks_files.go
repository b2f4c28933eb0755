package node

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// maxMode is the most permissive mode each kind of file should have
// (CIS 1.1.x, 4.1.x): private keys and credentials 600, certificates
// 644, the etcd data directory 700.
var maxMode = map[Role]fs.FileMode{
	RoleManifest:        0o600,
	RoleKubeconfig:      0o600,
	RoleKubeletConfig:   0o600,
	RoleUnit:            0o600,
	RoleCert:            0o644,
	RoleKey:             0o600,
	RoleEtcdData:        0o700,
	RoleEncryption:      0o600,
	RoleAdmission:       0o600,
	RoleSchedulerConfig: 0o600,
}

// modeCIS are the CIS recommendations on the mode of each kind of file.
var modeCIS = map[Role][]string{
	RoleManifest:      {"1.1.1", "1.1.3", "1.1.5", "1.1.7"},
	RoleKubeconfig:    {"1.1.13", "1.1.15", "1.1.17", "4.1.5"},
	RoleKubeletConfig: {"4.1.9"},
	RoleUnit:          {"4.1.1"},
	RoleCert:          {"1.1.20", "4.1.7"},
	RoleKey:           {"1.1.21"},
	RoleEtcdData:      {"1.1.11"},
}

// secretRoles are files whose reading by another user leaks a credential.
var secretRoles = map[Role]bool{RoleKey: true, RoleKubeconfig: true, RoleEncryption: true}

func fileRef(f File) finding.ObjectRef {
	return finding.ObjectRef{APIVersion: "kubeguard.io/v1", Kind: "File", Name: f.Display}
}

func fileChecks() []Check {
	return []Check{
		{Check: meta("node-file-permissions", "Node file more permissive than it should be", finding.Low,
			"Credentials, keys and the control plane's configuration must be readable and writable only by their owner: anyone else who reads them takes the identity, anyone who writes them takes the node.",
			"chmod the file to the mode in the finding (600 for keys, kubeconfigs and configuration, 644 for certificates, 700 for the etcd data directory).", docHardening),
			CIS: []string{"1.1.1", "1.1.3", "1.1.5", "1.1.7", "1.1.11", "1.1.13", "1.1.15", "1.1.17", "1.1.20", "1.1.21", "4.1.1", "4.1.5", "4.1.7", "4.1.9"},
			run: func(n *Node, r *reporter) {
				for _, f := range n.Files {
					limit, ok := maxMode[f.Role]
					if !ok {
						continue
					}
					perm := f.Mode.Perm()
					extra := perm &^ limit
					if extra == 0 {
						continue
					}
					sev := r.c.Severity
					if secretRoles[f.Role] && perm&0o044 != 0 || perm&0o022 != 0 {
						// Another user can read a credential, or change
						// what the node runs.
						sev = finding.High
					}
					r.reportCIS(sev, fileRef(f), finding.Location{File: f.Display},
						fmt.Sprintf("%s has mode %04o; want %04o or stricter", f.Role, perm, limit), "", modeCIS[f.Role])
				}
			}},
		{Check: meta("node-file-ownership", "Node file not owned by root", finding.Low,
			"A control-plane file owned by another user can be changed by that user, who then controls what the node runs.",
			"chown root:root the file.", docHardening),
			CIS: []string{"1.1.2", "1.1.4", "1.1.6", "1.1.8", "1.1.14", "1.1.16", "1.1.18", "1.1.19", "4.1.2", "4.1.6", "4.1.8", "4.1.10"},
			run: func(n *Node, r *reporter) {
				for _, f := range n.Files {
					if f.Role == RoleEtcdData || f.UID < 0 {
						continue // etcd's data belongs to whoever runs etcd
					}
					if f.UID != 0 || f.GID != 0 {
						r.report(fileRef(f), finding.Location{File: f.Display}, fmt.Sprintf("%s is owned by %d:%d, not root:root", f.Role, f.UID, f.GID), "")
					}
				}
			}},
		{Check: meta("pki-certificate-expiry", "Certificate expired or expiring", finding.Medium,
			"An expired certificate stops the component that presents it (kubeadm's expire after a year); one about to expire will.",
			"Renew it (kubeadm certs renew) and restart the components that use it.", docPKI),
			run: func(n *Node, r *reporter) {
				for _, c := range n.Certs {
					left := c.NotAfter.Sub(r.opts.Now)
					switch {
					case left <= 0:
						r.reportSev(finding.High, certRef(c), c.Loc, fmt.Sprintf("certificate %q expired on %s", c.Subject, c.NotAfter.UTC().Format(time.DateOnly)), "")
					case left < 30*24*time.Hour:
						r.report(certRef(c), c.Loc, fmt.Sprintf("certificate %q expires on %s", c.Subject, c.NotAfter.UTC().Format(time.DateOnly)), "")
					}
				}
			}},
		{Check: meta("pki-certificate-lifetime", "Client or serving certificate valid for years", finding.Low,
			"A certificate cannot be revoked in Kubernetes: a stolen one is valid until it expires. kubeadm issues them for a year.",
			"Issue leaf certificates for a year or less and rotate them.", docPKI),
			run: func(n *Node, r *reporter) {
				for _, c := range n.Certs {
					if life := c.NotAfter.Sub(c.NotBefore); !c.IsCA && life > 825*24*time.Hour {
						r.report(certRef(c), c.Loc, fmt.Sprintf("certificate %q is valid for %d days", c.Subject, int(life.Hours()/24)), "")
					}
				}
			}},
		{Check: meta("pki-system-masters", "Client certificate in system:masters", finding.Medium,
			"system:masters bypasses authorization entirely and cannot be removed by RBAC; a client certificate in it is cluster admin until it expires, with no way to revoke it.",
			"Issue admin certificates for a group bound to cluster-admin by a ClusterRoleBinding (kubeadm's kubeadm:cluster-admins), and keep a system:masters credential offline for break-glass use only.", "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege"),
			CIS: []string{"5.1.7"},
			run: func(n *Node, r *reporter) {
				for _, c := range n.Certs {
					if c.Client && slices.Contains(c.Orgs, "system:masters") {
						who := c.Subject
						if c.User != "" {
							who += " (kubeconfig user " + c.User + ")"
						}
						r.report(certRef(c), c.Loc, "client certificate "+who+" is in system:masters", "")
					}
				}
			}},
	}
}

func certRef(c Cert) finding.ObjectRef {
	name := c.Loc.File
	if c.User != "" {
		name += "#" + c.User
	}
	return finding.ObjectRef{APIVersion: "kubeguard.io/v1", Kind: "Certificate", Name: strings.TrimSpace(name)}
}
