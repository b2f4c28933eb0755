package manifest

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kubeguard/kubeguard/internal/object"
	"gopkg.in/yaml.v3"
)

// parseFast parses the block-structured subset of YAML that Kubernetes
// manifests are written in, straight into the yaml.Node tree gopkg.in/yaml.v3
// builds for the same text: same kinds, styles, tags, values and positions
// (comments are not kept; nothing reads them). It reports false for any
// input outside the subset, and the caller parses that with yaml.v3, so the
// subset only decides speed, never meaning. FuzzFastParserMatchesYAMLv3
// holds it to yaml.v3.
//
// The subset: printable ASCII and line breaks only (no tabs, no carriage
// returns); a block mapping at the first column as the root; block mappings
// and sequences (indentless sequences under a key included); plain, single-
// and double-quoted scalars on one line; literal and folded block scalars
// without an explicit indentation; flow sequences and mappings on one line;
// comments. Not in it: anchors, aliases, tags, directives, complex keys,
// multi-line plain and quoted scalars, multi-line flow collections.
func parseFast(data []byte, a *Arena) (doc *yaml.Node, ok bool) {
	lines, keys := 1, 0
	for i, c := range data {
		if c == '\n' {
			lines++
		} else if c == ':' && (i+1 == len(data) || data[i+1] == ' ' || data[i+1] == '\n') {
			keys++
		} else if c < 0x20 || c > 0x7e {
			return nil, false
		} else if (i == 0 || data[i-1] == '\n') && (c == '-' || c == '.') && marker(data[i:min(i+4, len(data))]) {
			return nil, false // a document marker: Split's business
		}
	}
	if a == nil {
		a = new(Arena)
	}
	p := &fastParser{src: string(data), line: 1, a: a}
	// A key and its value are two nodes, and collections are fewer than a
	// line in four; the slabs grow when that is not enough.
	est := 2*keys + lines/4 + 8
	p.nodes = a.nodes.next(nil, est)
	p.ptrs = a.ptrs.next(nil, est)
	// The stack holds the children of every collection still open: a few
	// dozen in manifests. Grown from empty, it took half a dozen
	// allocations per document.
	if a.stack == nil {
		a.stack = make([]*yaml.Node, 0, 64)
	}
	p.stack = a.stack[:0]
	defer func() {
		clear(p.stack)
		a.stack = p.stack[:0]
		a.nodes.done(p.nodes)
		a.ptrs.done(p.ptrs)
		if r := recover(); r != nil {
			if _, isBail := r.(bail); !isBail {
				panic(r)
			}
			doc, ok = nil, false
		}
	}()
	if p.next() != 0 {
		return nil, false
	}
	root := p.blockMapping(0, p.pos)
	if p.next() != -1 {
		return nil, false
	}
	d := p.node(yaml.DocumentNode, "", "", root.Line, root.Column)
	p.stack = append(p.stack, root)
	d.Content = p.pop(0)
	return d, true
}

// bail is panicked with to leave the fast path for yaml.v3.
type bail struct{}

// maxFastDepth bounds nesting on the fast path; deeper documents go to
// yaml.v3 and then meet the limits every document meets.
const maxFastDepth = 100

type fastParser struct {
	src   string
	pos   int // offset of the start of the current line
	line  int // 1-based number of the current line
	depth int

	a     *Arena       // where the slabs come from
	nodes []yaml.Node  // slab the nodes are cut from
	ptrs  []*yaml.Node // slab the Content slices are cut from
	stack []*yaml.Node // children of the collections being parsed
	buf   []byte       // scratch for scalars built from pieces
}

func (p *fastParser) node(kind yaml.Kind, tag, value string, line, col int) *yaml.Node {
	if len(p.nodes) == cap(p.nodes) {
		// A new slab: nodes already handed out must not move.
		p.nodes = p.a.nodes.next(p.nodes, max(64, cap(p.nodes)))
	}
	p.nodes = p.nodes[:len(p.nodes)+1]
	n := &p.nodes[len(p.nodes)-1]
	n.Kind, n.Tag, n.Value, n.Line, n.Column = kind, tag, value, line, col
	return n
}

// pop moves the children pushed since mark into a Content slice.
func (p *fastParser) pop(mark int) []*yaml.Node {
	k := len(p.stack) - mark
	if k == 0 {
		return nil
	}
	if cap(p.ptrs)-len(p.ptrs) < k {
		p.ptrs = p.a.ptrs.next(p.ptrs, max(64, k, cap(p.ptrs)))
	}
	s := p.ptrs[len(p.ptrs) : len(p.ptrs)+k : len(p.ptrs)+k]
	copy(s, p.stack[mark:])
	p.ptrs = p.ptrs[:len(p.ptrs)+k]
	clear(p.stack[mark:])
	p.stack = p.stack[:mark]
	return s
}

func (p *fastParser) enter() {
	p.depth++
	if p.depth > maxFastDepth {
		panic(bail{})
	}
}

// eol is the offset of the end of the current line (its '\n' or the end).
func (p *fastParser) eol() int {
	if i := strings.IndexByte(p.src[p.pos:], '\n'); i >= 0 {
		return p.pos + i
	}
	return len(p.src)
}

// advance moves to the line after the one ending at eol.
func (p *fastParser) advance(eol int) {
	if eol < len(p.src) {
		p.pos = eol + 1
		p.line++
	} else {
		p.pos = len(p.src)
	}
}

// next skips blank and comment lines and returns the indentation of the
// next line with content, or -1 at the end of the document.
func (p *fastParser) next() int {
	for p.pos < len(p.src) {
		eol := p.eol()
		i := p.pos
		for i < eol && p.src[i] == ' ' {
			i++
		}
		if i < eol && p.src[i] != '#' {
			return i - p.pos
		}
		p.advance(eol)
	}
	return -1
}

// seqEntry reports whether a block sequence entry ("- " or a lone "-")
// starts at offset i.
func (p *fastParser) seqEntry(i int) bool {
	return i < len(p.src) && p.src[i] == '-' && (i+1 == len(p.src) || p.src[i+1] == ' ' || p.src[i+1] == '\n')
}

// blockMapping parses a block mapping whose keys sit at column col; the
// first key starts at offset at of the current line.
func (p *fastParser) blockMapping(col, at int) *yaml.Node {
	p.enter()
	m := p.node(yaml.MappingNode, "!!map", "", p.line, col+1)
	mark := len(p.stack)
	for {
		if p.seqEntry(at) {
			panic(bail{})
		}
		k, after := p.key(at)
		p.stack = append(p.stack, k)
		p.stack = append(p.stack, p.value(after, col))
		ind := p.next()
		if ind < col {
			break
		}
		if ind > col {
			panic(bail{})
		}
		at = p.pos + col
	}
	m.Content = p.pop(mark)
	p.depth--
	return m
}

// key parses a simple key at offset i and returns it with the offset just
// past its ':'.
func (p *fastParser) key(i int) (*yaml.Node, int) {
	eol := p.eol()
	switch p.src[i] {
	case '"', '\'':
		k, end := p.quoted(i, eol)
		for end < eol && p.src[end] == ' ' {
			end++
		}
		if end == eol || p.src[end] != ':' || (end+1 < eol && p.src[end+1] != ' ') {
			panic(bail{})
		}
		return k, end + 1
	}
	p.plainStart(i, eol)
	for j := i; j < eol && j-i < 1000; j++ {
		switch p.src[j] {
		case ':':
			if j+1 == eol || p.src[j+1] == ' ' {
				v := strings.TrimRight(p.src[i:j], " ")
				return p.node(yaml.ScalarNode, plainTag(v), v, p.line, i-p.pos+1), j + 1
			}
		case '#':
			if p.src[j-1] == ' ' {
				panic(bail{})
			}
		}
	}
	panic(bail{})
}

// plainStart bails unless a plain scalar may start at offset i: the
// indicators start other tokens.
func (p *fastParser) plainStart(i, eol int) {
	switch c := p.src[i]; c {
	case '-', '?', ':':
		if i+1 == eol || p.src[i+1] == ' ' {
			panic(bail{})
		}
	case ' ', '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		panic(bail{})
	}
}

// value parses what follows a key's ':' at offset after; col is the column
// of the key.
func (p *fastParser) value(after, col int) *yaml.Node {
	eol := p.eol()
	i := after
	for i < eol && p.src[i] == ' ' {
		i++
	}
	if i < eol && p.src[i] != '#' {
		return p.inline(i, eol, col)
	}
	// Nothing on the line: the value is on the lines below, or empty.
	line, column := p.line, after-p.pos+1
	p.advance(eol)
	switch ind := p.next(); {
	case ind == col && p.seqEntry(p.pos+ind):
		return p.blockSequence(ind, true)
	case ind > col:
		if p.seqEntry(p.pos + ind) {
			return p.blockSequence(ind, false)
		}
		return p.blockMapping(ind, p.pos+ind)
	}
	return p.node(yaml.ScalarNode, "!!null", "", line, column)
}

// inline parses a node that starts at offset i of the current line and
// ends on it, or a block scalar whose header is there; owner is the column
// of the key or "-" the node belongs to. It leaves the parser on the next
// line.
func (p *fastParser) inline(i, eol, owner int) *yaml.Node {
	var n *yaml.Node
	end := eol
	switch p.src[i] {
	case '|', '>':
		return p.blockScalar(i, eol, owner)
	case '[', '{':
		n, end = p.flow(i, eol)
	case '"', '\'':
		n, end = p.quoted(i, eol)
	default:
		p.plainStart(i, eol)
		for j := i; j < eol; j++ {
			c := p.src[j]
			if c == ':' && (j+1 == eol || p.src[j+1] == ' ') {
				panic(bail{}) // a second mapping on the line
			}
			if c == '#' && p.src[j-1] == ' ' {
				end = j
				break
			}
		}
		v := strings.TrimRight(p.src[i:end], " ")
		n = p.node(yaml.ScalarNode, plainTag(v), v, p.line, i-p.pos+1)
		p.advance(eol)
		return n
	}
	// After a quoted scalar or flow collection: blanks, then a comment.
	j := end
	for j < eol && p.src[j] == ' ' {
		j++
	}
	if j < eol && (p.src[j] != '#' || j == end) {
		panic(bail{})
	}
	p.advance(eol)
	return n
}

// blockSequence parses a block sequence whose "-" sit at column col. An
// indentless sequence (at its key's column) ends at a line that is not an
// entry; any other sequence must end at a shallower line.
func (p *fastParser) blockSequence(col int, indentless bool) *yaml.Node {
	p.enter()
	s := p.node(yaml.SequenceNode, "!!seq", "", p.line, col+1)
	mark := len(p.stack)
	for {
		eol := p.eol()
		i := p.pos + col + 1
		for i < eol && p.src[i] == ' ' {
			i++
		}
		switch {
		case i == eol || p.src[i] == '#':
			if i < eol && i == p.pos+col+1 {
				panic(bail{})
			}
			line := p.line
			p.advance(eol)
			ind := p.next()
			if ind > col {
				panic(bail{}) // a block node below an empty entry
			}
			p.stack = append(p.stack, p.node(yaml.ScalarNode, "!!null", "", line, col+2))
		case p.seqEntry(i):
			panic(bail{}) // "- - a"
		case p.isKey(i, eol):
			p.stack = append(p.stack, p.blockMapping(i-p.pos, i))
		default:
			p.stack = append(p.stack, p.inline(i, eol, col))
		}
		ind := p.next()
		if ind < col {
			break
		}
		if ind > col {
			panic(bail{})
		}
		if !p.seqEntry(p.pos + col) {
			if indentless {
				break
			}
			panic(bail{})
		}
	}
	s.Content = p.pop(mark)
	p.depth--
	return s
}

// isKey reports whether the text at offset i starts a "key: value" entry.
func (p *fastParser) isKey(i, eol int) bool {
	switch p.src[i] {
	case '"', '\'':
		q := p.src[i]
		j := i + 1
		for j < eol {
			if p.src[j] == q {
				if q == '\'' && j+1 < eol && p.src[j+1] == '\'' {
					j += 2
					continue
				}
				break
			}
			if q == '"' && p.src[j] == '\\' {
				j++
			}
			j++
		}
		j++
		for j < eol && p.src[j] == ' ' {
			j++
		}
		return j < eol && p.src[j] == ':' && (j+1 == eol || p.src[j+1] == ' ')
	case '[', '{', '|', '>':
		return false
	}
	for j := i; j < eol; j++ {
		switch p.src[j] {
		case ':':
			if j+1 == eol || p.src[j+1] == ' ' {
				return true
			}
		case '#':
			if j > i && p.src[j-1] == ' ' {
				return false
			}
		}
	}
	return false
}

// quoted parses a single- or double-quoted scalar that ends on its line and
// returns it with the offset past its closing quote.
func (p *fastParser) quoted(i, eol int) (*yaml.Node, int) {
	q := p.src[i]
	j := i + 1
	plain := true // no escapes: the value is a substring
	for ; j < eol; j++ {
		c := p.src[j]
		if c == q {
			if q == '\'' && j+1 < eol && p.src[j+1] == '\'' {
				plain = false
				j++
				continue
			}
			break
		}
		if c == '\\' && q == '"' {
			plain = false
			j++
		}
	}
	if j >= eol {
		panic(bail{}) // continues on the next line
	}
	style := yaml.DoubleQuotedStyle
	if q == '\'' {
		style = yaml.SingleQuotedStyle
	}
	v := p.src[i+1 : j]
	if !plain {
		if q == '\'' {
			v = strings.ReplaceAll(v, "''", "'")
		} else {
			v = p.unescape(v)
		}
	}
	n := p.node(yaml.ScalarNode, "!!str", v, p.line, i-p.pos+1)
	n.Style = style
	return n, j + 1
}

// unescape resolves the escapes of a double-quoted scalar.
func (p *fastParser) unescape(s string) string {
	b := p.buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		if i == len(s) {
			panic(bail{})
		}
		width := 0
		switch s[i] {
		case '0':
			b = append(b, 0)
		case 'a':
			b = append(b, '\a')
		case 'b':
			b = append(b, '\b')
		case 't':
			b = append(b, '\t')
		case 'n':
			b = append(b, '\n')
		case 'v':
			b = append(b, '\v')
		case 'f':
			b = append(b, '\f')
		case 'r':
			b = append(b, '\r')
		case 'e':
			b = append(b, 0x1b)
		case ' ', '"', '\\': // not '/': a JSON escape that YAML has not
			b = append(b, s[i])
		case 'N':
			b = utf8.AppendRune(b, '\u0085')
		case '_':
			b = utf8.AppendRune(b, '\u00a0')
		case 'L':
			b = utf8.AppendRune(b, '\u2028')
		case 'P':
			b = utf8.AppendRune(b, '\u2029')
		case 'x':
			width = 2
		case 'u':
			width = 4
		case 'U':
			width = 8
		default:
			panic(bail{})
		}
		if width > 0 {
			if i+width >= len(s) {
				panic(bail{})
			}
			r, err := strconv.ParseUint(s[i+1:i+1+width], 16, 32)
			if err != nil || (r >= 0xd800 && r <= 0xdfff) || r > 0x10ffff {
				panic(bail{})
			}
			b = utf8.AppendRune(b, rune(r))
			i += width
		}
	}
	p.buf = b
	return string(b)
}

// flow parses a flow collection that ends on its line and returns it with
// the offset past its closing bracket.
func (p *fastParser) flow(i, eol int) (*yaml.Node, int) {
	p.enter()
	open := p.src[i]
	var n *yaml.Node
	if open == '[' {
		n = p.node(yaml.SequenceNode, "!!seq", "", p.line, i-p.pos+1)
	} else {
		n = p.node(yaml.MappingNode, "!!map", "", p.line, i-p.pos+1)
	}
	n.Style = yaml.FlowStyle
	closing := byte(']')
	if open == '{' {
		closing = '}'
	}
	mark := len(p.stack)
	j := i + 1
	for {
		j = p.flowSpace(j, eol)
		if p.src[j] == closing {
			break
		}
		if open == '[' {
			var c *yaml.Node
			c, j = p.flowNode(j, eol)
			p.stack = append(p.stack, c)
		} else {
			var k, v *yaml.Node
			k, j = p.flowKey(j, eol)
			j = p.flowSpace(j, eol)
			v, j = p.flowNode(j, eol)
			p.stack = append(p.stack, k, v)
		}
		j = p.flowSpace(j, eol)
		if p.src[j] == ',' {
			j++
			j = p.flowSpace(j, eol)
			if p.src[j] == ',' {
				panic(bail{})
			}
			continue
		}
		if p.src[j] != closing {
			panic(bail{})
		}
		break
	}
	n.Content = p.pop(mark)
	p.depth--
	return n, j + 1
}

// flowSpace skips blanks and bails at the end of the line: flow
// collections spanning lines are left to yaml.v3.
func (p *fastParser) flowSpace(j, eol int) int {
	for j < eol && p.src[j] == ' ' {
		j++
	}
	if j >= eol {
		panic(bail{})
	}
	return j
}

// flowNode parses a node inside a flow collection.
func (p *fastParser) flowNode(j, eol int) (*yaml.Node, int) {
	switch p.src[j] {
	case '[', '{':
		return p.flow(j, eol)
	case '"', '\'':
		return p.quoted(j, eol)
	}
	p.plainStart(j, eol)
	k := j
	for ; k < eol; k++ {
		c := p.src[k]
		if c == ',' || c == ']' || c == '}' {
			break
		}
		if c == ':' || c == '#' || c == '[' || c == '{' || c == '?' {
			panic(bail{})
		}
	}
	v := strings.TrimRight(p.src[j:k], " ")
	return p.node(yaml.ScalarNode, plainTag(v), v, p.line, j-p.pos+1), k
}

// flowKey parses a key of a flow mapping and its ": ".
func (p *fastParser) flowKey(j, eol int) (*yaml.Node, int) {
	var k *yaml.Node
	switch p.src[j] {
	case '"', '\'':
		k, j = p.quoted(j, eol)
	default:
		p.plainStart(j, eol)
		e := j
		for ; e < eol && p.src[e] != ':'; e++ {
			switch p.src[e] {
			case ',', '[', ']', '{', '}', '#', '?':
				panic(bail{})
			}
		}
		v := strings.TrimRight(p.src[j:e], " ")
		k = p.node(yaml.ScalarNode, plainTag(v), v, p.line, j-p.pos+1)
		j = e
	}
	if j+1 >= eol || p.src[j] != ':' || p.src[j+1] != ' ' {
		panic(bail{})
	}
	return k, j + 2
}

// blockScalar parses a literal or folded block scalar whose header is at
// offset i; owner is the column of the key or "-" it belongs to.
func (p *fastParser) blockScalar(i, eol, owner int) *yaml.Node {
	literal := p.src[i] == '|'
	j := i + 1
	chomp := 0
	if j < eol && (p.src[j] == '+' || p.src[j] == '-') {
		chomp = 1
		if p.src[j] == '-' {
			chomp = -1
		}
		j++
	}
	if j < eol && p.src[j] != ' ' {
		panic(bail{}) // an indentation indicator, or junk
	}
	for j < eol && p.src[j] == ' ' {
		j++
	}
	if j < eol && p.src[j] != '#' {
		panic(bail{})
	}
	style := yaml.LiteralStyle
	if !literal {
		style = yaml.FoldedStyle
	}
	n := p.node(yaml.ScalarNode, "!!str", "", p.line, i-p.pos+1)
	n.Style = style
	p.advance(eol)
	if p.pos >= len(p.src) {
		panic(bail{})
	}
	// The first line sets the indentation; leading blank lines are left
	// to yaml.v3.
	eol = p.eol()
	indent := 0
	for p.pos+indent < eol && p.src[p.pos+indent] == ' ' {
		indent++
	}
	if p.pos+indent == eol || indent <= owner {
		panic(bail{})
	}
	b := p.buf[:0]
	leadingBreak, leadingBlank := false, false
	trailing := 0
	for {
		text := p.src[p.pos+indent : eol]
		trailingBlank := text[0] == ' '
		if !literal && leadingBreak && !leadingBlank && !trailingBlank {
			if trailing == 0 {
				b = append(b, ' ')
			}
		} else if leadingBreak {
			b = append(b, '\n')
		}
		for range trailing {
			b = append(b, '\n')
		}
		trailing = 0
		leadingBlank = trailingBlank
		b = append(b, text...)
		leadingBreak = eol < len(p.src)
		p.advance(eol)
		// Blank lines: kept as breaks.
		done := false
		for p.pos < len(p.src) {
			eol = p.eol()
			sp := 0
			for p.pos+sp < eol && p.src[p.pos+sp] == ' ' {
				sp++
			}
			if p.pos+sp < eol {
				done = sp < indent
				break
			}
			if sp > indent {
				panic(bail{}) // blanks past the indentation are content
			}
			if eol == len(p.src) {
				p.pos = len(p.src)
				break
			}
			trailing++
			p.advance(eol)
		}
		if done || p.pos >= len(p.src) {
			break
		}
	}
	if chomp != -1 && leadingBreak {
		b = append(b, '\n')
	}
	if chomp == 1 {
		for range trailing {
			b = append(b, '\n')
		}
	}
	n.Value = string(b)
	p.buf = b
	return n
}

// plainTag is the tag yaml.v3 gives a plain scalar.
func plainTag(v string) string {
	if v == "<<" {
		return "!!merge"
	}
	if v == "" {
		return "!!null"
	}
	switch v[0] {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		switch v {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			return "!!bool"
		case "~", "null", "Null", "NULL":
			return "!!null"
		}
		return "!!str"
	case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if !maybeNumber(v) {
			return "!!str" // 500m, 128Mi, 1.27-alpine
		}
		fallthrough
	case '+', '-', '.':
		// Numbers, timestamps and the like: yaml.v3's own resolution.
		n := yaml.Node{Kind: yaml.ScalarNode, Value: v}
		return n.ShortTag()
	}
	return "!!str"
}

// maybeNumber reports whether yaml.v3 may resolve a plain scalar that
// starts with a digit to anything but a string. For such a scalar it
// tries, in order, a timestamp (which starts with four digits and a dash),
// then integers in any base, floats and binary and octal integers, none of
// which has a byte object.MaybeNumber refuses. Ruling those out here saves
// the failed parses; quantities and versions are most of the scalars that
// start with a digit.
func maybeNumber(v string) bool {
	if len(v) > 4 && v[4] == '-' {
		return true // maybe a timestamp: left to yaml.v3
	}
	return object.MaybeNumber(v)
}
