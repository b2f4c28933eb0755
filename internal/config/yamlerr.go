package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
	"gopkg.in/yaml.v3"
)

// The decoder's messages name Go types ("field x not found in type
// config.Checks", "cannot unmarshal !!str `a` into []string"); a user of
// .kubeguard.yaml knows keys, lists and mappings. decodeError says the
// same in those terms, each with its line.
var (
	unknownField = regexp.MustCompile("^line (\\d+): field (.+) not found in type config\\.(\\w+)$")
	wrongType    = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
)

// sections are the mappings of the file, by the type that decodes them:
// where they are, and the keys they take.
var sections = map[string]struct {
	where string
	typ   reflect.Type
}{
	"Config":     {"at the top level", reflect.TypeFor[Config]()},
	"Checks":     {"under checks", reflect.TypeFor[Checks]()},
	"Parameters": {"under parameters", reflect.TypeFor[Parameters]()},
	"Exemption":  {"in an exemption", reflect.TypeFor[Exemption]()},
}

// yamlKinds name the decoder's tags.
var yamlKinds = map[string]string{"str": "a string", "seq": "a list", "map": "a mapping", "int": "a number",
	"float": "a number", "bool": "true or false", "null": "nothing", "timestamp": "a date"}

// goKinds name what a Go type reads.
var goKinds = map[string]string{
	"[]string":                    "a list of strings",
	"[]config.Exemption":          "a list of exemptions",
	"map[string]finding.Severity": "a mapping of check IDs to severities",
	"string":                      "a string",
	"finding.Severity":            "a severity",
	"config.Config":               "a mapping (checks, parameters, exemptions)",
	"config.Checks":               "a mapping",
	"config.Parameters":           "a mapping",
	"config.Exemption":            "a mapping",
}

func keysOf(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

// decodeError rewords an error of decoding file in YAML terms, with lines.
func decodeError(file string, root *yaml.Node, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		if line, id, value, ok := badSeverity(root); ok {
			return fmt.Errorf("%s:%d: checks.severity.%s: %w", file, line, id, severityError(value))
		}
		return fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var errs []error
	var scalars map[string]string
	for _, msg := range te.Errors {
		switch m := unknownField.FindStringSubmatch(msg); {
		case m != nil:
			s, ok := sections[m[3]]
			if !ok {
				errs = append(errs, fmt.Errorf("%s:%s: unknown key %q", file, m[1], m[2]))
				continue
			}
			errs = append(errs, fmt.Errorf("%s:%s: unknown key %q %s (want %s)", file, m[1], m[2], s.where, strings.Join(keysOf(s.typ), ", ")))
		default:
			m := wrongType.FindStringSubmatch(msg)
			if m == nil {
				errs = append(errs, fmt.Errorf("%s: %s", file, msg))
				continue
			}
			got := yamlKinds[m[2]]
			if got == "" {
				got = "a YAML " + m[2]
			}
			if m[3] != "" {
				// The decoder cuts long values short; the node has it whole.
				v := m[3]
				if scalars == nil {
					scalars = scalarsByLine(root)
				}
				if whole, ok := scalars[m[1]]; ok {
					v = whole
				}
				got += fmt.Sprintf(" (%q)", v)
			}
			want := goKinds[m[4]]
			if want == "" {
				want = "another value"
			}
			errs = append(errs, fmt.Errorf("%s:%s: want %s, not %s", file, m[1], want, got))
		}
	}
	return errors.Join(errs...)
}

func severityError(value string) error {
	_, err := finding.ParseSeverity(value)
	return err
}

// badSeverity finds the first value under checks.severity that is not a
// severity: the decoder says which value was wrong, not where.
func badSeverity(root *yaml.Node) (line int, id, value string, ok bool) {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, key := range []string{"checks", "severity"} {
		if n.Kind != yaml.MappingNode {
			return 0, "", "", false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return 0, "", "", false
		}
		n = next
	}
	if n.Kind != yaml.MappingNode {
		return 0, "", "", false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		if _, err := finding.ParseSeverity(v.Value); err != nil || v.Kind != yaml.ScalarNode {
			return v.Line, n.Content[i].Value, v.Value, true
		}
	}
	return 0, "", "", false
}

// scalarsByLine maps each line of the document to its last scalar: one
// pass, however many errors ask.
func scalarsByLine(root *yaml.Node) map[string]string {
	out := map[string]string{}
	stack := []*yaml.Node{root}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x.Kind == yaml.ScalarNode {
			if _, seen := out[strconv.Itoa(x.Line)]; !seen {
				out[strconv.Itoa(x.Line)] = x.Value
			}
		}
		stack = append(stack, x.Content...)
	}
	return out
}
