package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kubeguard/kubeguard/internal/audit"
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/run"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

const auditUsage = `Usage: kubeguard audit <command> [flags] FILE...

Analyses Kubernetes API server auditing.

Commands:
  policy FILE         lint an audit.k8s.io/v1 Policy (--explain: how one
                      request is logged, and by which rule)
  log FILE...         detections over audit logs: exec, Secret harvesting,
                      anonymous access, escalation, privileged pods, token reuse
  rbac FILE...        least-privilege Roles and bindings for the requests one
                      user or ServiceAccount made in the logs

Run 'kubeguard audit <command> --help' for a command's flags and examples.
`

func runAudit(ctx context.Context, args []string, io IO) int {
	return runGroup(ctx, "audit", auditUsage, []subcommand{
		{"policy", runAuditPolicy}, {"log", runAuditLog}, {"rbac", runAuditRBAC},
	}, args, io)
}

// AuditPolicyOptions are the flags of kubeguard audit policy.
type AuditPolicyOptions struct {
	Format, Output, FailOn string
	// Config and Baseline are as scan's: a .kubeguard.yaml (default: the
	// nearest above the policy) and a JSON report of accepted findings.
	Config, Baseline string
	// Explain, with VERB RESOURCE after the file, says how that request
	// is logged instead of linting.
	Explain   bool
	User      string
	Groups    []string
	Namespace string
	Name      string
}

const auditPolicyUsage = `Usage: kubeguard audit policy [flags] FILE
       kubeguard audit policy FILE --explain VERB RESOURCE[.GROUP][/SUB]|/PATH [--user U] [--group G]... [--namespace NS] [--name NAME]

Lints an audit.k8s.io/v1 Policy, as the API server reads it from
--audit-policy-file. The policy is decoded, validated and evaluated by the
API server's own code; a policy the server would refuse is an error (exit 2).
Every request the policy can tell apart is evaluated, and the findings say:
  - bodies of Secrets, ConfigMaps, serviceaccounts/token, TokenReviews or
    CertificateSigningRequests recorded (credentials copied into the log);
  - rules never reached because earlier rules match all they match;
  - resources named under a group that does not serve them;
  - no catch-all rule (requests no rule matches are not logged);
  - RequestReceived not omitted (every request logged twice);
  - exec, attach, port-forward, ephemeral containers or RBAC changes not logged;
  - None for everything a namespace, user or group does.

--explain prints the level and stages the request would be logged at and the
rule that decides it (rules are numbered from 1, in text and JSON; 0 is
the server's default None, when none matches).

Configuration (.kubeguard.yaml, looked for from the policy's directory up to
its repository's root, or --config) disables checks, overrides severities
and exempts findings (kind Policy, name the file as given), as for scan;
--baseline accepts the findings of an earlier JSON report.

Examples:
  kubeguard audit policy /etc/kubernetes/audit-policy.yaml
  kubeguard audit policy audit-policy.yaml -o sarif --output-file audit.sarif
  kubeguard audit policy audit-policy.yaml --explain create pods/exec --namespace prod --user alice
  kubeguard audit policy audit-policy.yaml --explain list deployments.apps --group system:serviceaccounts
  kubeguard audit policy audit-policy.yaml --explain get /healthz

Exit status: 0 no finding at or above --fail-on, 1 such findings,
2 usage errors or a policy the API server would refuse.
`

func runAuditPolicy(_ context.Context, args []string, io IO) int {
	var o AuditPolicyOptions
	fs := newFlags("audit policy", auditPolicyUsage)
	fs.formatFlag(&o.Format, "text", "output `format`: text, json, sarif or junit (--explain: text or json)")
	fs.StringVar(&o.Output, "output-file", "", "write the report to `file` instead of standard output")
	failOnFlag(fs, &o.FailOn)
	auditConfigFlags(fs, &o.Config, &o.Baseline, "policy")
	fs.BoolVar(&o.Explain, "explain", false, "explain how the request VERB RESOURCE given after FILE is logged")
	fs.StringVar(&o.User, "user", "alice", "--explain: the requesting `user`")
	fs.StringArrayVar(&o.Groups, "group", nil, "--explain: a `group` of the user (repeatable); system:authenticated is added for any user but system:anonymous")
	fs.StringVarP(&o.Namespace, "namespace", "n", "", "--explain: the request's `namespace`")
	fs.StringVar(&o.Name, "name", "", "--explain: the object's `name`")
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	switch {
	case len(pos) == 0:
		return fs.usageError(io, fmt.Errorf("no policy file given"))
	case o.Explain && len(pos) != 3:
		return fs.usageError(io, fmt.Errorf("--explain wants FILE VERB RESOURCE, got %d arguments", len(pos)))
	case !o.Explain && len(pos) != 1:
		return fs.usageError(io, fmt.Errorf("one policy file at a time, got %d", len(pos)))
	}
	failOn, err := severityFlag("fail-on", o.FailOn)
	if err != nil {
		return fs.usageError(io, err)
	}
	data, err := readInput(pos[0], io.Stdin)
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	name := pos[0]
	if name == "-" {
		name = "<stdin>"
	}
	p, err := audit.LoadPolicy(name, data)
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	if o.Explain {
		if o.Format != "text" && o.Format != "json" {
			return fs.usageError(io, fmt.Errorf("--explain writes text or json, not %q", o.Format))
		}
		req, err := explainRequest(pos[1], pos[2], &o)
		if err != nil {
			return fs.usageError(io, err)
		}
		return explain(io, p, req, o.Format)
	}
	plan, err := auditPlan(audit.PolicyChecks, o.Config, o.Baseline, pos[:1])
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	out, w, closeOut, err := openOutput(o.Format, o.Output, false, io.Stdout)
	if err != nil {
		return fs.usageError(io, err)
	}
	r := &report.Report{
		Version: version(),
		Objects: []report.Object{{Ref: finding.ObjectRef{APIVersion: "audit.k8s.io/v1", Kind: "Policy", Name: name}, Location: finding.Location{File: name, Line: p.Line}}},
	}
	applyPlan(plan, r, p.Lint())
	if !writeReport(io.Stderr, out, w, closeOut, r) {
		return ExitError
	}
	return exitStatus(r, failOn)
}

// readInput reads a named file, or standard input for "-".
func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(io.LimitReader(stdin, 64<<20))
	}
	return os.ReadFile(path)
}

// explainRequest builds the request --explain asks about: RESOURCE is
// resource[.group][/subresource], or a non-resource path starting with /.
func explainRequest(verb, resource string, o *AuditPolicyOptions) (*audit.Request, error) {
	r := &audit.Request{Verb: verb, User: o.User, Groups: o.Groups, Namespace: o.Namespace, Name: o.Name}
	// The authenticator adds these groups to every request; policies match
	// on them, so a request without them would not be one the server sees.
	switch o.User {
	case "system:anonymous":
		r.Groups = append(r.Groups, "system:unauthenticated")
	default:
		r.Groups = append(r.Groups, "system:authenticated")
	}
	if strings.HasPrefix(resource, "/") {
		if o.Namespace != "" || o.Name != "" {
			return nil, fmt.Errorf("a non-resource path %s has no namespace or name", resource)
		}
		r.Path = resource
		return r, nil
	}
	res, sub, _ := strings.Cut(resource, "/")
	res, group, _ := strings.Cut(res, ".")
	if res == "" {
		return nil, fmt.Errorf("no resource in %q", resource)
	}
	if group == "" {
		if gs := audit.BuiltinGroups(res); len(gs) > 0 {
			group = gs[0]
		}
	}
	r.Resource, r.Subresource, r.APIGroup = res, sub, group
	return r, nil
}

func explain(io IO, p *audit.Policy, r *audit.Request, format string) int {
	d := p.Evaluate(r)
	if format == "json" {
		enc := json.NewEncoder(io.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Request string `json:"request"`
			audit.Decision
		}{r.String(), d}); err != nil {
			fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
			return ExitError
		}
		return ExitOK
	}
	fmt.Fprintf(io.Stdout, "request: %s (groups %s)\n", r.String(), strings.Join(r.Groups, ", "))
	fmt.Fprintf(io.Stdout, "level:   %s\n", d.Level)
	if d.Level == audit.LevelNone {
		fmt.Fprintln(io.Stdout, "stages:  none (not logged)")
	} else {
		fmt.Fprintf(io.Stdout, "stages:  %s\n", strings.Join(d.Stages, ", "))
	}
	if d.Rule == 0 {
		fmt.Fprintln(io.Stdout, "rule:    none matches; the API server's default level None applies")
	} else {
		fmt.Fprintf(io.Stdout, "rule:    %d (%s:%d)\n", d.Rule, p.File, d.Line)
	}
	return ExitOK
}

// AuditLogOptions are the flags of kubeguard audit log.
type AuditLogOptions struct {
	Format, Output, FailOn string
	// Config and Baseline are as scan's: a .kubeguard.yaml (default: the
	// nearest above the logs) and a JSON report of accepted findings.
	Config, Baseline string
	Since, Until     string
	SecretReads      int
	SecretWindow     time.Duration
	Routine          []string
	Learn            time.Duration
	// AllowEmpty accepts logs without any event (in the window).
	AllowEmpty bool
}

const auditLogUsage = `Usage: kubeguard audit log [flags] FILE...

Reads API server audit logs (--audit-log-format=json: one event a line;
gzip-compressed files too; - for standard input) as a stream, in the order
given, and reports, with the user, source addresses, verbs, resources, time
span and audit IDs of the events behind each finding:
  audit-log-exec                 exec, attach, port-forward, ephemeral containers,
                                 and the kubelet's exec through nodes/proxy
  audit-log-secret-harvest       an identity reading Secrets it does not normally
                                 read: many in a window, a namespace's or every
                                 namespace's at once (see below)
  audit-log-anonymous            anonymous requests beyond health, version and
                                 issuer discovery
  audit-log-escalation-denied    refused bind, escalate, impersonate and RBAC writes
  audit-log-cluster-admin-grant  bindings to cluster-admin, roles allowing everything
                                 (high when bound in one namespace but kube-system)
  audit-log-privileged-pod       privileged, host-namespace or hostPath pods and
                                 workloads created
  audit-log-token-reuse          one bound ServiceAccount token (credential ID)
                                 used from several addresses
  audit-log-unusual-request      a node or ServiceAccount making a kind of request
                                 (verb, resource, scope) it did not make in its
                                 first --learn (1h) of the log
The control plane's own identities (system:kube-controller-manager,
system:kube-scheduler, system:apiserver, system:kube-proxy, system:node:*,
kube-system ServiceAccounts) read Secrets and create pods as their job: those
raise nothing; --routine adds more. Detections that need bodies (grants, pod
specs) need the Request level for those resources. Only ResponseComplete and
Panic events are read: the other stages repeat the request. No value of a
request or response body is ever printed.

What a Secret harvest is: an identity reading Secrets it does not normally
read. A person's reads all count; a list or watch of a namespace's Secrets
counts as the Secrets its logged response returned, or else as every Secret
of the namespace. A ServiceAccount's reads of its own namespace's Secrets
never count (a controller's working data); its reads of other namespaces
count unless it read Secrets there in its first --learn (all count with
--learn 0).

Configuration (.kubeguard.yaml, looked for from the logs' directories up to
their repository's root, or --config) disables checks, overrides severities
and exempts findings, as for scan: an exemption matches a finding's object,
for example kind User and the user's name for a harvest;
--baseline accepts the findings of an earlier JSON report.

Examples:
  kubeguard audit log /var/log/kubernetes/audit/audit.log
  kubeguard audit log --since 24h audit.log audit-2026-12-05.log.gz
  zcat audit-*.gz | kubeguard audit log -o sarif --output-file audit.sarif -
  kubeguard audit log --routine 'system:serviceaccount:argocd:*' audit.log
  kubeguard audit log --config ops/.kubeguard.yaml --baseline accepted.json audit.log

Exit status: 0 no finding at or above --fail-on, 1 such findings,
2 usage errors, unreadable files or malformed lines (each named FILE:LINE;
the rest of the log is still read), and logs without any audit event
(between --since and --until) unless --allow-empty is given.
`

func runAuditLog(ctx context.Context, args []string, io IO) int {
	var o AuditLogOptions
	fs := newFlags("audit log", auditLogUsage)
	fs.formatFlag(&o.Format, "text", "output `format`: text, json, sarif or junit")
	fs.StringVar(&o.Output, "output-file", "", "write the report to `file` instead of standard output")
	failOnFlag(fs, &o.FailOn)
	auditConfigFlags(fs, &o.Config, &o.Baseline, "logs")
	fs.StringVar(&o.Since, "since", "", "read events received at or after `time` (RFC 3339, or a duration before now such as 24h)")
	fs.StringVar(&o.Until, "until", "", "read events received before `time` (RFC 3339, or a duration before now)")
	fs.IntVar(&o.SecretReads, "secret-reads", 10, "distinct Secrets one identity reads within --secret-window that make a harvest (`n`)")
	fs.DurationVar(&o.SecretWindow, "secret-window", 10*time.Minute, "the Secret harvest `window`")
	fs.DurationVar(&o.Learn, "learn", time.Hour, "how long from its first request a node's or ServiceAccount's requests are learned as its routine (`duration`; 0 turns the detection off)")
	fs.BoolVar(&o.AllowEmpty, "allow-empty", false, "exit 0, not 2, when the logs hold no audit event (between --since and --until)")
	fs.StringArrayVar(&o.Routine, "routine", nil, "a `user` (trailing * for a prefix) whose Secret reads and pod creations are routine (repeatable)")
	files, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return fs.usageError(io, fmt.Errorf("no log files given (use - for standard input)"))
	}
	failOn, err := severityFlag("fail-on", o.FailOn)
	if err != nil {
		return fs.usageError(io, err)
	}
	filter, err := auditFilter(o.Since, o.Until, time.Now())
	if err != nil {
		return fs.usageError(io, err)
	}
	out, w, closeOut, err := openOutput(o.Format, o.Output, false, io.Stdout)
	if err != nil {
		return fs.usageError(io, err)
	}
	learn := o.Learn
	if learn == 0 {
		learn = -1 // the flag's 0 is off; the option's is the default
	}
	plan, err := auditPlan(audit.LogChecks, o.Config, o.Baseline, files)
	if err != nil {
		closeOut()
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	det := audit.NewDetector(audit.DetectOptions{SecretReads: o.SecretReads, SecretWindow: o.SecretWindow, Routine: o.Routine, Learn: learn})
	r := &report.Report{Version: version()}
	var read audit.LogStats
	for _, file := range files {
		if ctx.Err() != nil {
			break
		}
		name, stats, errs, err := readAuditLog(file, io.Stdin, filter, det)
		read.Events += stats.Events
		read.Admitted += stats.Admitted
		r.Objects = append(r.Objects, report.Object{Ref: finding.ObjectRef{Kind: "AuditLog", Name: name}, Location: finding.Location{File: name}})
		if err != nil {
			errs = append(errs, finding.InputError{Location: finding.Location{File: name}, Message: err.Error()})
		}
		for _, e := range errs {
			fmt.Fprintf(io.Stderr, "kubeguard: %s\n", e.Error())
		}
		if stats.Events == 0 && len(errs) > 0 && err == nil {
			fmt.Fprintf(io.Stderr, "kubeguard audit log: %s holds no audit event: is it an API server audit log (--audit-log-format=json, one event a line)?\n", name)
		}
		r.Errors = append(r.Errors, errs...)
	}
	applyPlan(plan, r, det.Findings())
	if !writeReport(io.Stderr, out, w, closeOut, r) {
		return ExitError
	}
	if read.Admitted == 0 && len(r.Errors) == 0 && !o.AllowEmpty && ctx.Err() == nil {
		// An empty file, a file that is not an audit log, a window
		// with nothing in it: a gate that passes on nothing read passes
		// on a wrong path. As kubeguard scan does, that is an input error.
		what := "no audit event"
		if read.Events > 0 {
			what = fmt.Sprintf("no audit event between --since and --until (%d outside)", read.Events)
		}
		fmt.Fprintf(io.Stderr, "kubeguard audit log: %s in %s (--allow-empty accepts that)\n", what, strings.Join(quoted(files), ", "))
		return ExitError
	}
	return exitStatus(r, failOn)
}

// auditConfigFlags adds --config and --baseline, as scan has them.
func auditConfigFlags(fs *flagSet, cfg, baseline *string, what string) {
	fs.StringVar(cfg, "config", "", "configuration `file` (default: the nearest "+config.FileName+" above the "+what+"): disabled checks, severity overrides, exemptions")
	fs.StringVar(baseline, "baseline", "", "JSON report `file` of accepted findings: only findings not in it fail")
}

// auditPlan applies the configuration and baseline to the audit checks cs
// through the run layer, as scan's are: the configuration given, else the
// nearest one above the inputs.
func auditPlan(cs []check.Check, cfg, baseline string, inputs []string) (*run.Plan, error) {
	// An audit finding has no object with annotations to read.
	return run.Configure(cs, checks.Known, run.Settings{ConfigFile: cfg, SearchFrom: inputs, Baseline: baseline, NoAnnotations: true})
}

// applyPlan puts the findings into r judged by the plan (run.Plan.Judge:
// the configuration's disabled checks dropped, its severity overrides,
// exemptions and expired exemptions, and the baseline).
func applyPlan(p *run.Plan, r *report.Report, fs []finding.Finding) {
	report.Sort(fs)
	r.Checks, r.Findings = p.Checks, p.Judge(fs)
	if p.Filter.Config != nil {
		r.Config = p.Filter.Config.Path
	}
}

// readAuditLog reads one log file (- for stdin) into h.
func readAuditLog(file string, stdin io.Reader, filter audit.Filter, h audit.Handler) (string, audit.LogStats, []finding.InputError, error) {
	if file == "-" {
		stats, errs, err := audit.ReadLogStats("<stdin>", stdin, filter, h)
		return "<stdin>", stats, errs, err
	}
	f, err := os.Open(file)
	if err != nil {
		return file, audit.LogStats{}, nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() && st.Mode()&os.ModeNamedPipe == 0 {
		return file, audit.LogStats{}, nil, fmt.Errorf("not a regular file")
	}
	stats, errs, err := audit.ReadLogStats(file, f, filter, h)
	return file, stats, errs, err
}

// auditFilter parses --since and --until. A window that ends before it
// starts would read nothing, and pass a gate on nothing: it is refused.
func auditFilter(since, until string, now time.Time) (audit.Filter, error) {
	var f audit.Filter
	var err error
	if f.Since, err = auditTime("since", since, now); err != nil {
		return f, err
	}
	if f.Until, err = auditTime("until", until, now); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, fmt.Errorf("--since %s is not before --until %s: no event can be in that window", f.Since.UTC().Format(time.RFC3339), f.Until.UTC().Format(time.RFC3339))
	}
	return f, nil
}

// auditTime parses --since/--until: RFC 3339, or a duration before now.
func auditTime(flagName, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid --%s %q: want RFC 3339 (2026-12-06T10:00:00Z) or a duration (24h)", flagName, v)
	}
	return t, nil
}

// AuditRBACOptions are the flags of kubeguard audit rbac.
type AuditRBACOptions struct {
	User, ServiceAccount string
	Existing             []string
	Name                 string
	IncludeDenied        bool
	Since, Until         string
	Output               string
}

const auditRBACUsage = `Usage: kubeguard audit rbac (--user NAME | --serviceaccount NS/NAME) [flags] FILE...

Prints the least-privilege Roles, ClusterRoles and bindings that allow
exactly the requests the identity made in the audit logs (read as
'kubeguard audit log' reads them), as YAML to apply with kubectl:
  - a Role and RoleBinding in each namespace a request was made in; a
    ClusterRole and ClusterRoleBinding for cluster-scoped resources,
    requests across all namespaces and non-resource URLs;
  - subresources kept (pods/exec, deployments/scale);
  - resourceNames only where every request of a verb named an object and
    RBAC can restrict the verb: never on create, list, watch or
    deletecollection;
  - only requests authorization allowed (--include-denied: refused ones too).
With -f, the requests the given Roles, ClusterRoles and bindings already
allow (matched as the API server's RBAC authorizer matches, with the groups
the log shows the identity in) are left out: only what is missing is printed.
When the given RBAC defines a name in separate file sets (envs/prod and
envs/staging: see kubeguard rbac --help), a request is left out only when
every set allows it.

Examples:
  kubeguard audit rbac --serviceaccount ci/deployer audit.log > deployer-rbac.yaml
  kubeguard audit rbac --user alice --since 168h audit.log audit.log.1.gz
  kubeguard audit rbac --serviceaccount ci/deployer -f current-rbac.yaml audit.log

Exit status: 0 roles printed (or nothing missing), 2 usage errors,
unreadable files or malformed lines (the rest is still read).
`

func runAuditRBAC(ctx context.Context, args []string, io IO) int {
	var o AuditRBACOptions
	fs := newFlags("audit rbac", auditRBACUsage)
	fs.StringVar(&o.User, "user", "", "the `user` whose requests to allow")
	fs.StringVar(&o.ServiceAccount, "serviceaccount", "", "the ServiceAccount `ns/name` whose requests to allow")
	fs.StringArrayVarP(&o.Existing, "filename", "f", nil, "existing RBAC `path` (file, directory, - for stdin; repeatable): print only what it does not allow")
	fs.StringVar(&o.Name, "name", "", "`name` of the generated objects (default kubeguard-audit:<user>)")
	fs.BoolVar(&o.IncludeDenied, "include-denied", false, "also allow the requests authorization refused")
	fs.StringVar(&o.Since, "since", "", "read events received at or after `time` (RFC 3339, or a duration before now)")
	fs.StringVar(&o.Until, "until", "", "read events received before `time` (RFC 3339, or a duration before now)")
	fs.StringVar(&o.Output, "output-file", "", "write the YAML to `file` instead of standard output")
	files, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return fs.usageError(io, fmt.Errorf("no log files given (use - for standard input)"))
	}
	var subject rbacv1.Subject
	switch {
	case (o.User == "") == (o.ServiceAccount == ""):
		return fs.usageError(io, fmt.Errorf("give one of --user and --serviceaccount"))
	case o.User != "":
		subject = rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: o.User}
	default:
		ns, name, ok := strings.Cut(o.ServiceAccount, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return fs.usageError(io, fmt.Errorf("invalid --serviceaccount %q: want NAMESPACE/NAME", o.ServiceAccount))
		}
		subject = rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
		o.User = "system:serviceaccount:" + ns + ":" + name
	}
	if o.Name == "" {
		o.Name = "kubeguard-audit:" + strings.NewReplacer("/", "-", "%", "-").Replace(o.User)
	}
	stdinUsers := 0
	for _, f := range append(slices.Clone(files), o.Existing...) {
		if f == "-" {
			stdinUsers++
		}
	}
	if stdinUsers > 1 {
		return fs.usageError(io, fmt.Errorf("standard input (-) can be read once"))
	}
	filter, err := auditFilter(o.Since, o.Until, time.Now())
	if err != nil {
		return fs.usageError(io, err)
	}
	rec := &audit.Recorder{User: o.User, IncludeDenied: o.IncludeDenied}
	failed := false
	for _, file := range files {
		_, _, errs, err := readAuditLog(file, io.Stdin, filter, rec)
		if err != nil {
			errs = append(errs, finding.InputError{Location: finding.Location{File: file}, Message: err.Error()})
		}
		for _, e := range errs {
			fmt.Fprintf(io.Stderr, "kubeguard: %s\n", e.Error())
			failed = true
		}
	}
	if rec.Seen() == 0 && !failed {
		// A misspelt name would otherwise print "nothing to allow" and
		// pass, as if the identity needed no role.
		where := "the logs"
		if o.Since != "" || o.Until != "" {
			where += " between --since and --until"
		}
		msg := fmt.Sprintf("no request of %q in %s", o.User, where)
		if near := closestUser(o.User, rec.Users()); near != "" {
			msg += fmt.Sprintf("; the closest user seen is %q", near)
		} else {
			msg += "; no request of any user was read"
		}
		fmt.Fprintf(io.Stderr, "kubeguard audit rbac: %s\n", msg)
		return ExitError
	}
	reqs := rec.Requests()
	if len(o.Existing) > 0 {
		in, err := loadRBAC(ctx, &RBACOptions{Files: o.Existing}, io.Stdin, io.Stderr)
		if err != nil {
			return fs.usageError(io, err)
		}
		warn(io.Stderr, in)
		if len(in.Errors) > 0 {
			failed = true
		}
		// With copies in separate file sets (docs/rbac.md), a request is
		// allowed already only where every set allows it.
		azs := make([]*rbac.Authorizer, len(in.Views))
		for i, v := range in.Views {
			azs[i] = rbac.NewAuthorizer(v.Policy)
		}
		groups := rec.Groups()
		reqs = slices.DeleteFunc(reqs, func(q audit.Request) bool {
			a := rbac.Attributes{Verb: q.Verb, ResourceRequest: q.IsResource(), Namespace: q.Namespace,
				APIGroup: q.APIGroup, Resource: q.Resource, Subresource: q.Subresource, Name: q.Name, Path: q.Path}
			for _, az := range azs {
				if ok, _ := az.Allowed(o.User, groups, a); !ok {
					return false
				}
			}
			return true
		})
	}
	w := io.Stdout
	if o.Output != "" {
		f, err := os.Create(o.Output)
		if err != nil {
			return fs.usageError(io, fmt.Errorf("--output-file: %w", err))
		}
		defer f.Close()
		w = f
	}
	if len(reqs) == 0 {
		fmt.Fprintf(io.Stderr, "kubeguard: no requests of %s to allow beyond what is given\n", o.User)
	} else {
		roles := audit.GenerateRoles(reqs, subject, o.Name)
		fmt.Fprintf(w, "# Least-privilege RBAC for %s: %d distinct requests, generated by kubeguard audit rbac.\n", o.User, len(reqs))
		for _, obj := range roles.Objects() {
			b, err := yaml.Marshal(obj)
			if err != nil {
				fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
				return ExitError
			}
			fmt.Fprintf(w, "---\n%s", stripCreationTimestamp(b))
		}
	}
	if failed {
		return ExitError
	}
	return ExitOK
}

// closestUser is the user name nearest to name by edit distance (the
// first in order among equals), "" when there is none.
func closestUser(name string, users []string) string {
	best, bestD := "", -1
	for _, u := range users {
		if len(u) > 256 {
			continue // a name that long is no one's typo, and costly to compare
		}
		if d := editDistance(name, u); bestD < 0 || d < bestD {
			best, bestD = u, d
		}
	}
	return best
}

// stripCreationTimestamp drops the null creationTimestamp typed objects
// marshal with, which kubectl does not need.
func stripCreationTimestamp(b []byte) []byte {
	return []byte(strings.Replace(string(b), "  creationTimestamp: null\n", "", 1))
}
