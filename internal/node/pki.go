package node

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// Cert is a certificate found on the node: in the PKI directory, named by
// a flag, or embedded in a kubeconfig.
type Cert struct {
	// Loc is the file, or the kubeconfig line holding it.
	Loc       finding.Location
	Subject   string
	Orgs      []string
	NotBefore time.Time
	NotAfter  time.Time
	IsCA      bool
	// Client is set for certificates usable for client authentication.
	Client bool
	// User is the kubeconfig user it authenticates, if it is in one.
	User string
}

// readPEM reads a PEM file: a private key is recorded for the permission
// checks, certificates for the lifetime and identity checks too. Nothing
// of a key is kept.
func (n *Node) readPEM(path string, data []byte, st fs.FileInfo) {
	display := n.Host.Display(path)
	isKey, isCert := false, false
	rest := data
	for i := 0; i < 64; i++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case strings.Contains(b.Type, "PRIVATE KEY"):
			isKey = true
		case b.Type == "CERTIFICATE":
			isCert = true
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				n.errorf(display, 0, "certificate: %v", err)
				continue
			}
			n.Certs = append(n.Certs, certOf(c, finding.Location{File: display}, ""))
		}
	}
	switch {
	case isKey:
		n.addFile(path, RoleKey, st)
	case isCert:
		n.addFile(path, RoleCert, st)
	}
}

func certOf(c *x509.Certificate, loc finding.Location, user string) Cert {
	client := len(c.ExtKeyUsage) == 0
	for _, u := range c.ExtKeyUsage {
		client = client || u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny
	}
	return Cert{Loc: loc, Subject: c.Subject.CommonName, Orgs: c.Subject.Organization, NotBefore: c.NotBefore,
		NotAfter: c.NotAfter, IsCA: c.IsCA, Client: client && !c.IsCA, User: user}
}

// readPKIDir reads the certificates and keys of a PKI directory and of
// its subdirectories (etcd/), one level deep.
func (n *Node) readPKIDir(dir string) {
	n.readPKIDirDepth(dir, 1)
}

func (n *Node) readPKIDirDepth(dir string, depth int) {
	entries, err := readDir(dir)
	if err != nil {
		n.errorf(n.Host.Display(dir), 0, "%v", err)
		return
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir() && depth > 0:
			n.readPKIDirDepth(p, depth-1)
		case e.Type().IsRegular() && !n.loaded[p]:
			ext := filepath.Ext(e.Name())
			if ext != ".crt" && ext != ".pem" && ext != ".key" {
				continue
			}
			if ext == ".key" {
				// A key's mode and owner are judged; what it holds is
				// never read.
				n.loaded[p] = true
				if st, err := os.Stat(p); err == nil {
					n.addFile(p, RoleKey, st)
				}
				continue
			}
			data, st, err := readFile(p)
			if err != nil {
				n.errorf(n.Host.Display(p), 0, "%v", err)
				continue
			}
			n.loaded[p] = true
			n.readPEM(p, data, st)
		}
	}
}

// readKubeconfig reads a kubeconfig for its permissions and its client
// certificates. Tokens and keys it holds are never read into memory
// beyond the parse.
func (n *Node) readKubeconfig(path string) {
	if n.loaded[path] {
		return
	}
	n.loaded[path] = true
	display := n.Host.Display(path)
	root, st, ok := n.readYAML(path)
	if !ok {
		return
	}
	if _, kind := header(root); kind != "Config" {
		n.errorf(display, 0, "not a kubeconfig (kind %q)", kind)
		return
	}
	n.addFile(path, RoleKubeconfig, st)
	for _, u := range items(get(root, "users")) {
		name, _ := scalar(get(u, "name"))
		user := get(u, "user")
		if k := keyNode(user, "client-certificate-data"); k != nil {
			v, _ := scalar(get(user, "client-certificate-data"))
			der, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				n.errorf(display, k.Line, "client-certificate-data is not base64")
				continue
			}
			n.certsFromPEM(der, finding.Location{File: display, Line: k.Line, Column: k.Column}, name)
		} else if k := keyNode(user, "client-certificate"); k != nil {
			v, _ := scalar(get(user, "client-certificate"))
			if !filepath.IsAbs(v) {
				v = filepath.Join(filepath.Dir(display), v)
			}
			data, _, err := readFile(n.Host.Path(v))
			if err == nil {
				n.certsFromPEM(data, finding.Location{File: display, Line: k.Line, Column: k.Column}, name)
			}
		}
	}
}

func (n *Node) certsFromPEM(data []byte, loc finding.Location, user string) {
	for i := 0; i < 64; i++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			n.errorf(loc.File, loc.Line, "certificate: %v", err)
			continue
		}
		n.Certs = append(n.Certs, certOf(c, loc, user))
	}
}
