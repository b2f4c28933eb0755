package cli

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/run"
)

// The rbac commands over an input with several file sets (rbac.View):
// each answer is worked out in every file set, and what holds in all of
// them is printed once, as for an input with one; what does not is
// labelled with the file sets it holds in.

// decisionJSON is a can-i answer in JSON output.
type decisionJSON struct {
	Allowed   bool             `json:"allowed"`
	Reason    string           `json:"reason,omitempty"`
	User      *rbac.User       `json:"user,omitempty"`
	Request   *rbac.Attributes `json:"request,omitempty"`
	Superuser bool             `json:"superuser,omitempty"`
	Grants    []grantJSON      `json:"grants"`
	Notes     []string         `json:"notes,omitempty"`
	// FileSets are the file sets the answer holds in, when they differ.
	FileSets []string `json:"fileSets,omitempty"`
}

// writeDecisions writes the answer of each view (one decision each):
// once when every file set answers alike, else each distinct answer with
// the file sets it holds in, after a line that sums them up
// ("envs/prod: yes; envs/staging: no").
func writeDecisions(w io.Writer, format string, u rbac.User, a rbac.Attributes, ds []rbac.Decision, in *run.RBACInput) error {
	if len(ds) == 1 {
		return writeDecision(w, format, u, a, ds[0], in)
	}
	type answer struct {
		text    []byte
		allowed bool
		sets    []string
	}
	var answers []*answer
	by := map[string]*answer{}
	for i, d := range ds {
		var buf bytes.Buffer
		if err := writeDecision(&buf, format, u, a, d, in); err != nil {
			return err
		}
		k := buf.String()
		if by[k] == nil {
			by[k] = &answer{text: buf.Bytes(), allowed: d.Allowed}
			answers = append(answers, by[k])
		}
		by[k].sets = append(by[k].sets, in.Views[i].Name)
	}
	if len(answers) == 1 {
		_, err := w.Write(answers[0].text)
		return err
	}
	word := func(allowed bool) string {
		if allowed {
			return "yes"
		}
		return "no"
	}
	if format == "json" {
		out := struct {
			Allowed  bool            `json:"allowed"`
			User     rbac.User       `json:"user"`
			Request  rbac.Attributes `json:"request"`
			FileSets []decisionJSON  `json:"fileSets"`
		}{Allowed: true, User: u, Request: a}
		for _, an := range answers {
			var d decisionJSON
			if err := json.Unmarshal(an.text, &d); err != nil {
				return err
			}
			d.User, d.Request, d.FileSets = nil, nil, an.sets
			out.Allowed = out.Allowed && d.Allowed
			out.FileSets = append(out.FileSets, d)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	// The first line is yes or no when every file set says so, as for an
	// input with one, through whichever grants.
	sum := make([]string, len(answers))
	agree := true
	for i, an := range answers {
		sum[i] = strings.Join(an.sets, ", ") + ": " + word(an.allowed)
		agree = agree && an.allowed == answers[0].allowed
	}
	if agree {
		sum = []string{word(answers[0].allowed)}
	}
	fmt.Fprintln(w, strings.Join(sum, "; "))
	fmt.Fprintln(w, "  (the input defines names in separate file sets, each answered with its own objects; see kubeguard rbac --help)")
	for _, an := range answers {
		// The answer's own first line, yes or no, is in the label.
		_, rest, _ := bytes.Cut(an.text, []byte("\n"))
		fmt.Fprintf(w, "%s: %s\n", strings.Join(an.sets, ", "), word(an.allowed))
		if _, err := w.Write(rest); err != nil {
			return err
		}
	}
	return nil
}

// whoCanViews asks who-can in every view, and returns each distinct grant
// once, in the order first found, with the file sets it holds in ("" for
// all): sets is nil when every grant holds in every file set, as it does
// for an input with one.
func whoCanViews(views []rbac.View, a rbac.Attributes, anyNamespace bool) ([]rbac.SubjectGrant, []string) {
	if len(views) == 1 {
		return rbac.NewAuthorizer(views[0].Policy).WhoCan(a, anyNamespace), nil
	}
	var (
		grants []rbac.SubjectGrant
		in     [][]string
		index  = map[string]int{}
	)
	for _, v := range views {
		for _, g := range rbac.NewAuthorizer(v.Policy).WhoCan(a, anyNamespace) {
			// The same grant of two views is the same subject, namespace,
			// binding, role and rule, written in the same places.
			data, _ := json.Marshal(toGrantJSON(g.Grant))
			k := g.Subject.String() + "\x00" + g.Namespace + "\x00" + string(data)
			i, ok := index[k]
			if !ok {
				i = len(grants)
				index[k] = i
				grants = append(grants, g)
				in = append(in, nil)
			}
			in[i] = append(in[i], v.Name)
		}
	}
	// In the authorizer's order, as each view lists them: bindings by
	// namespace (ClusterRoleBindings first) and name, subjects in order.
	order := make([]int, len(grants))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		x, y := grants[i].Grant, grants[j].Grant
		return cmp.Or(cmp.Compare(x.Binding.Namespace, y.Binding.Namespace), cmp.Compare(x.Binding.Name, y.Binding.Name), cmp.Compare(x.Subject, y.Subject))
	})
	sorted, sortedIn := make([]rbac.SubjectGrant, len(grants)), make([][]string, len(grants))
	for i, k := range order {
		sorted[i], sortedIn[i] = grants[k], in[k]
	}
	grants, in = sorted, sortedIn
	sets := make([]string, len(grants))
	partial := false
	for i, names := range in {
		if len(names) < len(views) {
			sets[i], partial = strings.Join(names, ", "), true
		}
	}
	if !partial {
		return grants, nil
	}
	return grants, sets
}

// writePathViews writes the hops of every view, each distinct hop once,
// labelled with the file sets it holds in when not all; the header counts
// the distinct subjects that reach cluster-admin power in some file set.
// Unlike writePaths it holds the output in memory, which only inputs with
// several file sets pay.
func writePathViews(w io.Writer, format string, views []rbac.View, note string) error {
	type hop struct {
		h    rbac.Hop
		by   map[rbac.Identity]*rbac.Hop
		j    hopJSON
		sets []string
	}
	var hops []*hop
	index := map[string]*hop{}
	starts := map[rbac.Identity]bool{}
	for _, v := range views {
		hs := rbac.Hops(v.Policy)
		by := make(map[rbac.Identity]*rbac.Hop, len(hs))
		for i := range hs {
			by[hs[i].Subject] = &hs[i]
		}
		for _, h := range hs {
			j := toHopJSON(h, by)
			data, err := json.Marshal(j)
			if err != nil {
				return err
			}
			x := index[string(data)]
			if x == nil {
				x = &hop{h: h, by: by, j: j}
				index[string(data)] = x
				hops = append(hops, x)
			}
			x.sets = append(x.sets, v.Name)
			if h.Start {
				starts[h.Subject] = true
			}
		}
	}
	label := func(x *hop) string {
		if len(x.sets) == len(views) {
			return ""
		}
		return strings.Join(x.sets, ", ")
	}
	if format == "json" {
		out := struct {
			BuiltinRoles bool      `json:"builtinRoles"`
			FileSets     []string  `json:"fileSets"`
			Hops         []hopJSON `json:"hops"`
		}{BuiltinRoles: strings.Contains(note, "included"), Hops: []hopJSON{}}
		for _, v := range views {
			out.FileSets = append(out.FileSets, v.Name)
		}
		for _, x := range hops {
			if label(x) != "" {
				x.j.FileSets = x.sets
			}
			out.Hops = append(out.Hops, x.j)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if note != "" {
		note = "(" + note + ")\n"
	}
	sets := fmt.Sprintf("(the input defines names in separate file sets, each analysed with its own objects: %s)\n", rbac.ViewNames(views))
	if len(starts) == 0 {
		_, err := fmt.Fprintf(w, "no subject of the input can reach cluster-admin power in any file set\n%s%s", note, sets)
		return err
	}
	fmt.Fprintf(w, "%d %s of the input can reach cluster-admin power in some file set.\n%s%s", len(starts), plural(len(starts), "subject", "subjects"), note, sets)
	for _, x := range hops {
		writeHop(w, x.h, x.by, label(x))
	}
	return nil
}
