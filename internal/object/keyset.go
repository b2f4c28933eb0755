package object

import "gopkg.in/yaml.v3"

// keySetPairwise is the largest mapping whose keys KeySet compares
// pairwise: below it a map costs more than the comparisons, above it the
// comparisons grow with the square of the keys (a ConfigMap of 80,000
// keys took seconds of CPU).
const keySetPairwise = 16

// KeySet finds a repeated key among a mapping's keys in time linear in
// their number.
type KeySet struct{ seen map[string]struct{} }

// NewKeySet is a KeySet for a mapping of n keys.
func NewKeySet(n int) KeySet {
	if n <= keySetPairwise {
		return KeySet{}
	}
	return KeySet{seen: make(map[string]struct{}, n)}
}

// Seen reports whether content[i] (a key of the mapping whose Content is
// content, i even) repeats an earlier key's value. Keys must be asked in
// order.
func (s KeySet) Seen(content []*yaml.Node, i int) bool {
	v := content[i].Value
	if s.seen == nil {
		for j := 0; j < i; j += 2 {
			if content[j].Value == v {
				return true
			}
		}
		return false
	}
	if _, ok := s.seen[v]; ok {
		return true
	}
	s.seen[v] = struct{}{}
	return false
}
