// Package fileset tells apart the file sets of an input that defines one
// kind/namespace/name more than once.
//
// A repository with envs/prod/app.yaml and envs/staging/app.yaml, each
// defining NetworkPolicy shop/web or ClusterRole app, holds two copies of
// one object that are meant for two clusters. No analysis may merge them:
// where two copies of a name sit in different files, the entries below the
// directory where their paths part (envs/prod and envs/staging) are
// separate file sets. A file belongs to the sets of the entries its path
// goes through below each such directory, and its Key names them; files
// outside every parted directory (envs/common.yaml) belong to none. Two
// files are separate when, at the directory where their paths part, both
// entries are file sets.
//
// The engine of kubeguard scan relates each object to the objects of the
// files not separate from its own; the RBAC analysis analyses each file
// set with the objects of its own set and of the directories above it.
package fileset

import (
	"path/filepath"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// Sets records the directories where copies of a name part. The zero
// value has no file set; it is not safe for concurrent writes, and is
// safe for concurrent reads once written.
type Sets struct {
	// parted holds, for each directory where two copies of a name part
	// ("" for the top, else with its trailing slash), the entries below it
	// that are separate file sets.
	parted map[string]map[string]bool
}

// Path is the path an object was read from: its Helm template when it has
// one (all of a chart's output comes from one stream).
func Path(l finding.Location) string {
	if l.Template != "" {
		return l.Template
	}
	return l.File
}

// AddCopies records the file sets of the copies of one name, given the
// paths of their files in input order. Each copy is weighed against the
// first and the one before it: the parting directories of every copy, in
// time linear in the number of copies.
func (s *Sets) AddCopies(paths []string) {
	for i := 1; i < len(paths); i++ {
		s.Part(paths[0], paths[i])
		s.Part(paths[i-1], paths[i])
	}
}

// Part records that files a and b hold copies of one name, and so are in
// separate file sets (nothing when they are one file).
func (s *Sets) Part(a, b string) {
	d, ca, cb, ok := parting(a, b)
	if !ok {
		return
	}
	if s.parted == nil {
		s.parted = map[string]map[string]bool{}
	}
	if s.parted[d] == nil {
		s.parted[d] = map[string]bool{}
	}
	s.parted[d][ca], s.parted[d][cb] = true, true
}

// Empty reports whether no two files are separate: every file sees every
// object, as when the input defines each name once.
func (s *Sets) Empty() bool { return len(s.parted) == 0 }

// parting splits two different slash-separated paths at the directory
// they part at: that directory and the entry below it each path goes
// through. ok is false for equal paths.
func parting(a, b string) (dir, ca, cb string, ok bool) {
	if a == b {
		return "", "", "", false
	}
	a, b = filepath.ToSlash(a), filepath.ToSlash(b)
	n := 0 // length of the common directory prefix, with its slash
	for {
		i, j := strings.IndexByte(a[n:], '/'), strings.IndexByte(b[n:], '/')
		if i < 0 || j < 0 || a[n:n+i] != b[n:n+j] {
			break
		}
		n += i + 1
	}
	next := func(p string) string {
		if i := strings.IndexByte(p, '/'); i >= 0 {
			return p[:i]
		}
		return p
	}
	return a[:n], next(a[n:]), next(b[n:]), true
}

// Separate reports whether the files at a and b are in different file
// sets.
func (s *Sets) Separate(a, b string) bool {
	if len(s.parted) == 0 {
		return false
	}
	d, ca, cb, ok := parting(a, b)
	if !ok || ca == cb {
		return false
	}
	set := s.parted[d]
	return set[ca] && set[cb]
}

// Key names the file sets the file at p is in: for each directory on its
// path where copies part and the entry p goes through there is a set, that
// directory and entry followed by a NUL byte, from the top down. Files with
// equal keys see the same objects; a file in no set has the empty key. A
// key that begins another names a set that holds the other's.
func (s *Sets) Key(p string) string {
	if len(s.parted) == 0 {
		return ""
	}
	p = filepath.ToSlash(p)
	var key strings.Builder
	for n := 0; ; {
		rest := p[n:]
		e := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			e = rest[:i]
		}
		if s.parted[p[:n]][e] {
			key.WriteString(p[:n])
			key.WriteString(e)
			key.WriteByte(0)
		}
		if len(e) == len(rest) {
			return key.String()
		}
		n += len(e) + 1
	}
}

// Name is how a key reads: its deepest file set (envs/prod), which holds
// the path of every set above it; "" for the empty key.
func Name(key string) string {
	key = strings.TrimSuffix(key, "\x00")
	if i := strings.LastIndexByte(key, 0); i >= 0 {
		return key[i+1:]
	}
	return key
}
