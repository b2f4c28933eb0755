package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// SARIFSchema is the JSON schema SARIF reports name: the OASIS SARIF 2.1.0
// schema with errata 01, the version GitHub code scanning accepts.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// SARIFFingerprint is the key of the partial fingerprint each SARIF result
// carries. The suffix is bumped if what is hashed ever changes, so that
// consumers see a new kind of fingerprint rather than every alert as new.
const SARIFFingerprint = "kubeguard/v1"

// InformationURI is the tool's home page, named in SARIF reports.
const InformationURI = "https://github.com/kubeguard/kubeguard"

// srcRoot is the base relative paths are resolved against. GitHub code
// scanning maps it to the repository root, where CI runs kubeguard.
const srcRoot = "%SRCROOT%"

// SARIF writes SARIF 2.1.0: one run, one rule per check, one result per
// finding, input errors as tool execution notifications.
type SARIF struct{}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

// sarifRun's results come before its invocations, which say whether
// the input could be read, so that a scan writes each result as it finds
// it.
type sarifRun struct {
	Tool sarifTool `json:"tool"`
	// ColumnKind is unicodeCodePoints because the YAML parser counts
	// columns in characters, not UTF-16 units or bytes.
	ColumnKind  string            `json:"columnKind"`
	Results     []sarifResult     `json:"results"`
	Invocations []sarifInvocation `json:"invocations"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name"`
	ShortDescription     sarifMessage       `json:"shortDescription"`
	FullDescription      sarifMessage       `json:"fullDescription"`
	Help                 sarifMessage       `json:"help"`
	HelpURI              string             `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	Properties           sarifRuleProps     `json:"properties"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	// Tags must include "security" for GitHub to read security-severity.
	Tags             []string `json:"tags"`
	Severity         string   `json:"severity"`
	Category         string   `json:"category"`
	SecuritySeverity string   `json:"security-severity,omitempty"`
}

type sarifMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifResult struct {
	RuleID              string              `json:"ruleId"`
	RuleIndex           int                 `json:"ruleIndex"`
	Level               string              `json:"level"`
	Message             sarifMessage        `json:"message"`
	Locations           []sarifLocation     `json:"locations"`
	RelatedLocations    []sarifLocation     `json:"relatedLocations,omitempty"`
	PartialFingerprints map[string]string   `json:"partialFingerprints"`
	Suppressions        []sarifSuppression  `json:"suppressions,omitempty"`
	Properties          sarifResultProperty `json:"properties"`
}

type sarifResultProperty struct {
	Severity   string            `json:"severity"`
	Object     finding.ObjectRef `json:"object"`
	Path       string            `json:"path,omitempty"`
	Containers []string          `json:"containers,omitempty"`
	Template   string            `json:"template,omitempty"`
}

type sarifLocation struct {
	ID               *int                   `json:"id,omitempty"`
	PhysicalLocation *sarifPhysicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
	Message          *sarifMessage          `json:"message,omitempty"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifArtifactLocation struct {
	URI         string        `json:"uri,omitempty"`
	URIBaseID   string        `json:"uriBaseId,omitempty"`
	Description *sarifMessage `json:"description,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string         `json:"kind"`
	Status        string         `json:"status"`
	Justification string         `json:"justification,omitempty"`
	Location      *sarifLocation `json:"location,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

// Write implements Output.
func (f SARIF) Write(w io.Writer, r *Report) error { return writeWhole(f, w, r) }

func (SARIF) encoder(h *Head) encoder {
	e := &sarifEncoder{rules: make([]sarifRule, 0, len(h.Checks)), ruleIndex: make(map[string]int, len(h.Checks))}
	for _, c := range h.Checks {
		if _, dup := e.ruleIndex[c.ID]; dup {
			continue
		}
		e.ruleIndex[c.ID] = len(e.rules)
		e.rules = append(e.rules, sarifRuleOf(c))
	}
	for _, f := range h.Findings {
		if _, ok := e.ruleIndex[f.CheckID]; !ok {
			// A finding of a check the configuration disabled (an expired
			// exemption still reports) needs a rule all the same, or its
			// result could not name one.
			e.ruleIndex[f.CheckID] = len(e.rules)
			e.rules = append(e.rules, sarifRuleOf(check.Check{
				ID: f.CheckID, Title: f.Title, Severity: f.Severity, Category: f.Category,
				Remediation: f.Remediation, DocURL: f.DocURL,
			}))
		}
	}
	return e
}

// sarifEncoder writes the results one by one, rather than building the
// log and encoding it whole: json.Encoder holds the whole document twice,
// compact and indented, several times the report's size. The bytes are
// the Encoder's: each result is written by appendSARIFResult as
// MarshalIndent lays it out at its depth in the document. The rest of
// the document is encoded whole, in
// the head with no results and again in the tail with its invocations,
// and each writes its side of the empty results.
type sarifEncoder struct {
	rules     []sarifRule
	ruleIndex map[string]int // by check ID; read-only once made
}

// sarifResults is how the empty results are encoded. No string in the
// document can hold these bytes unescaped.
const sarifResults = `"results": []`

// sarifResultsDepth is the depth of the results: a field of runs[0], three
// objects and arrays deep (the log, its runs, runs[0]).
const sarifResultsDepth = 3

var sarifResultPrefix = strings.Repeat("  ", sarifResultsDepth+1)

// log encodes the document without results.
func (e *sarifEncoder) log(s *Stream) ([]byte, error) {
	inv := sarifInvocation{ExecutionSuccessful: len(s.errors) == 0}
	for _, err := range s.errors {
		n := sarifNotification{Level: "error", Message: sarifMessage{Text: err.Message}}
		if pl := sarifPhysical(err.Location); pl != nil {
			n.Locations = []sarifLocation{{PhysicalLocation: pl}}
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
	}
	return json.MarshalIndent(sarifLog{
		Schema:  SARIFSchema,
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name:           "kubeguard",
				Version:        s.h.Version,
				InformationURI: InformationURI,
				Rules:          e.rules,
			}},
			Invocations: []sarifInvocation{inv},
			ColumnKind:  "unicodeCodePoints",
			Results:     []sarifResult{},
		}},
	}, "", "  ")
}

func (e *sarifEncoder) head(s *Stream) error {
	b, err := e.log(s)
	if err != nil {
		return err
	}
	at := bytes.Index(b, []byte(sarifResults))
	s.out().Write(b[:at+len(sarifResults)-1]) // up to the opening bracket
	s.trim = 1                                // the comma of the first result
	return s.putFindings(s.h.Findings)
}

func (e *sarifEncoder) part(b []byte, _ *Object, fs []finding.Finding) []byte {
	for i := range fs {
		f := &fs[i]
		res := sarifResultOf(*f, e.ruleIndex[f.CheckID])
		b = append(b, ",\n"...)
		b = append(b, sarifResultPrefix...)
		b = appendSARIFResult(b, &res)
	}
	return b
}

// object appends nothing: the log lists no objects.
func (e *sarifEncoder) object(b []byte, _ *Object) []byte { return b }

func (e *sarifEncoder) tail(s *Stream) error {
	b, err := e.log(s)
	if err != nil {
		return err
	}
	if s.wrote {
		s.out().WriteString("\n" + sarifResultPrefix[2:])
	}
	at := bytes.Index(b, []byte(sarifResults))
	s.out().Write(b[at+len(sarifResults)-1:])
	_, err = s.out().WriteString("\n")
	return err
}

func sarifRuleOf(c check.Check) sarifRule {
	full := c.Rationale
	if full == "" {
		full = c.Title
	}
	help := c.Remediation
	if help == "" {
		help = c.Title
	}
	md := markdownOf(help)
	if c.DocURL != "" {
		help += "\n\nSee " + c.DocURL
		md += "\n\n[Kubernetes documentation](" + c.DocURL + ")"
	}
	tags := []string{"security", "kubernetes"}
	if c.Category != "" {
		tags = append(tags, c.Category)
	}
	return sarifRule{
		ID:                   c.ID,
		Name:                 ruleName(c.ID),
		ShortDescription:     sarifMessage{Text: c.Title},
		FullDescription:      sarifMessage{Text: full},
		Help:                 sarifMessage{Text: help, Markdown: md},
		HelpURI:              c.DocURL,
		DefaultConfiguration: sarifConfiguration{Level: sarifLevel(c.Severity)},
		Properties: sarifRuleProps{
			Tags:             tags,
			Severity:         c.Severity.String(),
			Category:         c.Category,
			SecuritySeverity: securitySeverity(c.Severity),
		},
	}
}

func sarifResultOf(f finding.Finding, ruleIndex int) sarifResult {
	msg := f.Reason
	if f.Detail != "" {
		msg += ": " + f.Detail
	}
	for _, a := range f.Admission {
		msg += "\nadmission: " + a
	}
	loc := sarifLocation{
		PhysicalLocation: sarifPhysical(f.Location),
		LogicalLocations: []sarifLogicalLocation{{
			Name:               f.Object.Name,
			FullyQualifiedName: f.Object.String(),
			Kind:               "resource",
		}},
	}
	if f.Path != "" {
		loc.LogicalLocations = append(loc.LogicalLocations, sarifLogicalLocation{
			Name:               f.Path,
			FullyQualifiedName: f.Object.String() + ":" + f.Path,
			Kind:               "property",
		})
	}
	res := sarifResult{
		RuleID:              f.CheckID,
		RuleIndex:           ruleIndex,
		Level:               sarifLevel(f.Severity),
		Message:             sarifMessage{Text: msg},
		Locations:           []sarifLocation{loc},
		PartialFingerprints: map[string]string{SARIFFingerprint: fingerprint(f)},
		Properties: sarifResultProperty{
			Severity:   f.Severity.String(),
			Object:     f.Object,
			Path:       f.Path,
			Containers: f.Containers,
			Template:   f.Location.Template,
		},
	}
	if f.Location.Template != "" {
		// Lines point into the rendered output; the template is where a
		// fix is made, so name it too.
		id := 1
		res.RelatedLocations = []sarifLocation{{
			ID: &id,
			PhysicalLocation: &sarifPhysicalLocation{
				ArtifactLocation: sarifArtifact(f.Location.Template),
			},
			Message: &sarifMessage{Text: "Helm template"},
		}}
	}
	if s := f.Suppressed; s != nil {
		sup := sarifSuppression{Kind: "external", Status: "accepted", Justification: s.Reason}
		if s.Kind == "annotation" {
			sup.Kind = "inSource"
		}
		if sup.Justification == "" {
			sup.Justification = s.Kind
		} else {
			sup.Justification = s.Kind + ": " + s.Reason
		}
		if s.Location != nil {
			if pl := sarifPhysical(*s.Location); pl != nil {
				sup.Location = &sarifLocation{PhysicalLocation: pl}
			}
		}
		res.Suppressions = []sarifSuppression{sup}
	}
	return res
}

// sarifPhysical returns nil for objects read from a live cluster, which
// have no file; their logical location still names them.
func sarifPhysical(l finding.Location) *sarifPhysicalLocation {
	if l.File == "" {
		return nil
	}
	pl := &sarifPhysicalLocation{ArtifactLocation: sarifArtifact(l.File)}
	if l.Line > 0 {
		pl.Region = &sarifRegion{StartLine: l.Line, StartColumn: l.Column}
	}
	return pl
}

// sarifArtifact turns a path, as the user gave it, into a URI reference.
// Standard input has no URI; a description keeps the region meaningful.
func sarifArtifact(file string) sarifArtifactLocation {
	if file == finding.StdinName {
		return sarifArtifactLocation{Description: &sarifMessage{Text: "standard input"}}
	}
	p := filepath.ToSlash(file)
	if filepath.IsAbs(file) || strings.HasPrefix(p, "/") {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // a Windows drive letter
		}
		return sarifArtifactLocation{URI: (&url.URL{Scheme: "file", Path: p}).String()}
	}
	return sarifArtifactLocation{URI: (&url.URL{Path: p}).String(), URIBaseID: srcRoot}
}

// fingerprint identifies a finding across runs. Line numbers are left out
// so that editing a file above a finding does not make it a new alert; the
// file is kept so that the same object in two files (a base and an
// overlay) gives two alerts, not one.
func fingerprint(f finding.Finding) string {
	o := f.Object
	// The fields, each ended by a zero byte, hashed at once.
	var buf [512]byte
	b := buf[:0]
	for _, s := range []string{f.CheckID, o.APIVersion, o.Kind, o.Namespace, o.Name, f.Path,
		strings.Join(f.Containers, ","), filepath.ToSlash(f.Location.File), f.Location.Template} {
		b = append(append(b, s...), 0)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func sarifLevel(s finding.Severity) string {
	switch {
	case s >= finding.High:
		return "error"
	case s == finding.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity places each severity inside the band GitHub code
// scanning uses for it (critical above 9.0, high from 7.0, medium from 4.0,
// low below). GitHub reads the value as a string. Info findings get none,
// so GitHub falls back to their level instead of calling them low risk.
func securitySeverity(s finding.Severity) string {
	switch s {
	case finding.Critical:
		return "9.5"
	case finding.High:
		return "8.0"
	case finding.Medium:
		return "5.5"
	case finding.Low:
		return "3.0"
	}
	return ""
}

// ruleName turns a check ID into the PascalCase name SARIF viewers show
// beside the ID: read-only-root-filesystem becomes ReadOnlyRootFilesystem.
func ruleName(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		if r == '-' || r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// markdownOf fences the indented lines of a remediation, which are YAML
// snippets, so that Markdown renderers keep their indentation.
func markdownOf(text string) string {
	lines := strings.Split(text, "\n")
	var b strings.Builder
	for i := 0; i < len(lines); {
		if !isIndented(lines[i]) {
			b.WriteString(lines[i])
			b.WriteString("\n")
			i++
			continue
		}
		j := i
		for j < len(lines) && isIndented(lines[j]) {
			j++
		}
		block := lines[i:j]
		pad := len(block[0])
		for _, l := range block {
			pad = min(pad, len(l)-len(strings.TrimLeft(l, " ")))
		}
		b.WriteString("```yaml\n")
		for _, l := range block {
			b.WriteString(l[pad:])
			b.WriteString("\n")
		}
		b.WriteString("```\n")
		i = j
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func isIndented(l string) bool { return strings.HasPrefix(l, " ") && strings.TrimSpace(l) != "" }
