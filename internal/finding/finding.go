// Package finding defines what a check reports: a Finding, its Severity and
// where in the input it points.
package finding

import (
	"fmt"
	"strings"
)

// Severity ranks how much a finding matters. The zero value is Info.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the lowercase name used in flags and reports.
func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// MarshalText renders the severity by name, so JSON reports carry "high", not 3.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity parses a severity name, case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(name, n) {
			return Severity(i), nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q (want one of %s)", name, strings.Join(severityNames[:], ", "))
}

// ObjectRef identifies a Kubernetes object.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// String renders the reference as kind/namespace/name, the way people read it.
func (r ObjectRef) String() string {
	name := r.Name
	if name == "" {
		name = "(unnamed)"
	}
	if r.Namespace != "" {
		return r.Kind + "/" + r.Namespace + "/" + name
	}
	return r.Kind + "/" + name
}

// StdinName is the file name of standard input in locations.
const StdinName = "<stdin>"

// Location is a position in an input. Line and Column are 1-based; zero
// means unknown. Template names the Helm template a rendered document came
// from (its "# Source:" comment), when there is one.
type Location struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Template string `json:"template,omitempty"`
}

// String renders file:line:column, with the Helm template first when known.
func (l Location) String() string {
	s := l.File
	if l.Line > 0 {
		s += fmt.Sprintf(":%d", l.Line)
		if l.Column > 0 {
			s += fmt.Sprintf(":%d", l.Column)
		}
	}
	if l.Template != "" {
		return l.Template + " (" + s + ")"
	}
	return s
}

// Finding is one problem found in one object.
type Finding struct {
	CheckID  string    `json:"checkID"`
	Title    string    `json:"title"`
	Severity Severity  `json:"severity"`
	Category string    `json:"category"`
	Object   ObjectRef `json:"object"`
	// Containers lists the containers involved, when the problem is theirs.
	Containers []string `json:"containers,omitempty"`
	// Path is the field path of the offending field, or of the object
	// where a missing field must be added.
	Path     string   `json:"path,omitempty"`
	Location Location `json:"location"`
	Reason   string   `json:"reason"`
	Detail   string   `json:"detail,omitempty"`
	// Admission says what Pod Security Admission would do with the object,
	// given the labels of its namespace found in the same input.
	Admission   []string `json:"admission,omitempty"`
	Remediation string   `json:"remediation"`
	DocURL      string   `json:"docURL"`
	// Suppressed is set when an annotation, a configured exemption or the
	// baseline covers the finding: it is still reported, but does not fail
	// the scan.
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// Suppression says why a finding does not count.
type Suppression struct {
	// Kind is "annotation", "exemption" or "baseline".
	Kind   string `json:"kind"`
	Reason string `json:"reason,omitempty"`
	// Location is where the suppression is written: the annotation's
	// object or the exemption in the configuration file.
	Location *Location `json:"location,omitempty"`
}

// InputError is input that could not be read or understood. It is reported
// alongside findings; the rest of the input is still scanned.
type InputError struct {
	Location Location `json:"location"`
	Message  string   `json:"message"`
}

// Error renders location: message.
func (e InputError) Error() string { return e.Location.String() + ": " + e.Message }
