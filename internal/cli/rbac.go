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

	rbacchecks "github.com/kubeguard/kubeguard/internal/checks/rbac"
	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/report"
	rbacv1 "k8s.io/api/rbac/v1"
)

// RBACOptions are the flags of the kubeguard rbac commands.
type RBACOptions struct {
	// Files are files, directories and - for standard input.
	Files        []string
	WithDefaults bool
	// Namespace of the request (can-i, who-can); "default" when unset.
	Namespace     string
	AllNamespaces bool
	// As, AsServiceAccount (NS/NAME) and AsGroups name who asks (can-i).
	As               string
	AsServiceAccount string
	AsGroups         []string
	Format           string
	Output           string
	FailOn           string
	// Cluster reads the RBAC state of a live cluster instead of files.
	Cluster bool
	Connect ConnectOptions
	// wrap, when set, hooks the connection (tests audit requests).
	wrap func(*cluster.Connection)
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
Namespaced objects without a namespace are taken to be in "default".
--with-defaults adds the API server's built-in roles and bindings.

Examples:
  kubeguard rbac can-i list secrets --as-sa ci/deployer -n prod -f deploy/
  kubeguard rbac who-can create pods/exec -A -f deploy/
  kubeguard rbac risks -f deploy/
  kubeguard rbac paths --cluster --context prod

Run 'kubeguard rbac <command> --help' for a command's flags.
`

// rbacGCPercent is the garbage collector's target during an rbac command
// (see runRBAC).
const rbacGCPercent = 300

func runRBAC(ctx context.Context, args []string, io IO) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(io.Stderr, rbacUsage)
		return ExitError
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help":
		fmt.Fprint(io.Stdout, rbacUsage)
		return ExitOK
	}
	// The rbac commands allocate mostly YAML trees, garbage once each
	// document is decoded, while what stays live (the compact policy, then
	// the findings) is a tenth of it and grows slowly: at the default
	// target the collector runs a dozen times over 24,000 objects, for
	// little CPU each but a tenth of the command's. Fewer collections
	// cost peak memory instead, and each page of it a page fault: at four
	// times the live data the CPU time is that of higher targets, with a
	// tenth fewer faults than at five times (BENCHMARKS.md).
	defer collectAt(rbacGCPercent)()
	switch args[0] {
	case "can-i":
		return runCanI(ctx, args[1:], io)
	case "who-can":
		return runWhoCan(ctx, args[1:], io)
	case "risks":
		return runRisks(ctx, args[1:], io)
	case "paths":
		return runPaths(ctx, args[1:], io)
	}
	fmt.Fprintf(io.Stderr, "kubeguard rbac: unknown command %q\n\n%s", args[0], rbacUsage)
	return ExitError
}

// rbacFlags makes the flag set of an rbac command with the input flags.
func rbacFlags(name, usage string, o *RBACOptions) *flagSet {
	fs := newFlags("rbac "+name, usage)
	fs.StringArrayVarP(&o.Files, "filename", "f", nil, "manifest `path` to read (repeatable; - for standard input)")
	fs.BoolVar(&o.WithDefaults, "with-defaults", false, "add the API server's built-in roles and bindings")
	fs.BoolVar(&o.Cluster, "cluster", false, "read the live cluster (see kubeguard cluster --help) instead of files")
	connectFlags(fs, &o.Connect)
	return fs
}

func requestFlags(fs *flagSet, o *RBACOptions) {
	fs.StringVarP(&o.Namespace, "namespace", "n", "", "`namespace` of the request (default \"default\"; ignored for cluster-scoped resources)")
	fs.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "all namespaces (see above)")
	fs.StringVarP(&o.Format, "format", "o", "text", "output `format`: text or json")
}

// rbacInput is what the input held.
type rbacInput struct {
	policy  *rbac.Policy
	objects []report.Object
	errors  []finding.InputError // unreadable input and invalid objects
}

// loadRBAC reads the input with the scan loader and builds the policy.
func loadRBAC(ctx context.Context, o *RBACOptions, stdin io.Reader, stderr io.Writer) (*rbacInput, error) {
	if o.Cluster || o.Connect.Kubeconfig != "" || o.Connect.Context != "" {
		if len(o.Files) > 0 {
			return nil, errors.New("-f and --cluster exclude each other")
		}
		return loadRBACLive(ctx, o, stderr)
	}
	if len(o.Files) == 0 {
		return nil, errors.New("no input: give manifests with -f PATH (- for standard input), or --cluster")
	}
	var b rbac.Builder
	if o.WithDefaults {
		defs, err := rbac.Defaults()
		if err != nil {
			return nil, fmt.Errorf("--with-defaults: %w", err)
		}
		b.AddDefaults(defs)
	}
	type unit struct {
		objs    []report.Object
		decoded []rbac.Decoded
	}
	in := &rbacInput{}
	src := &manifest.Source{Paths: o.Files, Stdin: stdin}
	readErrs := manifest.Ordered(ctx, src, 0, func(u manifest.Unit) unit {
		// Decoding is the costly part: done here, on every core. The
		// objects are not kept: what the analysis and its reports need of
		// them is in what Decode returns.
		objs := make([]report.Object, len(u.Objects))
		ds := make([]rbac.Decoded, len(u.Objects))
		for i, obj := range u.Objects {
			objs[i] = report.Object{Ref: obj.Ref, Location: obj.Source}
			ds[i] = rbac.Decode(obj)
		}
		return unit{objs, ds}
	}, func(u manifest.Unit, d unit) {
		// In input order, while later documents are still being read:
		// later definitions replace earlier ones.
		in.errors = append(in.errors, u.Errors...)
		in.objects = append(in.objects, d.objs...)
		for _, x := range d.decoded {
			b.AddDecoded(x)
		}
	})
	in.errors = append(readErrs, in.errors...)
	in.policy = b.Build()
	in.errors = append(in.errors, in.policy.Problems...)
	return in, nil
}

// warn prints input errors and warnings to standard error.
func (in *rbacInput) warn(w io.Writer) {
	for _, e := range in.errors {
		fmt.Fprintf(w, "kubeguard: %s\n", e.Error())
	}
	for _, e := range in.policy.Warnings {
		fmt.Fprintf(w, "kubeguard: warning: %s\n", e.Error())
	}
}

// loadRequest loads the input, says its problems on stderr, and turns
// VERB RESOURCE [NAME] into attributes, warning when the resource is not
// recognised: the start of can-i and who-can.
func loadRequest(ctx context.Context, o *RBACOptions, pos []string, stdin io.Reader, stderr io.Writer) (*rbacInput, rbac.Attributes, error) {
	in, err := loadRBAC(ctx, o, stdin, stderr)
	if err != nil {
		return nil, rbac.Attributes{}, err
	}
	in.warn(stderr)
	a, warning, err := request(in.policy, o, pos)
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
	// roles (--with-defaults).
	Builtin        bool              `json:"builtin,omitempty"`
	AggregatedFrom string            `json:"aggregatedFrom,omitempty"`
	RuleLocation   *finding.Location `json:"ruleLocation,omitempty"`
	Path           string            `json:"path"`
}

func toGrantJSON(g rbac.Grant) grantJSON {
	j := grantJSON{
		Subject: g.SubjectIdentity(), Namespace: g.Binding.Namespace,
		Binding: g.Binding.Ref(), Role: g.Role.Ref(), Rule: g.Rule, RuleText: rbac.RuleString(g.PolicyRule()),
		PolicyRule: *g.PolicyRule(), Builtin: g.Binding.Default || g.Source().Role.Default, Path: g.String(),
	}
	if g.Binding.Origin != nil {
		loc := g.Binding.Origin.Source
		j.BindingLocation = &loc
	}
	src := g.Source()
	if src.Role != g.Role {
		j.AggregatedFrom = fmt.Sprintf("%s rules[%d]", src.Role.Ref(), src.Index)
	}
	if loc, ok := src.Location(); ok {
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
	if j.RuleLocation != nil {
		builtin := ""
		if j.RuleLocation.File == rbac.DefaultsFile {
			builtin = " (built-in role, --with-defaults)"
		}
		fmt.Fprintf(w, "%s  rule at %s%s\n", indent, j.RuleLocation, builtin)
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

Bindings to the built-in roles (admin, edit, view, system:*) grant nothing
unless --with-defaults adds them; can-i says so when one applies.

Examples:
  # May the deployer ServiceAccount read Secrets in prod?
  kubeguard rbac can-i list secrets --as-sa ci/deployer -n prod -f deploy/
  # As a member of devs, through a binding to the built-in edit role:
  kubeguard rbac can-i create deployments.apps --as alice --as-group devs -n team-a --with-defaults -f rbac/
  # A subresource, a named object, and the answer as JSON:
  kubeguard rbac can-i create pods/exec web-0 --as bob -n shop -o json -f rbac/
  # Across all namespaces, which only ClusterRoleBindings can grant:
  kubeguard rbac can-i list pods -A --as alice -f rbac/
  # A non-resource URL:
  kubeguard rbac can-i get /healthz --as system:anonymous --with-defaults -f rbac/

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
	if err := oneOf("format", o.Format, []string{"text", "json"}); err != nil {
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
	d := rbac.NewAuthorizer(in.policy).Decide(user, a)
	if len(in.errors) > 0 && !d.Allowed {
		// RBAC only grants: what could not be read may hold the grant, so
		// "no" would be a guess. "yes" stays true and is printed.
		fmt.Fprintf(io.Stderr, "kubeguard rbac can-i: no answer: %d input %s (above), and a grant may be in what could not be read\n", len(in.errors), plural(len(in.errors), "error", "errors"))
		return ExitError
	}
	if err := buffered(io.Stdout, func(w *bufio.Writer) error { return writeDecision(w, o.Format, user, a, d, in.policy) }); err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	switch {
	case len(in.errors) > 0:
		return ExitError
	case d.Allowed:
		return ExitOK
	}
	return ExitFindings
}

func writeDecision(w io.Writer, format string, u rbac.User, a rbac.Attributes, d rbac.Decision, p *rbac.Policy) error {
	var notes []string
	for _, b := range d.Unresolved {
		n := fmt.Sprintf("%s applies but refers to %s, which is not in the input", b.Ref(), b.RoleRefString())
		if !p.DefaultsLoaded && b.RoleRef.Kind == rbac.KindClusterRole {
			n += " (built-in roles need --with-defaults)"
		}
		notes = append(notes, n)
	}
	if slices.Contains(u.Groups, "system:nodes") {
		notes = append(notes, "the Node authorizer, which grants nodes more, is not modelled")
	}
	if format == "json" {
		out := struct {
			Allowed   bool            `json:"allowed"`
			Reason    string          `json:"reason,omitempty"`
			User      rbac.User       `json:"user"`
			Request   rbac.Attributes `json:"request"`
			Superuser bool            `json:"superuser,omitempty"`
			Grants    []grantJSON     `json:"grants"`
			Notes     []string        `json:"notes,omitempty"`
		}{Allowed: d.Allowed, Reason: d.Reason(), User: u, Request: a, Superuser: d.Superuser, Grants: []grantJSON{}, Notes: notes}
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

Examples:
  # Who can read Secrets in prod?
  kubeguard rbac who-can get secrets -n prod -f deploy/
  # Who can exec into pods anywhere, the built-in roles included?
  kubeguard rbac who-can create pods/exec -A --with-defaults -f deploy/
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
	if err := oneOf("format", o.Format, []string{"text", "json"}); err != nil {
		return fs.usageError(io, err)
	}
	in, a, err := loadRequest(ctx, &o, pos, io.Stdin, io.Stderr)
	if err != nil {
		return fs.usageError(io, err)
	}
	grants := rbac.NewAuthorizer(in.policy).WhoCan(a, o.AllNamespaces)
	if err := buffered(io.Stdout, func(w *bufio.Writer) error {
		return writeWhoCan(w, o.Format, termWidth(io.Stdout), a, o.AllNamespaces, grants)
	}); err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	if len(in.errors) > 0 {
		return ExitError
	}
	return ExitOK
}

func writeWhoCan(w io.Writer, format string, width int, a rbac.Attributes, anyNamespace bool, grants []rbac.SubjectGrant) error {
	if format == "json" {
		out := struct {
			Request rbac.Attributes `json:"request"`
			// Superusers are always allowed.
			Superusers []rbac.Identity `json:"superusers"`
			Subjects   []grantJSON     `json:"subjects"`
		}{Request: a, Superusers: []rbac.Identity{{Kind: "Group", Name: rbac.SystemMasters}}, Subjects: []grantJSON{}}
		for _, g := range grants {
			out.Subjects = append(out.Subjects, toGrantJSON(g.Grant))
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	what := a.String()
	if anyNamespace && a.ResourceRequest && a.Namespace == "" {
		what = strings.TrimSuffix(what, " cluster-wide") + " in any namespace"
	}
	fmt.Fprintf(w, "who can %s:\n\n", what)
	t := &table{}
	t.add("SUBJECT", "WHERE", "GRANT", "AT")
	t.add("Group "+rbac.SystemMasters, "cluster-wide", "superuser group, allowed before RBAC", "")
	for _, g := range grants {
		where := "cluster-wide"
		if g.Namespace != "" {
			where = "namespace " + g.Namespace
		}
		j := toGrantJSON(g.Grant)
		at := ""
		if j.RuleLocation != nil {
			at = j.RuleLocation.String()
		}
		t.add(g.Subject.String(), where, j.Path+" "+j.RuleText, at)
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
	}
	return nil
}

const risksUsage = `Usage: kubeguard rbac risks [--format text|json|sarif|junit] [--output FILE] [--fail-on SEVERITY] -f PATH...

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
workload. The API server's built-in roles and bindings (label
kubernetes.io/bootstrapping=rbac-defaults, and all of --with-defaults) are
used to resolve grants but are not reported.

Exit status: 0 no finding at or above --fail-on, 1 such findings,
2 usage or input errors (unreadable files, invalid YAML, objects the API
server would reject).

Examples:
  # Gate CI on high and critical risks in the manifests of a repository:
  kubeguard rbac risks -f deploy/
  # Resolve bindings to admin, edit and view, and fail on medium risks too:
  kubeguard rbac risks --with-defaults --fail-on medium -f deploy/
  # SARIF for code scanning:
  kubeguard rbac risks -f deploy/ --format sarif --output rbac.sarif
`

func runRisks(ctx context.Context, args []string, io IO) int {
	var o RBACOptions
	fs := rbacFlags("risks", risksUsage, &o)
	fs.StringVarP(&o.Format, "format", "o", "text", "output `format`: text, json, sarif or junit")
	fs.StringVar(&o.Output, "output", "", "write the report to `file` instead of standard output")
	failOnFlag(fs, &o.FailOn)
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
	out, w, closeOut, err := openOutput(o.Format, o.Output, false, io.Stdout)
	if err != nil {
		return fs.usageError(io, err)
	}
	in, err := loadRBAC(ctx, &o, io.Stdin, io.Stderr)
	if err != nil {
		closeOut()
		return fs.usageError(io, err)
	}
	in.warn(io.Stderr)
	r := &report.Report{Version: version(), Checks: rbacchecks.Checks, Objects: in.objects, Findings: rbac.Risks(in.policy), Errors: in.errors}
	report.Sort(r.Findings)
	if !writeReport(io.Stderr, out, w, closeOut, r) {
		return ExitError
	}
	return exitStatus(r, failOn)
}

const pathsUsage = `Usage: kubeguard rbac paths [-o text|json] -f PATH...

For each subject of the input's bindings that is not one of the cluster's own
(system:* users and groups, kube-system ServiceAccounts), prints the shortest
chain of identities it can take over that ends in cluster-admin power: every
verb on every resource through a ClusterRoleBinding, system:masters, issuing
client certificates, binding cluster-admin or escalating a ClusterRole.

Moves: creating pods or pod controllers in a namespace runs as any of its
ServiceAccounts (so does binding or escalating a role there); impersonation
becomes its targets; reading Secrets yields the ServiceAccounts of the legacy
token Secrets in the input; serviceaccounts/token yields those
ServiceAccounts; pods/exec (create, or get: enough over WebSocket before
Kubernetes v1.35) yields the ServiceAccounts of the input's pods and
workloads that mount a token; nodes/proxy yields those of every such pod on
the nodes. Subjects with no chain are not listed.

Each chain is printed as a line of identities, then step by step with the
binding, role and rule that allow each move and where they are written.

Exit status: 0, or 2 on usage or input errors. Use 'rbac risks' to gate CI.

Examples:
  kubeguard rbac paths --with-defaults -f deploy/
  # The chains as JSON, one object per subject:
  kubeguard rbac paths -o json -f deploy/ | jq '.chains[] | .summary'
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
	fs.StringVarP(&o.Format, "format", "o", "text", "output `format`: text or json")
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return fs.usageError(io, fmt.Errorf("unexpected argument %q (give input with -f)", pos[0]))
	}
	if err := oneOf("format", o.Format, []string{"text", "json"}); err != nil {
		return fs.usageError(io, err)
	}
	in, err := loadRBAC(ctx, &o, io.Stdin, io.Stderr)
	if err != nil {
		return fs.usageError(io, err)
	}
	in.warn(io.Stderr)
	chains := rbac.Paths(in.policy)
	if err := buffered(io.Stdout, func(w *bufio.Writer) error { return writePaths(w, o.Format, chains) }); err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	if len(in.errors) > 0 {
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

// chainSummary reads a chain as its identities: User alice →
// ServiceAccount team-a/ci → cluster-admin.
func chainSummary(c rbac.Chain) string {
	parts := []string{c.Subject.String()}
	for _, s := range c.Steps {
		if s.To != nil {
			parts = append(parts, s.To.String())
		}
	}
	return strings.Join(append(parts, "cluster-admin"), " → ")
}

func writePaths(w io.Writer, format string, chains []rbac.Chain) error {
	if format == "json" {
		type chainJSON struct {
			Subject rbac.Identity `json:"subject"`
			// Summary is the chain as its identities, as text prints it.
			Summary string     `json:"summary"`
			Length  int        `json:"length"`
			Steps   []stepJSON `json:"steps"`
		}
		out := struct {
			Chains []chainJSON `json:"chains"`
		}{Chains: []chainJSON{}}
		for _, c := range chains {
			cj := chainJSON{Subject: c.Subject, Summary: chainSummary(c), Length: len(c.Steps)}
			for _, s := range c.Steps {
				sj := stepJSON{From: s.From, To: s.To, Action: s.Action, Grants: []grantJSON{}}
				for _, g := range s.Grants {
					sj.Grants = append(sj.Grants, toGrantJSON(g))
				}
				cj.Steps = append(cj.Steps, sj)
			}
			out.Chains = append(out.Chains, cj)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(chains) == 0 {
		_, err := fmt.Fprintln(w, "no subject of the input can reach cluster-admin power")
		return err
	}
	subjects := "1 subject"
	if len(chains) > 1 {
		subjects = fmt.Sprintf("%d subjects", len(chains))
	}
	fmt.Fprintf(w, "%s of the input can reach cluster-admin power.\n", subjects)
	for _, c := range chains {
		steps := "1 step"
		if len(c.Steps) > 1 {
			steps = fmt.Sprintf("%d steps", len(c.Steps))
		}
		fmt.Fprintf(w, "\n%s: %s\n  %s\n", c.Subject, steps, chainSummary(c))
		for k, s := range c.Steps {
			fmt.Fprintf(w, "  %d. %s %s\n", k+1, s.From, s.Action)
			for _, g := range s.Grants {
				writeGrant(w, "       ", g)
			}
		}
	}
	return nil
}
