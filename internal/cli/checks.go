package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks"
)

func runChecks(_ context.Context, args []string, io IO) int {
	fs := newFlags("checks", checksHelp)
	format := new(string)
	fs.formatFlag(format, "text", "output `format`: text, json or markdown")
	ids, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if err := oneOf("output", *format, []string{"text", "json", "markdown"}); err != nil {
		return fs.usageError(io, err)
	}
	all, err := checks.Catalogue()
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	cs, err := selectChecks(all, ids)
	if err != nil {
		return fs.usageError(io, err)
	}
	switch {
	case *format == "markdown":
		err = checks.Markdown(io.Stdout, cs)
	case *format == "json":
		err = writeChecksJSON(io.Stdout, cs)
	case len(ids) > 0:
		err = explainChecks(io.Stdout, cs)
	default:
		t := &table{}
		t.add("ID", "SEVERITY", "CATEGORY", "TITLE")
		for _, c := range cs {
			t.add(c.ID, c.Severity.String(), c.Category, c.Title)
		}
		err = t.write(io.Stdout, termWidth(io.Stdout), 3, 2, 0)
		if err == nil {
			_, err = fmt.Fprintln(io.Stdout, "\nRun 'kubeguard explain CHECK-ID' for a check's rationale, fix and documentation.")
		}
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	return ExitOK
}

// selectChecks picks the checks named by ids, in the order given; all of
// them when ids is empty. An unknown ID is an error naming the closest.
func selectChecks(all []check.Check, ids []string) ([]check.Check, error) {
	if len(ids) == 0 {
		return all, nil
	}
	var out []check.Check
	for _, id := range ids {
		i := slices.IndexFunc(all, func(c check.Check) bool { return c.ID == id })
		if i < 0 {
			msg := fmt.Sprintf("unknown check %q", id)
			if near := closestID(all, id); near != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			}
			return nil, fmt.Errorf("%s; 'kubeguard checks' lists them", msg)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// closestID is the check ID nearest to id, or "" when none is near.
func closestID(all []check.Check, id string) string {
	best, bestD := "", min(len(id)/3+1, 4)
	for _, c := range all {
		if d := editDistance(id, c.ID); d <= bestD && (best == "" || d < bestD) {
			best, bestD = c.ID, d
		}
	}
	return best
}

// checkJSON is a check in 'checks -o json', with the keys of the JSON
// report's checks (docs/json-report.md) and what explain shows besides.
type checkJSON struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Severity    string   `json:"severity"`
	Category    string   `json:"category"`
	Rationale   string   `json:"rationale"`
	Remediation string   `json:"remediation"`
	DocURL      string   `json:"docURL"`
	Kinds       []string `json:"kinds,omitempty"`
}

func writeChecksJSON(w io.Writer, cs []check.Check) error {
	out := []checkJSON{}
	for _, c := range cs {
		out = append(out, checkJSON{c.ID, c.Title, c.Severity.String(), c.Category, c.Rationale, c.Remediation, c.DocURL, c.Kinds})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// explainChecks prints each check whole: what it finds, why it matters,
// how to fix it, where Kubernetes documents it.
func explainChecks(w io.Writer, cs []check.Check) error {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s: %s\n", c.ID, c.Title)
		fmt.Fprintf(&b, "  severity %s, category %s\n", c.Severity, c.Category)
		if len(c.Kinds) > 0 {
			fmt.Fprintf(&b, "  applies to %s\n", kindsText(c.Kinds))
		}
		fmt.Fprintf(&b, "\nWhy:\n%s\n", indentWrap(c.Rationale, "  ", 78))
		fmt.Fprintf(&b, "\nFix:\n%s\n", indent(c.Remediation, "  "))
		fmt.Fprintf(&b, "\nDocumentation: %s\n", c.DocURL)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// kindsText names the kinds a check reads, its pseudo-kinds in words.
func kindsText(ks []string) string {
	out := make([]string, len(ks))
	for i, k := range ks {
		switch k {
		case check.PodTemplates:
			k = "Pods and every object with a pod template"
		case check.AnyKind:
			k = "objects of every kind"
		}
		out[i] = k
	}
	return strings.Join(out, ", ")
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

// indentWrap wraps prose at width, each line indented.
func indentWrap(s, prefix string, width int) string {
	var lines []string
	line := prefix
	for _, word := range strings.Fields(s) {
		if len(line) > len(prefix) && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = prefix
		}
		if len(line) > len(prefix) {
			line += " "
		}
		line += word
	}
	return strings.Join(append(lines, line), "\n")
}

const checksHelp = `Usage: kubeguard checks [CHECK-ID...] [-o text|json|markdown]

Lists every check of every command (scan, cluster and webhook share the
object checks; node and audit have their own): ID, severity, category and
title. Given check IDs, shows
those checks whole: rationale, remediation and documentation, as
'kubeguard explain' does. JSON uses the keys of the JSON report's checks
(id, title, severity, category, docURL) plus rationale, remediation and
kinds.

Examples:
  kubeguard checks
  kubeguard checks pss-privileged
  kubeguard checks -o json | jq -r '.[] | select(.severity == "critical") | .id'
  kubeguard checks -o markdown > checks.md
`

const explainHelp = `Usage: kubeguard explain CHECK-ID...

Shows a check whole: what it finds, why it matters (the Kubernetes
guidance it enforces), how to fix it, and where Kubernetes documents it.
The text report's --compact lines leave the fix out; this is where it is.

Examples:
  kubeguard explain pss-privileged
  kubeguard explain rbac-secrets-read secret-env-var
  kubeguard explain kubelet-anonymous-auth audit-log-exec
`

func runExplain(_ context.Context, args []string, io IO) int {
	fs := newFlags("explain", explainHelp)
	ids, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if len(ids) == 0 {
		return fs.usageError(io, fmt.Errorf("no check ID given; 'kubeguard checks' lists them"))
	}
	all, err := checks.Catalogue()
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	cs, err := selectChecks(all, ids)
	if err != nil {
		return fs.usageError(io, err)
	}
	if err := explainChecks(io.Stdout, cs); err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	return ExitOK
}
