package node

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// admissionPlugin says whether kube-apiserver runs an admission plugin,
// and the setting that decided it. A plugin both enabled and disabled is
// an error: the API server refuses to start.
func admissionPlugin(r *reporter, c *CommandLine, plugin string) (bool, Setting) {
	en, dis := c.Setting("enable-admission-plugins"), c.Setting("disable-admission-plugins")
	inEn, inDis := slices.Contains(listValue(en.Value), plugin), slices.Contains(listValue(dis.Value), plugin)
	switch {
	case inEn && inDis:
		r.errorf(en.Loc, "admission plugin %s is both enabled and disabled: the API server would refuse to start", plugin)
		return false, en
	case inEn:
		return true, en
	case inDis:
		return false, dis
	}
	on := DefaultOnAdmissionPlugins[plugin]
	s := en
	s.Value = strings.TrimSpace(en.Value + fmt.Sprintf(" (%s is %s by default)", plugin, map[bool]string{true: "on", false: "off"}[on]))
	return on, s
}

// authorizers returns the API server's authorizers: --authorization-mode,
// or the types of an AuthorizationConfiguration file. known is false when
// they cannot be known: the file is on a node read through the API.
func authorizers(n *Node, r *reporter, c *CommandLine) (modes []string, s Setting, known bool) {
	if a, ok := c.Lookup("authorization-config"); ok && a.Value != "" {
		s := c.Setting("authorization-config")
		if n.Remote {
			return nil, s, false
		}
		root, _, ok := n.readYAML(n.Host.Path(a.Value))
		if !ok {
			return nil, s, true
		}
		var types []string
		for _, it := range items(get(root, "authorizers")) {
			t, _ := scalar(get(it, "type"))
			types = append(types, t)
		}
		return types, s, true
	}
	s = c.Setting("authorization-mode")
	return listValue(s.Value), s, true
}

func apiServerChecks() []Check {
	return []Check{
		flagCheck(meta("apiserver-anonymous-auth", "API server accepts anonymous requests", finding.Medium,
			"Anonymous requests reach every endpoint RBAC grants to system:unauthenticated; any mistaken binding to it is open to the network.",
			"Set --anonymous-auth=false, or keep anonymous access to health endpoints only with an AuthenticationConfiguration anonymous.conditions list.", docAPIServer),
			[]string{"1.2.1"}, APIServer, "anonymous-auth", func(v string) string {
				if isTrue(v) {
					return "anonymous requests are authenticated as system:anonymous"
				}
				return ""
			}),
		flagCheck(meta("apiserver-token-auth-file", "API server reads static bearer tokens", finding.Medium,
			"Static tokens live in plain text on the control plane, never expire, and are revoked only by editing the file and restarting the API server.",
			"Remove --token-auth-file; use client certificates, OIDC or ServiceAccount tokens.", docAPIServer),
			[]string{"1.2.2"}, APIServer, "token-auth-file", func(v string) string {
				if v != "" {
					return "static token file in use"
				}
				return ""
			}),
		{Check: meta("apiserver-kubelet-client-cert", "API server has no client certificate for kubelets", finding.Medium,
			"Without it the API server cannot authenticate to kubelets that require client certificates, which tempts operators to open the kubelet API.",
			"Set --kubelet-client-certificate and --kubelet-client-key.", docKubeletAuth),
			CIS: []string{"1.2.4"}, run: func(n *Node, r *reporter) {
				each(n, APIServer, func(c *CommandLine) {
					for _, f := range []string{"kubelet-client-certificate", "kubelet-client-key"} {
						if s := c.Setting(f); s.Value == "" {
							r.setting(c.Ref, s, "--"+f+" is not set")
						}
					}
				})
			}},
		flagCheck(meta("apiserver-kubelet-ca", "API server does not verify kubelet serving certificates", finding.Medium,
			"Without a CA, connections to kubelets (exec, logs, port-forward) are not verified and can be intercepted.",
			"Set --kubelet-certificate-authority to the CA that signs kubelet serving certificates (with serverTLSBootstrap on the kubelets).", docKubeletAuth),
			[]string{"1.2.5"}, APIServer, "kubelet-certificate-authority", func(v string) string {
				if v == "" {
					return "kubelet serving certificates are not verified"
				}
				return ""
			}),
		{Check: meta("apiserver-authorization-always-allow", "API server authorizes every request", finding.Critical,
			"AlwaysAllow authorizes any authenticated request (and anonymous ones when anonymous auth is on): every user is cluster admin.",
			"Set --authorization-mode=Node,RBAC (without AlwaysAllow).", "https://kubernetes.io/docs/reference/access-authn-authz/authorization/"),
			CIS: []string{"1.2.6"}, run: func(n *Node, r *reporter) {
				each(n, APIServer, func(c *CommandLine) {
					modes, s, known := authorizers(n, r, c)
					if known && slices.Contains(modes, "AlwaysAllow") {
						r.setting(c.Ref, s, "AlwaysAllow is an authorization mode")
					}
				})
			}},
		{Check: meta("apiserver-authorization-node", "API server does not use the Node authorizer", finding.Medium,
			"Without the Node authorizer (and NodeRestriction), a kubelet's credentials reach every Secret and object in the cluster, not only its own pods'.",
			"Add Node to --authorization-mode: --authorization-mode=Node,RBAC.", "https://kubernetes.io/docs/reference/access-authn-authz/node/"),
			CIS: []string{"1.2.7"}, run: func(n *Node, r *reporter) {
				each(n, APIServer, func(c *CommandLine) {
					if modes, s, known := authorizers(n, r, c); known && !slices.Contains(modes, "Node") {
						r.setting(c.Ref, s, "Node is not an authorization mode")
					}
				})
			}},
		{Check: meta("apiserver-authorization-rbac", "API server does not use RBAC", finding.Medium,
			"RBAC is the authorizer the Kubernetes documents and kubeguard's RBAC analysis assume; without it least privilege is not expressed in the API.",
			"Add RBAC to --authorization-mode: --authorization-mode=Node,RBAC.", "https://kubernetes.io/docs/reference/access-authn-authz/rbac/"),
			CIS: []string{"1.2.8"}, run: func(n *Node, r *reporter) {
				each(n, APIServer, func(c *CommandLine) {
					if modes, s, known := authorizers(n, r, c); known && !slices.Contains(modes, "RBAC") {
						r.setting(c.Ref, s, "RBAC is not an authorization mode")
					}
				})
			}},
		{Check: meta("apiserver-admission-always-admit", "AlwaysAdmit admission plugin enabled", finding.High,
			"AlwaysAdmit is deprecated and admits everything; it signals admission control is not relied on.",
			"Remove AlwaysAdmit from --enable-admission-plugins.", "https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#alwaysadmit"),
			CIS: []string{"1.2.10"}, run: func(n *Node, r *reporter) {
				each(n, APIServer, func(c *CommandLine) {
					if on, s := admissionPlugin(r, c, "AlwaysAdmit"); on {
						r.setting(c.Ref, s, "AlwaysAdmit is enabled")
					}
				})
			}},
		pluginOn("apiserver-admission-deny-external-ips", "DenyServiceExternalIPs admission plugin not enabled", finding.Low, "DenyServiceExternalIPs", "1.2.3",
			"Without it anyone who may create Services can set externalIPs and intercept traffic to those addresses (CVE-2020-8554)."),
		pluginOn("apiserver-admission-service-account", "ServiceAccount admission plugin disabled", finding.Medium, "ServiceAccount", "1.2.12",
			"Without it pods are not given their ServiceAccount, its token or its image pull secrets, and can name ServiceAccounts that do not exist."),
		pluginOn("apiserver-admission-namespace-lifecycle", "NamespaceLifecycle admission plugin disabled", finding.Low, "NamespaceLifecycle", "1.2.13",
			"Without it objects can be created in a namespace being deleted, or in one that does not exist, and the system namespaces can be deleted."),
		pluginOn("apiserver-admission-node-restriction", "NodeRestriction admission plugin not enabled", finding.Medium, "NodeRestriction", "1.2.14",
			"Without it a kubelet's credentials can modify every Node and Pod object, label itself to attract workloads, and reach beyond its own node."),
		{Check: meta("apiserver-pod-security-default", "Pod Security enforces nothing by default", finding.Low,
			"A namespace without pod-security.kubernetes.io labels runs at the cluster's default enforce level, privileged unless the PodSecurity admission configuration raises it: forgetting a label admits privileged pods.",
			"Pass an AdmissionConfiguration (--admission-control-config-file) whose PodSecurity defaults enforce baseline or restricted, with exemptions for the system namespaces that need more.", "https://kubernetes.io/docs/tasks/configure-pod-container/enforce-standards-admission-controller/"),
			CIS: []string{"5.2.1"}, run: func(n *Node, r *reporter) {
				each(n, APIServer, func(c *CommandLine) {
					if on, _ := admissionPlugin(r, c, "PodSecurity"); !on {
						return
					}
					s := c.Setting("admission-control-config-file")
					ac := n.Admission[s.Value]
					if s.Value != "" && ac == nil {
						return // unreadable: an input error already
					}
					if ac != nil && ac.PodSecurityEnforce != "" {
						if ac.PodSecurityEnforce == "privileged" {
							r.report(c.Ref, ac.PodSecurityLoc, "the default enforce level is privileged", "")
						}
						return
					}
					r.setting(c.Ref, s, "no PodSecurity configuration: the default enforce level is privileged")
				})
			}},
		flagCheck(meta("apiserver-profiling", "API server serves profiling endpoints", finding.Low,
			"/debug/pprof reveals internals and costs CPU; it is for debugging, not production.",
			"Set --profiling=false.", docAPIServer), []string{"1.2.15"}, APIServer, "profiling", func(v string) string {
			if isTrue(v) {
				return "profiling is on"
			}
			return ""
		}),
		{Check: meta("apiserver-audit-log", "API server writes no audit log", finding.Medium,
			"Without an audit policy and a log backend, nothing records who did what to the cluster.",
			"Set --audit-policy-file and --audit-log-path (or --audit-webhook-config-file).", "https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/"),
			CIS: []string{"1.2.16", "3.2.1"}, run: auditLog},
		{Check: meta("apiserver-audit-log-retention", "Audit log kept too briefly", finding.Low,
			"Investigations need weeks of audit history: CIS asks for 30 days, 10 files of 100 MB.",
			"Set --audit-log-maxage=30, --audit-log-maxbackup=10 and --audit-log-maxsize=100 (or ship the log elsewhere).", "https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/#log-backend"),
			CIS: []string{"1.2.17", "1.2.18", "1.2.19"}, run: func(n *Node, r *reporter) {
				each(n, APIServer, func(c *CommandLine) {
					if p := c.Setting("audit-log-path").Value; p == "" || p == "-" {
						return
					}
					for _, lim := range []struct {
						flag string
						min  int
					}{{"audit-log-maxage", 30}, {"audit-log-maxbackup", 10}, {"audit-log-maxsize", 100}} {
						s := c.Setting(lim.flag)
						if v, ok := atoi(s.Value); ok && v < lim.min {
							r.setting(c.Ref, s, fmt.Sprintf("--%s is %d, below %d", lim.flag, v, lim.min))
						}
					}
				})
			}},
		flagCheck(meta("apiserver-service-account-lookup", "API server accepts tokens of deleted ServiceAccounts", finding.Medium,
			"Without the lookup, a token stays valid after its ServiceAccount or Secret is deleted.",
			"Set --service-account-lookup=true (the default).", docAPIServer), []string{"1.2.21"}, APIServer, "service-account-lookup", func(v string) string {
			if !isTrue(v) {
				return "ServiceAccount tokens are not checked against etcd"
			}
			return ""
		}),
		{Check: meta("apiserver-service-account-keys", "ServiceAccount token keys not set", finding.Low,
			"Tokens must be signed by a dedicated key with a stable issuer; without --service-account-key-file the API server verifies with its serving key.",
			"Set --service-account-issuer, --service-account-signing-key-file and --service-account-key-file.", "https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/"),
			CIS: []string{"1.2.22"}, run: func(n *Node, r *reporter) {
				each(n, APIServer, func(c *CommandLine) {
					if s := c.Setting("service-account-issuer"); s.Value == "" {
						r.errorf(s.Loc, "--service-account-issuer is not set: kube-apiserver refuses to start without it")
					}
					if s := c.Setting("service-account-key-file"); s.Value == "" {
						r.setting(c.Ref, s, "--service-account-key-file is not set")
					}
				})
			}},
		{Check: meta("apiserver-etcd-tls", "API server talks to etcd without TLS or a client certificate", finding.High,
			"etcd holds every Secret; without TLS and a client certificate the connection can be read or impersonated.",
			"Set --etcd-cafile, --etcd-certfile and --etcd-keyfile, and https:// --etcd-servers.", docEtcd),
			CIS: []string{"1.2.23", "1.2.26"}, run: func(n *Node, r *reporter) {
				each(n, APIServer, func(c *CommandLine) {
					sev := r.c.Severity
					if a, ok := c.Lookup("etcd-servers"); ok && loopbackOnly(a.Value) {
						// Only the node itself reaches etcd.
						sev = finding.Medium
					}
					if a, ok := c.Lookup("etcd-servers"); ok {
						for _, u := range listValue(a.Value) {
							if strings.HasPrefix(u, "http://") {
								r.reportSev(sev, c.Ref, a.Loc, "etcd is reached over plain HTTP: "+u, "--etcd-servers="+a.Value)
							}
						}
					}
					for _, f := range []string{"etcd-cafile", "etcd-certfile", "etcd-keyfile"} {
						if s := c.Setting(f); s.Value == "" {
							r.reportSev(sev, c.Ref, s.Loc, "--"+f+" is not set", s.String())
						}
					}
				})
			}},
		{Check: meta("apiserver-tls-files", "API server serves a self-generated certificate or accepts no client certificates", finding.Low,
			"Without --tls-cert-file the API server generates a self-signed certificate clients cannot verify; without --client-ca-file no client certificate is accepted.",
			"Set --tls-cert-file, --tls-private-key-file and --client-ca-file.", docPKI),
			CIS: []string{"1.2.24", "1.2.25"}, run: func(n *Node, r *reporter) {
				each(n, APIServer, func(c *CommandLine) {
					for _, f := range []string{"tls-cert-file", "tls-private-key-file", "client-ca-file"} {
						if s := c.Setting(f); s.Value == "" {
							r.setting(c.Ref, s, "--"+f+" is not set")
						}
					}
				})
			}},
		tlsCheck(meta("apiserver-tls-ciphers", "API server allows weak TLS", finding.Medium,
			"Insecure cipher suites (RC4, 3DES, CBC with SHA-1 MACs in some modes) and TLS below 1.2 let a network attacker read or tamper with API traffic.",
			"Set --tls-min-version=VersionTLS12 and remove the insecure suites from --tls-cipher-suites (or leave it unset: Go's defaults are secure).", docAPIServer),
			[]string{"1.2.29"}, APIServer),
		flagCheck(meta("apiserver-extend-token-expiration", "API server extends the lifetime of projected tokens", finding.Low,
			"With extension on, the tokens of pods are valid for a year to warn of legacy clients, not the hour they were issued for.",
			"Set --service-account-extend-token-expiration=false once no client relies on long-lived tokens.", docAPIServer),
			[]string{"1.2.30"}, APIServer, "service-account-extend-token-expiration", func(v string) string {
				if isTrue(v) {
					return "projected ServiceAccount tokens are valid for a year"
				}
				return ""
			}),
		{Check: meta("apiserver-insecure-port", "API server serves plain HTTP without authentication", finding.Critical,
			"The insecure port skips authentication and authorization: anyone who reaches it is cluster admin.",
			"Remove --insecure-port and --insecure-bind-address (gone since v1.24).", docAPIServer),
			run: func(n *Node, r *reporter) {
				each(n, APIServer, func(c *CommandLine) {
					if a, ok := c.Lookup("insecure-port"); ok && a.Value != "0" {
						r.report(c.Ref, a.Loc, "--insecure-port="+a.Value, "")
					}
				})
			}},
	}
}

// pluginOn checks that an admission plugin runs.
func pluginOn(id, title string, sev finding.Severity, plugin, cis, rationale string) Check {
	return Check{Check: meta(id, title, sev, rationale,
		"Enable "+plugin+" in --enable-admission-plugins and keep it out of --disable-admission-plugins.",
		"https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#"+strings.ToLower(plugin)),
		CIS: []string{cis}, run: func(n *Node, r *reporter) {
			each(n, APIServer, func(c *CommandLine) {
				if on, s := admissionPlugin(r, c, plugin); !on {
					r.setting(c.Ref, s, plugin+" does not run")
				}
			})
		}}
}

// auditLog checks the audit policy and log backend, and hands the policy
// to the audit linter when one is plugged in.
func auditLog(n *Node, r *reporter) {
	each(n, APIServer, func(c *CommandLine) {
		policy := c.Setting("audit-policy-file")
		path := c.Setting("audit-log-path")
		_, webhook := c.Lookup("audit-webhook-config-file")
		switch {
		case policy.Value == "":
			r.setting(c.Ref, policy, "no audit policy: the API server records no audit events")
			return
		case path.Value == "" && !webhook:
			r.setting(c.Ref, path, "no audit backend: neither --audit-log-path nor --audit-webhook-config-file is set")
		}
		if n.Remote {
			return // the policy is a file on the node (Unjudged says so)
		}
		p := n.Host.Path(policy.Value)
		if _, err := os.Stat(p); err != nil {
			r.errorf(policy.Loc, "--audit-policy-file %s: %v: the API server would refuse to start", policy.Value, err)
			return
		}
		if r.opts.AuditPolicy != nil {
			fs, err := r.opts.AuditPolicy(p, policy.Value)
			if err != nil {
				r.errorf(policy.Loc, "--audit-policy-file %s: %v", policy.Value, err)
			}
			*r.out = append(*r.out, fs...)
		}
	})
}
