package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/kubeguard/kubeguard/internal/checks"
)

func runChecks(_ context.Context, args []string, io IO) int {
	fs := newFlags("checks", checksHelp)
	format := fs.StringP("format", "o", "text", "output `format`: text, json or markdown")
	if _, code, ok := fs.parse(args, io); !ok {
		return code
	}
	if err := oneOf("format", *format, []string{"text", "json", "markdown"}); err != nil {
		return fs.usageError(io, err)
	}
	all, err := checks.All()
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	if *format == "markdown" {
		if err := checks.Markdown(io.Stdout, all); err != nil {
			return ExitError
		}
		return ExitOK
	}
	if *format == "json" {
		type entry struct {
			ID, Title, Severity, Category, Rationale, Remediation, DocURL string
		}
		var out []entry
		for _, c := range all {
			out = append(out, entry{c.ID, c.Title, c.Severity.String(), c.Category, c.Rationale, c.Remediation, c.DocURL})
		}
		enc := json.NewEncoder(io.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return ExitError
		}
		return ExitOK
	}
	tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tCATEGORY\tTITLE\tDOC")
	for _, c := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Severity, c.Category, c.Title, c.DocURL)
	}
	if err := tw.Flush(); err != nil {
		return ExitError
	}
	return ExitOK
}

const checksHelp = `Usage: kubeguard checks [--format text|json|markdown]

Lists every check: ID, severity, category, title and documentation.

Examples:
  kubeguard checks
  kubeguard checks -o json | jq -r '.[] | select(.Severity == "critical") | .ID'
  kubeguard checks --format markdown > checks.md
`
