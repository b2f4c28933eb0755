package object

import (
	"fmt"
	"strconv"
	"strings"
)

// Path is a field path into an object, such as
// spec.template.spec.containers[1].securityContext.privileged.
// A Path is immutable: Key and Index return extended copies.
type Path []Elem

// Elem is one step of a Path: a map key, or a list index when Key is empty.
type Elem struct {
	Key   string
	Index int
}

// Key returns the path extended by a map key.
func (p Path) Key(k string) Path { return p.with(Elem{Key: k}) }

// Index returns the path extended by a list index.
func (p Path) Index(i int) Path { return p.with(Elem{Index: i}) }

// Keys returns the path extended by several map keys. It allocates once,
// however many keys there are: checks build paths like
// containers[i].securityContext.capabilities.add for every finding.
func (p Path) Keys(ks ...string) Path {
	q := make(Path, len(p)+len(ks))
	copy(q, p)
	for i, k := range ks {
		q[len(p)+i] = Elem{Key: k}
	}
	return q
}

// keyIndex is p.Key(k).Index(i) in one allocation.
func (p Path) keyIndex(k string, i int) Path {
	q := make(Path, len(p)+2)
	copy(q, p)
	q[len(p)], q[len(p)+1] = Elem{Key: k}, Elem{Index: i}
	return q
}

// with returns a copy of p extended by e. It always copies, never appends
// in place, so that paths sharing a prefix never see each other's steps.
func (p Path) with(e Elem) Path {
	q := make(Path, len(p)+1)
	copy(q, p)
	q[len(p)] = e
	return q
}

// String renders the path in the dotted form kubectl explain uses; keys that
// are not plain identifiers (annotation names, say) are quoted in brackets.
func (p Path) String() string {
	if len(p) == 0 {
		return ""
	}
	// One allocation: the builder is sized for the common case of plain
	// keys and small indexes, the string of every finding's path.
	n := 0
	for _, e := range p {
		n += len(e.Key) + 4
	}
	var b strings.Builder
	b.Grow(n)
	for i, e := range p {
		switch {
		case e.Key == "":
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte(']')
		case plainKey(e.Key):
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e.Key)
		default:
			b.WriteString("[")
			b.WriteString(strconv.Quote(e.Key))
			b.WriteString("]")
		}
	}
	return b.String()
}

// plainKey reports whether k is written bare in a path. Bytes, not runes:
// every byte of a non-ASCII rune is outside the set, as the rune is.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return k != ""
}

// ParsePath parses the form String writes.
func ParsePath(s string) (Path, error) {
	var p Path
	for i := 0; i < len(s); {
		switch s[i] {
		case '.':
			if i == 0 {
				return nil, fmt.Errorf("path %q: leading dot", s)
			}
			i++
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if i+1 < len(s) && s[i+1] == '"' {
				q, err := strconv.QuotedPrefix(s[i+1:])
				if err != nil {
					return nil, fmt.Errorf("path %q: %w", s, err)
				}
				k, _ := strconv.Unquote(q)
				end = i + 1 + len(q)
				if end >= len(s) || s[end] != ']' {
					return nil, fmt.Errorf("path %q: unclosed [", s)
				}
				p = append(p, Elem{Key: k})
				i = end + 1
				continue
			}
			if end < 0 {
				return nil, fmt.Errorf("path %q: unclosed [", s)
			}
			n, err := strconv.Atoi(s[i+1 : i+end])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("path %q: bad index %q", s, s[i+1:i+end])
			}
			p = append(p, Elem{Index: n})
			i += end + 1
		default:
			j := strings.IndexAny(s[i:], ".[")
			if j < 0 {
				j = len(s) - i
			}
			p = append(p, Elem{Key: s[i : i+j]})
			i += j
		}
	}
	return p, nil
}
