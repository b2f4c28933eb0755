// Package config reads .kubeguard.yaml: which checks run, at what severity,
// with which parameters, and which objects are exempt from which checks.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kubeguard/kubeguard/internal/finding"
	"gopkg.in/yaml.v3"
)

// FileName is the name kubeguard looks for, walking up from the scanned
// paths.
const FileName = ".kubeguard.yaml"

// Config is a parsed .kubeguard.yaml.
type Config struct {
	// Path is the file the configuration came from.
	Path string `yaml:"-"`

	Checks     Checks      `yaml:"checks"`
	Parameters Parameters  `yaml:"parameters"`
	Exemptions []Exemption `yaml:"exemptions"`
	// Exclude are globs of paths kubeguard scan skips when it walks a
	// directory (as --exclude).
	Exclude []string `yaml:"exclude"`
}

// Checks selects checks and overrides their severities.
type Checks struct {
	// Disable lists check IDs (or globs such as "pss-*") not to run.
	Disable []string `yaml:"disable"`
	// Severity overrides a check's severity.
	Severity map[string]finding.Severity `yaml:"severity"`
}

// Parameters tune checks that take them.
type Parameters struct {
	AllowedRegistries []string `yaml:"allowedRegistries"`
	TrustedHostPaths  []string `yaml:"trustedHostPaths"`
}

// Exemption exempts matching objects from some checks. Every field but
// Checks, Reason and Expires is a glob ("*" by default); all must match.
type Exemption struct {
	Checks    []string `yaml:"checks"`
	Namespace string   `yaml:"namespace"`
	Kind      string   `yaml:"kind"`
	Name      string   `yaml:"name"`
	Container string   `yaml:"container"`
	// ServiceAccount and Image scope an exemption to pods running as a
	// ServiceAccount and to containers running an image (globs). Only a
	// front that knows both, the admission webhook, applies such an
	// exemption (MatchesSubject); Matches never does, so that a scan cannot
	// widen it to every image.
	ServiceAccount string `yaml:"serviceAccount"`
	Image          string `yaml:"image"`
	// Reason is required: an exemption nobody can explain is a finding.
	Reason string `yaml:"reason"`
	// Expires, when set, is the last day (YYYY-MM-DD, UTC) the exemption
	// applies.
	Expires string `yaml:"expires"`

	// Line is where the exemption starts in the file.
	Line    int       `yaml:"-"`
	expires time.Time // zero when Expires is unset
}

// Expired reports whether the exemption has expired at now.
func (e *Exemption) Expired(now time.Time) bool {
	return !e.expires.IsZero() && now.After(e.expires)
}

// Matches reports whether the exemption covers a finding of check id on
// object (kind, namespace, name) for the given containers. A finding
// about several containers is covered only when the container glob covers
// every one of them; a container glob never covers a pod-level finding.
func (e *Exemption) Matches(id, kind, namespace, name string, containers []string) bool {
	if e.ServiceAccount != "" || e.Image != "" {
		return false
	}
	return e.matches(id, kind, namespace, name, containers)
}

func (e *Exemption) matches(id, kind, namespace, name string, containers []string) bool {
	if !slices.ContainsFunc(e.Checks, func(g string) bool { return glob(g, id) }) ||
		!glob(e.Kind, kind) || !glob(e.Namespace, namespace) || !glob(e.Name, name) {
		return false
	}
	if e.Container == "" || e.Container == "*" {
		return true
	}
	if len(containers) == 0 {
		return false
	}
	for _, c := range containers {
		if !glob(e.Container, c) {
			return false
		}
	}
	return true
}

// glob matches shell-style patterns; an empty pattern matches anything.
func glob(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

// Find looks for FileName in the directory of each path and its parents
// up to the root of the repository the path is in (the first directory
// holding .git), and returns the first found ("" when none). A file in a
// directory above the repository (/tmp, $HOME, a CI runner's workspace)
// belongs to someone else and would silently disable checks, so it is
// never used. Outside a repository only the path's own directory and the
// working directory, when it holds the path, are searched. Standard input
// ("-") starts from the working directory.
func Find(paths []string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for _, p := range paths {
		dir := p
		if p == "-" {
			dir = "."
		} else if info, err := os.Stat(p); err == nil && !info.IsDir() {
			dir = filepath.Dir(p)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", err
		}
		if f := find(abs, wd); f != "" {
			return f, nil
		}
	}
	return "", nil
}

// find searches from dir up to its repository's root; outside a
// repository, dir and wd (when an ancestor of dir) only.
func find(dir, wd string) string {
	var found []string // candidates, nearest first
	for d := dir; ; {
		candidate := filepath.Join(d, FileName)
		if info, err := os.Stat(candidate); err == nil && info.Mode().IsRegular() {
			found = append(found, candidate)
		}
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			// The repository's root (.git is a directory, or a file in a
			// worktree or submodule): the search ends here.
			if len(found) > 0 {
				return found[0]
			}
			return ""
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	for _, f := range found {
		if d := filepath.Dir(f); d == dir || d == wd && within(dir, wd) {
			return f
		}
	}
	return ""
}

// within reports whether dir is root or under it.
func within(dir, root string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Load reads and validates a configuration file. known reports whether a
// check ID exists; unknown keys, unknown check IDs, exemptions without a
// reason and malformed dates are errors naming the file and line.
func Load(file string, known func(id string) bool) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, data, known)
}

// Parse is Load on bytes already read.
func Parse(file string, data []byte, known func(id string) bool) (*Config, error) {
	c := &Config{Path: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, decodeError(file, &root, err)
	}
	lines := exemptionLines(&root)
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
	}
	checkIDs := func(line int, what string, ids []string) {
		for _, id := range ids {
			if strings.ContainsAny(id, "*?[") {
				if _, err := path.Match(id, ""); err != nil {
					bad(line, "%s: bad pattern %q", what, id)
				}
				continue
			}
			if !known(id) {
				bad(line, "%s: unknown check %q (see kubeguard checks)", what, id)
			}
		}
	}
	checkIDs(keyLine(&root, "checks", "disable"), "checks.disable", c.Checks.Disable)
	for id := range c.Checks.Severity {
		checkIDs(keyLine(&root, "checks", "severity"), "checks.severity", []string{id})
	}
	for _, g := range c.Exclude {
		// A pattern path.Match cannot use would exclude nothing, silently.
		if _, err := path.Match(filepath.ToSlash(g), ""); err != nil {
			bad(keyLine(&root, "exclude"), "exclude: bad pattern %q", g)
		}
	}
	for i := range c.Exemptions {
		e := &c.Exemptions[i]
		if i < len(lines) {
			e.Line = lines[i]
		}
		if len(e.Checks) == 0 {
			bad(e.Line, "exemption: checks is required (IDs or globs)")
		}
		checkIDs(e.Line, "exemption", e.Checks)
		if strings.TrimSpace(e.Reason) == "" {
			bad(e.Line, "exemption: reason is required")
		}
		for _, g := range []string{e.Namespace, e.Kind, e.Name, e.Container, e.ServiceAccount, e.Image} {
			if _, err := path.Match(g, ""); err != nil {
				bad(e.Line, "exemption: bad pattern %q", g)
			}
		}
		if e.Expires != "" {
			t, err := time.Parse(time.DateOnly, e.Expires)
			if err != nil {
				bad(e.Line, "exemption: expires %q is not a date (YYYY-MM-DD)", e.Expires)
				continue
			}
			e.expires = t.Add(24*time.Hour - time.Nanosecond) // through the end of that day
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// keyLine finds the line of a nested key, or 1.
func keyLine(root *yaml.Node, keys ...string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 1
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

func exemptionLines(root *yaml.Node) []int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "exemptions" && n.Content[i+1].Kind == yaml.SequenceNode {
			var lines []int
			for _, e := range n.Content[i+1].Content {
				lines = append(lines, e.Line)
			}
			return lines
		}
	}
	return nil
}

// Disabled reports whether a check is disabled.
func (c *Config) Disabled(id string) bool {
	return slices.ContainsFunc(c.Checks.Disable, func(g string) bool { return glob(g, id) })
}
