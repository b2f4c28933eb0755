package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/netpol"
)

const matrixUsage = `Usage: kubeguard netpol matrix -f PATH... [-o text|json|csv|dot|mermaid]

Prints, for every ordered pair of workloads (and "outside", some address
outside the cluster, as a row and a column), the ports on which the first
may open connections to the second: "all", "-" for none, or per protocol
the ports and ranges ("TCP:80,8000-8080 UDP:53"). Named ports are resolved
per destination. Host-network pods are left out (see docs/netpol.md).

Formats: text (a table; columns are numbered, the numbers listed below it),
json ({"endpoints": [...], "connections": [{"from", "to", "ports"}]}: the
pairs with at least one port), csv (from,to,ports for every pair), dot
(Graphviz) and mermaid (a flowchart), both with an edge per connected
pair labelled with its ports.

Examples:
  kubeguard netpol matrix -f k8s/
  kubeguard netpol matrix -f k8s/ -o dot | dot -Tsvg > netpol.svg
  kubeguard netpol matrix --cluster --context prod -o csv > matrix.csv

Exit status: 0, or 2 for usage or input errors.
`

var matrixFormats = []string{"text", "json", "csv", "dot", "mermaid"}

func runMatrix(ctx context.Context, args []string, io IO) int {
	var o NetpolOptions
	fs := netpolFlags("matrix", matrixUsage, &o, true, matrixFormats)
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if err := oneOf("output", o.Format, matrixFormats); err != nil {
		return fs.usageError(io, err)
	}
	if len(pos) > 0 {
		return fs.usageError(io, fmt.Errorf("unexpected argument %q (input comes with -f)", pos[0]))
	}
	in, err := loadNetpol(ctx, &o, o.Files, io.Stdin, io.Stderr)
	if err != nil {
		return fs.usageError(io, err)
	}
	in.warn(io.Stderr)
	if err := buffered(io.Stdout, func(w *bufio.Writer) error { return writeMatrix(w, o.Format, in.net) }); err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	if len(in.errors) > 0 {
		return ExitError
	}
	return ExitOK
}

// cellText is a matrix cell: "-" for no port.
func cellText(p netpol.PortSet) string {
	if p.Empty() {
		return "-"
	}
	return p.String()
}

func writeMatrix(w *bufio.Writer, format string, n *netpol.Network) error {
	es := n.Endpoints()
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.String()
	}
	switch format {
	case "json":
		w.WriteString("{\n  \"endpoints\": [")
		for i, name := range names {
			if i > 0 {
				w.WriteString(", ")
			}
			w.WriteString(strconv.Quote(name))
		}
		w.WriteString("],\n  \"connections\": [")
		first := true
		n.Matrix(func(from, to int, p netpol.PortSet) {
			if p.Empty() {
				return
			}
			if !first {
				w.WriteByte(',')
			}
			first = false
			fmt.Fprintf(w, "\n    {\"from\": %s, \"to\": %s, \"ports\": %s}", strconv.Quote(names[from]), strconv.Quote(names[to]), strconv.Quote(p.String()))
		})
		if !first {
			w.WriteString("\n  ")
		}
		w.WriteString("]")
		writeOutOfScopeJSON(w, n)
		w.WriteString("\n}\n")
	case "csv":
		c := csv.NewWriter(w)
		c.Write([]string{"from", "to", "ports"})
		n.Matrix(func(from, to int, p netpol.PortSet) {
			ports := p.String()
			c.Write([]string{names[from], names[to], ports})
		})
		c.Flush()
		return c.Error()
	case "dot":
		w.WriteString("digraph netpol {\n  rankdir=LR;\n  node [shape=box];\n")
		for i, name := range names {
			fmt.Fprintf(w, "  n%d [label=%s];\n", i, strconv.Quote(name))
		}
		n.Matrix(func(from, to int, p netpol.PortSet) {
			if !p.Empty() {
				fmt.Fprintf(w, "  n%d -> n%d [label=%s];\n", from, to, strconv.Quote(p.String()))
			}
		})
		w.WriteString("}\n")
	case "mermaid":
		w.WriteString("flowchart LR\n")
		for i, name := range names {
			fmt.Fprintf(w, "  n%d[\"%s\"]\n", i, mermaidText(name))
		}
		n.Matrix(func(from, to int, p netpol.PortSet) {
			if !p.Empty() {
				fmt.Fprintf(w, "  n%d -->|\"%s\"| n%d\n", from, mermaidText(p.String()), to)
			}
		})
	default:
		writeMatrixTable(w, n, names)
	}
	return nil
}

// mermaidText escapes what would end a Mermaid label.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "|", "#124;").Replace(s)
}

func writeOutOfScopeJSON(w *bufio.Writer, n *netpol.Network) {
	if len(n.OutOfScope) == 0 {
		return
	}
	w.WriteString(",\n  \"outOfScope\": [")
	for i, o := range n.OutOfScope {
		if i > 0 {
			w.WriteString(", ")
		}
		w.WriteString(strconv.Quote(o.ID()))
	}
	w.WriteString("]")
}

// writeMatrixTable writes the matrix as a table: a row per source, a
// numbered column per destination, the numbers listed under it.
func writeMatrixTable(w *bufio.Writer, n *netpol.Network, names []string) {
	cells := make([]string, len(names)) // one row at a time
	widths := make([]int, len(names)+1)
	for i, name := range names {
		widths[0] = max(widths[0], len(name))
		widths[i+1] = len(strconv.Itoa(i + 1))
	}
	// First pass: column widths. The matrix is computed twice rather than
	// kept, so memory stays flat in the number of pairs.
	n.Matrix(func(_, to int, p netpol.PortSet) {
		widths[to+1] = max(widths[to+1], len(cellText(p)))
	})
	var line []byte
	pad := func(s string, width int) {
		line = append(line, s...)
		for range width - len(s) + 2 {
			line = append(line, ' ')
		}
	}
	endLine := func() {
		w.Write(bytes.TrimRight(line, " "))
		w.WriteByte('\n')
		line = line[:0]
	}
	pad("FROM \\ TO", widths[0])
	for i := range names {
		pad(strconv.Itoa(i+1), widths[i+1])
	}
	endLine()
	row := -1
	flush := func() {
		if row < 0 {
			return
		}
		pad(names[row], widths[0])
		for j, c := range cells {
			pad(c, widths[j+1])
			cells[j] = ""
		}
		endLine()
	}
	n.Matrix(func(from, to int, p netpol.PortSet) {
		if from != row {
			flush()
			row = from
		}
		cells[to] = cellText(p)
	})
	flush()
	w.WriteString("\n")
	for i, name := range names {
		fmt.Fprintf(w, "%*d  %s\n", len(strconv.Itoa(len(names))), i+1, name)
	}
	writeOutOfScopeText(w, n)
}

func writeOutOfScopeText(w io.Writer, n *netpol.Network) {
	if len(n.OutOfScope) == 0 {
		return
	}
	ids := make([]string, len(n.OutOfScope))
	for i, o := range n.OutOfScope {
		ids[i] = o.ID()
	}
	fmt.Fprintf(w, "\nout of scope (host network; NetworkPolicy does not govern it in a defined way): %s\n", strings.Join(ids, ", "))
}

const exposureUsage = `Usage: kubeguard netpol exposure -f PATH... [-o text|json]

For each workload: the ports on which it accepts connections from every
pod of every namespace, from every address outside the cluster, and from
some address outside it; the ports on which it may connect to some
address outside the cluster; and, called out, to the cloud metadata
address 169.254.169.254, which hands out the node's cloud credentials.
Then the NetworkPolicies that select no workload of the input: a typo in
a label, or pods defined elsewhere.

Examples:
  kubeguard netpol exposure -f k8s/
  kubeguard netpol exposure --cluster -o json

Exit status: 0, or 2 for usage or input errors.
`

func runExposure(ctx context.Context, args []string, io IO) int {
	var o NetpolOptions
	fs := netpolFlags("exposure", exposureUsage, &o, true, []string{"text", "json"})
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if err := oneOf("output", o.Format, []string{"text", "json"}); err != nil {
		return fs.usageError(io, err)
	}
	if len(pos) > 0 {
		return fs.usageError(io, fmt.Errorf("unexpected argument %q (input comes with -f)", pos[0]))
	}
	in, err := loadNetpol(ctx, &o, o.Files, io.Stdin, io.Stderr)
	if err != nil {
		return fs.usageError(io, err)
	}
	in.warn(io.Stderr)
	exps := in.net.Exposures()
	if err := buffered(io.Stdout, func(w *bufio.Writer) error { return writeExposure(w, o.Format, exps, in.net) }); err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	if len(in.errors) > 0 {
		return ExitError
	}
	return ExitOK
}

type exposureJSON struct {
	Workload         string `json:"workload"`
	FromAnyNamespace string `json:"fromAnyNamespace"`
	FromAnyOutside   string `json:"fromAnyOutside"`
	FromSomeOutside  string `json:"fromSomeOutside"`
	ToSomeOutside    string `json:"toSomeOutside"`
	ToMetadata       string `json:"toMetadata"`
}

func writeExposure(w *bufio.Writer, format string, exps []netpol.Exposure, n *netpol.Network) error {
	if format == "json" {
		out := struct {
			Workloads  []exposureJSON `json:"workloads"`
			OutOfScope []string       `json:"outOfScope,omitempty"`
			// Idle are the NetworkPolicies that select no workload of the input.
			Idle []string `json:"idlePolicies,omitempty"`
		}{Workloads: []exposureJSON{}}
		for _, e := range exps {
			out.Workloads = append(out.Workloads, exposureJSON{
				Workload: e.Workload.ID(), FromAnyNamespace: e.FromAnyNamespace.String(), FromAnyOutside: e.FromAnyOutside.String(),
				FromSomeOutside: e.FromSomeOutside.String(), ToSomeOutside: e.ToSomeOutside.String(), ToMetadata: e.ToMetadata.String(),
			})
		}
		for _, o := range n.OutOfScope {
			out.OutOfScope = append(out.OutOfScope, o.ID())
		}
		for _, p := range n.Idle() {
			out.Idle = append(out.Idle, p.Ref())
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
		return nil
	}
	for _, e := range exps {
		fmt.Fprintf(w, "%s\n", e.Workload.ID())
		fmt.Fprintf(w, "  from every pod of every namespace:  %s\n", cellText(e.FromAnyNamespace))
		fmt.Fprintf(w, "  from every address outside:         %s\n", cellText(e.FromAnyOutside))
		fmt.Fprintf(w, "  from some address outside:          %s\n", cellText(e.FromSomeOutside))
		fmt.Fprintf(w, "  to some address outside:            %s\n", cellText(e.ToSomeOutside))
		if e.ToMetadata.Empty() {
			fmt.Fprintf(w, "  to the metadata address %s: -\n", netpol.MetadataAddress)
		} else {
			fmt.Fprintf(w, "  to the metadata address %s: %s  <- can reach the cloud metadata service: block it with an egress rule (ipBlock except 169.254.169.254/32)\n", netpol.MetadataAddress, e.ToMetadata)
		}
	}
	writeOutOfScopeText(w, n)
	if idle := n.Idle(); len(idle) > 0 {
		w.WriteString("\nNetworkPolicies that select no workload of the input (a label typo, or pods defined elsewhere):\n")
		for _, p := range idle {
			at := ""
			if p.Source.File != "" {
				at = " at " + p.Source.String()
			}
			fmt.Fprintf(w, "  %s%s\n", p.Ref(), at)
		}
	}
	return nil
}

const netpolDiffUsage = `Usage: kubeguard netpol diff OLD NEW [-o text|json]

Compares the connectivity of two sets of manifests (files or directories;
- for standard input on one side): for every ordered pair of workloads
and "outside", the ports the change newly allows (+) and no longer allows
(-). A workload on one side only has no connections on the other.

Examples:
  kubeguard netpol diff main/k8s/ pr/k8s/
  git show main:k8s/netpol.yaml > /tmp/old.yaml && kubeguard netpol diff /tmp/old.yaml k8s/netpol.yaml

Exit status: 0 when nothing changes, 1 when connections change, 2 for
usage or input errors.
`

func runNetpolDiff(ctx context.Context, args []string, io IO) int {
	var o NetpolOptions
	fs := netpolFlags("diff", netpolDiffUsage, &o, false, []string{"text", "json"})
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if err := oneOf("output", o.Format, []string{"text", "json"}); err != nil {
		return fs.usageError(io, err)
	}
	if len(pos) != 2 {
		return fs.usageError(io, errors.New("want OLD NEW"))
	}
	if pos[0] == "-" && pos[1] == "-" {
		return fs.usageError(io, errors.New("only one side may be standard input"))
	}
	old, err := loadNetpol(ctx, &o, pos[:1], io.Stdin, io.Stderr)
	if err != nil {
		return fs.usageError(io, err)
	}
	old.warn(io.Stderr)
	new, err := loadNetpol(ctx, &o, pos[1:], io.Stdin, io.Stderr)
	if err != nil {
		return fs.usageError(io, err)
	}
	new.warn(io.Stderr)
	changes := netpol.Diff(old.net, new.net)
	if err := buffered(io.Stdout, func(w *bufio.Writer) error { return writeDiff(w, o.Format, changes) }); err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	switch {
	case len(old.errors)+len(new.errors) > 0:
		return ExitError
	case len(changes) > 0:
		return ExitFindings
	}
	return ExitOK
}

func writeDiff(w *bufio.Writer, format string, changes []netpol.Change) error {
	if format == "json" {
		type changeJSON struct {
			From    string `json:"from"`
			To      string `json:"to"`
			Added   string `json:"added,omitempty"`
			Removed string `json:"removed,omitempty"`
		}
		out := []changeJSON{}
		for _, c := range changes {
			j := changeJSON{From: c.From, To: c.To}
			if !c.Added.Empty() {
				j.Added = c.Added.String()
			}
			if !c.Removed.Empty() {
				j.Removed = c.Removed.String()
			}
			out = append(out, j)
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
		return nil
	}
	if len(changes) == 0 {
		w.WriteString("no change in connectivity\n")
		return nil
	}
	for _, c := range changes {
		if !c.Added.Empty() {
			fmt.Fprintf(w, "+ %s -> %s: %s\n", c.From, c.To, c.Added)
		}
		if !c.Removed.Empty() {
			fmt.Fprintf(w, "- %s -> %s: %s\n", c.From, c.To, c.Removed)
		}
	}
	return nil
}
