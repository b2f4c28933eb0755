package node

import (
	"bytes"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// sameFile reports whether two paths the node names are the same file, or
// files with the same content.
func sameFile(n *Node, a, b string) bool {
	if a == b {
		return true
	}
	if n.Remote {
		return false // the files are on the node: only the same path is known the same
	}
	da, _, errA := readFile(n.Host.Path(a))
	db, _, errB := readFile(n.Host.Path(b))
	return errA == nil && errB == nil && bytes.Equal(bytes.TrimSpace(da), bytes.TrimSpace(db))
}

func controlPlaneChecks() []Check {
	profiling := func(id, component, cis, doc string) Check {
		return flagCheck(meta(id, component+" serves profiling endpoints", finding.Low,
			"/debug/pprof reveals internals and costs CPU; it is for debugging, not production.",
			"Set --profiling=false.", doc), []string{cis}, component, "profiling", func(v string) string {
			if isTrue(v) {
				return "profiling is on"
			}
			return ""
		})
	}
	bind := func(id, component, cis, doc string) Check {
		return flagCheck(meta(id, component+" listens beyond loopback", finding.Low,
			"Its secure port serves health and metrics; on all interfaces it is reachable from the network for no benefit.",
			"Set --bind-address=127.0.0.1.", doc), []string{cis}, component, "bind-address", func(v string) string {
			if !loopback(v) {
				return "serves on " + v
			}
			return ""
		})
	}
	return []Check{
		profiling("controller-manager-profiling", ControllerManager, "1.3.2", docKCM),
		flagCheck(meta("controller-manager-service-account-credentials", "Controllers share one identity", finding.Medium,
			"Without per-controller ServiceAccounts every controller runs with the controller manager's full rights, and RBAC cannot limit any one of them.",
			"Set --use-service-account-credentials=true.", docKCM), []string{"1.3.3"}, ControllerManager, "use-service-account-credentials", func(v string) string {
			if !isTrue(v) {
				return "controllers run with the controller manager's own credentials"
			}
			return ""
		}),
		flagCheck(meta("controller-manager-service-account-key", "Controller manager signs no ServiceAccount tokens", finding.Medium,
			"Without the private key the token controller cannot issue legacy tokens signed by the cluster's key, and rotation is not possible.",
			"Set --service-account-private-key-file to the key whose public half the API server's --service-account-key-file holds.", docKCM),
			[]string{"1.3.4"}, ControllerManager, "service-account-private-key-file", func(v string) string {
				if v == "" {
					return "--service-account-private-key-file is not set"
				}
				return ""
			}),
		flagCheck(meta("controller-manager-root-ca", "Pods are not given the cluster CA", finding.Low,
			"Without --root-ca-file pods cannot verify the API server's certificate and may skip verification.",
			"Set --root-ca-file to the cluster CA.", docKCM), []string{"1.3.5"}, ControllerManager, "root-ca-file", func(v string) string {
			if v == "" {
				return "--root-ca-file is not set"
			}
			return ""
		}),
		{Check: meta("controller-manager-kubelet-server-cert-rotation", "Kubelet serving certificates not rotated", finding.Low,
			"With RotateKubeletServerCertificate off, kubelet serving certificates are not approved for rotation and expire or stay self-signed.",
			"Remove RotateKubeletServerCertificate=false from --feature-gates.", docKCM),
			CIS: []string{"1.3.6"}, run: func(n *Node, r *reporter) {
				each(n, ControllerManager, func(c *CommandLine) {
					s := c.Setting("feature-gates")
					if on, named := featureGate(s, "RotateKubeletServerCertificate"); named && !on {
						r.setting(c.Ref, s, "RotateKubeletServerCertificate is off")
					}
				})
			}},
		bind("controller-manager-bind-address", ControllerManager, "1.3.7", docKCM),
		schedulerProfiling(),
		bind("scheduler-bind-address", Scheduler, "1.4.2", docScheduler),
	}
}

func etcdChecks() []Check {
	pair := func(id, title, certFlag, keyFlag, urlFlag, cis, what string) Check {
		return Check{Check: meta(id, title, finding.High,
			"etcd holds every Secret of the cluster; without TLS its traffic is plain text to anyone on the path.",
			"Set --"+certFlag+" and --"+keyFlag+" and use https:// in --"+urlFlag+".", docEtcd),
			CIS: []string{cis}, run: func(n *Node, r *reporter) {
				each(n, Etcd, func(c *CommandLine) {
					urls := c.Setting(urlFlag)
					sev := r.c.Severity
					if loopbackOnly(urls.Value) {
						sev = finding.Medium
					}
					for _, f := range []string{certFlag, keyFlag} {
						if s := c.Setting(f); s.Value == "" {
							r.reportSev(sev, c.Ref, s.Loc, "--"+f+" is not set: etcd's "+what+" traffic is plain HTTP", s.String()+"; "+urls.String())
						}
					}
				})
			}}
	}
	auth := func(id, title, flag, urlFlag, cis, who string) Check {
		return Check{Check: meta(id, title, finding.High,
			"Without client certificate authentication anyone who reaches etcd reads and writes every object, Secrets included, bypassing the API server.",
			"Set --"+flag+"=true with a trusted CA file.", docEtcd),
			CIS: []string{cis}, run: func(n *Node, r *reporter) {
				each(n, Etcd, func(c *CommandLine) {
					s := c.Setting(flag)
					if isTrue(s.Value) {
						return
					}
					sev := r.c.Severity
					if loopbackOnly(c.Setting(urlFlag).Value) {
						sev = finding.Medium
					}
					r.reportSev(sev, c.Ref, s.Loc, who+" are not authenticated by certificate", s.String())
				})
			}}
	}
	autoTLS := func(id, flag, cis string) Check {
		return flagCheck(meta(id, "etcd uses self-signed certificates", finding.Medium,
			"Auto TLS certificates are self-signed: nothing verifies them, so they stop no one.",
			"Set --"+flag+"=false and give certificates signed by the etcd CA.", docEtcd), []string{cis}, Etcd, flag, func(v string) string {
			if isTrue(v) {
				return "--" + flag + " is on"
			}
			return ""
		})
	}
	return []Check{
		pair("etcd-client-tls", "etcd serves clients without TLS", "cert-file", "key-file", "listen-client-urls", "2.1", "client"),
		auth("etcd-client-cert-auth", "etcd does not authenticate clients", "client-cert-auth", "listen-client-urls", "2.2", "clients"),
		autoTLS("etcd-auto-tls", "auto-tls", "2.3"),
		pair("etcd-peer-tls", "etcd talks to peers without TLS", "peer-cert-file", "peer-key-file", "listen-peer-urls", "2.4", "peer"),
		auth("etcd-peer-client-cert-auth", "etcd does not authenticate peers", "peer-client-cert-auth", "listen-peer-urls", "2.5", "peers"),
		autoTLS("etcd-peer-auto-tls", "peer-auto-tls", "2.6"),
		{Check: meta("etcd-unique-ca", "etcd trusts the cluster CA", finding.High,
			"When etcd's client CA is the cluster CA, every certificate the cluster issues (kubelets', users', controllers') is an etcd client certificate: its holder reads every Secret in etcd.",
			"Give etcd its own CA (kubeadm's /etc/kubernetes/pki/etcd/ca.crt) and the API server a client certificate signed by it.", docEtcd),
			CIS: []string{"2.7"}, run: func(n *Node, r *reporter) {
				each(n, Etcd, func(e *CommandLine) {
					etcdCA := e.Setting("trusted-ca-file")
					if etcdCA.Value == "" {
						return
					}
					each(n, APIServer, func(a *CommandLine) {
						clusterCA := a.Setting("client-ca-file")
						if clusterCA.Value != "" && sameFile(n, etcdCA.Value, clusterCA.Value) {
							r.report(e.Ref, etcdCA.Loc, "etcd's --trusted-ca-file is the API server's --client-ca-file", etcdCA.String()+"; "+clusterCA.String())
						}
					})
				})
			}},
		tlsCheck(meta("etcd-tls-ciphers", "etcd allows weak TLS", finding.Medium,
			"Insecure cipher suites and TLS below 1.2 let a network attacker read or tamper with etcd traffic.",
			"Remove the insecure suites from --cipher-suites and keep --tls-min-version at TLS1.2 or above.", docEtcd), nil, Etcd),
	}
}
