package report

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kubeguard/kubeguard/internal/finding"
	"sigs.k8s.io/yaml"
)

// PolicyReportAPIVersion is the API of the Policy Report working group's
// reports, read by policy-reporter, Kyverno's UI and other dashboards.
const PolicyReportAPIVersion = "wgpolicyk8s.io/v1alpha2"

// PolicyReportName names the reports kubeguard writes: one PolicyReport per
// namespace and one ClusterPolicyReport, each replaced by the next scan.
const PolicyReportName = "kubeguard"

// PolicyReport is a wgpolicyk8s.io/v1alpha2 PolicyReport or
// ClusterPolicyReport (the same fields; only the kind and the scope
// differ).
type PolicyReport struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	Metadata   PolicyReportMeta     `json:"metadata"`
	Summary    PolicyReportSummary  `json:"summary"`
	Results    []PolicyReportResult `json:"results"`
}

// PolicyReportMeta is the report's object metadata.
type PolicyReportMeta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// PolicyReportSummary counts the results by outcome.
type PolicyReportSummary struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Warn  int `json:"warn"`
	Error int `json:"error"`
	Skip  int `json:"skip"`
}

// PolicyReportResult is one finding: the check is the policy and the rule.
type PolicyReportResult struct {
	Source     string               `json:"source"`
	Policy     string               `json:"policy"`
	Rule       string               `json:"rule"`
	Category   string               `json:"category,omitempty"`
	Severity   string               `json:"severity"`
	Timestamp  PolicyReportTime     `json:"timestamp"`
	Result     string               `json:"result"`
	Scored     bool                 `json:"scored"`
	Resources  []PolicyReportObject `json:"resources"`
	Message    string               `json:"message"`
	Properties map[string]string    `json:"properties,omitempty"`
}

// PolicyReportTime is the protobuf Timestamp the API uses.
type PolicyReportTime struct {
	Seconds int64 `json:"seconds"`
	Nanos   int32 `json:"nanos"`
}

// PolicyReportObject is a core/v1 ObjectReference to the object at fault.
type PolicyReportObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// PolicyReports turns findings into one PolicyReport per namespace holding
// findings (or an object of the report), and a ClusterPolicyReport for
// cluster-scoped objects; namespaces come in name order, the cluster report
// first. Findings fail; suppressed findings are skipped, with the reason.
// Every report names kubeguard as its manager so that a re-scan replaces it.
// A scan of one namespace (namespace not empty) makes only that
// namespace's report: a cluster report made from it would replace the
// whole cluster's with an empty one.
func PolicyReports(r *Report, now time.Time, namespace string) []PolicyReport {
	ts := PolicyReportTime{Seconds: now.Unix(), Nanos: int32(now.Nanosecond())}
	byNS := map[string]*PolicyReport{}
	get := func(ns string) *PolicyReport {
		p := byNS[ns]
		if p == nil {
			p = &PolicyReport{APIVersion: PolicyReportAPIVersion, Kind: "PolicyReport",
				Metadata: PolicyReportMeta{Name: PolicyReportName, Namespace: ns, Labels: map[string]string{"app.kubernetes.io/managed-by": "kubeguard"}},
				Results:  []PolicyReportResult{}}
			if ns == "" {
				p.Kind = "ClusterPolicyReport"
			}
			byNS[ns] = p
		}
		return p
	}
	get("")
	for _, o := range r.Objects {
		get(o.Ref.Namespace)
	}
	for _, f := range r.Findings {
		p := get(f.Object.Namespace)
		res := PolicyReportResult{
			Source: "kubeguard", Policy: f.CheckID, Rule: f.CheckID, Category: f.Category,
			Severity: policyReportSeverity(f.Severity), Timestamp: ts, Result: "fail", Scored: true,
			Resources:  []PolicyReportObject{{APIVersion: f.Object.APIVersion, Kind: f.Object.Kind, Namespace: f.Object.Namespace, Name: f.Object.Name}},
			Message:    f.Title + ": " + f.Reason,
			Properties: map[string]string{},
		}
		if f.Detail != "" {
			res.Message += ": " + f.Detail
		}
		if f.Path != "" {
			res.Properties["path"] = f.Path
		}
		if len(f.Containers) > 0 {
			res.Properties["containers"] = strings.Join(f.Containers, ",")
		}
		if f.DocURL != "" {
			res.Properties["doc"] = f.DocURL
		}
		if f.Suppressed != nil {
			res.Result, res.Scored = "skip", false
			res.Properties["suppressed"] = f.Suppressed.Kind
			if f.Suppressed.Reason != "" {
				res.Properties["suppressedReason"] = f.Suppressed.Reason
			}
			p.Summary.Skip++
		} else {
			p.Summary.Fail++
		}
		p.Results = append(p.Results, res)
	}
	out := make([]PolicyReport, 0, len(byNS))
	for _, ns := range slices.Sorted(maps.Keys(byNS)) {
		if namespace != "" && ns != namespace {
			continue
		}
		p := byNS[ns]
		slices.SortStableFunc(p.Results, func(a, b PolicyReportResult) int {
			x, y := a.Resources[0], b.Resources[0]
			return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Name, y.Name), cmp.Compare(a.Policy, b.Policy),
				cmp.Compare(a.Properties["path"], b.Properties["path"]))
		})
		out = append(out, *p)
	}
	return out
}

// policyReportSeverity maps a severity onto the API's: the names agree.
func policyReportSeverity(s finding.Severity) string { return s.String() }

// PolicyReportYAML writes the reports as a multi-document YAML stream,
// ready for kubectl apply.
type PolicyReportYAML struct {
	// Now stamps the results; the current time when zero.
	Now time.Time
	// Namespace, when set, writes only that namespace's report.
	Namespace string
}

// Write implements Output.
func (p PolicyReportYAML) Write(w io.Writer, r *Report) error {
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	for i, pr := range PolicyReports(r, now.UTC(), p.Namespace) {
		b, err := yaml.Marshal(pr)
		if err != nil {
			return fmt.Errorf("policy report: %w", err)
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
