package node

import (
	"github.com/kubeguard/kubeguard/internal/finding"
)

// kubeletCheck builds a check of one kubelet setting, named by its flag.
func kubeletCheck(id, title string, sev finding.Severity, cis []string, rationale, remediation, flag string, bad func(v string) string) Check {
	return Check{Check: meta(id, title, sev, rationale, remediation, docKubelet), CIS: cis, run: func(n *Node, r *reporter) {
		k := n.Kubelet
		if k == nil {
			return
		}
		s := k.Setting(flag)
		if unjudgedThroughAPI(n, flag, s) {
			return // Unjudged says so
		}
		if why := bad(s.Value); why != "" {
			r.setting(k.Ref(), s, why)
		}
	}}
}

func kubeletChecks() []Check {
	return []Check{
		kubeletCheck("kubelet-anonymous-auth", "Kubelet accepts anonymous requests", finding.High, []string{"4.2.1"},
			"The kubelet API runs commands in containers and reads their logs; anonymous requests reach whatever the kubelet's authorizer grants system:anonymous.",
			"Set authentication.anonymous.enabled: false in the KubeletConfiguration (or --anonymous-auth=false).",
			"anonymous-auth", func(v string) string {
				if isTrue(v) {
					return "anonymous requests to the kubelet API are authenticated as system:anonymous"
				}
				return ""
			}),
		kubeletCheck("kubelet-authorization-mode", "Kubelet authorizes every request", finding.Critical, []string{"4.2.2"},
			"With AlwaysAllow anyone who reaches port 10250 can exec into every container on the node.",
			"Set authorization.mode: Webhook in the KubeletConfiguration (or --authorization-mode=Webhook).",
			"authorization-mode", func(v string) string {
				if v == "AlwaysAllow" {
					return "the kubelet API authorizes every request"
				}
				return ""
			}),
		kubeletCheck("kubelet-webhook-authentication", "Kubelet does not check bearer tokens with the API server", finding.Medium, nil,
			"Without webhook authentication, tokens sent to the kubelet are not verified, so only client certificates (or anonymous access) authenticate.",
			"Set authentication.webhook.enabled: true in the KubeletConfiguration (or --authentication-token-webhook).",
			"authentication-token-webhook", func(v string) string {
				if !isTrue(v) {
					return "bearer tokens are not verified by TokenReview"
				}
				return ""
			}),
		kubeletCheck("kubelet-client-ca", "Kubelet accepts no client certificates", finding.Medium, []string{"4.2.3"},
			"Without a client CA the API server's client certificate is not verified, so the kubelet cannot tell it from anyone else.",
			"Set authentication.x509.clientCAFile in the KubeletConfiguration (or --client-ca-file).",
			"client-ca-file", func(v string) string {
				if v == "" {
					return "no client CA file"
				}
				return ""
			}),
		kubeletCheck("kubelet-read-only-port", "Kubelet serves its read-only port", finding.Medium, []string{"4.2.4"},
			"The read-only port (10255) serves pod specs and metrics with no authentication or authorization.",
			"Set readOnlyPort: 0 in the KubeletConfiguration (or --read-only-port=0).",
			"read-only-port", func(v string) string {
				if n, ok := atoi(v); ok && n != 0 {
					return "read-only port " + v + " serves without authentication"
				}
				return ""
			}),
		kubeletCheck("kubelet-streaming-idle-timeout", "Kubelet never closes idle streaming connections", finding.Low, []string{"4.2.5"},
			"Idle exec and port-forward streams stay open forever, which helps an attacker hold a session and exhausts the node.",
			"Set streamingConnectionIdleTimeout (for example 5m) in the KubeletConfiguration.",
			"streaming-connection-idle-timeout", func(v string) string {
				if isZeroDuration(v) {
					return "streaming connections never time out"
				}
				return ""
			}),
		kubeletCheck("kubelet-iptables-util-chains", "Kubelet does not manage its iptables chains", finding.Low, []string{"4.2.6"},
			"The kubelet's chains keep node networking consistent with pod networking rules; without them it may drift.",
			"Set makeIPTablesUtilChains: true in the KubeletConfiguration.",
			"make-iptables-util-chains", func(v string) string {
				if !isTrue(v) {
					return "the kubelet's iptables chains are not managed"
				}
				return ""
			}),
		kubeletCheck("kubelet-rotate-certificates", "Kubelet client certificate is not rotated", finding.Medium, []string{"4.2.10"},
			"Without rotation the kubelet's client certificate expires (the node goes NotReady) or is issued for long, and a stolen one stays valid.",
			"Set rotateCertificates: true in the KubeletConfiguration (kubeadm does).",
			"rotate-certificates", func(v string) string {
				if !isTrue(v) {
					return "client certificate rotation is off"
				}
				return ""
			}),
		{Check: meta("kubelet-serving-certificate", "Kubelet serves a self-signed certificate", finding.Low,
			"Without serverTLSBootstrap (or a certificate file) the kubelet serves a self-signed certificate, so the API server cannot verify it.",
			"Set serverTLSBootstrap: true in the KubeletConfiguration and approve the serving CSRs, or give tlsCertFile and tlsPrivateKeyFile.", docKubelet),
			CIS: []string{"4.2.9", "4.2.11"}, run: func(n *Node, r *reporter) {
				k := n.Kubelet
				if k == nil {
					return
				}
				cert, boot := k.Setting("tls-cert-file"), k.Setting("rotate-server-certificates")
				if cert.Value == "" && !isTrue(boot.Value) {
					r.setting(k.Ref(), boot, "neither tlsCertFile nor serverTLSBootstrap is set")
				}
			}},
		{Check: meta("kubelet-tls-ciphers", "Kubelet allows weak TLS", finding.Medium,
			"Insecure cipher suites and TLS below 1.2 let a network attacker read or tamper with kubelet API traffic (exec, logs).",
			"Set tlsMinVersion: VersionTLS12 and remove insecure suites from tlsCipherSuites.", docKubelet),
			CIS: []string{"4.2.12"}, run: func(n *Node, r *reporter) {
				if k := n.Kubelet; k != nil {
					tlsProblems(r, k.Ref(), k.Setting("tls-cipher-suites"), k.Setting("tls-min-version"))
				}
			}},
		kubeletCheck("kubelet-pod-pids-limit", "No limit on the processes of a pod", finding.Low, []string{"4.2.13"},
			"A fork bomb in one pod exhausts the node's process IDs and takes every pod on it down.",
			"Set podPidsLimit in the KubeletConfiguration (for example 4096).",
			"pod-max-pids", func(v string) string {
				if n, ok := atoi(v); ok && n <= 0 {
					return "pods may create processes without limit"
				}
				return ""
			}),
		kubeletCheck("kubelet-seccomp-default", "Kubelet does not default pods to RuntimeDefault seccomp", finding.Low, []string{"4.2.14"},
			"Pods that set no seccomp profile run unconfined, with every system call of the kernel open to them.",
			"Set seccompDefault: true in the KubeletConfiguration.",
			"seccomp-default", func(v string) string {
				if !isTrue(v) {
					return "pods without a seccomp profile run unconfined"
				}
				return ""
			}),
		kubeletCheck("kubelet-protect-kernel-defaults", "Kubelet does not protect kernel defaults", finding.Low, nil,
			"With protection the kubelet refuses to run when the kernel's tunables differ from what it expects, instead of changing them for pods.",
			"Set protectKernelDefaults: true in the KubeletConfiguration after setting the sysctls the kubelet expects.",
			"protect-kernel-defaults", func(v string) string {
				if !isTrue(v) {
					return "kernel defaults are not protected"
				}
				return ""
			}),
	}
}

// unjudgedThroughAPI reports whether a kubelet setting read through the
// API cannot be judged: the kubelet ORs --seccomp-default with
// seccompDefault outside its KubeletConfiguration (KubeletFlags.SeccompDefault
// || KubeletConfiguration.SeccompDefault in k8s.io/kubernetes v1.36
// cmd/kubelet/app/server.go), and /configz serves only the
// KubeletConfiguration, so a false field there may run as true.
func unjudgedThroughAPI(n *Node, flag string, s Setting) bool {
	return n.Remote && n.Kubelet.Flags == nil && kubeletORedFlags[flag] && !isTrue(s.Value)
}
