package node

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// Category is the category of every node check.
const Category = "Node configuration"

// Check is a node check: its metadata (the same as every kubeguard
// check's, so reports describe it alike), the CIS Kubernetes Benchmark
// v1.12 recommendations it automates, and how it judges a node.
type Check struct {
	check.Check
	CIS []string
	run func(n *Node, r *reporter)
}

// Options tune an evaluation.
type Options struct {
	// Now decides which certificates have expired.
	Now time.Time
	// AuditPolicy, when set, lints the audit policy file the API server
	// names (path as read from the host, and as the node names it). The
	// audit linter plugs in here; without it only the file's presence is
	// checked.
	AuditPolicy func(path, display string) ([]finding.Finding, error)
}

// reporter collects the findings of one check.
type reporter struct {
	n    *Node
	c    *Check
	opts Options
	out  *[]finding.Finding
	errs *[]finding.InputError
}

// report records a finding at loc about ref.
func (r *reporter) report(ref finding.ObjectRef, loc finding.Location, reason, detail string) {
	r.reportSev(r.c.Severity, ref, loc, reason, detail)
}

func (r *reporter) reportSev(sev finding.Severity, ref finding.ObjectRef, loc finding.Location, reason, detail string) {
	r.reportCIS(sev, ref, loc, reason, detail, r.c.CIS)
}

// reportCIS records a finding that automates the CIS recommendations cis
// (those of the check's that the finding is about).
func (r *reporter) reportCIS(sev finding.Severity, ref finding.ObjectRef, loc finding.Location, reason, detail string, cis []string) {
	if len(cis) > 0 {
		detail = strings.TrimSpace(detail + " (CIS " + strings.Join(cis, ", ") + ")")
	}
	f := finding.Finding{
		CheckID: r.c.ID, Title: r.c.Title, Severity: sev, Category: r.c.Category,
		Object: ref, Location: loc, Reason: reason, Detail: detail,
		Remediation: r.c.Remediation, DocURL: r.c.DocURL,
	}
	if r.n != nil && r.n.Remote {
		remoteFinding(r.n, &f)
	}
	*r.out = append(*r.out, f)
}

// setting reports a finding located where a setting was decided.
func (r *reporter) setting(ref finding.ObjectRef, s Setting, reason string) {
	r.report(ref, s.Loc, reason, s.String())
}

func (r *reporter) errorf(loc finding.Location, format string, args ...any) {
	*r.errs = append(*r.errs, finding.InputError{Location: loc, Message: fmt.Sprintf(format, args...)})
}

// Evaluate runs the checks over a node. The errors are the node's input
// errors and the settings its components would refuse to start with.
func Evaluate(n *Node, cs []Check, opts Options) ([]finding.Finding, []finding.InputError) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var out []finding.Finding
	errs := slices.Clone(n.Errors)
	for i := range cs {
		cs[i].run(n, &reporter{n: n, c: &cs[i], opts: opts, out: &out, errs: &errs})
	}
	return out, errs
}

// Checks returns the node checks.
func Checks() []Check {
	return slices.Concat(apiServerChecks(), controlPlaneChecks(), etcdChecks(), kubeletChecks(), encryptionChecks(), fileChecks())
}

// Metadata returns the checks' metadata, for reports.
func Metadata(cs []Check) []check.Check {
	out := make([]check.Check, len(cs))
	for i, c := range cs {
		out[i] = c.Check
	}
	return out
}

// each runs f for every command line of a component.
func each(n *Node, component string, f func(c *CommandLine)) {
	for _, c := range n.Components {
		if c.Component == component {
			f(c)
		}
	}
}

func isTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

const (
	docAPIServer   = "https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/"
	docKCM         = "https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/"
	docScheduler   = "https://kubernetes.io/docs/reference/command-line-tools-reference/kube-scheduler/"
	docKubelet     = "https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/"
	docEtcd        = "https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#securing-etcd-clusters"
	docEncryption  = "https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/"
	docKMS         = "https://kubernetes.io/docs/tasks/administer-cluster/kms-provider/"
	docPKI         = "https://kubernetes.io/docs/setup/best-practices/certificates/"
	docHardening   = "https://kubernetes.io/docs/concepts/security/security-checklist/"
	docKubeletAuth = "https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/"
)

func meta(id, title string, sev finding.Severity, rationale, remediation, doc string) check.Check {
	return check.Check{ID: id, Title: title, Severity: sev, Category: Category, Scope: check.ScopeNode, Rationale: rationale, Remediation: remediation, DocURL: doc}
}

// flagCheck builds a check of one flag of one component: bad says why the
// effective value is wrong, or "".
func flagCheck(m check.Check, cis []string, component, flag string, bad func(v string) string) Check {
	return Check{Check: m, CIS: cis, run: func(n *Node, r *reporter) {
		each(n, component, func(c *CommandLine) {
			s := c.Setting(flag)
			if why := bad(s.Value); why != "" {
				r.setting(c.Ref, s, why)
			}
		})
	}}
}

// tlsProblems says what is wrong with a component's TLS settings: an
// insecure cipher suite or a minimum version below 1.2. Names Go does not
// know are errors: the component would refuse them.
func tlsProblems(r *reporter, ref finding.ObjectRef, ciphers, minVersion Setting) {
	insecure := map[string]bool{}
	for _, cs := range tls.InsecureCipherSuites() {
		insecure[cs.Name] = true
	}
	known := map[string]bool{}
	for _, cs := range tls.CipherSuites() {
		known[cs.Name] = true
	}
	var bad []string
	for _, name := range listValue(ciphers.Value) {
		switch {
		case insecure[name]:
			bad = append(bad, name)
		case !known[name]:
			r.errorf(ciphers.Loc, "cipher suite %q is not supported or does not exist: the component would refuse to start", name)
		}
	}
	if len(bad) > 0 {
		r.report(ref, ciphers.Loc, "insecure TLS cipher suites allowed: "+strings.Join(bad, ", "), ciphers.String())
	}
	switch strings.TrimSpace(minVersion.Value) {
	case "", "VersionTLS12", "VersionTLS13", "TLS1.2", "TLS1.3":
	case "VersionTLS10", "VersionTLS11", "TLS1.0", "TLS1.1":
		r.report(ref, minVersion.Loc, "TLS versions below 1.2 accepted", minVersion.String())
	default:
		r.errorf(minVersion.Loc, "unknown TLS version %q: the component would refuse to start", minVersion.Value)
	}
}

func tlsCheck(m check.Check, cis []string, component string) Check {
	return Check{Check: m, CIS: cis, run: func(n *Node, r *reporter) {
		each(n, component, func(c *CommandLine) {
			ciphers, min := "tls-cipher-suites", "tls-min-version"
			if component == Etcd {
				ciphers = "cipher-suites"
			}
			tlsProblems(r, c.Ref, c.Setting(ciphers), c.Setting(min))
		})
	}}
}

// loopbackOnly reports whether every URL of a list listens on loopback.
func loopbackOnly(urls string) bool {
	for _, u := range listValue(urls) {
		p, err := url.Parse(u)
		if err != nil {
			return false
		}
		host := p.Hostname()
		if host == "localhost" {
			continue
		}
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

func loopback(addr string) bool {
	if addr == "localhost" {
		return true
	}
	ip := net.ParseIP(addr)
	return ip != nil && ip.IsLoopback()
}

// featureGate returns the value a --feature-gates setting gives a gate,
// and whether it names it.
func featureGate(s Setting, gate string) (on, named bool) {
	// The last setting of a gate wins, as when pflag merges the map.
	for _, kv := range listValue(s.Value) {
		k, v, _ := strings.Cut(kv, "=")
		if strings.TrimSpace(k) == gate {
			on, named = isTrue(v), true
		}
	}
	return on, named
}
