package object

import (
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/kubeguard/kubeguard/internal/jsonstring"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// ErrExpansion is returned when aliases would expand a document beyond the
// node budget: the "billion laughs" guard.
var ErrExpansion = errors.New("document expands beyond the node limit (YAML aliases)")

// encoder turns a parsed YAML node into JSON with the meaning kubectl gives
// it: kubectl converts YAML to JSON with sigs.k8s.io/yaml, which resolves
// plain scalars by YAML 1.1 rules (yes/on are true, 0755 is octal) and keeps
// the last of duplicate keys. Writing JSON straight from the node tree keeps
// source positions (the tree) and kubectl's semantics (this encoder) without
// a second parse; a differential fuzz test holds it to sigs.k8s.io/yaml.
type encoder struct {
	buf    []byte
	budget int // nodes still allowed, aliases counted at every use
	depth  int
	pairs  []pair         // scratch: the pairs of the mappings being written
	last   map[string]int // scratch: the last pair of each key of a long mapping
}

// MaxDepth bounds nesting, so hostile input cannot exhaust the stack.
const MaxDepth = 256

// maxJSONSize bounds the JSON one conversion writes. The node budget alone
// does not bound memory: an alias of a long string costs one node at every
// use. Without aliases JSON is about the size of its YAML, which is itself
// bounded (manifest.MaxDocumentSize), so only alias expansion reaches this.
const maxJSONSize = MaxJSONSize

// MaxJSONSize is the most JSON one conversion writes.
const MaxJSONSize = 64 << 20

func (e *encoder) node(n *yaml.Node) error {
	e.budget--
	if e.budget < 0 || len(e.buf) > maxJSONSize {
		return ErrExpansion
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.node(n.Content[0])
	case yaml.AliasNode:
		if n.Alias == nil {
			return fmt.Errorf("line %d: unknown anchor", n.Line)
		}
		return e.nested(n.Alias, e.node)
	case yaml.SequenceNode:
		return e.nested(n, e.sequence)
	case yaml.MappingNode:
		return e.nested(n, e.mapping)
	case yaml.ScalarNode:
		return e.scalar(n)
	}
	return fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}

func (e *encoder) nested(n *yaml.Node, f func(*yaml.Node) error) error {
	e.depth++
	if e.depth > MaxDepth {
		e.depth--
		return fmt.Errorf("line %d: nesting deeper than %d", n.Line, MaxDepth)
	}
	err := f(n)
	e.depth--
	return err
}

func (e *encoder) sequence(n *yaml.Node) error {
	e.buf = append(e.buf, '[')
	for i, c := range n.Content {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.node(c); err != nil {
			return atField(err, "["+strconv.Itoa(i)+"]")
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// pair is a key and value of a mapping as the document is decoded, or, when
// err is set, the error that stopped the reading of the mapping there.
type pair struct {
	key    string
	k, v   *yaml.Node
	err    error
	over   bool // a later pair has the same key
	merged bool // brought by a merge key
}

// shortMapping is the most pairs a mapping has for its duplicate keys to
// be found by comparing every pair with the later ones rather than with a
// map: a constant cost, and no map for the usual mapping.
const shortMapping = 16

// mapping writes a mapping's pairs, each key once with its last value, as
// the YAML 1.1 decoder kubectl uses builds its map. Writing every pair and
// leaving the choice to JSON's last-key-wins reading is not the same: a
// typed decoder decodes each duplicate into the same struct, so the fields
// of an overridden value survive beside the winner's (a runAsNonRoot the
// API server never sees), and a wrong type in it is an error. Overridden
// values are still converted, and their output dropped: the YAML decoder
// reads them too and refuses what it cannot read there as anywhere.
func (e *encoder) mapping(n *yaml.Node) error {
	start := len(e.pairs)
	if err := e.collect(n, false); err != nil {
		e.pairs = append(e.pairs, pair{err: err})
	}
	// The pairs of the mappings nested in this one are appended after
	// these and removed again, so ps stays valid while they are written.
	ps := e.pairs[start:]
	e.markOverridden(ps)
	err := e.writePairs(ps)
	clear(e.pairs[start:])
	e.pairs = e.pairs[:start]
	return err
}

// readPairs appends the pairs of mapping n to e.pairs as decoding reads
// them (collect), those a later pair overrides marked, for a walk beside
// the conversion that reads no values; release(start) drops them once the
// walk of n is done. The pairs of mappings walked within n come after
// these, so ps stays valid meanwhile.
func (e *encoder) readPairs(n *yaml.Node) (ps []pair, start int, err error) {
	start = len(e.pairs)
	if err := e.collect(n, false); err != nil {
		return nil, start, err
	}
	ps = e.pairs[start:]
	e.markOverridden(ps)
	return ps, start, nil
}

// release drops the pairs readPairs appended from start on.
func (e *encoder) release(start int) {
	clear(e.pairs[start:])
	e.pairs = e.pairs[:start]
}

func (e *encoder) writePairs(ps []pair) error {
	e.buf = append(e.buf, '{')
	first := true
	for i := range ps {
		p := &ps[i]
		if p.err != nil {
			return p.err
		}
		if p.over {
			mark := len(e.buf)
			err := e.node(p.v)
			e.buf = e.buf[:mark]
			if err != nil {
				return atField(err, p.key)
			}
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = jsonstring.Append(e.buf, p.key)
		e.buf = append(e.buf, ':')
		if err := e.node(p.v); err != nil {
			return atField(err, p.key)
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// markOverridden marks the pairs whose key a later pair has. It is linear:
// a map finds the last pair of each key in a long mapping.
func (e *encoder) markOverridden(ps []pair) {
	if len(ps) <= shortMapping {
		for i := range ps {
			for j := i + 1; j < len(ps); j++ {
				if ps[j].err == nil && ps[j].key == ps[i].key {
					ps[i].over = true
					break
				}
			}
		}
		return
	}
	if e.last == nil {
		e.last = make(map[string]int, len(ps))
	}
	clear(e.last)
	for i, p := range ps {
		if p.err == nil {
			e.last[p.key] = i
		}
	}
	for i := range ps {
		ps[i].over = ps[i].err == nil && e.last[ps[i].key] != i
	}
}

// collect appends the pairs of a mapping in document order. A merge key
// ("<<") stands for the merged mappings' pairs at its place, so that the
// last pair of each key is the value the YAML 1.1 decoder gives it. Pairs
// read through a merge cost the node budget: an alias can merge a long
// mapping many times over.
func (e *encoder) collect(n *yaml.Node, merged bool) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			if err := e.merge(v); err != nil {
				return err
			}
			continue
		}
		if merged {
			e.budget--
			if e.budget < 0 {
				return ErrExpansion
			}
		}
		key, err := mapKey(k)
		if err != nil {
			return err
		}
		e.pairs = append(e.pairs, pair{key: key, k: k, v: v, merged: merged})
	}
	return nil
}

func (e *encoder) merge(v *yaml.Node) error {
	e.budget--
	if e.budget < 0 {
		return ErrExpansion
	}
	switch {
	case v.Kind == yaml.AliasNode && v.Alias != nil:
		return e.nested(v.Alias, e.merge)
	case v.Kind == yaml.MappingNode:
		return e.nested(v, func(n *yaml.Node) error { return e.collect(n, true) })
	case v.Kind == yaml.SequenceNode:
		// Earlier mappings in the list take precedence over later ones.
		for i := len(v.Content) - 1; i >= 0; i-- {
			c := v.Content[i]
			if c.Kind == yaml.AliasNode && c.Alias != nil {
				c = c.Alias
			}
			if c.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: map merge requires map or sequence of maps as the value", v.Line)
			}
			if err := e.merge(c); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("line %d: map merge requires map or sequence of maps as the value", v.Line)
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 &&
		(k.Tag == "" || k.Tag == "!!merge" || k.Tag == "tag:yaml.org,2002:merge")
}

// mapKey renders a key the way sigs.k8s.io/yaml does: strings as they are,
// numbers and booleans in their canonical text.
func mapKey(k *yaml.Node) (string, error) {
	if k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	if k.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("line %d: unsupported map key (a %s)", k.Line, kindName(k.Kind))
	}
	if plainString(k) || wordString(k) {
		return k.Value, nil
	}
	v, err := resolve(k)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case float64:
		switch {
		case math.IsInf(v, 1):
			return ".inf", nil
		case math.IsInf(v, -1):
			return "-.inf", nil
		case math.IsNaN(v):
			return ".nan", nil
		}
		return strconv.FormatFloat(v, 'g', -1, 32), nil
	}
	return "", fmt.Errorf("line %d: unsupported map key %q", k.Line, k.Value)
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	}
	return "node"
}

// encoders are reused: a conversion's buffer is scratch once decoded.
var encoders = sync.Pool{New: func() any { return new(encoder) }}

// withJSON converts n to JSON and hands it to f. The JSON is valid only
// until f returns: its buffer is then reused.
func withJSON(n *yaml.Node, f func([]byte) error) error {
	e := encoders.Get().(*encoder)
	e.buf, e.budget, e.depth = e.buf[:0], DefaultLimits.MaxNodes, 0
	err := e.node(n)
	if err == nil {
		err = f(e.buf)
	}
	if cap(e.buf) <= 1<<20 && cap(e.pairs) <= 1<<14 && len(e.last) <= 1<<10 {
		encoders.Put(e)
	}
	return err
}

// plainString reports whether a scalar is a string as it is written, with
// no resolution to do: quoted or block scalars, and plain ones whose first
// character cannot start a number, boolean, null or timestamp (see
// plainValue). It is the common case, kept off the general path, which
// boxes every value.
func plainString(n *yaml.Node) bool {
	if n.Style&yaml.TaggedStyle != 0 {
		return false
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return true
	}
	if n.Value == "" {
		return false
	}
	switch n.Value[0] {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~', '.', '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return false
	}
	return true
}

// wordString reports whether a plain scalar that plainString leaves to
// resolution is a string all the same: one starting like a YAML 1.1 word
// (name, namespace, type) that is not one.
func wordString(n *yaml.Node) bool {
	if n.Style != 0 || n.Value == "" {
		return false
	}
	switch n.Value[0] {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		_, ok := keyword(n.Value)
		return !ok
	}
	return false
}

// hugeExponent reports whether s is a number with a decimal exponent of
// more than six digits ("1e-99999999"). Such a string is a valid quantity
// to resource.ParseQuantity, which rounds it by computing ten to that power:
// seconds at seven digits, hours beyond. Every object decoded from input
// passes through here, so a quantity field cannot hang a scan or a review.
func hugeExponent(s string) bool {
	if len(s) < 9 || !(s[0] >= '0' && s[0] <= '9' || s[0] == '+' || s[0] == '-' || s[0] == '.') {
		return false
	}
	i := strings.IndexAny(s, "eE")
	if i < 1 {
		return false
	}
	digits := s[i+1:]
	if digits != "" && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	digits = strings.TrimLeft(digits, "0")
	if len(digits) <= 6 {
		return false
	}
	for j := 0; j < len(digits); j++ {
		if digits[j] < '0' || digits[j] > '9' {
			return false
		}
	}
	return true
}

// ErrHugeExponent is returned for a number hugeExponent refuses: a
// deliberate limit, like ErrExpansion.
var ErrHugeExponent = errors.New("a number with an exponent of more than six digits is not accepted (as a quantity it would take hours to parse)")

// errHugeExponent names the place of a number hugeExponent refuses,
// never its text.
func errHugeExponent(n *yaml.Node) error {
	return fmt.Errorf("line %d: %w", n.Line, ErrHugeExponent)
}

func (e *encoder) scalar(n *yaml.Node) error {
	if len(e.buf)+len(n.Value) > maxJSONSize {
		return ErrExpansion
	}
	if plainString(n) {
		if hugeExponent(n.Value) {
			return errHugeExponent(n)
		}
		e.buf = jsonstring.Append(e.buf, n.Value)
		return nil
	}
	v, err := resolve(n)
	if err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		if hugeExponent(v) {
			return errHugeExponent(n)
		}
		e.buf = jsonstring.Append(e.buf, v)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case int64:
		e.buf = strconv.AppendInt(e.buf, v, 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, v, 10)
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return fmt.Errorf("line %d: an infinite or not-a-number value has no JSON form", n.Line)
		}
		e.buf = appendFloat(e.buf, v)
	}
	return nil
}

// appendFloat writes a float as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const (
	tagStr   = "!!str"
	tagBool  = "!!bool"
	tagInt   = "!!int"
	tagFloat = "!!float"
	tagNull  = "!!null"
)

// resolve gives a scalar its YAML 1.1 value: nil, string, bool, int64,
// uint64 or float64.
func resolve(n *yaml.Node) (any, error) {
	s := n.Value
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		if n.Style&yaml.TaggedStyle == 0 || n.ShortTag() == tagStr {
			return s, nil
		}
	}
	tag := ""
	if n.Style&yaml.TaggedStyle != 0 {
		tag = n.ShortTag()
		switch tag {
		case tagStr:
			return s, nil
		case "!!binary":
			// The YAML 1.1 decoder hands the decoded bytes on as a string.
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("line %d: !!binary value contains invalid base64 data", n.Line)
			}
			return string(b), nil
		case tagBool, tagInt, tagFloat, tagNull, "!!timestamp":
		default:
			// Unknown tags keep their text, as the YAML 1.1 decoder does.
			return s, nil
		}
	}
	v := plainValue(s)
	if tag == "" || tag == "!!timestamp" {
		return v, nil
	}
	if tag == tagFloat {
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case uint64:
			return float64(x), nil
		}
	}
	if tagOf(v) != tag {
		// The value is not quoted: it may be a Secret's data or a
		// password in an env value.
		return nil, &ScalarError{Line: n.Line, Column: n.Column,
			Reason: fmt.Sprintf("the %s tag does not fit the scalar, a %s (value not shown)", tag, tagOf(v))}
	}
	return v, nil
}

// ScalarError is a scalar that cannot be decoded. It says where, the field
// and why, and never quotes the scalar's value.
type ScalarError struct {
	Line, Column int    // in the document
	Field        string // the field's path from where decoding started; "" at its top
	Reason       string
}

// Error is "line L, column C: FIELD: REASON".
func (e *ScalarError) Error() string {
	s := fmt.Sprintf("line %d, column %d: ", e.Line, e.Column)
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Reason
}

// Message is the error without its place, for a caller that gives the
// place in its own terms.
func (e *ScalarError) Message() string {
	if e.Field != "" {
		return e.Field + ": " + e.Reason
	}
	return e.Reason
}

// atField prefixes a ScalarError's field with the key or index it was
// found under, as the error returns through the encoder.
func atField(err error, name string) error {
	se, ok := err.(*ScalarError)
	if !ok {
		return err
	}
	switch {
	case se.Field == "":
		se.Field = name
	case se.Field[0] == '[':
		se.Field = name + se.Field
	default:
		se.Field = name + "." + se.Field
	}
	return se
}

func tagOf(v any) string {
	switch v.(type) {
	case nil:
		return tagNull
	case bool:
		return tagBool
	case int64, uint64:
		return tagInt
	case float64:
		return tagFloat
	}
	return tagStr
}

// plainValue resolves an untagged plain scalar by the YAML 1.1 rules of the
// decoder kubectl uses.
func plainValue(s string) any {
	if s == "" {
		return nil
	}
	switch s[0] {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		if v, ok := keyword(s); ok {
			return v
		}
		return s
	case '.':
		switch s {
		case ".nan", ".NaN", ".NAN":
			return math.NaN()
		case ".inf", ".Inf", ".INF":
			return math.Inf(1)
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return s
	case '+', '-':
		switch s {
		case "+.inf", "+.Inf", "+.INF":
			return math.Inf(1)
		case "-.inf", "-.Inf", "-.INF":
			return math.Inf(-1)
		}
		return number(s)
	case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return number(s)
	}
	return s
}

// keyword resolves the plain scalars that are YAML 1.1 words for booleans
// and null; ok is false for any other text. Booleans box without
// allocating, so keys and string values are told apart for free.
func keyword(s string) (v any, ok bool) {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true, true
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false, true
	case "~", "null", "Null", "NULL":
		return nil, true
	}
	return nil, false
}

// MaybeNumber reports whether every byte of s can be part of an integer or
// a float as YAML parsers read them, by the rules of YAML 1.1 here or of
// yaml.v3 in package manifest: digits, hex digits, the base letters x and
// o (b is a hex digit), signs, underscores, points and exponents. Text with
// any other byte (500m, 128Mi, 1.27-alpine) is a string without the failed
// number parses, each of which allocates its error.
func MaybeNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		case c == 'x', c == 'X', c == 'o', c == 'O', c == '_', c == '+', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

func number(s string) any {
	if isTimestamp(s) {
		return s // timestamps stay text when the target is untyped
	}
	if !MaybeNumber(s) {
		return s
	}
	plain := strings.ReplaceAll(s, "_", "")
	if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return i
	}
	if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return u
	}
	if yamlFloat(plain) {
		if f, err := strconv.ParseFloat(plain, 64); err == nil {
			return f
		}
	}
	if strings.HasPrefix(plain, "0b") {
		if i, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
			return u
		}
	} else if strings.HasPrefix(plain, "-0b") {
		if i, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
			return i
		}
	}
	return s
}

// yamlFloat matches [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
func yamlFloat(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	} else {
		if digits() == 0 {
			return false
		}
		if i < len(s) && s[i] == '.' {
			i++
			digits()
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// isTimestamp reports whether s is a YAML 1.1 timestamp in one of the forms
// the decoder accepts: a date, optionally followed by a time.
func isTimestamp(s string) bool {
	// Quick reject: a timestamp starts with four digits and a dash.
	if len(s) < 8 || s[4] != '-' {
		return false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return parseTimestamp(s)
}

// fromNodes fills h straight from an object's mapping node, as decoding the
// JSON of its header would, when the header has the usual shape: string
// apiVersion, kind, name and namespace, string maps of labels and
// annotations, nothing else in metadata, no aliases, merge keys or tags
// other than !!str, no key twice. It reports false, with h zero again, when
// the header is anything else; the JSON path then gives the result or the
// error (of a key written twice, the last value whole).
// FuzzHeaderMatchesJSON holds the two paths to each other.
//
// The strings are copied: objects' references outlive their documents in
// findings, and must not keep the documents' text alive.
func (h *header) fromNodes(root *yaml.Node) bool {
	if !h.fill(root) {
		*h = header{}
		return false
	}
	return true
}

func (h *header) fill(root *yaml.Node) bool {
	str := func(n *yaml.Node, dst *string) bool {
		if n.Kind != yaml.ScalarNode {
			return false
		}
		if plainString(n) || wordString(n) {
			// What resolve gives, without boxing it.
			if !utf8.ValidString(n.Value) {
				return false
			}
			*dst = strings.Clone(n.Value)
			return true
		}
		v, err := resolve(n)
		switch v := v.(type) {
		case nil:
			return err == nil // null leaves the field as it is
		case string:
			if !utf8.ValidString(v) {
				return false
			}
			*dst = strings.Clone(v)
			return true
		}
		return false
	}
	key := func(k *yaml.Node) (string, bool) {
		if k.Kind != yaml.ScalarNode || k.Style&yaml.TaggedStyle != 0 || isMerge(k) {
			return "", false
		}
		s, err := mapKey(k)
		return s, err == nil && utf8.ValidString(s)
	}
	strMap := func(n *yaml.Node, dst *map[string]string) bool {
		if n.Kind == yaml.ScalarNode {
			v, err := resolve(n)
			if err != nil || v != nil {
				return false
			}
			*dst = nil // null sets a map to nil
			return true
		}
		if n.Kind != yaml.MappingNode {
			return false
		}
		if *dst == nil {
			*dst = make(map[string]string, len(n.Content)/2)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, ok := key(n.Content[i])
			if !ok {
				return false
			}
			if _, dup := (*dst)[k]; dup {
				return false
			}
			var v string
			if !str(n.Content[i+1], &v) {
				return false
			}
			(*dst)[strings.Clone(k)] = v
		}
		return true
	}
	// Each field of the header is read once: a second one is a duplicate.
	var seen [7]bool
	once := func(f int) bool {
		if seen[f] {
			return false
		}
		seen[f] = true
		return true
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, ok := key(root.Content[i])
		if !ok {
			return false
		}
		v := root.Content[i+1]
		switch k {
		case "apiVersion":
			if !once(0) || !str(v, &h.APIVersion) {
				return false
			}
		case "kind":
			if !once(1) || !str(v, &h.Kind) {
				return false
			}
		case "metadata":
			if !once(2) {
				return false
			}
			if v.Kind == yaml.ScalarNode {
				if r, err := resolve(v); err != nil || r != nil {
					return false
				}
				continue // null leaves the struct as it is
			}
			if v.Kind != yaml.MappingNode {
				return false
			}
			m := &h.Metadata
			for j := 0; j+1 < len(v.Content); j += 2 {
				mk, ok := key(v.Content[j])
				if !ok {
					return false
				}
				mv := v.Content[j+1]
				switch mk {
				case "name":
					ok = once(3) && str(mv, &m.Name)
				case "namespace":
					ok = once(4) && str(mv, &m.Namespace)
				case "labels":
					ok = once(5) && strMap(mv, &m.Labels)
				case "annotations":
					ok = once(6) && strMap(mv, &m.Annotations)
				default:
					ok = false
				}
				if !ok {
					return false
				}
			}
		}
	}
	return true
}
