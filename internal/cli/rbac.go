package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/run"
	rbacv1 "k8s.io/api/rbac/v1"
)

// RBACOptions are the flags of the kubeguard rbac commands.
type RBACOptions struct {
	// Files are files, directories and - for standard input.
	Files []string
	// NoDefaults leaves the API server's built-in roles and bindings out
	// of the analysis, which includes them otherwise, as every cluster
	// has them.
	NoDefaults bool
	// Namespace of the request (can-i, who-can); "default" when unset.
	// For paths and risks, the namespace of namespaced objects that name
	// none, as kubectl apply -n gives it.
	Namespace     string
	AllNamespaces bool
	// As, AsServiceAccount (NS/NAME) and AsGroups name who asks (can-i).
	As               string
	AsServiceAccount string
	AsGroups         []string
	Format           string
	Output           string
	FailOn           string
	// Config and Baseline are the configuration file and the baseline
	// report (risks), as scan takes them.
	Config, Baseline string
	// AllowEmpty accepts input with no Kubernetes object in it.
	AllowEmpty bool
	// Cluster reads the RBAC state of a live cluster instead of files.
	Cluster bool
	Connect ConnectOptions
	// wrap, when set, hooks the connection (tests audit requests).
	wrap func(*cluster.Connection)
	// objectNamespace is Namespace for the commands where -n places
	// objects (paths, risks).
	objectNamespace string
}

const rbacUsage = `Usage: kubeguard rbac <command> -f PATH... [flags]

Analyses RBAC offline, from manifests: Roles, ClusterRoles, their bindings,
and the ServiceAccounts, Secrets (metadata only) and workloads they concern.
Rules are matched as the API server's RBAC authorizer matches them, and
aggregated ClusterRoles get the rules the aggregation controller would give
them. Members of system:masters are allowed everything, as the API server
allows them before RBAC is asked; the Node authorizer is not modelled.

Commands:
  can-i     VERB RESOURCE[.GROUP][/SUB] [NAME] --as USER | --as-sa NS/NAME
            whether the identity may, and the binding, role and rule that allow it
  who-can   VERB RESOURCE[.GROUP][/SUB] [NAME]
            every subject that may, with the grant
  risks     findings for the privilege escalation risks of the Kubernetes
            RBAC good practices (same formats and exit status as scan)
  paths     for each subject of the input, the shortest chain of identities
            it can take over that ends in cluster-admin power

Input (every command): -f/--filename PATH, repeatable: files, directories
(searched recursively for .yaml, .yml and .json) and - for standard input;
or --cluster (with --kubeconfig, --context) to read a live cluster, its
Secrets as metadata only.
Namespaced objects without a namespace are taken to be in "default" (paths
and risks: in the namespace of -n, as kubectl apply -n puts them).
The API server's built-in roles and bindings (cluster-admin, admin, edit,
view, system:*) are part of every analysis of files, as they are of every
cluster; --no-defaults leaves them out.

Copies of one object in several files are never merged. When the input
defines a kind/namespace/name twice in different files (envs/prod/rbac.yaml
and envs/staging/rbac.yaml both defining ClusterRole app), the files below
the directory where the copies part are separate file sets (envs/prod,
envs/staging), as scan parts them, and each set is analysed on its own,
with the objects of its files, of the directories above it and of files in
no set (envs/base.yaml), and the built-in roles. A warning names both
copies. risks reports each finding once (a shared binding judged otherwise
by each set's role says in which set); can-i answers "envs/prod: no;
envs/staging: yes" when the sets disagree, then each set's answer (exit 0
only when every set says yes); who-can and paths label what holds in some
sets only with those sets. Copies within one file set (one file, or files
no copy parts) are applied in order, the last one winning, as kubectl apply
leaves them, with a warning. See docs/rbac.md.

Examples:
  kubeguard rbac can-i list secrets --as-sa ci/deployer -n prod -f deploy/
  kubeguard rbac who-can create pods/exec -A -f deploy/
  kubeguard rbac risks -f deploy/
  kubeguard rbac paths --cluster --context prod

Run 'kubeguard rbac <command> --help' for a command's flags.
`

func runRBAC(ctx context.Context, args []string, io IO) int {
	defer run.CollectAt(run.RBACGCPercent)()
	return runGroup(ctx, "rbac", rbacUsage, []subcommand{
		{"can-i", runCanI}, {"who-can", runWhoCan}, {"risks", runRisks}, {"paths", runPaths},
	}, args, io)
}

// objectNamespaceFlags adds -n for the commands where it places objects.
func objectNamespaceFlags(fs *flagSet, o *RBACOptions) {
	fs.StringVarP(&o.objectNamespace, "namespace", "n", "", "`namespace` of namespaced objects without one, as kubectl apply -n gives it (default \"default\")")
}

// rbacFlags makes the flag set of an rbac command with the input flags.
func rbacFlags(name, usage string, o *RBACOptions) *flagSet {
	fs := newFlags("rbac "+name, usage)
	fs.StringArrayVarP(&o.Files, "filename", "f", nil, "manifest `path` to read (repeatable; - for standard input)")
	fs.BoolVar(&o.NoDefaults, "no-defaults", false, "leave the API server's built-in roles and bindings out of the analysis")
	// The built-in roles used to come only with --with-defaults: the flag
	// stays accepted, and changes nothing.
	fs.BoolFunc("with-defaults", "include the built-in roles and bindings (the default; kept for compatibility)", func(string) error { return nil })
	fs.BoolVar(&o.AllowEmpty, "allow-empty", false, "accept -f input that holds no Kubernetes object (an error otherwise)")
	fs.BoolVar(&o.Cluster, "cluster", false, "read the live cluster (see kubeguard cluster --help) instead of files")
	connectFlags(fs, &o.Connect)
	return fs
}

func requestFlags(fs *flagSet, o *RBACOptions) {
	fs.StringVarP(&o.Namespace, "namespace", "n", "", "`namespace` of the request (default \"default\"; ignored for cluster-scoped resources)")
	fs.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "all namespaces (see above)")
	fs.formatFlag(&o.Format, "text", "output `format`: text or json")
}

// loadRBAC reads the input the flags name and builds the policy.
func loadRBAC(ctx context.Context, o *RBACOptions, stdin io.Reader, stderr io.Writer) (*run.RBACInput, error) {
	if o.Cluster || o.Connect.Kubeconfig != "" || o.Connect.Context != "" {
		if len(o.Files) > 0 {
			return nil, errors.New("-f and --cluster exclude each other")
		}
		return loadRBACLive(ctx, o, stderr)
	}
	if len(o.Files) == 0 {
		return nil, errors.New("no input: give manifests with -f PATH (- for standard input), or --cluster")
	}
	in, err := run.LoadRBAC(ctx, o.Files, stdin, !o.NoDefaults, o.objectNamespace)
	if err == nil && len(in.Objects) == 0 && len(in.Errors) == 0 && !o.AllowEmpty {
		// As scan: an answer about nothing is a mistyped path in CI.
		return nil, fmt.Errorf("no Kubernetes object found in %s (--allow-empty accepts that)", strings.Join(quoted(o.Files), ", "))
	}
	return in, err
}

// defaultsNote says whether the built-in roles are in the analysis, for
// outputs to say.
func defaultsNote(p *rbac.Policy) string {
	if p.DefaultsLoaded {
		return "the API server's built-in roles are included; --no-defaults leaves them out"
	}
	return "the API server's built-in roles are left out, as --no-defaults asks"
}

// warn prints input errors and warnings to standard error.
func warn(w io.Writer, in *run.RBACInput) {
	for _, e := range in.Errors {
		fmt.Fprintf(w, "kubeguard: %s\n", e.Error())
	}
	for _, e := range in.Policy.Warnings {
		fmt.Fprintf(w, "kubeguard: warning: %s\n", e.Error())
	}
}

// loadRequest loads the input, says its problems on stderr, and turns
// VERB RESOURCE [NAME] into attributes, warning when the resource is not
// recognised: the start of can-i and who-can.
func loadRequest(ctx context.Context, o *RBACOptions, pos []string, stdin io.Reader, stderr io.Writer) (*run.RBACInput, rbac.Attributes, error) {
	in, err := loadRBAC(ctx, o, stdin, stderr)
	if err != nil {
		return nil, rbac.Attributes{}, err
	}
	warn(stderr, in)
	a, warning, err := request(in.Policy, o, pos)
	if err != nil {
		return nil, a, err
	}
	if warning != "" {
		fmt.Fprintf(stderr, "kubeguard: warning: %s\n", warning)
	}
	return in, a, nil
}

// request turns VERB RESOURCE [NAME] into attributes. The warning, when
// not empty, says the resource was not recognised.
func request(p *rbac.Policy, o *RBACOptions, pos []string) (a rbac.Attributes, warning string, err error) {
	const want = "want VERB RESOURCE[.GROUP][/SUBRESOURCE] [NAME], or VERB /URL"
	switch {
	case len(pos) == 0:
		return a, "", errors.New(want)
	case len(pos) == 1:
		return a, "", fmt.Errorf("no resource after the verb %q: %s", pos[0], want)
	case len(pos) > 3:
		return a, "", fmt.Errorf("unexpected argument %q: %s", pos[3], want)
	}
	name := ""
	if len(pos) == 3 {
		name = pos[2]
	}
	ns := o.Namespace
	switch {
	case o.AllNamespaces && ns != "":
		return a, "", errors.New("-n and -A exclude each other")
	case o.AllNamespaces:
	case ns == "":
		ns = rbac.DefaultNamespace
	}
	a, err = p.Request(pos[0], pos[1], name, ns)
	if err != nil {
		return a, "", err
	}
	var warnings []string
	if w := verbWarning(a); w != "" {
		warnings = append(warnings, w)
	}
	if base, _, _ := strings.Cut(pos[1], "/"); a.ResourceRequest && !strings.Contains(base, ".") {
		if _, known := p.Namespaced(a.APIGroup, a.Resource); !known {
			warnings = append(warnings, fmt.Sprintf("%q is neither a built-in resource nor one of a CustomResourceDefinition of the input: asked for in the core API group (write RESOURCE.GROUP for another)", a.Resource))
		}
	}
	return a, strings.Join(warnings, "\nkubeguard: warning: "), nil
}

// resourceVerbs are the verbs the API server authorizes resource requests
// with: the standard ones (kubectl api-resources -o wide), proxy (the
// legacy /api/v1/proxy paths), and the special ones of the Kubernetes
// authorization documentation (use, bind, escalate, impersonate, approve,
// sign, attest).
var resourceVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "proxy",
	"use", "bind", "escalate", "impersonate", "approve", "sign", "attest", "*"}

// nonResourceVerbs are the verbs of non-resource requests: the HTTP
// method, lowercased.
var nonResourceVerbs = []string{"get", "head", "options", "post", "put", "patch", "delete", "*"}

// verbWarning says when a request's verb is none the API server
// authorizes for that kind of request: a typo that would otherwise answer
// no in silence. Rules may name any verb, so it is a warning, not an error.
func verbWarning(a rbac.Attributes) string {
	verbs := resourceVerbs
	if !a.ResourceRequest {
		verbs = nonResourceVerbs
	}
	if slices.Contains(verbs, a.Verb) {
		return ""
	}
	best, bestD := "", 3
	for _, v := range verbs {
		if d := editDistance(a.Verb, v); d < bestD {
			best, bestD = v, d
		}
	}
	msg := fmt.Sprintf("%q is not a verb the API server authorizes", a.Verb)
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	} else {
		msg += " (" + strings.Join(verbs[:len(verbs)-1], ", ") + ")"
	}
	return msg
}

// grantJSON is a grant in JSON output.
type grantJSON struct {
	Subject         rbac.Identity     `json:"subject"`
	Namespace       string            `json:"namespace,omitempty"`
	Binding         string            `json:"binding"`
	BindingLocation *finding.Location `json:"bindingLocation,omitempty"`
	Role            string            `json:"role"`
	Rule            int               `json:"rule"`
	RuleText        string            `json:"ruleText"`
	PolicyRule      rbacv1.PolicyRule `json:"policyRule"`
	// Builtin marks grants through the API server's built-in bindings or
	// roles, whose places in kubeguard's copy of them are not given.
	Builtin        bool              `json:"builtin,omitempty"`
	AggregatedFrom string            `json:"aggregatedFrom,omitempty"`
	RuleLocation   *finding.Location `json:"ruleLocation,omitempty"`
	Path           string            `json:"path"`
	// FileSets are the file sets the grant holds in, when the input has
	// several and it does not hold in all (see rbac.View).
	FileSets []string `json:"fileSets,omitempty"`
}

func toGrantJSON(g rbac.Grant) grantJSON {
	j := grantJSON{
		Subject: g.SubjectIdentity(), Namespace: g.Binding.Namespace,
		Binding: g.Binding.Ref(), Role: g.Role.Ref(), Rule: g.Rule, RuleText: rbac.RuleString(g.PolicyRule()),
		PolicyRule: *g.PolicyRule(), Builtin: g.Binding.Default || g.Source().Role.Default, Path: g.String(),
	}
	if g.Binding.Origin != nil && g.Binding.Origin.Source.File != rbac.DefaultsFile {
		loc := g.Binding.Origin.Source
		j.BindingLocation = &loc
	}
	src := g.Source()
	if src.Role != g.Role {
		j.AggregatedFrom = fmt.Sprintf("%s rules[%d]", src.Role.Ref(), src.Index)
	}
	if loc, ok := src.Location(); ok && loc.File != rbac.DefaultsFile {
		j.RuleLocation = &loc
	}
	return j
}

// writeGrant prints a grant on two or three lines.
func writeGrant(w io.Writer, indent string, g rbac.Grant) {
	j := toGrantJSON(g)
	fmt.Fprintf(w, "%s%s %s\n", indent, j.Path, j.RuleText)
	if j.BindingLocation != nil {
		fmt.Fprintf(w, "%s  binding at %s\n", indent, j.BindingLocation)
	}
	switch src := g.Source().Role; {
	case j.RuleLocation != nil:
		fmt.Fprintf(w, "%s  rule at %s\n", indent, j.RuleLocation)
	case src.Origin != nil && src.Origin.Source.File == rbac.DefaultsFile:
		fmt.Fprintf(w, "%s  rule of %s, built into the API server\n", indent, src.Ref())
	}
}

const canIUsage = `Usage: kubeguard rbac can-i VERB RESOURCE[.GROUP][/SUBRESOURCE] [NAME] (--as USER | --as-sa NS/NAME) [--as-group GROUP]... [-n NS | -A] -f PATH...
       kubeguard rbac can-i VERB /URL --as USER -f PATH...

Answers yes or no, and names every binding, role and rule that allow the
request. The identity is taken as authentication presents it: every user
but system:anonymous is in system:authenticated (system:anonymous is in
system:unauthenticated), and a ServiceAccount is in system:serviceaccounts
and system:serviceaccounts:<namespace>; --as-group adds groups. A resource
without a group is looked up among the built-in resources and the input's
CustomResourceDefinitions. The namespace defaults to "default", is dropped
for cluster-scoped resources, and for namespaces is the namespace's name.
-A asks for the request across all namespaces (list pods -A), which only
ClusterRoleBindings can allow.

Bindings to the built-in roles (admin, edit, view, system:*) resolve to the
API server's own rules; with --no-defaults they grant nothing, and can-i
says so when one applies.

When the input holds separate file sets (copies of one object in
envs/prod and envs/staging: see kubeguard rbac --help), each set is asked.
If they all answer alike through the same grants, the answer is printed
once, as for any input. Otherwise the first line is yes or no when every
set agrees, else each set's answer ("envs/prod: no; envs/staging: yes"),
and each distinct answer follows, labelled with its sets; -o json then has
"allowed" (true only when every set allows) and "fileSets", one answer per
group of sets. The exit status is 0 only when every set says yes.

Examples:
  # May the deployer ServiceAccount read Secrets in prod?
  kubeguard rbac can-i list secrets --as-sa ci/deployer -n prod -f deploy/
  # As a member of devs, through a binding to the built-in edit role:
  kubeguard rbac can-i create deployments.apps --as alice --as-group devs -n team-a -f rbac/
  # A subresource, a named object, and the answer as JSON:
  kubeguard rbac can-i create pods/exec web-0 --as bob -n shop -o json -f rbac/
  # Across all namespaces, which only ClusterRoleBindings can grant:
  kubeguard rbac can-i list pods -A --as alice -f rbac/
  # A non-resource URL:
  kubeguard rbac can-i get /healthz --as system:anonymous -f rbac/

Exit status: 0 yes, 1 no, 2 usage or input errors.
`

func runCanI(ctx context.Context, args []string, io IO) int {
	var o RBACOptions
	fs := rbacFlags("can-i", canIUsage, &o)
	requestFlags(fs, &o)
	fs.StringVar(&o.As, "as", "", "user `name` to ask for")
	fs.StringVar(&o.AsServiceAccount, "as-sa", "", "ServiceAccount to ask for, as `namespace/name`")
	fs.StringArrayVar(&o.AsGroups, "as-group", nil, "`group` of the user (repeatable)")
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if err := oneOf("output", o.Format, []string{"text", "json"}); err != nil {
		return fs.usageError(io, err)
	}
	var user rbac.User
	switch {
	case o.As != "" && o.AsServiceAccount != "":
		return fs.usageError(io, errors.New("--as and --as-sa exclude each other"))
	case o.AsServiceAccount != "":
		// namespace/name as every output writes it; namespace:name as the
		// user name system:serviceaccount:<namespace>:<name> ends.
		ns, name, ok := strings.Cut(o.AsServiceAccount, "/")
		if !ok {
			ns, name, ok = strings.Cut(o.AsServiceAccount, ":")
		}
		if !ok || ns == "" || name == "" || strings.ContainsAny(name, ":/") {
			return fs.usageError(io, fmt.Errorf("--as-sa %q: want NAMESPACE/NAME", o.AsServiceAccount))
		}
		user = rbac.Authenticated(rbac.ServiceAccountUsername(ns, name), o.AsGroups...)
	case o.As != "":
		user = rbac.Authenticated(o.As, o.AsGroups...)
	default:
		return fs.usageError(io, errors.New("say who asks: --as USER or --as-sa NAMESPACE/NAME"))
	}
	in, a, err := loadRequest(ctx, &o, pos, io.Stdin, io.Stderr)
	if err != nil {
		return fs.usageError(io, err)
	}
	ds := make([]rbac.Decision, len(in.Views))
	allowed := true
	for i, v := range in.Views {
		ds[i] = rbac.NewAuthorizer(v.Policy).Decide(user, a)
		allowed = allowed && ds[i].Allowed
	}
	if len(in.Errors) > 0 && !allowed {
		// RBAC only grants: what could not be read may hold the grant, so
		// "no" would be a guess. "yes" stays true and is printed.
		fmt.Fprintf(io.Stderr, "kubeguard rbac can-i: no answer: %d input %s (above), and a grant may be in what could not be read\n", len(in.Errors), plural(len(in.Errors), "error", "errors"))
		return ExitError
	}
	if err := buffered(io.Stdout, func(w *bufio.Writer) error { return writeDecisions(w, o.Format, user, a, ds, in) }); err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	switch {
	case len(in.Errors) > 0:
		return ExitError
	case allowed:
		return ExitOK
	}
	return ExitFindings
}

func writeDecision(w io.Writer, format string, u rbac.User, a rbac.Attributes, d rbac.Decision, in *run.RBACInput) error {
	p := in.Policy
	var notes []string
	if !in.Live {
		notes = append(notes, defaultsNote(p))
	}
	for _, b := range d.Unresolved {
		n := fmt.Sprintf("%s applies but refers to %s, which is not in the input", b.Ref(), b.RoleRefString())
		if !p.DefaultsLoaded && b.RoleRef.Kind == rbac.KindClusterRole {
			n += " (the built-in roles are left out: --no-defaults)"
		}
		notes = append(notes, n)
	}
	if slices.Contains(u.Groups, "system:nodes") {
		notes = append(notes, "the Node authorizer, which grants nodes more, is not modelled")
	}
	if format == "json" {
		out := decisionJSON{Allowed: d.Allowed, Reason: d.Reason(), User: &u, Request: &a, Superuser: d.Superuser, Grants: []grantJSON{}, Notes: notes}
		for _, g := range d.Grants {
			out.Grants = append(out.Grants, toGrantJSON(g))
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if d.Allowed {
		fmt.Fprintln(w, "yes")
	} else {
		fmt.Fprintln(w, "no")
	}
	fmt.Fprintf(w, "  %s as %s (groups %s)\n", a, u.Name, strings.Join(u.Groups, ", "))
	if d.Superuser {
		fmt.Fprintf(w, "  allowed: member of %s, which RBAC does not restrict\n", rbac.SystemMasters)
	}
	for _, g := range d.Grants {
		writeGrant(w, "  ", g)
	}
	for _, n := range notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	return nil
}

const whoCanUsage = `Usage: kubeguard rbac who-can VERB RESOURCE[.GROUP][/SUBRESOURCE] [NAME] [-n NS | -A] -f PATH...
       kubeguard rbac who-can VERB /URL -f PATH...

Lists every subject of a binding that allows the request, with the binding,
role and rule: ClusterRoleBindings, and RoleBindings of the namespace
("default" unless -n). -A searches the RoleBindings of every namespace,
each for the request made in its own namespace. Members of system:masters
can do everything and are always listed first.

When the input holds separate file sets (copies of one object in
envs/prod and envs/staging: see kubeguard rbac --help), each set is asked,
and a grant that holds in some sets only is listed with them (a FILE SETS
column; "fileSets" in JSON); grants of every set say "all".

Examples:
  # Who can read Secrets in prod?
  kubeguard rbac who-can get secrets -n prod -f deploy/
  # Who can exec into pods anywhere, the built-in roles included?
  kubeguard rbac who-can create pods/exec -A -f deploy/
  # Who can impersonate system:masters, as JSON?
  kubeguard rbac who-can impersonate groups system:masters -f deploy/ -o json
`

func runWhoCan(ctx context.Context, args []string, io IO) int {
	var o RBACOptions
	fs := rbacFlags("who-can", whoCanUsage, &o)
	requestFlags(fs, &o)
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if err := oneOf("output", o.Format, []string{"text", "json"}); err != nil {
		return fs.usageError(io, err)
	}
	in, a, err := loadRequest(ctx, &o, pos, io.Stdin, io.Stderr)
	if err != nil {
		return fs.usageError(io, err)
	}
	grants, sets := whoCanViews(in.Views, a, o.AllNamespaces)
	note := ""
	if !in.Live {
		note = defaultsNote(in.Policy)
	}
	if err := buffered(io.Stdout, func(w *bufio.Writer) error {
		return writeWhoCan(w, o.Format, termWidth(io.Stdout), a, o.AllNamespaces, grants, sets, note)
	}); err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	if len(in.Errors) > 0 {
		return ExitError
	}
	return ExitOK
}

// writeWhoCan writes the grants; sets, when not nil, says for each grant
// the file sets it holds in ("" for every one: see whoCanViews).
func writeWhoCan(w io.Writer, format string, width int, a rbac.Attributes, anyNamespace bool, grants []rbac.SubjectGrant, sets []string, note string) error {
	if format == "json" {
		out := struct {
			Request rbac.Attributes `json:"request"`
			// Superusers are always allowed.
			Superusers []rbac.Identity `json:"superusers"`
			Subjects   []grantJSON     `json:"subjects"`
			Note       string          `json:"note,omitempty"`
		}{Request: a, Superusers: []rbac.Identity{{Kind: "Group", Name: rbac.SystemMasters}}, Subjects: []grantJSON{}, Note: note}
		for i, g := range grants {
			j := toGrantJSON(g.Grant)
			if sets != nil && sets[i] != "" {
				j.FileSets = strings.Split(sets[i], ", ")
			}
			out.Subjects = append(out.Subjects, j)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	what := a.String()
	if anyNamespace && a.ResourceRequest && a.Namespace == "" {
		what = strings.TrimSuffix(what, " cluster-wide") + " in any namespace"
	}
	fmt.Fprintf(w, "who can %s:\n", what)
	if note != "" {
		fmt.Fprintf(w, "(%s)\n", note)
	}
	fmt.Fprintln(w)
	t := &table{}
	header := []string{"SUBJECT", "WHERE", "GRANT", "AT"}
	if sets != nil {
		header = append(header, "FILE SETS")
	}
	t.add(header...)
	row := func(cells []string, set string) {
		if sets != nil {
			if set == "" {
				set = "all"
			}
			cells = append(cells, set)
		}
		t.add(cells...)
	}
	row([]string{"Group " + rbac.SystemMasters, "cluster-wide", "superuser group, allowed before RBAC", ""}, "")
	for i, g := range grants {
		where := "cluster-wide"
		if g.Namespace != "" {
			where = "namespace " + g.Namespace
		}
		j := toGrantJSON(g.Grant)
		at := ""
		if j.RuleLocation != nil {
			at = j.RuleLocation.String()
		}
		set := ""
		if sets != nil {
			set = sets[i]
		}
		row([]string{g.Subject.String(), where, j.Path + " " + j.RuleText, at}, set)
	}
	if t.fits(width) {
		return t.write(w, 0)
	}
	// Too wide for the terminal: a grant cut short would hide which rule
	// allows, so each subject is a block instead of a row.
	for _, r := range t.rows[1:] {
		fmt.Fprintf(w, "%s  %s\n    %s\n", r[0], r[1], r[2])
		if r[3] != "" {
			fmt.Fprintf(w, "    rule at %s\n", r[3])
		}
		if len(r) > 4 {
			fmt.Fprintf(w, "    in file sets: %s\n", r[4])
		}
	}
	return nil
}

const risksUsage = `Usage: kubeguard rbac risks [-o text|json|sarif|junit] [--output-file FILE] [--fail-on SEVERITY] -f PATH...

Reports the privilege escalation risks named by the Kubernetes RBAC good
practices, as findings of the checks listed by 'kubeguard checks' in the
RBAC category: reading Secrets, creating workloads, PersistentVolumes,
nodes/proxy, escalate, bind, impersonate, issuing certificates, token
requests, admission webhooks, namespace changes, wildcards, cluster-admin,
system:masters, unauthenticated and all-authenticated bindings,
ClusterRoleBindings where RoleBindings would do, bindings to missing roles,
and workloads that mount the token of a powerful ServiceAccount.

Each finding names the subjects and the grant (binding -> role -> rule, with
where the rule is written) and points at the binding, or at the rule or the
workload. A grant is as severe as what it reaches: one that is a move on a
chain to cluster-admin power (see rbac paths) is critical when the move
reaches an identity holding that power and high further away, with the
chain's length in the finding; a workload is as severe as its token. The API server's built-in roles and bindings (label
kubernetes.io/bootstrapping=rbac-defaults, and the copy kubeguard includes
unless --no-defaults) are used to resolve grants but are not reported.
-n NAMESPACE puts namespaced objects without a namespace there, as kubectl
apply -n does, and refuses objects of another namespace as it does. The
configuration (--config, else the nearest .kubeguard.yaml above the -f
paths) disables checks, overrides severities and exempts findings, and
--baseline accepts known ones, as in scan.

Copies of one object in separate file sets (envs/prod and envs/staging:
see kubeguard rbac --help) never hide one another: each set is analysed on
its own and each finding reported once; a finding on an object several
sets share (envs/base.yaml) that holds in some of them only ends with the
file sets it holds in.

Exit status: 0 no finding at or above --fail-on, 1 such findings,
2 usage or input errors (unreadable files, invalid YAML, objects the API
server would reject, no Kubernetes object at all unless --allow-empty).

Examples:
  # Gate CI on high and critical risks in the manifests of a repository:
  kubeguard rbac risks -f deploy/
  # Fail on medium risks too, for manifests applied with kubectl apply -n shop:
  kubeguard rbac risks --fail-on medium -n shop -f deploy/
  # SARIF for code scanning:
  kubeguard rbac risks -f deploy/ -o sarif --output-file rbac.sarif
`

func runRisks(ctx context.Context, args []string, io IO) int {
	var o RBACOptions
	fs := rbacFlags("risks", risksUsage, &o)
	fs.formatFlag(&o.Format, "text", "output `format`: text, json, sarif or junit")
	fs.StringVar(&o.Output, "output-file", "", "write the report to `file` instead of standard output")
	failOnFlag(fs, &o.FailOn)
	fs.StringVar(&o.Config, "config", "", "configuration `file` (default: the nearest "+config.FileName+" above the -f paths): disabled checks, severity overrides, exemptions")
	fs.StringVar(&o.Baseline, "baseline", "", "JSON report `file` of accepted findings: only findings not in it fail")
	objectNamespaceFlags(fs, &o)
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return fs.usageError(io, fmt.Errorf("unexpected argument %q (give input with -f)", pos[0]))
	}
	failOn, err := severityFlag("fail-on", o.FailOn)
	if err != nil {
		return fs.usageError(io, err)
	}
	var searchFrom []string
	if !o.Cluster {
		searchFrom = o.Files
	}
	plan, err := run.Configure(rbac.Checks, checks.Known, run.Settings{ConfigFile: o.Config, SearchFrom: searchFrom, Baseline: o.Baseline, NoRBACDefaults: o.NoDefaults, Namespace: o.Namespace})
	if err != nil {
		return fs.usageError(io, err)
	}
	out, w, closeOut, err := openOutput(o.Format, o.Output, false, io.Stdout)
	if err != nil {
		return fs.usageError(io, err)
	}
	in, err := loadRBAC(ctx, &o, io.Stdin, io.Stderr)
	if err != nil {
		closeOut()
		return fs.usageError(io, err)
	}
	warn(io.Stderr, in)
	if !in.Live {
		fmt.Fprintf(io.Stderr, "kubeguard: %s\n", defaultsNote(in.Policy))
	}
	fds := rbac.RisksOf(in.Views)
	report.Sort(fds)
	r := &report.Report{Version: version(), Checks: plan.Checks, Objects: in.Objects, Findings: plan.Judge(fds), Errors: in.Errors, Config: plan.ConfigFile}
	if !writeReport(io.Stderr, out, w, closeOut, r) {
		return ExitError
	}
	return exitStatus(r, failOn)
}

const pathsUsage = `Usage: kubeguard rbac paths [-o text|json] [-n NAMESPACE] -f PATH...

For each subject of the input's bindings that is not one of the cluster's own
users or ServiceAccounts (system:* users, kube-system ServiceAccounts),
prints the shortest chain of identities it can take over that ends in
cluster-admin power: every verb on every resource through a
ClusterRoleBinding, system:masters, issuing client certificates, binding
cluster-admin or escalating a ClusterRole bound to it. Groups are subjects
too (system:authenticated, system:serviceaccounts:<ns>, ...): a chain of a
group is a chain of each of its members.

Moves: creating pods or pod controllers in a namespace runs as any of its
ServiceAccounts, and so do binding a role that runs pods there (bind with
create or update on rolebindings, from the same binding or not), escalating
a Role bound to the subject, and creating Secrets where it can read them (a
kubernetes.io/service-account-token Secret the token controller fills);
impersonation becomes its targets (groups only with a user to impersonate,
as the API server requires); reading Secrets yields the ServiceAccounts of
the legacy token Secrets in the input; serviceaccounts/token yields those
ServiceAccounts; pods/exec and pods/attach (create, or get: enough over
WebSocket before Kubernetes v1.35), pods/ephemeralcontainers and update on
pods (a new image) yield the ServiceAccounts of the input's pods and
workloads that mount a token, limited by resourceNames to Pods of those
names; nodes/proxy and mutating webhook configurations yield those of every
such pod; a pod that escapes to its node (where the namespace's Pod
Security level allows it, after relabelling the namespace, or through a
hostPath PersistentVolume) yields every token on the node. Subjects with no
chain are not listed.

Each identity on a chain is reported once, with its distance to power and
its next move (binding, role and rule that allow it, and where they are
written): a chain is read by following the next identity. The text output
also spells out the first identities of each subject's chain.

-n NAMESPACE puts namespaced objects without a namespace there, as kubectl
apply -n does, and refuses objects of another namespace as it does.

When the input holds separate file sets (copies of one object in
envs/prod and envs/staging: see kubeguard rbac --help), the chains of each
set are found in that set alone; an identity's next move that holds in
some sets only says in which ("in file sets:"; "fileSets" in JSON).

Exit status: 0, or 2 on usage or input errors. Use 'rbac risks' to gate CI.

Examples:
  kubeguard rbac paths -f deploy/
  # Manifests applied with kubectl apply -n shop:
  kubeguard rbac paths -n shop -f deploy/
  # Each subject's distance and next identity as JSON:
  kubeguard rbac paths -o json -f deploy/ | jq '.hops[] | select(.start) | [.summary, .distance]'
`

// stepJSON is a step of a chain in JSON output.
type stepJSON struct {
	From   rbac.Identity  `json:"from"`
	To     *rbac.Identity `json:"to,omitempty"`
	Action string         `json:"action"`
	Grants []grantJSON    `json:"grants"`
}

func runPaths(ctx context.Context, args []string, io IO) int {
	var o RBACOptions
	fs := rbacFlags("paths", pathsUsage, &o)
	fs.formatFlag(&o.Format, "text", "output `format`: text or json")
	objectNamespaceFlags(fs, &o)
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return fs.usageError(io, fmt.Errorf("unexpected argument %q (give input with -f)", pos[0]))
	}
	if err := oneOf("output", o.Format, []string{"text", "json"}); err != nil {
		return fs.usageError(io, err)
	}
	in, err := loadRBAC(ctx, &o, io.Stdin, io.Stderr)
	if err != nil {
		return fs.usageError(io, err)
	}
	warn(io.Stderr, in)
	note := ""
	if !in.Live {
		note = defaultsNote(in.Policy)
	}
	if err := buffered(io.Stdout, func(w *bufio.Writer) error {
		if len(in.Views) > 1 {
			return writePathViews(w, o.Format, in.Views, note)
		}
		return writePaths(w, o.Format, rbac.Hops(in.Policy), note)
	}); err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	if len(in.Errors) > 0 {
		return ExitError
	}
	return ExitOK
}

// plural picks the word for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// buffered calls write with a buffer in front of w: the text outputs are
// written a line or a cell at a time, and on an unbuffered standard
// output each is a system call (15,000 for the paths of 24,000 objects).
func buffered(w io.Writer, write func(*bufio.Writer) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// summaryHops is how many identities of a chain its summary spells out:
// the summaries stay bounded, however long the chains.
const summaryHops = 8

// chainSummary reads the start of a chain as its identities: User alice →
// ServiceAccount team-a/ci → cluster-admin, the identities past
// summaryHops counted.
func chainSummary(h rbac.Hop, by map[rbac.Identity]*rbac.Hop) string {
	parts := []string{h.Subject.String()}
	x := &h
	for x.Step.To != nil {
		if len(parts) == summaryHops {
			return strings.Join(parts, " → ") + fmt.Sprintf(" → … (%d more steps) → cluster-admin", x.Distance)
		}
		parts = append(parts, x.Step.To.String())
		x = by[*x.Step.To]
	}
	return strings.Join(append(parts, "cluster-admin"), " → ")
}

// hopJSON is an identity's next move in JSON output.
type hopJSON struct {
	Subject rbac.Identity `json:"subject"`
	// Start marks a subject of the input's bindings.
	Start bool `json:"start"`
	// Distance is the number of steps to cluster-admin power.
	Distance int `json:"distance"`
	// Summary is the chain's first identities, as text prints it.
	Summary string   `json:"summary"`
	Step    stepJSON `json:"step"`
	// FileSets are the file sets the hop holds in, when the input has
	// several and it does not hold in all (see rbac.View).
	FileSets []string `json:"fileSets,omitempty"`
}

// writePaths writes the hops, each as it is rendered: the JSON is
// streamed, one hop at a time, so that the output never sits in memory.
func writePaths(w io.Writer, format string, hops []rbac.Hop, note string) error {
	by := make(map[rbac.Identity]*rbac.Hop, len(hops))
	starts := 0
	for i := range hops {
		by[hops[i].Subject] = &hops[i]
		if hops[i].Start {
			starts++
		}
	}
	if format == "json" {
		bw := bufio.NewWriter(w)
		fmt.Fprintf(bw, "{\n  \"builtinRoles\": %t,\n  \"hops\": [", strings.Contains(note, "included"))
		for i, h := range hops {
			data, err := json.MarshalIndent(toHopJSON(h, by), "    ", "  ")
			if err != nil {
				return err
			}
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n    ")
			bw.Write(data)
		}
		if len(hops) > 0 {
			bw.WriteString("\n  ")
		}
		bw.WriteString("]\n}\n")
		return bw.Flush()
	}
	if note != "" {
		note = "(" + note + ")\n"
	}
	if starts == 0 {
		_, err := fmt.Fprintf(w, "no subject of the input can reach cluster-admin power\n%s", note)
		return err
	}
	subjects := "1 subject"
	if starts > 1 {
		subjects = fmt.Sprintf("%d subjects", starts)
	}
	fmt.Fprintf(w, "%s of the input can reach cluster-admin power.\n%s", subjects, note)
	for _, h := range hops {
		writeHop(w, h, by, "")
	}
	return nil
}

// toHopJSON is a hop as JSON output has it; by holds the hops of its
// chain.
func toHopJSON(h rbac.Hop, by map[rbac.Identity]*rbac.Hop) hopJSON {
	j := hopJSON{Subject: h.Subject, Start: h.Start, Distance: h.Distance, Summary: chainSummary(h, by),
		Step: stepJSON{From: h.Step.From, To: h.Step.To, Action: h.Step.Action, Grants: []grantJSON{}}}
	for _, g := range h.Step.Grants {
		j.Step.Grants = append(j.Step.Grants, toGrantJSON(g))
	}
	return j
}

// writeHop writes a hop as text output has it, with a line naming the
// file sets it holds in when sets is not empty; by holds the hops of its
// chain.
func writeHop(w io.Writer, h rbac.Hop, by map[rbac.Identity]*rbac.Hop, sets string) {
	steps := "1 step"
	if h.Distance > 1 {
		steps = fmt.Sprintf("%d steps", h.Distance)
	}
	on := ""
	if !h.Start {
		on = ", on the chains above"
	}
	fmt.Fprintf(w, "\n%s: %s%s\n  %s\n", h.Subject, steps, on, chainSummary(h, by))
	if sets != "" {
		fmt.Fprintf(w, "  in file sets: %s\n", sets)
	}
	fmt.Fprintf(w, "  next: %s %s\n", h.Step.From, h.Step.Action)
	for _, g := range h.Step.Grants {
		writeGrant(w, "       ", g)
	}
	if h.Step.To != nil {
		fmt.Fprintf(w, "  then as %s (%s)\n", *h.Step.To, stepsWord(h.Distance-1))
	}
}

func stepsWord(n int) string {
	if n == 1 {
		return "1 step"
	}
	return fmt.Sprintf("%d steps", n)
}
