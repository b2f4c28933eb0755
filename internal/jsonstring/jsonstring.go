// Package jsonstring quotes strings as encoding/json does, for the
// writers that build JSON by hand (the report, and the conversion of YAML
// trees to JSON) and must give its bytes.
package jsonstring

import "unicode/utf8"

// Append appends s quoted as encoding/json quotes it with HTML
// escaping on (json.Encoder's default): ", \ and control characters
// escaped, <, > and & as \u003c, \u003e and \u0026, U+2028 and U+2029
// escaped, and each byte of invalid UTF-8 replaced by \ufffd.
func Append(b []byte, s string) []byte { return appendQuoted(b, s, `\ufffd`) }

// AppendReplacing is Append with each byte of invalid UTF-8 replaced by
// the character U+FFFD itself, not its escape: the bytes
// github.com/go-json-experiment/json writes with encoding/json's options.
func AppendReplacing(b []byte, s string) []byte { return appendQuoted(b, s, "\ufffd") }

// appendQuoted is Append with invalid, what a byte of invalid UTF-8
// becomes.
func appendQuoted(b []byte, s, invalid string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Most of what a report quotes is plain ASCII (names, paths,
		// prose): step over it eight bytes at a time.
		for i+8 <= len(s) && plain8(load8(s[i:i+8])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, invalid...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plain marks the bytes Append copies as they are: printable ASCII but
// for ", \\, <, > and &.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// plain8 reports whether all eight bytes of x (one byte per lane) are
// plain. Each test is the exact "some byte is zero" (or "less than")
// expression on 64-bit words: a set high bit in a lane says that lane
// failed, and lanes above a failing lane may be set too, which does not
// matter when only asking whether any failed.
func plain8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	bad := x                    // bytes from 0x80: not ASCII
	bad |= (x - 0x20*ones) &^ x // bytes below 0x20: control characters
	y := x ^ ('"' * ones)       // zero lanes where x has a quote, and so on
	bad |= (y - ones) &^ y
	y = x ^ ('\\' * ones)
	bad |= (y - ones) &^ y
	y = x ^ ('<' * ones)
	bad |= (y - ones) &^ y
	y = x ^ ('>' * ones)
	bad |= (y - ones) &^ y
	y = x ^ ('&' * ones)
	bad |= (y - ones) &^ y
	return bad&highs == 0
}

// load8 reads eight bytes as one little-endian word (the compiler makes
// it a single load).
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
