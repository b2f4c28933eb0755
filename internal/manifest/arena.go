package manifest

import "gopkg.in/yaml.v3"

// An Arena is the memory the parser cuts a document's node tree from, kept
// for the next document. Parsing allocates more than anything else a scan
// does, and the trees are garbage once a document's objects are checked:
// cutting the next tree from the same slabs spares the allocator, the
// garbage collector and the page faults of a heap grown to hold it. A tree
// parsed into an Arena, and every node and object of it, is valid until
// Reset; strings taken from it stay valid. An Arena is not safe for
// concurrent use: each worker has its own. The zero value is ready to use.
type Arena struct {
	nodes slabs[yaml.Node]
	ptrs  slabs[*yaml.Node]
	stack []*yaml.Node
}

// maxKept bounds what an Arena keeps across Reset, in nodes: what is left
// after a larger document is let go.
const maxKept = 1 << 16

// Reset releases the trees parsed into a, zeroing the nodes so that a tree
// used after its release is seen empty at once, rather than as another
// document's.
func (a *Arena) Reset() {
	a.nodes.reset()
	a.ptrs.reset()
}

// slabs is a list of slabs of which the first n are handed out; used
// records how much of each was filled. Beyond that, a slab is zero.
type slabs[T any] struct {
	list [][]T
	used []int
	n    int
	kept int // capacity of the slabs in list
}

// next records how much of the slab handed out last was filled (prev) and
// hands out the next, empty, with room for at least want.
func (s *slabs[T]) next(prev []T, want int) []T {
	if s.n > 0 {
		s.used[s.n-1] = len(prev)
	}
	if s.n < len(s.list) && cap(s.list[s.n]) >= want {
		s.n++
		return s.list[s.n-1][:0]
	}
	sl := make([]T, 0, want)
	if s.n < len(s.list) {
		// Too small for this document: a larger one takes its place.
		s.kept += want - cap(s.list[s.n])
		s.list[s.n] = sl
	} else {
		s.kept += want
		s.list = append(s.list, sl)
		s.used = append(s.used, 0)
	}
	s.n++
	return sl
}

// done records how much of the slab handed out last was filled.
func (s *slabs[T]) done(last []T) {
	if s.n > 0 {
		s.used[s.n-1] = len(last)
	}
}

func (s *slabs[T]) reset() {
	for i := range s.n {
		clear(s.list[i][:s.used[i]])
		s.used[i] = 0
	}
	s.n = 0
	if s.kept > maxKept {
		*s = slabs[T]{}
	}
}
