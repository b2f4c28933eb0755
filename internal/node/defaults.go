package node

// The upstream defaults of the settings judged here, for Kubernetes v1.36
// (and etcd v3.6). Each is what the component does when neither a flag nor
// a configuration file sets it. test/e2e/node holds every row to the
// upstream code (docs/node.md lists what with): the flag defaults the
// options of kube-apiserver, kube-controller-manager, kube-scheduler and
// the kubelet register, the kubelet's v1beta1 SetDefaults and
// configuration codec, kube-apiserver's default-off admission plugins, and
// etcd's registered flags; etcd's --config-file alone is registered where
// no test can read it. An older component is judged by the same table,
// which is wrong where a default changed since (the audit log retention
// defaults did).

// Defaults maps component to setting to default value. For the kubelet,
// the key is the flag name (its default when no configuration file is
// used, the legacy defaults kept for the command line); KubeletConfigDefaults
// holds the defaults a configuration file starts from.
var Defaults = map[string]map[string]string{
	APIServer: {
		"anonymous-auth":                          "true",
		"authorization-mode":                      "AlwaysAllow",
		"authorization-config":                    "",
		"enable-admission-plugins":                "",
		"disable-admission-plugins":               "",
		"admission-control-config-file":           "",
		"profiling":                               "true",
		"token-auth-file":                         "",
		"kubelet-client-certificate":              "",
		"kubelet-client-key":                      "",
		"kubelet-certificate-authority":           "",
		"audit-log-path":                          "",
		"audit-log-maxage":                        "366",
		"audit-log-maxbackup":                     "100",
		"audit-log-maxsize":                       "100",
		"audit-policy-file":                       "",
		"request-timeout":                         "1m0s",
		"service-account-lookup":                  "true",
		"service-account-key-file":                "",
		"service-account-issuer":                  "",
		"service-account-signing-key-file":        "",
		"service-account-extend-token-expiration": "true",
		"etcd-certfile":                           "",
		"etcd-keyfile":                            "",
		"etcd-cafile":                             "",
		"tls-cert-file":                           "",
		"tls-private-key-file":                    "",
		"client-ca-file":                          "",
		"tls-min-version":                         "",
		"tls-cipher-suites":                       "",
		"secure-port":                             "6443",
		"bind-address":                            "0.0.0.0",
		"encryption-provider-config":              "",
		"feature-gates":                           "",
	},
	ControllerManager: {
		"profiling":                        "true",
		"use-service-account-credentials":  "false",
		"service-account-private-key-file": "",
		"root-ca-file":                     "",
		"bind-address":                     "0.0.0.0",
		"terminated-pod-gc-threshold":      "12500",
		"feature-gates":                    "",
		"tls-min-version":                  "",
		"tls-cipher-suites":                "",
	},
	Scheduler: {
		"profiling":         "true",
		"bind-address":      "0.0.0.0",
		"tls-min-version":   "",
		"tls-cipher-suites": "",
	},
	Etcd: {
		"cert-file":             "",
		"key-file":              "",
		"trusted-ca-file":       "",
		"client-cert-auth":      "false",
		"auto-tls":              "false",
		"peer-cert-file":        "",
		"peer-key-file":         "",
		"peer-trusted-ca-file":  "",
		"peer-client-cert-auth": "false",
		"peer-auto-tls":         "false",
		"listen-client-urls":    "http://localhost:2379",
		"listen-peer-urls":      "http://localhost:2380",
		"cipher-suites":         "",
		"tls-min-version":       "TLS1.2",
		"data-dir":              "",
		"config-file":           "",
	},
	Kubelet: {
		"anonymous-auth":                    "true",
		"authentication-token-webhook":      "false",
		"authorization-mode":                "AlwaysAllow",
		"client-ca-file":                    "",
		"read-only-port":                    "10255",
		"streaming-connection-idle-timeout": "4h0m0s",
		"protect-kernel-defaults":           "false",
		"make-iptables-util-chains":         "true",
		"rotate-certificates":               "false",
		"rotate-server-certificates":        "false",
		"tls-cipher-suites":                 "",
		"tls-min-version":                   "",
		"tls-cert-file":                     "",
		"tls-private-key-file":              "",
		"event-qps":                         "50",
		"pod-max-pids":                      "-1",
		"seccomp-default":                   "false",
		"config":                            "",
		"kubeconfig":                        "",
		"feature-gates":                     "",
	},
}

// KubeletConfigDefaults are the defaults of a KubeletConfiguration
// (kubelet.config.k8s.io/v1beta1) file, by field path. Where they differ
// from the flag defaults (anonymous auth, webhook authentication and
// authorization, the read-only port), a kubelet started with --config is
// safer than one started with flags alone.
var KubeletConfigDefaults = map[string]string{
	"authentication.anonymous.enabled": "false",
	"authentication.webhook.enabled":   "true",
	"authorization.mode":               "Webhook",
	"authentication.x509.clientCAFile": "",
	"readOnlyPort":                     "0",
	"streamingConnectionIdleTimeout":   "4h0m0s",
	"protectKernelDefaults":            "false",
	"makeIPTablesUtilChains":           "true",
	"rotateCertificates":               "false",
	"serverTLSBootstrap":               "false",
	"tlsCipherSuites":                  "",
	"tlsMinVersion":                    "",
	"tlsCertFile":                      "",
	"tlsPrivateKeyFile":                "",
	"eventRecordQPS":                   "50",
	"podPidsLimit":                     "-1",
	"seccompDefault":                   "false",
}

// kubeletFields pairs each kubelet flag judged here with the
// KubeletConfiguration field it sets ("" when there is none).
var kubeletFields = map[string]string{
	"anonymous-auth":                    "authentication.anonymous.enabled",
	"authentication-token-webhook":      "authentication.webhook.enabled",
	"authorization-mode":                "authorization.mode",
	"client-ca-file":                    "authentication.x509.clientCAFile",
	"read-only-port":                    "readOnlyPort",
	"streaming-connection-idle-timeout": "streamingConnectionIdleTimeout",
	"protect-kernel-defaults":           "protectKernelDefaults",
	"make-iptables-util-chains":         "makeIPTablesUtilChains",
	"rotate-certificates":               "rotateCertificates",
	"rotate-server-certificates":        "serverTLSBootstrap",
	"tls-cipher-suites":                 "tlsCipherSuites",
	"tls-min-version":                   "tlsMinVersion",
	"tls-cert-file":                     "tlsCertFile",
	"tls-private-key-file":              "tlsPrivateKeyFile",
	"event-qps":                         "eventRecordQPS",
	"pod-max-pids":                      "podPidsLimit",
	"seccomp-default":                   "seccompDefault",
}

// kubeletORedFlags are the kubelet flags that do not override their
// KubeletConfiguration field: the kubelet keeps them apart from its
// configuration and runs with flag OR field (cmd/kubelet/app/server.go,
// v1.36: KubeletFlags.SeccompDefault || KubeletConfiguration.SeccompDefault),
// so --seccomp-default=false leaves a file's seccompDefault: true on.
var kubeletORedFlags = map[string]bool{
	"seccomp-default": true,
}

// DefaultOnAdmissionPlugins says, for the admission plugins judged here,
// whether kube-apiserver enables it when --enable-admission-plugins does
// not name it (v1.36).
var DefaultOnAdmissionPlugins = map[string]bool{
	"NodeRestriction":        false,
	"AlwaysAdmit":            false,
	"AlwaysPullImages":       false,
	"EventRateLimit":         false,
	"DenyServiceExternalIPs": false,
	"ServiceAccount":         true,
	"NamespaceLifecycle":     true,
	"PodSecurity":            true,
}

// KubeletFields returns the kubelet flags judged here and the
// KubeletConfiguration field each sets.
func KubeletFields() map[string]string {
	out := make(map[string]string, len(kubeletFields))
	for k, v := range kubeletFields {
		out[k] = v
	}
	return out
}

// KubeletORedFlags returns the kubelet flags that the kubelet ORs with
// their KubeletConfiguration field instead of letting them override it.
func KubeletORedFlags() []string {
	out := make([]string, 0, len(kubeletORedFlags))
	for k := range kubeletORedFlags {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
