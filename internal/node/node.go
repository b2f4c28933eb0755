package node

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// File is a file the node's configuration names, with what it holds, for
// the permission and ownership checks.
type File struct {
	// Path is where it is read from; Display is the path the node names.
	Path, Display string
	Role          Role
	Mode          fs.FileMode
	UID, GID      int
}

// Role says what a file is to the node, which decides the permissions it
// should have.
type Role string

// Roles of the files read.
const (
	RoleManifest        Role = "static pod manifest"
	RoleKubeconfig      Role = "kubeconfig"
	RoleKubeletConfig   Role = "kubelet configuration"
	RoleUnit            Role = "kubelet service file"
	RoleCert            Role = "certificate"
	RoleKey             Role = "private key"
	RoleEtcdData        Role = "etcd data directory"
	RoleEncryption      Role = "encryption configuration"
	RoleAdmission       Role = "admission configuration"
	RoleSchedulerConfig Role = "scheduler configuration"
)

// Node is everything read from one node.
type Node struct {
	Host Host
	// Components are the control-plane command lines found (static pods,
	// process command lines).
	Components []*CommandLine
	// Kubelet is nil when no kubelet configuration was found.
	Kubelet *KubeletNode
	// Encryption holds the EncryptionConfigurations read, by the path the
	// node names them with.
	Encryption map[string]*EncryptionConfig
	// EncryptionErrs holds why an EncryptionConfiguration could not be
	// loaded, by path: the API server would refuse it.
	EncryptionErrs map[string]error
	// Admission holds the AdmissionConfigurations the API servers name,
	// by the path they name them with.
	Admission map[string]*AdmissionConfig
	// SchedulerConfigs holds the KubeSchedulerConfigurations the
	// schedulers' --config name, by the path they are read from.
	SchedulerConfigs map[string]*SchedulerConfig
	// schedulerConfigErrs marks the --config files that could not be
	// read (an input error says why), so each is reported once.
	schedulerConfigErrs map[string]bool
	Files               []File
	Certs               []Cert
	Errors              []finding.InputError
	// Remote marks a node read through the API (Remote): the files its
	// flags name are on the node and are never read here, and locations
	// are field paths of the objects read.
	Remote bool
	// containers names the containers of a remote node's mirror pods.
	containers map[containerKey]string
	// loaded marks files already read, so that a file reached twice (a
	// path given and named by a flag) is judged once.
	loaded map[string]bool
}

// Layout lists where the node's files are looked for when no path is
// given: kubeadm's places first, then those of common distributions.
type Layout struct {
	ManifestDirs    []string
	KubeletConfigs  []string
	KubeletEnvFiles []string
	PKIDirs         []string
	Kubeconfigs     []string
}

// DefaultLayout covers kubeadm, kOps, RKE2, EKS, GKE and AKS nodes.
var DefaultLayout = Layout{
	ManifestDirs: []string{"/etc/kubernetes/manifests", "/var/lib/rancher/rke2/agent/pod-manifests"},
	KubeletConfigs: []string{
		"/var/lib/kubelet/config.yaml",                // kubeadm
		"/etc/kubernetes/kubelet/kubelet-config.json", // EKS
		"/etc/kubernetes/kubelet/config.json",         // EKS (AL2023)
		"/home/kubernetes/kubelet-config.yaml",        // GKE
		"/etc/kubernetes/kubelet-config.yaml",
	},
	KubeletEnvFiles: []string{"/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet", "/etc/sysconfig/kubelet"},
	PKIDirs:         []string{"/etc/kubernetes/pki", "/var/lib/rancher/rke2/server/tls"},
	Kubeconfigs: []string{
		"/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf",
		"/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/scheduler.conf",
		"/etc/kubernetes/kubelet.conf", "/var/lib/kubelet/kubeconfig",
	},
}

func newNode(h Host) *Node {
	return &Node{Host: h, Encryption: map[string]*EncryptionConfig{}, EncryptionErrs: map[string]error{}, Admission: map[string]*AdmissionConfig{},
		SchedulerConfigs: map[string]*SchedulerConfig{}, schedulerConfigErrs: map[string]bool{}, loaded: map[string]bool{}}
}

func (n *Node) errorf(file string, line int, format string, args ...any) {
	n.Errors = append(n.Errors, finding.InputError{Location: finding.Location{File: file, Line: line}, Message: fmt.Sprintf(format, args...)})
}

// addFile records a file for the permission checks.
func (n *Node) addFile(path string, role Role, st fs.FileInfo) {
	f := File{Path: path, Display: n.Host.Display(path), Role: role, Mode: st.Mode(), UID: -1, GID: -1}
	f.UID, f.GID = owner(st)
	n.Files = append(n.Files, f)
}

// Read reads a node from the host's standard layout.
func Read(h Host, l Layout) *Node {
	n := newNode(h)
	for _, d := range l.ManifestDirs {
		n.readManifestDir(h.Path(d))
	}
	n.readKubelet(l)
	for _, d := range l.PKIDirs {
		if exists(h.Path(d)) {
			n.readPKIDir(h.Path(d))
		}
	}
	for _, k := range l.Kubeconfigs {
		if exists(h.Path(k)) {
			n.readKubeconfig(h.Path(k))
		}
	}
	n.follow()
	return n
}

// ReadPaths reads the files and directories given, recognising each file
// by what it holds. Files their flags name (an EncryptionConfiguration, a
// kubelet's --config) are read from the host.
func ReadPaths(h Host, paths []string) *Node {
	n := newNode(h)
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			n.errorf(p, 0, "%v", err)
			continue
		}
		if !st.IsDir() {
			n.readAny(p, true)
			continue
		}
		entries, err := readDir(p)
		if err != nil {
			n.errorf(p, 0, "%v", err)
			continue
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				n.readAny(filepath.Join(p, e.Name()), false)
			}
		}
	}
	n.follow()
	return n
}

// readAny reads a file of any kind node understands. A file that is none
// of them is an error when it was named, and skipped in a directory.
func (n *Node) readAny(path string, named bool) {
	if n.loaded[path] {
		return
	}
	data, st, err := readFile(path)
	if err != nil {
		n.errorf(path, 0, "%v", err)
		return
	}
	switch {
	case bytes.Contains(data, []byte{0}):
		n.loaded[path] = true
		cl, err := readProcCmdline(path, data)
		if err != nil {
			n.errorf(path, 0, "%v", err)
			return
		}
		n.Components = append(n.Components, cl)
		return
	case bytes.Contains(data, []byte("-----BEGIN")):
		n.loaded[path] = true
		n.readPEM(path, data, st)
		return
	case strings.HasSuffix(path, ".env") || bytes.Contains(data, []byte("ExecStart=")) || bytes.HasPrefix(bytes.TrimSpace(data), []byte("KUBELET_")):
		n.loaded[path] = true
		n.readKubeletFlagsFile(path)
		return
	}
	root, err := parseYAML(data)
	if err != nil {
		if named {
			n.errorf(n.Host.Display(path), 0, "not a file kubeguard node reads: %v", err)
		}
		return
	}
	apiVersion, kind := header(root)
	switch kind {
	case "Pod":
		n.readManifest(path)
	case "KubeletConfiguration":
		n.readKubeletConfigFile(path, nil)
	case "EncryptionConfiguration":
		n.readEncryption(path)
	case "Config":
		n.readKubeconfig(path)
	default:
		if named {
			n.errorf(n.Host.Display(path), 0, "not a file kubeguard node reads (apiVersion %q, kind %q)", apiVersion, kind)
		}
	}
}

// readManifestDir reads every manifest of a static pod directory.
func (n *Node) readManifestDir(dir string) {
	entries, err := readDir(dir)
	if err != nil {
		if !os.IsNotExist(err) {
			n.errorf(n.Host.Display(dir), 0, "%v", err)
		}
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
			continue
		}
		if ext := filepath.Ext(name); ext == ".yaml" || ext == ".yml" || ext == ".json" || ext == ".manifest" {
			n.readManifest(filepath.Join(dir, name))
		}
	}
}

func (n *Node) readManifest(path string) {
	if n.loaded[path] {
		return
	}
	n.loaded[path] = true
	file := n.Host.Display(path)
	root, st, ok := n.readYAML(path)
	if !ok {
		return
	}
	cls, err := readStaticPod(file, root)
	if err != nil {
		n.errorf(file, 0, "%v", err)
		return
	}
	n.addFile(path, RoleManifest, st)
	n.Components = append(n.Components, cls...)
}

func (n *Node) readYAML(path string) (*yaml.Node, fs.FileInfo, bool) {
	data, st, err := readFile(path)
	if err != nil {
		n.errorf(n.Host.Display(path), 0, "%v", err)
		return nil, nil, false
	}
	root, err := parseYAML(data)
	if err != nil {
		n.errorf(n.Host.Display(path), 0, "%v", err)
		return nil, nil, false
	}
	return root, st, true
}

// readKubelet finds the kubelet's flags (unit, else an environment file)
// and its configuration file.
func (n *Node) readKubelet(l Layout) {
	flags, files, errs := readKubeletUnit(n.Host)
	n.Errors = append(n.Errors, errs...)
	for _, f := range files {
		n.loaded[f] = true
		if st, err := os.Stat(f); err == nil && strings.Contains(f, "systemd") {
			n.addFile(f, RoleUnit, st)
		}
	}
	if flags == nil {
		for _, e := range l.KubeletEnvFiles {
			if p := n.Host.Path(e); exists(p) && !n.loaded[p] {
				n.loaded[p] = true
				cl, errs := envCommandLine(n.Host, p)
				n.Errors = append(n.Errors, errs...)
				flags = mergeFlags(flags, cl)
			}
		}
	}
	if flags != nil {
		n.Kubelet = &KubeletNode{Flags: flags}
	}
	if n.Kubelet != nil {
		return // follow reads the file --config names
	}
	for _, c := range l.KubeletConfigs {
		if p := n.Host.Path(c); exists(p) {
			n.readKubeletConfigFile(p, nil)
			return
		}
	}
}

// mergeFlags appends b's flags to a's (b wins).
func mergeFlags(a, b *CommandLine) *CommandLine {
	if a == nil {
		return b
	}
	a.Args = append(a.Args, b.Args...)
	return a
}

// readKubeletFlagsFile reads a unit file or an environment file given as a
// path.
func (n *Node) readKubeletFlagsFile(path string) {
	var cl *CommandLine
	var errs []finding.InputError
	data, _, _ := readFile(path)
	if bytes.Contains(data, []byte("ExecStart=")) {
		u := &unitReader{host: n.Host, env: map[string]envVar{}}
		u.readUnit(path)
		cl, errs = u.commandLine(), u.errs
		if st, err := os.Stat(path); err == nil {
			n.addFile(path, RoleUnit, st)
		}
	} else {
		cl, errs = envCommandLine(n.Host, path)
	}
	n.Errors = append(n.Errors, errs...)
	if cl == nil {
		return
	}
	if n.Kubelet == nil {
		n.Kubelet = &KubeletNode{}
	}
	n.Kubelet.Flags = mergeFlags(n.Kubelet.Flags, cl)
}

func (n *Node) readKubeletConfigFile(path string, into *KubeletConfig) *KubeletConfig {
	if n.loaded[path] {
		return into
	}
	n.loaded[path] = true
	root, st, ok := n.readYAML(path)
	if !ok {
		return into
	}
	kc, err := readKubeletConfig(n.Host.Display(path), root, into)
	if err != nil {
		n.errorf(n.Host.Display(path), 0, "%v", err)
		return into
	}
	n.addFile(path, RoleKubeletConfig, st)
	if n.Kubelet == nil {
		n.Kubelet = &KubeletNode{}
	}
	if into == nil && n.Kubelet.Config == nil {
		n.Kubelet.Config = kc
	}
	return kc
}

func (n *Node) readEncryption(path string) {
	if n.loaded[path] {
		return
	}
	n.loaded[path] = true
	display := n.Host.Display(path)
	root, st, ok := n.readYAML(path)
	if !ok {
		n.EncryptionErrs[display] = fmt.Errorf("unreadable")
		return
	}
	n.addFile(path, RoleEncryption, st)
	c, err := readEncryptionConfig(display, root)
	if err != nil {
		n.EncryptionErrs[display] = err
		loc, msg := finding.Location{File: display}, err.Error()
		var pe *posError
		if errors.As(err, &pe) {
			loc, msg = pe.loc, pe.msg
		}
		n.Errors = append(n.Errors, finding.InputError{Location: loc, Message: "the API server would refuse this EncryptionConfiguration: " + msg})
		return
	}
	n.Encryption[display] = c
}

// follow reads the files the command lines name: the kubelet's
// configuration file and drop-ins, the API server's EncryptionConfiguration,
// the etcd data directory, kubeconfigs and certificates.
func (n *Node) follow() {
	if k := n.Kubelet; k != nil && k.Flags != nil {
		if a, ok := k.Flags.Lookup("config"); ok && a.Value != "" {
			p := n.Host.Path(a.Value)
			if !exists(p) {
				n.errorf(a.Loc.File, a.Loc.Line, "the kubelet's --config %s does not exist: the kubelet would not start", a.Value)
			} else {
				if kc := n.readKubeletConfigFile(p, nil); kc != nil {
					k.Config = kc
				}
			}
		}
		if a, ok := k.Flags.Lookup("config-dir"); ok && a.Value != "" && k.Config != nil {
			entries, err := readDir(n.Host.Path(a.Value))
			if err == nil {
				for _, e := range entries {
					if strings.HasSuffix(e.Name(), ".conf") {
						n.readKubeletConfigFile(filepath.Join(n.Host.Path(a.Value), e.Name()), k.Config)
					}
				}
			}
		}
		// The client CA file, wherever it is set (CIS 4.1.7, 4.1.8).
		if ca := k.Setting("client-ca-file"); ca.Value != "" {
			if p := n.Host.Path(ca.Value); !n.loaded[p] {
				if data, st, err := readFile(p); err == nil {
					n.loaded[p] = true
					n.readPEM(p, data, st)
				}
			}
		}
		if a, ok := k.Flags.Lookup("kubeconfig"); ok && a.Value != "" {
			if p := n.Host.Path(a.Value); exists(p) {
				n.readKubeconfig(p)
			}
		}
	}
	for _, c := range n.Components {
		switch c.Component {
		case APIServer:
			if a, ok := c.Lookup("encryption-provider-config"); ok && a.Value != "" {
				p := n.Host.Path(a.Value)
				if !exists(p) {
					n.errorf(a.Loc.File, a.Loc.Line, "--encryption-provider-config %s does not exist: the API server would not start", a.Value)
					n.EncryptionErrs[a.Value] = fmt.Errorf("missing")
				} else {
					n.readEncryption(p)
				}
			}
			if a, ok := c.Lookup("admission-control-config-file"); ok && a.Value != "" {
				if _, done := n.Admission[a.Value]; !done {
					ac, err := n.readAdmissionConfig(n.Host.Path(a.Value))
					if err != nil {
						n.errorf(a.Loc.File, a.Loc.Line, "--admission-control-config-file %s: %v: the API server would not start", a.Value, err)
					} else {
						n.Admission[a.Value] = ac
					}
				}
			}
			for _, f := range []string{"client-ca-file", "tls-cert-file", "kubelet-client-certificate", "etcd-certfile"} {
				n.followPEM(c, f)
			}
			for _, f := range []string{"tls-private-key-file", "kubelet-client-key", "etcd-keyfile", "service-account-signing-key-file"} {
				n.followKey(c, f)
			}
		case Etcd:
			if a, ok := c.Lookup("data-dir"); ok && a.Value != "" {
				if st, err := os.Stat(n.Host.Path(a.Value)); err == nil && st.IsDir() {
					n.addFile(n.Host.Path(a.Value), RoleEtcdData, st)
				}
			}
			for _, f := range []string{"cert-file", "peer-cert-file"} {
				n.followPEM(c, f)
			}
			for _, f := range []string{"key-file", "peer-key-file"} {
				n.followKey(c, f)
			}
		case Scheduler:
			// With --config the scheduler ignores --kubeconfig and
			// connects with the file's clientConnection.kubeconfig.
			if a, ok := c.Lookup("config"); ok && a.Value != "" {
				n.readSchedulerConfigFile(a)
				if _, sc, _ := n.schedulerConfig(c); sc != nil && sc.Kubeconfig != "" {
					if p := n.Host.Path(sc.Kubeconfig); exists(p) {
						n.readKubeconfig(p)
					}
				}
				continue
			}
			if a, ok := c.Lookup("kubeconfig"); ok && a.Value != "" {
				if p := n.Host.Path(a.Value); exists(p) {
					n.readKubeconfig(p)
				}
			}
		case ControllerManager:
			if a, ok := c.Lookup("kubeconfig"); ok && a.Value != "" {
				if p := n.Host.Path(a.Value); exists(p) {
					n.readKubeconfig(p)
				}
			}
		}
	}
}

// followPEM reads a certificate or key file a flag names, when it exists
// (a missing one is the component's problem, reported by it).
func (n *Node) followPEM(c *CommandLine, flag string) {
	a, ok := c.Lookup(flag)
	if !ok || a.Value == "" {
		return
	}
	p := n.Host.Path(a.Value)
	if n.loaded[p] {
		return
	}
	data, st, err := readFile(p)
	if err != nil {
		return
	}
	n.loaded[p] = true
	n.readPEM(p, data, st)
}

// followKey records a private key a flag names for the permission checks,
// without reading it.
func (n *Node) followKey(c *CommandLine, flag string) {
	a, ok := c.Lookup(flag)
	if !ok || a.Value == "" {
		return
	}
	p := n.Host.Path(a.Value)
	if n.loaded[p] {
		return
	}
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		n.loaded[p] = true
		n.addFile(p, RoleKey, st)
	}
}
