package netpol

import (
	"fmt"
	"slices"
	"strings"
)

// Protocol is a protocol a NetworkPolicy port may name.
type Protocol uint8

// The protocols of networking.k8s.io/v1 NetworkPolicyPort.
const (
	TCP Protocol = iota
	UDP
	SCTP
	numProtocols
)

var protocolNames = [numProtocols]string{"TCP", "UDP", "SCTP"}

func (p Protocol) String() string {
	if p < numProtocols {
		return protocolNames[p]
	}
	return fmt.Sprintf("Protocol(%d)", p)
}

// ParseProtocol reads TCP, UDP or SCTP (as the API spells them; the API
// server refuses other spellings).
func ParseProtocol(s string) (Protocol, bool) {
	for i, n := range protocolNames {
		if s == n {
			return Protocol(i), true
		}
	}
	return 0, false
}

// portRange is the ports lo to hi, both included.
type portRange struct{ lo, hi uint16 }

// PortSet is a set of (protocol, port) pairs: for each protocol, sorted,
// disjoint and non-adjacent port ranges within 1-65535. The zero value is
// empty. Sets are values: operations return new sets and never modify their
// operands' ranges.
type PortSet struct {
	r [numProtocols][]portRange
}

const maxPort = 65535

var fullRange = []portRange{{1, maxPort}}

// AllPorts is every port of every protocol.
func AllPorts() PortSet {
	var s PortSet
	for p := range numProtocols {
		s.r[p] = fullRange
	}
	return s
}

// protocolPorts is every port of one protocol.
func protocolPorts(p Protocol) PortSet {
	var s PortSet
	s.r[p] = fullRange
	return s
}

// portsOf is the ports lo to hi of protocol p.
func portsOf(p Protocol, lo, hi int) PortSet {
	var s PortSet
	lo, hi = max(lo, 1), min(hi, maxPort)
	if lo <= hi {
		s.r[p] = []portRange{{uint16(lo), uint16(hi)}}
	}
	return s
}

// Empty reports whether the set holds no port.
func (s PortSet) Empty() bool {
	for _, r := range s.r {
		if len(r) > 0 {
			return false
		}
	}
	return true
}

// All reports whether the set holds every port of every protocol.
func (s PortSet) All() bool {
	for _, r := range s.r {
		if len(r) != 1 || r[0] != fullRange[0] {
			return false
		}
	}
	return true
}

// Has reports whether the set holds port of protocol p.
func (s PortSet) Has(p Protocol, port int) bool {
	if p >= numProtocols || port < 1 || port > maxPort {
		return false
	}
	rs := s.r[p]
	i, _ := slices.BinarySearchFunc(rs, uint16(port), func(r portRange, x uint16) int {
		switch {
		case r.hi < x:
			return -1
		case r.lo > x:
			return 1
		}
		return 0
	})
	return i < len(rs) && rs[i].lo <= uint16(port) && uint16(port) <= rs[i].hi
}

// Union is the ports in s or t.
func (s PortSet) Union(t PortSet) PortSet {
	var u PortSet
	for p := range numProtocols {
		u.r[p] = unionRanges(s.r[p], t.r[p])
	}
	return u
}

// Intersect is the ports in both s and t.
func (s PortSet) Intersect(t PortSet) PortSet {
	var u PortSet
	for p := range numProtocols {
		u.r[p] = intersectRanges(s.r[p], t.r[p])
	}
	return u
}

// Minus is the ports in s and not in t.
func (s PortSet) Minus(t PortSet) PortSet {
	var u PortSet
	for p := range numProtocols {
		u.r[p] = intersectRanges(s.r[p], complementRanges(t.r[p]))
	}
	return u
}

// Equal reports whether s and t hold the same ports.
func (s PortSet) Equal(t PortSet) bool {
	for p := range numProtocols {
		if !slices.Equal(s.r[p], t.r[p]) {
			return false
		}
	}
	return true
}

// String renders the set as "all", "none" or, per protocol, its ports:
// "TCP:80,8000-8080 UDP:53"; a whole protocol is "TCP:all".
func (s PortSet) String() string {
	if s.All() {
		return "all"
	}
	if s.Empty() {
		return "none"
	}
	var b strings.Builder
	for p := range numProtocols {
		rs := s.r[p]
		if len(rs) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(protocolNames[p])
		b.WriteByte(':')
		if len(rs) == 1 && rs[0] == fullRange[0] {
			b.WriteString("all")
			continue
		}
		for i, r := range rs {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%d", r.lo)
			if r.hi != r.lo {
				fmt.Fprintf(&b, "-%d", r.hi)
			}
		}
	}
	return b.String()
}

func unionRanges(a, b []portRange) []portRange {
	switch {
	case len(a) == 0:
		return b
	case len(b) == 0:
		return a
	}
	all := make([]portRange, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var r portRange
		if j >= len(b) || (i < len(a) && a[i].lo <= b[j].lo) {
			r, i = a[i], i+1
		} else {
			r, j = b[j], j+1
		}
		if n := len(all); n > 0 && int(all[n-1].hi)+1 >= int(r.lo) {
			all[n-1].hi = max(all[n-1].hi, r.hi)
			continue
		}
		all = append(all, r)
	}
	return all
}

func intersectRanges(a, b []portRange) []portRange {
	var out []portRange
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		lo, hi := max(a[i].lo, b[j].lo), min(a[i].hi, b[j].hi)
		if lo <= hi {
			out = append(out, portRange{lo, hi})
		}
		if a[i].hi < b[j].hi {
			i++
		} else {
			j++
		}
	}
	return out
}

func complementRanges(a []portRange) []portRange {
	var out []portRange
	next := 1
	for _, r := range a {
		if int(r.lo) > next {
			out = append(out, portRange{uint16(next), r.lo - 1})
		}
		next = int(r.hi) + 1
	}
	if next <= maxPort {
		out = append(out, portRange{uint16(next), maxPort})
	}
	return out
}
