// Package cluster reads a live cluster for kubeguard: it connects with
// client-go, lists every resource kind the checks and the RBAC analysis
// read, page by page, and hands each object on as an object.Object so that
// the same engine judges live objects and manifests. It collects and does
// nothing else: it only reads, and what is made of the objects is the run
// layer's (package run).
package cluster

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Connection says how to reach the API server.
type Connection struct {
	// Kubeconfig is the kubeconfig file; empty means KUBECONFIG, then
	// ~/.kube/config, then the in-cluster configuration of a pod.
	Kubeconfig string
	// Context is the kubeconfig context; empty means the current one.
	Context string
	// QPS and Burst bound the request rate; zero keeps the defaults here
	// (50 and 100), which suit a paginated read of a large cluster without
	// hammering the API server.
	QPS   float32
	Burst int
	// UserAgent names kubeguard in the API server's audit log.
	UserAgent string
	// WrapTransport, when set, wraps the HTTP transport: tests audit every
	// request with it.
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Default rates: client-go's own (5 QPS) would make a list of a large
// cluster crawl.
const (
	DefaultQPS   = 50
	DefaultBurst = 100
)

// RESTConfig resolves the connection into a client configuration, and the
// namespace the kubeconfig context names (empty when it names none).
func (c Connection) RESTConfig() (*rest.Config, string, error) {
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(c.rules(), &clientcmd.ConfigOverrides{CurrentContext: c.Context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		ns = ""
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = DefaultQPS, DefaultBurst
	if c.QPS > 0 {
		cfg.QPS = c.QPS
	}
	if c.Burst > 0 {
		cfg.Burst = c.Burst
	}
	if c.UserAgent != "" {
		cfg.UserAgent = c.UserAgent
	}
	if c.WrapTransport != nil {
		cfg.Wrap(c.WrapTransport)
	}
	return cfg, ns, nil
}

// rules are where the connection's kubeconfig is looked for: --kubeconfig,
// else $KUBECONFIG, else ~/.kube/config.
func (c Connection) rules() *clientcmd.ClientConfigLoadingRules {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.Kubeconfig
	return rules
}

// Resolve is RESTConfig for a command to report: its errors name the
// kubeconfig files tried and the context, and target names the server
// reached and where its settings came from, as
// `https://10.0.0.1:6443 (kubeconfig /home/u/.kube/config, context "prod")`.
func (c Connection) Resolve() (cfg *rest.Config, target string, err error) {
	rules := c.rules()
	files, named, origin := rules.Precedence, os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "", "$"+clientcmd.RecommendedConfigPathEnvVar
	if c.Kubeconfig != "" {
		files, named, origin = []string{c.Kubeconfig}, true, "--kubeconfig"
	}
	var found []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			found = append(found, f)
		}
	}
	if len(found) == 0 && named {
		// client-go skips the missing files of $KUBECONFIG, and then
		// falls back to the in-cluster configuration or gives up with
		// advice about KUBERNETES_MASTER.
		return nil, "", fmt.Errorf("no kubeconfig at %s (%s)", strings.Join(files, ", "), origin)
	}
	cfg, _, err = c.RESTConfig()
	if len(found) == 0 {
		if err != nil {
			return nil, "", fmt.Errorf("no cluster to connect to: no kubeconfig at %s (give --kubeconfig FILE or set KUBECONFIG), and not running in a pod", strings.Join(files, ", "))
		}
		return cfg, cfg.Host + " (in-cluster configuration)", nil
	}
	context := c.Context
	if context == "" {
		if raw, lerr := rules.Load(); lerr == nil {
			context = raw.CurrentContext
		}
	}
	source := "kubeconfig " + strings.Join(found, ", ")
	if context != "" {
		source += fmt.Sprintf(", context %q", context)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", source, errors.Unwrap(err))
	}
	return cfg, cfg.Host + " (" + source + ")", nil
}

// Clients are the API clients the collector uses: the dynamic client for
// whole objects and the metadata client for Secrets.
type Clients struct {
	Dynamic  dynamic.Interface
	Metadata metadata.Interface
	// Proxy reads kubelets' configuration through the node proxy, for
	// --nodes only.
	Proxy *NodeProxy
}

// NewClients makes the clients of a configuration.
func NewClients(cfg *rest.Config) (*Clients, error) {
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	mcfg := rest.CopyConfig(cfg)
	mcfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return metadataOnly{rt} })
	m, err := metadata.NewForConfig(mcfg)
	if err != nil {
		return nil, fmt.Errorf("metadata client: %w", err)
	}
	p, err := NewNodeProxy(cfg)
	if err != nil {
		return nil, err
	}
	return &Clients{Dynamic: d, Metadata: m, Proxy: p}, nil
}

// MetadataAccept is the only representation the metadata client asks for.
// client-go's own Accept header falls back to plain application/json, with
// which a server that cannot serve PartialObjectMetadata would send whole
// Secrets; with this one alone it answers 406 instead.
const MetadataAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"

// metadataOnly pins the Accept header of every request of the metadata
// client.
type metadataOnly struct{ next http.RoundTripper }

// RoundTrip sends r with the pinned Accept header.
func (m metadataOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", MetadataAccept)
	return m.next.RoundTrip(r)
}
