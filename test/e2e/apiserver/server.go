package apiserver

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options configure a Server. The zero value is a server authorizing with
// RBAC and running the default admission plugins, PodSecurity among them.
type Options struct {
	// AuthorizationModes is --authorization-mode; RBAC when empty.
	AuthorizationModes []string
	// DisableAdmissionPlugins is --disable-admission-plugins: PodSecurity
	// for tests in which a webhook must do its job.
	DisableAdmissionPlugins []string
	// EnableAdmissionPlugins is --enable-admission-plugins, added to the
	// default ones.
	EnableAdmissionPlugins []string
	// ExtraArgs are appended to the kube-apiserver command line, after the
	// flags set here, so they win.
	ExtraArgs []string
	// StartTimeout bounds the wait for /readyz; 90 seconds when zero.
	StartTimeout time.Duration
	// Log, if not nil, is told of builds and of where the logs are.
	Log io.Writer
	// Users are extra identities of the static token file; Start gives each
	// a token, in Server.Tokens.
	Users []User
}

// User is an identity of the static token file.
type User struct {
	Name   string
	Groups []string
}

// AdminUser is the user name of the admin token, a member of
// system:masters.
const AdminUser = "kubeguard-e2e-admin"

// Server is a running kube-apiserver and its etcd.
type Server struct {
	// URL is the API server's address, https://127.0.0.1:<port>.
	URL string
	// CAData is the PEM bundle that verifies the serving certificate.
	CAData []byte
	// AdminToken is a bearer token for AdminUser.
	AdminToken string
	// Config is a client configuration authenticating as AdminUser.
	Config *rest.Config
	// Client is a clientset built from Config.
	Client kubernetes.Interface
	// Version is the k8s.io/kubernetes version the server was built from.
	Version string
	// LogDir holds etcd.log and kube-apiserver.log.
	LogDir string
	// Tokens are the bearer tokens of Options.Users, by user name.
	Tokens map[string]string
	// EtcdURL is etcd's client URL (plain HTTP on loopback), for tests
	// that read what the API server stored.
	EtcdURL string
	// ServiceAccountKeyFile is the PEM private key the server signs
	// ServiceAccount tokens with: what kube-controller-manager's token
	// controller signs legacy token Secrets with, for tests that run it.
	ServiceAccountKeyFile string

	dir       string
	etcd, api *process
	keepLogs  bool
}

// process is a started command and what it became.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

func startProcess(name, logPath, bin string, args ...string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports an error if the process has ended.
func (p *process) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited: %v\n%s", p.name, p.err, tail(p.log, 40))
	default:
		return nil
	}
}

// stop ends the process: SIGTERM, then SIGKILL after a grace period.
func (p *process) stop() {
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Start builds the binaries if needed, starts etcd and kube-apiserver on
// loopback ports, and waits until the API server is ready. The caller must
// Stop it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bins, err := Build(ctx, opts.Log)
	if err != nil {
		return nil, err
	}
	// A free port found by listening and closing can be taken by someone
	// else before the server binds it; another try takes other ports.
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(ctx, bins, opts)
		if err == nil {
			return s, nil
		}
		last = err
		if ctx.Err() != nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, last
}

func start(ctx context.Context, bins Binaries, opts Options) (s *Server, err error) {
	dir, err := os.MkdirTemp("", "kubeguard-e2e-")
	if err != nil {
		return nil, err
	}
	s = &Server{dir: dir, LogDir: filepath.Join(dir, "logs"), Version: bins.KubernetesVersion}
	// The error returns set s to nil: stop what was started through a
	// copy, or a server that fails to start leaves etcd running.
	started := s
	defer func() {
		if err != nil {
			started.Stop()
		}
	}()
	for _, d := range []string{s.LogDir, filepath.Join(dir, "etcd"), filepath.Join(dir, "pki"), filepath.Join(dir, "certs")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}

	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	s.EtcdURL = clientURL
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	s.etcd, err = startProcess("etcd", filepath.Join(s.LogDir, "etcd.log"), bins.Etcd,
		"--name=e2e",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=e2e="+peerURL,
		"--initial-cluster-state=new",
		// The data dies with the test run: durability buys nothing.
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	if err != nil {
		return nil, err
	}

	pki := filepath.Join(dir, "pki")
	s.AdminToken, err = randomToken()
	if err != nil {
		return nil, err
	}
	tokenFile := filepath.Join(pki, "tokens.csv")
	tokens := fmt.Sprintf("%s,%s,%s-uid,\"system:masters\"\n", s.AdminToken, AdminUser, AdminUser)
	s.Tokens = map[string]string{}
	for _, u := range opts.Users {
		tok, err := randomToken()
		if err != nil {
			return nil, err
		}
		s.Tokens[u.Name] = tok
		tokens += fmt.Sprintf("%s,%s,%s-uid,\"%s\"\n", tok, u.Name, u.Name, strings.Join(u.Groups, ","))
	}
	if err := os.WriteFile(tokenFile, []byte(tokens), 0o600); err != nil {
		return nil, err
	}
	saKey, saPub := filepath.Join(pki, "sa.key"), filepath.Join(pki, "sa.pub")
	if err := writeKeyPair(saKey, saPub); err != nil {
		return nil, err
	}
	s.ServiceAccountKeyFile = saKey

	modes := opts.AuthorizationModes
	if len(modes) == 0 {
		modes = []string{"RBAC"}
	}
	port := ports[2]
	args := []string{
		"--etcd-servers=" + clientURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + filepath.Join(dir, "certs"),
		"--token-auth-file=" + tokenFile,
		"--authorization-mode=" + strings.Join(modes, ","),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + saPub,
		"--service-account-signing-key-file=" + saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		// Pod Security fixtures include privileged containers: without
		// this, validation rejects them before admission sees them.
		"--allow-privileged=true",
		// Nothing is to be reached through the kubernetes Service, and its
		// Endpoints may not hold a loopback address.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}
	if len(opts.DisableAdmissionPlugins) > 0 {
		args = append(args, "--disable-admission-plugins="+strings.Join(opts.DisableAdmissionPlugins, ","))
	}
	if len(opts.EnableAdmissionPlugins) > 0 {
		args = append(args, "--enable-admission-plugins="+strings.Join(opts.EnableAdmissionPlugins, ","))
	}
	args = append(args, opts.ExtraArgs...)

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// etcd first: the API server gives up on an unreachable etcd.
	if err := waitTCP(waitCtx, s.etcd, "127.0.0.1:"+strconv.Itoa(ports[0])); err != nil {
		return nil, err
	}
	s.api, err = startProcess("kube-apiserver", filepath.Join(s.LogDir, "kube-apiserver.log"), bins.APIServer, args...)
	if err != nil {
		return nil, err
	}
	s.URL = "https://127.0.0.1:" + strconv.Itoa(port)
	if err := s.waitReady(waitCtx, filepath.Join(dir, "certs", "apiserver.crt")); err != nil {
		return nil, err
	}

	s.Config = &rest.Config{
		Host:            s.URL,
		BearerToken:     s.AdminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.CAData},
		// client-go's default of 5 requests a second would make the
		// fixture runs crawl.
		QPS:   1000,
		Burst: 2000,
	}
	cs, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		return nil, err
	}
	s.Client = cs
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "e2e: kube-apiserver %s ready at %s, logs in %s\n", s.Version, s.URL, s.LogDir)
	}
	return s, nil
}

// waitTCP waits until addr accepts connections or the process exits.
func waitTCP(ctx context.Context, p *process, addr string) error {
	for {
		if err := p.exited(); err != nil {
			return err
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not listening on %s: %w\n%s", p.name, addr, ctx.Err(), tail(p.log, 40))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitReady waits for the serving certificate the API server generates and
// then for /readyz to answer ok to the admin, which it does only once every
// post-start hook (RBAC's bootstrap roles among them) has finished.
func (s *Server) waitReady(ctx context.Context, certFile string) error {
	var last string
	for {
		if err := s.etcd.exited(); err != nil {
			return err
		}
		if err := s.api.exited(); err != nil {
			return err
		}
		if s.CAData == nil {
			if data, err := os.ReadFile(certFile); err == nil && bytes.Contains(data, []byte("END CERTIFICATE")) {
				s.CAData = data
			}
		}
		if s.CAData != nil {
			ok, msg := s.readyz(ctx)
			if ok {
				return nil
			}
			last = msg
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready: %w; last /readyz: %s\n%s", ctx.Err(), last, tail(s.api.log, 60))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Server) readyz(ctx context.Context) (bool, string) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CAData) {
		return false, "serving certificate not parsable yet"
	}
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/readyz?verbose", nil)
	if err != nil {
		return false, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	resp, err := client.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode == http.StatusOK, fmt.Sprintf("%d %s", resp.StatusCode, failing(string(body)))
}

// failing keeps the lines of a verbose /readyz answer that are not ok.
func failing(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "[-]") {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return strings.TrimSpace(body)
	}
	return strings.Join(out, "; ")
}

// Stop ends kube-apiserver and etcd and removes the temporary directory,
// except for the logs when KeepLogs was called. It is safe to call more
// than once.
func (s *Server) Stop() {
	s.api.stop()
	s.etcd.stop()
	if s.dir == "" {
		return
	}
	if !s.keepLogs {
		os.RemoveAll(s.dir)
		s.dir = ""
		return
	}
	entries, _ := os.ReadDir(s.dir)
	for _, e := range entries {
		if p := filepath.Join(s.dir, e.Name()); p != s.LogDir {
			os.RemoveAll(p)
		}
	}
	s.dir = ""
}

// PIDs returns the process IDs of kube-apiserver and etcd, whose
// /proc/PID/cmdline is the command line they run with.
func (s *Server) PIDs() (apiserver, etcd int) {
	return s.api.cmd.Process.Pid, s.etcd.cmd.Process.Pid
}

// KeepLogs makes Stop leave LogDir in place, for a failed run.
func (s *Server) KeepLogs() { s.keepLogs = true }

// LogTails returns the last lines of both logs, for a failure message.
func (s *Server) LogTails(lines int) string {
	var b strings.Builder
	for _, p := range []*process{s.etcd, s.api} {
		if p == nil {
			continue
		}
		fmt.Fprintf(&b, "==> %s <==\n%s\n", p.log, tail(p.log, lines))
	}
	return b.String()
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePorts returns n distinct loopback TCP ports that were free a moment
// ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeKeyPair writes a fresh ECDSA P-256 service-account signing key and
// its public key (the API server signs with ES256 for such a key).
func writeKeyPair(keyPath, pubPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	return os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
}
