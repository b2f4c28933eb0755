package node

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// readStaticPod reads the command lines of the components a static pod
// manifest runs. file is the path shown in reports. A Pod that runs none
// of the components gives none and no error; a file that is not a Pod is
// an error.
func readStaticPod(file string, root *yaml.Node) ([]*CommandLine, error) {
	apiVersion, kind := header(root)
	if kind != "Pod" || apiVersion != "v1" {
		return nil, fmt.Errorf("not a v1 Pod (apiVersion %q, kind %q)", apiVersion, kind)
	}
	name, _ := scalar(at(root, "metadata", "name"))
	ns, _ := scalar(at(root, "metadata", "namespace"))
	if ns == "" {
		ns = "kube-system"
	}
	var out []*CommandLine
	for _, c := range items(at(root, "spec", "containers")) {
		var toks []token
		for _, key := range []string{"command", "args"} {
			for _, it := range items(get(c, key)) {
				if v, ok := scalar(it); ok {
					toks = append(toks, token{v, finding.Location{File: file, Line: it.Line, Column: it.Column}})
				}
			}
		}
		cname, _ := scalar(get(c, "name"))
		comp, rest := componentOfContainer(cname, len(items(get(c, "command"))) > 0, toks)
		if comp == "" {
			continue
		}
		image, _ := scalar(get(c, "image"))
		loc := finding.Location{File: file}
		if k := keyNode(c, "command"); k != nil {
			loc.Line, loc.Column = k.Line, k.Column
		} else if k := keyNode(c, "args"); k != nil {
			loc.Line, loc.Column = k.Line, k.Column
		}
		out = append(out, &CommandLine{
			Component: comp,
			Container: cname,
			Ref:       finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: name},
			Loc:       loc,
			Version:   imageVersion(image),
			Args:      parseArgs(rest),
		})
	}
	return out, nil
}

// componentOfContainer names the component a container runs, from its
// command and args (toks), and returns the words after the program. The
// program may come after a wrapper (/bin/sh -c is not followed: its script
// is one word). kubeadm's manifests name the program; some distributions
// give only args and name the container after it.
func componentOfContainer(name string, hasCommand bool, toks []token) (string, []token) {
	for i, t := range toks {
		if comp := componentOf(firstWord(t.text)); comp != "" {
			return comp, toks[i+1:]
		}
	}
	if comp := componentOf(name); comp != "" && !hasCommand {
		return comp, toks
	}
	return "", nil
}

// readProcCmdline reads a command line in the form of /proc/PID/cmdline:
// words ended by NUL bytes, the program first.
func readProcCmdline(file string, data []byte) (*CommandLine, error) {
	words := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
	if len(words) == 0 {
		return nil, fmt.Errorf("empty command line")
	}
	comp := componentOf(words[0])
	if comp == "" {
		return nil, fmt.Errorf("%q is not a component kubeguard node judges", words[0])
	}
	toks := make([]token, 0, len(words)-1)
	for _, w := range words[1:] {
		toks = append(toks, token{w, finding.Location{File: file}})
	}
	return &CommandLine{
		Component: comp,
		Ref:       finding.ObjectRef{APIVersion: "kubeguard.io/v1", Kind: "Process", Name: comp},
		Loc:       finding.Location{File: file},
		Args:      parseArgs(toks),
	}, nil
}

// firstWord returns the first space-separated word of s, or "".
func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}
