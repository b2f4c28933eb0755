package manifest

import (
	"bytes"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"gopkg.in/yaml.v3"
)

// A List (kind List, or a PodList, ConfigMapList, ... as kubectl get
// -o yaml|json writes them) is one document holding any number of objects.
// Parsed whole, its tree costs about 85 bytes of memory for each byte of
// text: 100,000 pods in one List, 13.8 MB, peaked at 969 MiB, against 111
// MiB for the same pods as documents. So a large List's items are cut out
// of its text before anything is parsed, and parsed a chunk at a time, each
// chunk in the context it has in the document (under an items key of a
// block mapping, or in the flow sequence of a flow mapping), with its line
// and column offsets, so that every object, error and location is what
// the whole parse gives.
//
// The cut is made by reading lines and flow tokens, not by parsing, so it
// is checked before anything is handed on: every chunk must parse, hold
// exactly the items the cut found, and need no alias (an alias can refer
// to an anchor of another chunk, and aliases count against the document
// as a whole); the rest of the document, with the items taken out, must
// parse to a List whose items key is the one the cut found. The first pass
// checks that and gathers the errors of items that are not objects (they
// come with the document's first part, as they always have); the second
// parses each chunk again and hands its objects on. A document that fails
// any check is parsed whole, as before, and gives exactly the errors it
// always gave: the price of the check is a second parse of the items.
//
// Forms cut: a block sequence under a root "items:" key at the first
// column (indented or not), and a flow sequence of JSON tokens and plain
// words under the items key of a flow (JSON) root mapping or after "items:"
// of a block one. Anything else (quoted or commented flow items, anchors,
// tags, an items key that is not at the root's first column) is parsed
// whole.

// SplitMin is the size from which a document that is a List is cut into
// its items before parsing. Below it the whole tree is at most about 20
// MiB, about what one part of PartSize large items holds anyway, and the
// cut would only add its second parse.
const SplitMin = 256 << 10

// maxChunk bounds the text of one chunk of items, so that a chunk of large
// items holds no more than a small List does; a single item larger than
// that is a chunk of its own.
const maxChunk = 256 << 10

// itemChunk is a run of consecutive items of a List's text.
type itemChunk struct {
	start, end int // the run's bytes in the document
	line       int // line of start in the document, 1-based
	col        int // column of start, in characters, 1-based (flow items)
	items      int
}

// listText is a List document cut into its items.
type listText struct {
	header    []byte // the document with the items' text taken out
	itemsLine int    // line of the items key (block) or of its '[' (flow)
	itemsCol  int    // column of the empty sequence left in header
	// open and close wrap a chunk's text so that its items parse in the
	// context they have in the document; open ends with a line break.
	open, close string
	flow        bool
	chunks      []itemChunk
}

// chunker groups items into chunks of at most PartSize items and maxChunk
// bytes.
type chunker struct {
	chunks []itemChunk
	cur    itemChunk
	// flow says that a chunk ends where its last item does, set by the
	// caller, rather than where the next starts.
	flow bool
}

func (c *chunker) item(start, line, col int) {
	if c.cur.items > 0 && (c.cur.items == PartSize || start-c.cur.start >= maxChunk) {
		if !c.flow {
			c.cur.end = start
		}
		c.chunks = append(c.chunks, c.cur)
		c.cur = itemChunk{}
	}
	if c.cur.items == 0 {
		c.cur = itemChunk{start: start, line: line, col: col}
	}
	c.cur.items++
}

// end closes the chunk being built at end.
func (c *chunker) end(end int) {
	if c.cur.items > 0 {
		c.cur.end = end
		c.chunks = append(c.chunks, c.cur)
		c.cur = itemChunk{}
	}
}

// cutList finds the items of a List's text. It reports false for a
// document it does not cut; that says nothing of whether it is a List.
func cutList(data []byte) (listText, bool) {
	i, line := 0, 1
	// The first line with content decides the root's style.
	for i < len(data) {
		j := lineEnd(data, i)
		l := bytes.TrimLeft(data[i:j], " ")
		if len(l) > 0 && l[0] != '#' && l[0] != '\n' {
			break
		}
		i, line = j, line+1
	}
	if i >= len(data) {
		return listText{}, false
	}
	if data[i] == '{' {
		return cutFlowRoot(data, i, line)
	}
	if data[i] == ' ' {
		return listText{}, false
	}
	return cutBlockRoot(data)
}

// lineEnd is the offset just past the line break of the line at i.
func lineEnd(data []byte, i int) int {
	if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(data)
}

// cutBlockRoot cuts the items of a block mapping at the first column: the
// value of the first "items:" key line.
func cutBlockRoot(data []byte) (listText, bool) {
	at, line := -1, 1
	for i := 0; i < len(data); {
		if bytes.HasPrefix(data[i:], []byte("items:")) {
			at = i
			break
		}
		i = lineEnd(data, i)
		line++
	}
	if at < 0 {
		return listText{}, false
	}
	colon := at + len("items")
	next := lineEnd(data, at)
	rest := data[colon+1 : next]
	if len(rest) > 0 && rest[0] != ' ' && rest[0] != '\n' && rest[0] != '\r' {
		return listText{}, false // "items:x" is another key
	}
	value := bytes.TrimLeft(rest, " ")
	if len(value) > 0 && value[0] == '[' {
		open := colon + 1 + (len(rest) - len(value))
		lt, ok := cutFlowItems(data, open, line, open-at+1)
		lt.open, lt.close = "items: [\n", "]"
		return lt, ok
	}
	if len(value) > 0 && value[0] != '#' && value[0] != '\n' && value[0] != '\r' {
		return listText{}, false
	}
	if next == len(data) {
		return listText{}, false
	}
	// The sequence: its dash column is that of its first content line;
	// lines less indented end it, lines as indented start its items.
	var c chunker
	dash := -1
	i, l := next, line+1
	end := len(data)
	for i < len(data) {
		j := lineEnd(data, i)
		text := data[i:j]
		ind := 0
		for ind < len(text) && text[ind] == ' ' {
			ind++
		}
		body := text[ind:]
		if len(body) == 0 || body[0] == '\n' || body[0] == '#' || string(body) == "\r\n" {
			i, l = j, l+1
			continue // blank or comment
		}
		if body[0] == '\t' || body[0] == '\r' {
			return listText{}, false
		}
		isItem := body[0] == '-' && (len(body) == 1 || body[1] == ' ' || body[1] == '\n' || string(body[1:]) == "\r\n")
		if dash < 0 {
			if !isItem {
				return listText{}, false // not a block sequence
			}
			dash = ind
		}
		switch {
		case ind < dash:
			if ind > 0 {
				return listText{}, false
			}
			end = i
		case ind == dash && isItem:
			c.item(i, l, ind+1)
		case ind == dash && dash > 0:
			return listText{}, false // not an item, not inside one
		case ind == dash:
			end = i // the next key of the root
		}
		if end != len(data) {
			break
		}
		i, l = j, l+1
	}
	c.end(end)
	if len(c.chunks) == 0 {
		return listText{}, false
	}
	// The lines before the first item (comments) are the first chunk's,
	// so that every byte of the text is parsed: an invalid one in a
	// comment fails the document.
	c.chunks[0].start, c.chunks[0].line = next, line+1
	// The header: "items: []" and a blank line for each line of the items.
	h := make([]byte, 0, colon+1+3+len(rest)+bytes.Count(data[next:end], []byte("\n"))+len(data)-end)
	h = append(h, data[:colon+1]...)
	h = append(h, " []"...)
	h = append(h, rest...)
	for range bytes.Count(data[next:end], []byte("\n")) {
		h = append(h, '\n')
	}
	if end == len(data) && end > next && data[end-1] != '\n' {
		h = append(h, '\n')
	}
	h = append(h, data[end:]...)
	return listText{header: h, itemsLine: line, itemsCol: len("items: ") + 1, open: "items:\n", chunks: c.chunks}, true
}

// cutFlowRoot cuts the items of a flow mapping (a JSON document): the value
// of its first items key.
func cutFlowRoot(data []byte, at, line int) (listText, bool) {
	s := flowScanner{data: data, i: at + 1, line: line, col: runeCol(data, at) + 1, prev: '{'}
	depth := 1
	key := true // the next scalar at depth 1 is a key
	for {
		t, ok := s.next()
		if !ok {
			return listText{}, false
		}
		switch t.kind {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return listText{}, false // no items key
			}
		case ',':
			if depth == 1 {
				key = true
			}
		case ':':
			if depth == 1 {
				key = false
			}
		case 's':
			if depth == 1 && key {
				k := data[t.start:t.end]
				if string(k) != "items" && string(k) != `"items"` {
					continue
				}
				c, ok := s.next()
				if !ok || c.kind != ':' {
					return listText{}, false
				}
				o, ok := s.next()
				if !ok || o.kind != '[' {
					return listText{}, false
				}
				lt, ok := cutFlowItems(data, o.start, o.line, o.col)
				lt.open, lt.close = "{\"items\":[\n", "]}"
				return lt, ok
			}
		}
	}
}

// cutFlowItems cuts the items of the flow sequence opening at data[open],
// on line line and column col.
func cutFlowItems(data []byte, open, line, col int) (listText, bool) {
	s := flowScanner{data: data, i: open + 1, line: line, col: col + 1, prev: '['}
	c := chunker{flow: true}
	depth := 0
	want := true // an item starts at the next token
	for {
		t, ok := s.next()
		if !ok {
			return listText{}, false
		}
		if depth == 0 {
			switch t.kind {
			case ']':
				// A comma before the bracket ends the last item, as YAML
				// has it.
				c.end(c.cur.end)
				if len(c.chunks) == 0 {
					return listText{}, false
				}
				// The header: "[" and "]" with the line breaks between.
				n := bytes.Count(data[open:t.start], []byte("\n"))
				h := make([]byte, 0, len(data)-(t.start-open)+n+1)
				h = append(h, data[:open+1]...)
				for range n {
					h = append(h, '\n')
				}
				h = append(h, data[t.start:]...)
				return listText{header: h, itemsLine: line, itemsCol: col, flow: true, chunks: c.chunks}, true
			case ',':
				if want {
					return listText{}, false // an empty item
				}
				want = true
				continue
			case '}', ':':
				return listText{}, false
			}
			if !want {
				return listText{}, false // two values without a comma
			}
			want = false
			c.item(t.start, t.line, t.col)
		}
		switch t.kind {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
		if depth == 0 {
			c.cur.end = t.end
		}
	}
}

// flowToken is a token of flow text: a structural character ('{', '}',
// '[', ']', ',', ':') or a scalar ('s'), with where it starts.
type flowToken struct {
	kind       byte
	start, end int
	line, col  int
}

// flowScanner reads the tokens of flow text that a cut can trust: double-
// quoted scalars, plain words, and the flow indicators. It refuses what it
// cannot place without parsing: comments, single quotes, anchors, aliases,
// tags, explicit keys, and a double quote that does not start a scalar.
type flowScanner struct {
	data      []byte
	i         int
	line, col int
	prev      byte // the last token's kind, or '"' after a quoted scalar
}

func (s *flowScanner) advance(n int) {
	for _, b := range s.data[s.i : s.i+n] {
		switch {
		case b == '\n':
			s.line++
			s.col = 1
		case b&0xC0 != 0x80: // not a UTF-8 continuation byte
			s.col++
		}
	}
	s.i += n
}

func (s *flowScanner) next() (flowToken, bool) {
	d := s.data
	for s.i < len(d) && (d[s.i] == ' ' || d[s.i] == '\n' || d[s.i] == '\t' || d[s.i] == '\r') {
		s.advance(1)
	}
	if s.i >= len(d) {
		return flowToken{}, false
	}
	t := flowToken{start: s.i, line: s.line, col: s.col}
	switch c := d[s.i]; c {
	case '{', '}', '[', ']', ',':
		s.advance(1)
		t.kind = c
	case ':':
		s.advance(1)
		t.kind = ':'
	case '"':
		if s.prev != '{' && s.prev != '[' && s.prev != ',' && s.prev != ':' {
			return flowToken{}, false
		}
		j := s.i + 1
		for j < len(d) && d[j] != '"' {
			if d[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(d) {
			return flowToken{}, false
		}
		s.advance(j + 1 - s.i)
		t.kind = 's'
		s.prev = '"'
		t.end = s.i
		return t, true
	case '#', '\'', '&', '*', '!', '|', '>', '%', '@', '`', '?':
		return flowToken{}, false
	default:
		if c == '-' && (s.i+1 >= len(d) || d[s.i+1] == ' ' || d[s.i+1] == '\n') {
			return flowToken{}, false
		}
		if s.prev == 's' || s.prev == '"' {
			return flowToken{}, false
		}
		// A plain word runs to a flow indicator, to ": " or ":" before a
		// flow indicator, or to the end of its line; a plain scalar of
		// several words is several tokens.
		j := s.i
		for j < len(d) {
			b := d[j]
			if b == ',' || b == '[' || b == ']' || b == '{' || b == '}' || b == ' ' || b == '\n' || b == '\t' || b == '\r' {
				break
			}
			if b == ':' && (j+1 >= len(d) || bytes.IndexByte([]byte(" \n\t\r,[]{}"), d[j+1]) >= 0) {
				break
			}
			if b == '"' || b == '\'' {
				return flowToken{}, false
			}
			j++
		}
		s.advance(j - s.i)
		t.kind = 's'
		t.end = s.i
		// Words of one scalar follow each other: the next may be a word
		// too, so only a quote after a word is refused.
		s.prev = 'w'
		return t, true
	}
	t.end = s.i
	s.prev = t.kind
	return t, true
}

// runeCol is the column, in characters, of data[i].
func runeCol(data []byte, i int) int {
	ls := bytes.LastIndexByte(data[:i], '\n') + 1
	col := 1
	for _, b := range data[ls:i] {
		if b&0xC0 != 0x80 {
			col++
		}
	}
	return col
}

// chunkDoc writes into buf the text of one chunk, wrapped in the context
// its items have in the document: they start on the wrap's second line.
func (lt *listText) chunkDoc(buf []byte, data []byte, c itemChunk) []byte {
	buf = append(buf[:0], lt.open...)
	buf = append(buf, data[c.start:c.end]...)
	if lt.flow {
		buf = append(buf, '\n')
		buf = append(buf, lt.close...)
	}
	return buf
}

// relocate moves the nodes of a chunk's tree to their places in the
// document: dline lines down, and those on the chunk's line 2 (a flow
// chunk's first item is at its first column) dcol columns right. Lines in
// messages made of the tree (object's decoding errors) are then the
// document's, as the whole parse gives them.
func relocate(n *yaml.Node, dline, dcol int) {
	if n.Line == 2 {
		n.Column += dcol
	}
	n.Line += dline
	for _, k := range n.Content {
		relocate(k, dline, dcol)
	}
}

// hasAlias reports whether the tree at n holds an alias.
func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode {
		return true
	}
	for _, k := range n.Content {
		if hasAlias(k) {
			return true
		}
	}
	return false
}

// splitList hands the objects of a List document that cutList cuts to fn,
// in parts of at most PartSize objects, the document's errors with the
// first, more telling whether parts follow. It reports false, having
// called fn for nothing, when the document must be parsed whole.
func splitList(a *Arena, file string, doc Document, fn func(objs []*object.Object, errs []finding.InputError, more bool)) bool {
	lt, ok := cutList(doc.Data)
	if !ok {
		return false
	}
	src := finding.Location{File: file, Line: doc.Line, Template: doc.Template}
	fail := failer(src)
	reset := func() {
		if a != nil {
			a.Reset()
		}
	}
	// The rest of the document must be a List whose items key is the one
	// the cut found, left as an empty sequence; what the whole parse would
	// refuse in it is left to the whole parse.
	kind := ""
	if root, ok := parseTree(a, lt.header); ok && !hasAlias(root) {
		if o, err := object.New(root, src, doc.Line-1); err == nil && isList(o) {
			if items := o.Field(object.Path{}.Key("items")); items != nil && items.Kind == yaml.SequenceNode &&
				len(items.Content) == 0 && items.Line == lt.itemsLine && items.Column == lt.itemsCol {
				kind = o.Ref.Kind
			}
		}
	}
	reset()
	if kind == "" {
		return false
	}
	var (
		buf   []byte
		errs  []finding.InputError
		total int
		objs  []*object.Object
	)
	// items parses chunk c and returns its items, nil when it does not hold
	// what the cut found.
	items := func(c itemChunk) ([]*yaml.Node, int) {
		buf = lt.chunkDoc(buf, doc.Data, c)
		root, ok := parseTree(a, buf)
		if !ok || hasAlias(root) || len(root.Content) != 1 {
			return nil, 0
		}
		m := root.Content[0]
		if m.Kind != yaml.MappingNode || len(m.Content) != 2 || m.Content[0].Value != "items" || m.Content[1].Kind != yaml.SequenceNode {
			return nil, 0
		}
		seq := m.Content[1].Content
		if len(seq) != c.items {
			return nil, 0
		}
		if lt.flow && (seq[0].Line != 2 || seq[0].Column != 1) {
			return nil, 0
		}
		// The chunk's line 2 is the document's c.line.
		dcol := 0
		if lt.flow {
			dcol = c.col - 1
		}
		relocate(m.Content[1], c.line-2, dcol)
		return seq, doc.Line - 1
	}
	for _, c := range lt.chunks {
		seq, offset := items(c)
		if seq == nil {
			reset()
			return false
		}
		clear(objs)
		objs = objs[:0]
		errs = append(errs, appendItems(kind, seq, src, offset, fail, &objs)...)
		total += len(objs)
		reset()
	}
	if total == 0 {
		fn(nil, errs, false)
		return true
	}
	sent := 0
	for _, c := range lt.chunks {
		seq, offset := items(c)
		if seq == nil {
			// The first pass parsed the same text: it cannot fail now.
			panic("manifest: a List's chunk parsed once and not twice")
		}
		var objs []*object.Object
		appendItems(kind, seq, src, offset, fail, &objs)
		for len(objs) > 0 {
			part := objs[:min(len(objs), PartSize)]
			objs = objs[len(part):]
			sent += len(part)
			fn(part, errs, sent < total)
			errs = nil
		}
		reset()
	}
	return true
}
