package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	psaload "k8s.io/pod-security-admission/admission/api/load"

	"github.com/kubeguard/kubeguard/internal/admission"
	"github.com/kubeguard/kubeguard/internal/checks"
	kubecluster "github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/run"
	"github.com/kubeguard/kubeguard/internal/webhook"
)

// WebhookServeOptions are the flags of kubeguard webhook serve.
type WebhookServeOptions struct {
	Addr              string
	CertFile, KeyFile string
	Kubeconfig        string
	Config            string
	PodSecurityConfig string
	ChecksMode        string
	DenySeverity      string
	DenyWorkloads     bool
	ReloadInterval    time.Duration
	ShutdownDelay     time.Duration
	ShutdownTimeout   time.Duration
	MaxBodyBytes      int64
	MaxInflightBytes  int64
	MaxReviews        int
	QueueWait         time.Duration
	ClientCAFile      string
	ClientNames       []string
	LogLevel          string
}

func webhookServeFlags(o *WebhookServeOptions) *flagSet {
	fs := newFlags("webhook serve", webhookServeHelp)
	fs.StringVar(&o.Addr, "addr", ":8443", "`address` to serve HTTPS on")
	fs.StringVar(&o.CertFile, "cert", "", "serving certificate `file` (PEM); reloaded when it changes")
	fs.StringVar(&o.KeyFile, "key", "", "private key `file` (PEM) of the certificate; reloaded when it changes")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig `file` (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster ServiceAccount)")
	fs.StringVar(&o.Config, "config", "", "kubeguard configuration `file` (exemptions, parameters); reloaded when it changes")
	fs.StringVar(&o.PodSecurityConfig, "pod-security-config", "", "PodSecurityConfiguration `file`: defaults and exemptions, as in the API server's AdmissionConfiguration (default: privileged, no exemptions)")
	fs.StringVar(&o.ChecksMode, "checks", "off", "`mode` of the kubeguard checks in namespaces without a "+admission.ModeLabel+" label: off, warn or deny")
	fs.StringVar(&o.DenySeverity, "deny-severity", "high", "lowest `severity` that denies in deny mode (lower findings warn): "+severityNames)
	fs.BoolVar(&o.DenyWorkloads, "deny-workloads", false, "deny Deployments, Jobs, ... whose pod template the namespace's enforce level would reject")
	fs.DurationVar(&o.ReloadInterval, "reload-interval", 2*time.Second, "how often to look for changed certificate and configuration files")
	fs.DurationVar(&o.ShutdownDelay, "shutdown-delay", 5*time.Second, "on SIGTERM, keep serving (not ready) this long so that endpoints drop the pod first")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", webhook.DefaultShutdownTimeout, "how long to wait for in-flight reviews after that")
	fs.Int64Var(&o.MaxBodyBytes, "max-body-bytes", webhook.DefaultMaxBodyBytes, "largest review accepted, in `bytes`")
	fs.Int64Var(&o.MaxInflightBytes, "max-inflight-bytes", webhook.DefaultMaxInflightBytes, "memory budget: body `bytes` of the reviews in flight; a review past it waits --queue-wait, then gets 429 (the API server applies failurePolicy). Keep it under an eighth of the container's memory limit")
	fs.IntVar(&o.MaxReviews, "max-reviews", 0, "reviews run at `once` (default: twice the cores, at least 4); others wait --queue-wait, then get 429")
	fs.DurationVar(&o.QueueWait, "queue-wait", webhook.DefaultQueueWait, "how long a review waits for the memory budget or a free worker")
	fs.StringVar(&o.ClientCAFile, "client-ca", "", "CA bundle `file` (PEM): reviews then need a client certificate it signed, the API server's (see deploy/README.md); probes and metrics need none")
	fs.Func("client-name", "with --client-ca, a common or DNS `name` the client certificate must have; repeat or separate with commas", func(v string) error {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				o.ClientNames = append(o.ClientNames, n)
			}
		}
		return nil
	})
	fs.StringVar(&o.LogLevel, "log-level", "info", "JSON log `level`: debug (every review), info (denials, reloads), warn or error")
	return fs
}

const webhookServeHelp = `Usage: kubeguard webhook serve --cert FILE --key FILE [flags]

Serves a validating admission webhook over TLS (1.2 or later, AEAD cipher
suites only). With --client-ca, reviews need the API server's client
certificate (deploy/README.md shows how the API server is given one).

Pod Security Admission is the API server's own code (the upstream
k8s.io/pod-security-admission library): namespace labels
pod-security.kubernetes.io/<enforce|audit|warn>[-version], the defaults and
exemptions of --pod-security-config, and answers (allowed, message,
warnings, audit annotations) as the built-in PodSecurity plugin gives them.
Run it with the built-in plugin disabled (--disable-admission-plugins=PodSecurity)
or in front of clusters that cannot configure it. A --pod-security-config
file is the PodSecurity plugin's own configuration:
  apiVersion: pod-security.admission.config.k8s.io/v1
  kind: PodSecurityConfiguration
  defaults: {enforce: baseline, enforce-version: latest, warn: restricted, warn-version: latest}
  exemptions: {usernames: [], runtimeClasses: [kata], namespaces: [kube-system]}

On top of Pod Security:
  - exemptions in the --config file (.kubeguard.yaml) waive pss-* and other
    checks per namespace, kind, name, ServiceAccount, image or container,
    each with a reason and an optional expiry date, for example
      exemptions:
      - checks: [pss-privileged]
        namespace: mesh
        container: proxy
        image: "registry.example.com/mesh/*"
        reason: mesh sidecar needs NET_ADMIN, owner team-net
        expires: 2027-06-30
    The file is reloaded when it changes; a file that no longer parses is
    logged and the previous one stays. Ignore annotations on objects are not
    honoured here: whoever writes an object cannot waive its findings.
  - the kubeguard checks (kubeguard checks) per namespace: label a namespace
    ` + admission.ModeLabel + `=warn (findings become warnings) or =deny (findings at
    or above --deny-severity deny); --checks sets the default.
  - --deny-workloads denies workload objects whose pods enforce would reject,
    instead of a Deployment whose ReplicaSet silently creates no pods.

Under load: at most --max-reviews reviews run at once, and the bodies of
those in flight stay within --max-inflight-bytes; a review that finds
neither free within --queue-wait is answered 429 Too Many Requests, which
the API server handles by the webhook's failurePolicy. A review past its
timeout is answered 504 and its checks stop.

Endpoints: POST ` + webhook.ReviewPath + ` (AdmissionReview v1; honours ?timeout=),
/healthz, /readyz (ready once the namespace cache has synced), /metrics
(Prometheus text format). Logs are JSON lines on standard error. The
server collects garbage at GOGC=400 unless GOGC is set: its heap is
small, and fewer collections keep them out of the latency of reviews.

The certificate and key are reloaded when their files change (cert-manager
or a mounted Secret rotating them); connections already open keep theirs,
so no request fails. For development, 'kubeguard webhook certs' writes a CA
and a serving certificate. deploy/ holds Kustomize manifests.

Examples:
  kubeguard webhook certs --dir certs --name kubeguard-webhook.kubeguard-system.svc
  kubeguard webhook serve --cert certs/tls.crt --key certs/tls.key --kubeconfig ~/.kube/config
  kubeguard webhook serve --cert /tls/tls.crt --key /tls/tls.key --config /etc/kubeguard/kubeguard.yaml --checks warn --deny-workloads
  kubeguard webhook serve --cert /tls/tls.crt --key /tls/tls.key --client-ca /client-ca/ca.crt --client-name kube-apiserver

`

func runWebhook(ctx context.Context, args []string, io IO) int {
	return runGroup(ctx, "webhook", webhookUsage, []subcommand{
		{"serve", runWebhookServe},
		{"certs", func(_ context.Context, args []string, io IO) int { return runWebhookCerts(args, io) }},
	}, args, io)
}

const webhookUsage = `Usage: kubeguard webhook <command> [flags]

Runs kubeguard as a validating admission webhook: Pod Security Admission
as the API server does it, plus exemptions that reload, the kubeguard
checks per namespace, and denial of workloads whose pods would be rejected.

Commands:
  serve   serve admission reviews over TLS
  certs   write a development CA and serving certificate

Examples:
  kubeguard webhook certs --dir certs --name kubeguard-webhook.kubeguard-system.svc
  kubeguard webhook serve --cert certs/tls.crt --key certs/tls.key --checks warn
  kubectl apply -k deploy/

Run 'kubeguard webhook <command> --help' for its flags and examples.
`

// webhookGCPercent is the garbage collector's target while serving (see
// runWebhookServe).
const webhookGCPercent = 400

func runWebhookServe(ctx context.Context, args []string, io IO) int {
	var o WebhookServeOptions
	fs := webhookServeFlags(&o)
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return fs.usageError(io, fmt.Errorf("unexpected arguments %q", pos))
	}
	if o.CertFile == "" || o.KeyFile == "" {
		return fs.usageError(io, errors.New("--cert and --key are required: the webhook serves TLS only (see kubeguard webhook certs)"))
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	// A review's garbage is all the server makes: the live heap (the
	// namespace cache, the scheme) stays small, so at the default target
	// the collector runs several times a second under load and each
	// marking takes a share of the cores from the reviews in flight, which
	// shows in the tail latency. Collecting at five times the live heap
	// costs a few tens of megabytes (BENCHMARKS.md).
	defer run.CollectAt(webhookGCPercent)()
	if err := ServeWebhook(ctx, o, nil, io.Stderr); err != nil {
		var ue usageErr
		if errors.As(err, &ue) {
			return fs.usageError(io, err)
		}
		fmt.Fprintf(io.Stderr, "kubeguard webhook serve: %v\n", err)
		return ExitError
	}
	return ExitOK
}

// usageErr marks a bad flag value found while starting.
type usageErr struct{ error }

// ServeWebhook runs the webhook until ctx is done. cluster, when not nil,
// replaces the API server connection (tests); otherwise --kubeconfig or
// the in-cluster configuration is used. Logs go to logw as JSON.
func ServeWebhook(ctx context.Context, o WebhookServeOptions, cluster webhook.Cluster, logw io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return usageErr{fmt.Errorf("invalid --log-level %q", o.LogLevel)}
	}
	mode, err := admission.ParseMode(o.ChecksMode)
	if err != nil {
		return usageErr{fmt.Errorf("--checks: %w", err)}
	}
	denySev, err := severityFlag("deny-severity", o.DenySeverity)
	if err != nil {
		return usageErr{err}
	}
	if o.ReloadInterval <= 0 {
		return usageErr{errors.New("--reload-interval must be positive")}
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = webhook.DefaultMaxBodyBytes
	}
	if o.MaxInflightBytes == 0 {
		o.MaxInflightBytes = webhook.DefaultMaxInflightBytes
	}
	if o.MaxBodyBytes < 0 || o.MaxInflightBytes < o.MaxBodyBytes {
		return usageErr{fmt.Errorf("--max-inflight-bytes (%d) must be at least --max-body-bytes (%d), which must be positive", o.MaxInflightBytes, o.MaxBodyBytes)}
	}
	if o.MaxReviews < 0 || o.QueueWait < 0 {
		return usageErr{errors.New("--max-reviews and --queue-wait must not be negative")}
	}
	var clientCAs *x509.CertPool
	switch {
	case o.ClientCAFile != "":
		pem, err := os.ReadFile(o.ClientCAFile)
		if err != nil {
			return fmt.Errorf("--client-ca: %w", err)
		}
		clientCAs = x509.NewCertPool()
		if !clientCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--client-ca %s: no PEM certificate", o.ClientCAFile)
		}
	case len(o.ClientNames) > 0:
		return usageErr{errors.New("--client-name needs --client-ca")}
	}
	log := slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: level}))
	metrics := webhook.NewMetrics()

	certs, err := webhook.NewCertReloader(o.CertFile, o.KeyFile, log, metrics)
	if err != nil {
		return err
	}
	all, err := checks.All()
	if err != nil {
		return err
	}
	var source admission.ConfigSource
	var cfgReloader *webhook.ConfigReloader
	if o.Config != "" {
		if cfgReloader, err = webhook.NewConfigReloader(o.Config, checks.Known, log, metrics); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		source = cfgReloader
	}
	rc := admission.Config{Checks: all, ChecksMode: mode, DenySeverity: denySev, DenyWorkloads: o.DenyWorkloads,
		Exemptions: source, Recorder: metrics, Logger: log}
	if o.PodSecurityConfig != "" {
		if rc.PodSecurity, err = psaload.LoadFromFile(o.PodSecurityConfig); err != nil {
			return fmt.Errorf("--pod-security-config: %w", err)
		}
	}
	if cluster == nil {
		restCfg, _, err := kubecluster.Connection{Kubeconfig: o.Kubeconfig, UserAgent: "kubeguard-webhook/" + version()}.RESTConfig()
		if err != nil {
			return err
		}
		client, err := kubernetes.NewForConfig(restCfg)
		if err != nil {
			return fmt.Errorf("kubernetes client: %w", err)
		}
		ic, err := webhook.NewInformerCluster(client)
		if err != nil {
			return err
		}
		if err := ic.LogListErrors(ctx, log, 10*time.Second); err != nil {
			return err
		}
		ic.Start(ctx)
		cluster = ic
	}
	rc.Namespaces, rc.Pods = cluster, cluster
	reviewer, err := admission.New(rc)
	if err != nil {
		return err
	}
	srv, err := webhook.New(webhook.Options{Reviewer: reviewer, Certificates: certs, Ready: cluster.HasSynced, Metrics: metrics, Logger: log,
		MaxBodyBytes: o.MaxBodyBytes, MaxInflightBytes: o.MaxInflightBytes, MaxReviews: o.MaxReviews, QueueWait: o.QueueWait,
		ClientCAs: clientCAs, ClientNames: o.ClientNames,
		ShutdownDelay: o.ShutdownDelay, ShutdownTimeout: o.ShutdownTimeout})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go certs.Run(rctx, o.ReloadInterval)
	if cfgReloader != nil {
		go cfgReloader.Run(rctx, o.ReloadInterval)
	}
	log.Info("serving admission reviews", "addr", ln.Addr().String(), "path", webhook.ReviewPath, "checks", string(mode), "denyWorkloads", o.DenyWorkloads,
		"maxInflightBytes", o.MaxInflightBytes, "clientCertificates", clientCAs != nil, "version", version())
	return srv.Serve(ctx, ln)
}

// WebhookCertsOptions are the flags of kubeguard webhook certs.
type WebhookCertsOptions struct {
	Dir      string
	Names    []string
	Validity time.Duration
}

func runWebhookCerts(args []string, io IO) int {
	var o WebhookCertsOptions
	fs := newFlags("webhook certs", webhookCertsHelp)
	fs.StringVar(&o.Dir, "dir", "", "`directory` to write ca.crt, ca.key, tls.crt and tls.key to (created if missing)")
	fs.Func("name", "DNS `name` or IP address for the serving certificate; repeat or separate with commas", func(v string) error {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				o.Names = append(o.Names, n)
			}
		}
		return nil
	})
	fs.DurationVar(&o.Validity, "validity", 365*24*time.Hour, "how long the certificates are valid")
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	switch {
	case len(pos) > 0:
		return fs.usageError(io, fmt.Errorf("unexpected arguments %q", pos))
	case o.Dir == "":
		return fs.usageError(io, errors.New("--dir is required"))
	case len(o.Names) == 0:
		return fs.usageError(io, errors.New("at least one --name is required"))
	case o.Validity <= 0:
		return fs.usageError(io, errors.New("--validity must be positive"))
	}
	_, serving, err := webhook.WriteDevCerts(o.Dir, o.Names, o.Validity)
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard webhook certs: %v\n", err)
		return ExitError
	}
	fmt.Fprintf(io.Stdout, "wrote %s, %s, %s and %s for %s (valid until %s)\n",
		filepath.Join(o.Dir, webhook.CACertFile), filepath.Join(o.Dir, webhook.CAKeyFile),
		filepath.Join(o.Dir, webhook.CertFile), filepath.Join(o.Dir, webhook.KeyFile),
		strings.Join(o.Names, ", "), serving.Cert.NotAfter.UTC().Format(time.DateOnly))
	return ExitOK
}

const webhookCertsHelp = `Usage: kubeguard webhook certs --dir DIR --name NAME [--name NAME...]

Writes a development CA and a serving certificate signed by it (ECDSA P-256):
  ca.crt   the CA: base64 of it is the caBundle of the webhook configuration
  ca.key   the CA's key (keep it, or throw it away once the pair is issued)
  tls.crt  the serving certificate for the names given
  tls.key  its key
Keys are written readable by the owner only. For production use cert-manager
or your PKI; 'webhook serve' reloads whatever writes these files.

In a cluster the API server calls the Service by its DNS name:
  <service>.<namespace>.svc (deploy/ uses kubeguard-webhook.kubeguard-system.svc)

Examples:
  kubeguard webhook certs --dir certs --name kubeguard-webhook.kubeguard-system.svc
  kubeguard webhook certs --dir /tmp/kg --name 127.0.0.1,localhost
  kubectl -n kubeguard-system create secret tls kubeguard-webhook-tls --cert certs/tls.crt --key certs/tls.key

`
