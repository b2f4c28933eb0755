package node

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxFileSize bounds every file read: node configuration files are a few
// kilobytes, and nothing bigger is read whole.
const maxFileSize = 4 << 20

// maxDirEntries bounds the files read from one directory (manifests, PKI,
// drop-ins), so that a directory of millions of files cannot stall a run.
const maxDirEntries = 4096

// Host is the file system a node is read from: the host's root directory
// (or a copy of it, or a DaemonSet's read-only mount of it).
type Host struct {
	// Root is prepended to every absolute path the node's files name.
	Root string
}

// Path maps a path as the node names it (/etc/kubernetes/pki/ca.crt) to
// where it is read from.
func (h Host) Path(p string) string {
	if h.Root == "" || h.Root == "/" || !filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(h.Root, p)
}

// Display maps a path read from back to the path the node names, for
// reports: a finding about /host/etc/kubernetes/admin.conf reads
// /etc/kubernetes/admin.conf.
func (h Host) Display(p string) string {
	if h.Root == "" || h.Root == "/" {
		return p
	}
	rel, err := filepath.Rel(h.Root, p)
	if err != nil || strings.HasPrefix(rel, "..") {
		return p
	}
	return "/" + filepath.ToSlash(rel)
}

// readFile reads a regular file of at most maxFileSize bytes.
func readFile(path string) ([]byte, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, st, fmt.Errorf("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, st, err
	}
	if len(data) > maxFileSize {
		return nil, st, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return data, st, nil
}

// exists reports whether path names something (following links).
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readDir lists at most maxDirEntries names of a directory, sorted.
func readDir(path string) ([]fs.DirEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(maxDirEntries + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(entries) > maxDirEntries {
		return nil, fmt.Errorf("more than %d entries", maxDirEntries)
	}
	sortEntries(entries)
	return entries, nil
}

// parseYAML parses one YAML (or JSON) document into a node tree with
// positions. A stream of several documents is refused: none of the files
// read here holds more than one.
func parseYAML(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("empty document")
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("more than one YAML document")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("empty document")
	}
	return resolve(doc.Content[0]), nil
}

// resolve follows an alias to what it names. The trees here are walked
// along fixed paths, so an alias is followed once per step and never
// expanded.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// get returns the value of key in a mapping node, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

// keyNode returns the key node of key in a mapping node (for its line), or nil.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == key {
			return k
		}
	}
	return nil
}

// at walks a path of keys.
func at(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n = get(n, k); n == nil {
			return nil
		}
	}
	return n
}

// scalar returns a scalar node's value and whether n is a scalar.
func scalar(n *yaml.Node) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return "", false
	}
	return n.Value, true
}

// items returns the items of a sequence node.
func items(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// header reads apiVersion and kind.
func header(n *yaml.Node) (apiVersion, kind string) {
	apiVersion, _ = scalar(get(n, "apiVersion"))
	kind, _ = scalar(get(n, "kind"))
	return apiVersion, kind
}
