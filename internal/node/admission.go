package node

import (
	"fmt"
	"path/filepath"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// AdmissionConfig is an AdmissionConfiguration file: which plugins it
// configures and, for PodSecurity, the cluster-wide default levels.
type AdmissionConfig struct {
	Loc finding.Location
	// Plugins maps each configured plugin to where it is named.
	Plugins map[string]finding.Location
	// PodSecurityEnforce is the default enforce level of the PodSecurity
	// configuration ("" when the file does not configure PodSecurity, and
	// "privileged" when its defaults leave enforce unset, as upstream).
	PodSecurityEnforce string
	PodSecurityLoc     finding.Location
}

// readAdmissionConfig reads an AdmissionConfiguration; files its plugins
// name by path are read relative to it, as the API server does.
func (n *Node) readAdmissionConfig(path string) (*AdmissionConfig, error) {
	display := n.Host.Display(path)
	data, st, err := readFile(path)
	if err != nil {
		return nil, err
	}
	root, err := parseYAML(data)
	if err != nil {
		return nil, err
	}
	apiVersion, kind := header(root)
	if kind != "AdmissionConfiguration" || (apiVersion != "apiserver.config.k8s.io/v1" && apiVersion != "apiserver.k8s.io/v1alpha1") {
		return nil, fmt.Errorf("not an AdmissionConfiguration (apiVersion %q, kind %q)", apiVersion, kind)
	}
	n.addFile(path, RoleAdmission, st)
	ac := &AdmissionConfig{Loc: finding.Location{File: display}, Plugins: map[string]finding.Location{}}
	for _, p := range items(get(root, "plugins")) {
		name, _ := scalar(get(p, "name"))
		loc := finding.Location{File: display, Line: p.Line, Column: p.Column}
		ac.Plugins[name] = loc
		if name != "PodSecurity" {
			continue
		}
		cfg, cfgFile := get(p, "configuration"), display
		if rel, ok := scalar(get(p, "path")); ok && rel != "" && cfg == nil {
			if !filepath.IsAbs(rel) {
				rel = filepath.Join(filepath.Dir(display), rel)
			}
			d, _, err := readFile(n.Host.Path(rel))
			if err != nil {
				return nil, fmt.Errorf("PodSecurity configuration %s: %w", rel, err)
			}
			if cfg, err = parseYAML(d); err != nil {
				return nil, fmt.Errorf("PodSecurity configuration %s: %w", rel, err)
			}
			cfgFile = rel
		}
		ac.PodSecurityEnforce, ac.PodSecurityLoc = "privileged", loc
		if e := keyNode(get(cfg, "defaults"), "enforce"); e != nil {
			ac.PodSecurityEnforce, _ = scalar(get(get(cfg, "defaults"), "enforce"))
			ac.PodSecurityLoc = finding.Location{File: cfgFile, Line: e.Line, Column: e.Column}
		}
	}
	return ac, nil
}
