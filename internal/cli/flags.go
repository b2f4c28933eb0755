package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// flagSet is a command's flags (GNU style, through pflag: --name value,
// --name=value, -o json, -ojson, flags anywhere among the arguments, --
// ends them) with the command's help text, which is printed above them.
type flagSet struct {
	*pflag.FlagSet
	// path is the command as typed after kubeguard: "scan", "rbac can-i".
	path string
	// help is everything the help says before the flags: usage line,
	// description, examples.
	help string
}

func newFlags(path, help string) *flagSet {
	fs := pflag.NewFlagSet(path, pflag.ContinueOnError)
	// Errors and help are printed by parse, on the stream each belongs on.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	// Flags are listed as registered: the important ones first.
	fs.SortFlags = false
	return &flagSet{FlagSet: fs, path: path, help: help}
}

// formatFlag registers the report's format as kubectl names it: -o and
// --output. --format is another name for it, and the report goes to a file
// with --output-file.
func (fs *flagSet) formatFlag(p *string, def, usage string) {
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "format" {
			name = "output"
		}
		return pflag.NormalizedName(name)
	})
	fs.StringVarP(p, "output", "o", def, usage)
}

// writeHelp writes the help text and the flags.
func (fs *flagSet) writeHelp(w io.Writer) {
	fmt.Fprint(w, strings.TrimRight(fs.help, "\n"), "\n")
	if fs.HasFlags() {
		fmt.Fprint(w, "\nFlags:\n", fs.FlagUsages())
	}
}

// parse parses args and returns the positional arguments. When ok is
// false the command ends with code: help was asked for (printed on
// standard output, code ExitOK) or the command line is wrong (said on
// standard error, code ExitError).
func (fs *flagSet) parse(args []string, io IO) (pos []string, code int, ok bool) {
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		fs.writeHelp(io.Stdout)
		return nil, ExitOK, false
	}
	if err != nil {
		return nil, fs.usageError(io, err), false
	}
	return fs.Args(), 0, true
}

// usageError says what is wrong with the command line, and for an
// unknown flag the closest known one, and returns ExitError.
func (fs *flagSet) usageError(io IO, err error) int {
	msg := err.Error()
	var ne *pflag.NotExistError
	if errors.As(err, &ne) {
		typed := ne.GetSpecifiedName()
		if s := ne.GetSpecifiedShortnames(); len(s) > 1 {
			// -level: a long name written with one dash, as Go's flag
			// package allowed.
			typed, _, _ = strings.Cut(s, "=")
		}
		if name := fs.closest(typed); name != "" {
			msg += fmt.Sprintf(" (did you mean --%s?)", name)
		}
	}
	fmt.Fprintf(io.Stderr, "kubeguard %s: %s\nRun 'kubeguard %s --help' for usage.\n", fs.path, msg, fs.path)
	return ExitError
}

// closest is the long flag name nearest to typed, or "" when none is
// near enough to be a likely typo.
func (fs *flagSet) closest(typed string) string {
	score := func(name string) int {
		d := editDistance(typed, name)
		if len(typed) >= 3 && strings.HasPrefix(name, typed) {
			d = min(d, 1) // --fail for --fail-on
		}
		return d
	}
	best, bestD := "", min(len(typed)/2+1, 3)
	fs.VisitAll(func(f *pflag.Flag) {
		if d := score(f.Name); d <= bestD && (best == "" || d < bestD) {
			best, bestD = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// oneOf checks a flag's value against the values it takes, with one
// wording for every command.
func oneOf(name, value string, allowed []string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	err := fmt.Errorf("invalid --%s %q (want one of %s)", name, value, strings.Join(allowed, ", "))
	if name == "output" && strings.ContainsAny(value, "./") {
		// A file name: the report's file was --output before -o/--output
		// became the format, as in kubectl.
		err = fmt.Errorf("%w; a report file is --output-file FILE", err)
	}
	return err
}

// severityNames lists the severities a severity flag takes.
const severityNames = "info, low, medium, high or critical"

// failOnFlag adds --fail-on, worded alike in every command that gates.
func failOnFlag(fs *flagSet, p *string) {
	fs.StringVar(p, "fail-on", "high", "exit 1 when a finding that is not suppressed is at or above this `severity`: "+severityNames)
}

// severityFlag parses the value of a severity flag, with one wording for
// every command.
func severityFlag(name, value string) (finding.Severity, error) {
	s, err := finding.ParseSeverity(value)
	if err != nil {
		return s, fmt.Errorf("invalid --%s %q (want one of %s)", name, value, strings.ReplaceAll(severityNames, " or", ","))
	}
	return s, nil
}
