// Command rbacdefaults writes the API server's built-in RBAC roles and
// bindings to internal/rbac/defaults/defaults.yaml, the data behind
// the `kubeguard rbac` commands (unless --no-defaults). It reads them from a running
// kube-apiserver, so that the data is the server's, never hand-written:
//
//	go run ./tools/rbacdefaults --kubeconfig ~/.kube/config
//	go run ./tools/rbacdefaults --server https://127.0.0.1:6443 --token-file token --insecure-skip-tls-verify
//
// Run it against a fresh API server of the version the data should
// describe (the end-to-end suite's kube-apiserver), with an identity that
// may list RBAC objects. It lists the ClusterRoles, ClusterRoleBindings,
// Roles and RoleBindings labelled kubernetes.io/bootstrapping=rbac-defaults
// (the namespaced ones live in kube-system and kube-public), strips what the
// server sets (uid, resourceVersion, timestamps, managedFields) and the
// rules of aggregated ClusterRoles (kubeguard computes them, and they are
// empty when no controller-manager runs), and writes them sorted by kind,
// namespace and name.
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	rbacv1 "k8s.io/api/rbac/v1"
)

const selector = "kubernetes.io/bootstrapping=rbac-defaults"

// Options are the command's flags.
type Options struct {
	Kubeconfig string
	Context    string
	Server     string
	Token      string
	TokenFile  string
	CAFile     string
	CertFile   string
	KeyFile    string
	Insecure   bool
	Output     string
	Timeout    time.Duration
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o Options
	fs := flag.NewFlagSet("rbacdefaults", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig `file` (default $KUBECONFIG, then ~/.kube/config) when --server is not given")
	fs.StringVar(&o.Context, "context", "", "kubeconfig `context` (default: the current one)")
	fs.StringVar(&o.Server, "server", "", "API server `URL`, instead of a kubeconfig")
	fs.StringVar(&o.Token, "token", "", "bearer `token` for --server")
	fs.StringVar(&o.TokenFile, "token-file", "", "`file` holding the bearer token for --server")
	fs.StringVar(&o.CAFile, "certificate-authority", "", "CA certificate `file` for --server")
	fs.StringVar(&o.CertFile, "client-certificate", "", "client certificate `file` for --server")
	fs.StringVar(&o.KeyFile, "client-key", "", "client key `file` for --server")
	fs.BoolVar(&o.Insecure, "insecure-skip-tls-verify", false, "do not verify the server's certificate (loopback test servers)")
	fs.StringVar(&o.Output, "o", "internal/rbac/defaults/defaults.yaml", "output `file`, - for standard output")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "overall `timeout`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rbacdefaults: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	c, err := newClient(&o)
	if err != nil {
		fmt.Fprintf(stderr, "rbacdefaults: %v\n", err)
		return 1
	}
	data, n, err := generate(ctx, c)
	if err != nil {
		fmt.Fprintf(stderr, "rbacdefaults: %v\n", err)
		return 1
	}
	if o.Output == "-" {
		_, err = stdout.Write(data)
	} else {
		err = os.WriteFile(o.Output, data, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "rbacdefaults: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "rbacdefaults: wrote %d objects to %s\n", n, o.Output)
	return 0
}

// client is an authenticated connection to one API server.
type client struct {
	server string
	token  string
	http   *http.Client
}

func (c *client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.server, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, bytes.TrimSpace(body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// kubeconfig is the part of a kubeconfig file this tool understands.
type kubeconfig struct {
	CurrentContext string         `yaml:"current-context"`
	Clusters       []namedCluster `yaml:"clusters"`
	Users          []namedUser    `yaml:"users"`
	Contexts       []namedContext `yaml:"contexts"`
}

type namedCluster struct {
	Name    string `yaml:"name"`
	Cluster struct {
		Server                   string `yaml:"server"`
		CertificateAuthority     string `yaml:"certificate-authority"`
		CertificateAuthorityData string `yaml:"certificate-authority-data"`
		InsecureSkipTLSVerify    bool   `yaml:"insecure-skip-tls-verify"`
	} `yaml:"cluster"`
}

type namedUser struct {
	Name string `yaml:"name"`
	User struct {
		Token                 string    `yaml:"token"`
		TokenFile             string    `yaml:"tokenFile"`
		ClientCertificate     string    `yaml:"client-certificate"`
		ClientCertificateData string    `yaml:"client-certificate-data"`
		ClientKey             string    `yaml:"client-key"`
		ClientKeyData         string    `yaml:"client-key-data"`
		Exec                  yaml.Node `yaml:"exec"`
		AuthProvider          yaml.Node `yaml:"auth-provider"`
	} `yaml:"user"`
}

type namedContext struct {
	Name    string `yaml:"name"`
	Context struct {
		Cluster string `yaml:"cluster"`
		User    string `yaml:"user"`
	} `yaml:"context"`
}

// newClient connects with --server flags or with a kubeconfig.
func newClient(o *Options) (*client, error) {
	var (
		caPEM, certPEM, keyPEM []byte
		err                    error
	)
	read := func(path string) []byte {
		if path == "" || err != nil {
			return nil
		}
		var b []byte
		b, err = os.ReadFile(path)
		return b
	}
	c := &client{server: o.Server, token: o.Token}
	insecure := o.Insecure
	if o.Server != "" {
		caPEM, certPEM, keyPEM = read(o.CAFile), read(o.CertFile), read(o.KeyFile)
		if o.TokenFile != "" {
			c.token = strings.TrimSpace(string(read(o.TokenFile)))
		}
		if err != nil {
			return nil, err
		}
	} else {
		if caPEM, certPEM, keyPEM, insecure, err = fromKubeconfig(o, c); err != nil {
			return nil, err
		}
		insecure = insecure || o.Insecure
	}
	u, err := url.Parse(c.server)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("server %q is not a URL", c.server)
	}
	tc := &tls.Config{InsecureSkipVerify: insecure} //nolint:gosec // asked for, for loopback test servers
	if len(caPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("certificate authority: no PEM certificate")
		}
		tc.RootCAs = pool
	}
	if len(certPEM) > 0 || len(keyPEM) > 0 {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	c.http = &http.Client{Transport: &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment}}
	return c, nil
}

func fromKubeconfig(o *Options, c *client) (caPEM, certPEM, keyPEM []byte, insecure bool, err error) {
	path := o.Kubeconfig
	if path == "" {
		path = os.Getenv("KUBECONFIG")
		if i := strings.IndexByte(path, os.PathListSeparator); i >= 0 {
			path = path[:i]
		}
	}
	if path == "" {
		home, herr := os.UserHomeDir()
		if herr != nil {
			return nil, nil, nil, false, errors.New("no --server and no kubeconfig")
		}
		path = filepath.Join(home, ".kube", "config")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, false, fmt.Errorf("kubeconfig: %w", err)
	}
	var kc kubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return nil, nil, nil, false, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	name := cmp.Or(o.Context, kc.CurrentContext)
	ctxIdx := slices.IndexFunc(kc.Contexts, func(x namedContext) bool { return x.Name == name })
	if ctxIdx < 0 {
		return nil, nil, nil, false, fmt.Errorf("kubeconfig %s: no context %q", path, name)
	}
	kctx := kc.Contexts[ctxIdx].Context
	dir := filepath.Dir(path)
	file := func(p string) ([]byte, error) {
		if p == "" {
			return nil, nil
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return os.ReadFile(p)
	}
	inline := func(b64 string, p string) ([]byte, error) {
		if b64 != "" {
			return base64.StdEncoding.DecodeString(b64)
		}
		return file(p)
	}
	found := false
	for _, cl := range kc.Clusters {
		if cl.Name != kctx.Cluster {
			continue
		}
		found = true
		c.server = cl.Cluster.Server
		insecure = cl.Cluster.InsecureSkipTLSVerify
		if caPEM, err = inline(cl.Cluster.CertificateAuthorityData, cl.Cluster.CertificateAuthority); err != nil {
			return nil, nil, nil, false, fmt.Errorf("kubeconfig cluster %s: %w", cl.Name, err)
		}
	}
	if !found {
		return nil, nil, nil, false, fmt.Errorf("kubeconfig %s: no cluster %q", path, kctx.Cluster)
	}
	for _, u := range kc.Users {
		if u.Name != kctx.User {
			continue
		}
		if u.User.Exec.Kind != 0 || u.User.AuthProvider.Kind != 0 {
			return nil, nil, nil, false, fmt.Errorf("kubeconfig user %s: exec and auth-provider credentials are not supported; use --server with --token", u.Name)
		}
		c.token = u.User.Token
		if u.User.TokenFile != "" {
			b, err := file(u.User.TokenFile)
			if err != nil {
				return nil, nil, nil, false, fmt.Errorf("kubeconfig user %s: %w", u.Name, err)
			}
			c.token = strings.TrimSpace(string(b))
		}
		if certPEM, err = inline(u.User.ClientCertificateData, u.User.ClientCertificate); err != nil {
			return nil, nil, nil, false, fmt.Errorf("kubeconfig user %s: %w", u.Name, err)
		}
		if keyPEM, err = inline(u.User.ClientKeyData, u.User.ClientKey); err != nil {
			return nil, nil, nil, false, fmt.Errorf("kubeconfig user %s: %w", u.Name, err)
		}
	}
	return caPEM, certPEM, keyPEM, insecure, nil
}

// object is one built-in object as written to the data file: what the
// bootstrap policy defines, nothing the server adds.
type object struct {
	APIVersion      string                  `json:"apiVersion"`
	Kind            string                  `json:"kind"`
	Metadata        metadata                `json:"metadata"`
	AggregationRule *rbacv1.AggregationRule `json:"aggregationRule,omitempty"`
	Rules           []rbacv1.PolicyRule     `json:"rules,omitempty"`
	RoleRef         *rbacv1.RoleRef         `json:"roleRef,omitempty"`
	Subjects        []rbacv1.Subject        `json:"subjects,omitempty"`
}

type metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

var kindOrder = []string{"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}

// generate lists the built-in objects and renders the data file.
func generate(ctx context.Context, c *client) ([]byte, int, error) {
	var version struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := c.get(ctx, "/version", &version); err != nil {
		return nil, 0, err
	}
	const base = "/apis/rbac.authorization.k8s.io/v1/"
	q := "?labelSelector=" + url.QueryEscape(selector)
	var (
		crs  rbacv1.ClusterRoleList
		crbs rbacv1.ClusterRoleBindingList
		rs   rbacv1.RoleList
		rbs  rbacv1.RoleBindingList
	)
	for _, l := range []struct {
		path string
		v    any
	}{{"clusterroles", &crs}, {"clusterrolebindings", &crbs}, {"roles", &rs}, {"rolebindings", &rbs}} {
		if err := c.get(ctx, base+l.path+q, l.v); err != nil {
			return nil, 0, err
		}
	}
	if len(crs.Items) == 0 || len(crbs.Items) == 0 {
		return nil, 0, errors.New("the server lists no ClusterRoles or ClusterRoleBindings labelled " + selector + ": is RBAC enabled?")
	}
	var objs []object
	for _, r := range crs.Items {
		o := object{Kind: "ClusterRole", Metadata: meta(r.Name, "", r.Labels, r.Annotations), AggregationRule: r.AggregationRule, Rules: r.Rules}
		if r.AggregationRule != nil {
			o.Rules = nil // computed by kubeguard as by the aggregation controller
		}
		objs = append(objs, o)
	}
	for _, r := range rs.Items {
		objs = append(objs, object{Kind: "Role", Metadata: meta(r.Name, r.Namespace, r.Labels, r.Annotations), Rules: r.Rules})
	}
	for _, b := range crbs.Items {
		objs = append(objs, object{Kind: "ClusterRoleBinding", Metadata: meta(b.Name, "", b.Labels, b.Annotations), RoleRef: &b.RoleRef, Subjects: b.Subjects})
	}
	for _, b := range rbs.Items {
		objs = append(objs, object{Kind: "RoleBinding", Metadata: meta(b.Name, b.Namespace, b.Labels, b.Annotations), RoleRef: &b.RoleRef, Subjects: b.Subjects})
	}
	for i := range objs {
		objs[i].APIVersion = "rbac.authorization.k8s.io/v1"
	}
	slices.SortFunc(objs, func(a, b object) int {
		return cmp.Or(cmp.Compare(slices.Index(kindOrder, a.Kind), slices.Index(kindOrder, b.Kind)),
			cmp.Compare(a.Metadata.Namespace, b.Metadata.Namespace), cmp.Compare(a.Metadata.Name, b.Metadata.Name))
	})
	data, err := render(version.GitVersion, objs)
	return data, len(objs), err
}

// meta keeps the labels and the bootstrap annotations, dropping
// last-applied configuration and anything else a client may have added.
func meta(name, ns string, labels, annotations map[string]string) metadata {
	m := metadata{Name: name, Namespace: ns, Labels: labels}
	for k, v := range annotations {
		if strings.HasPrefix(k, "rbac.authorization.kubernetes.io/") {
			if m.Annotations == nil {
				m.Annotations = map[string]string{}
			}
			m.Annotations[k] = v
		}
	}
	return m
}

// render writes the objects as a YAML stream with a header saying where
// the data comes from.
func render(version string, objs []object) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Code generated by tools/rbacdefaults from kube-apiserver %s; DO NOT EDIT.\n", version)
	fmt.Fprintf(&buf, "# The API server's built-in RBAC roles and bindings (%s).\n", selector)
	for _, o := range objs {
		j, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		var n yaml.Node
		if err := yaml.Unmarshal(j, &n); err != nil {
			return nil, err
		}
		blockStyle(&n)
		buf.WriteString("---\n")
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(&n); err != nil {
			return nil, err
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// blockStyle turns JSON's flow style and quoting into plain YAML, keeping
// quotes only where a value would otherwise read as another type.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		var v any
		if yaml.Unmarshal([]byte(n.Value), &v) != nil || fmt.Sprint(v) != n.Value || n.Value == "" {
			n.Style = yaml.DoubleQuotedStyle
		} else if _, ok := v.(string); !ok {
			n.Style = yaml.DoubleQuotedStyle
		}
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}
