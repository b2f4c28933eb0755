package netpol

import (
	"math/rand/v2"
	"testing"
)

// bits is a port set as one flag per (protocol, port): slow and obviously
// right, the reference PortSet is held to.
type bits [numProtocols][maxPort + 1]bool

func (b *bits) set(s PortSet) {
	for p := range numProtocols {
		for _, r := range s.r[p] {
			for x := int(r.lo); x <= int(r.hi); x++ {
				b[p][x] = true
			}
		}
	}
}

func randomSet(rng *rand.Rand) PortSet {
	var s PortSet
	for range rng.IntN(5) {
		lo := 1 + rng.IntN(100)
		if rng.IntN(10) == 0 {
			lo = 65500 + rng.IntN(36)
		}
		s = s.Union(portsOf(Protocol(rng.IntN(3)), lo, lo+rng.IntN(20)))
	}
	if rng.IntN(8) == 0 {
		s = s.Union(protocolPorts(Protocol(rng.IntN(3))))
	}
	return s
}

// TestPortSetAgainstBits holds union, intersection, difference and
// membership to the flag-per-port model on random sets.
func TestPortSetAgainstBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		a, b := randomSet(rng), randomSet(rng)
		var ba, bb bits
		ba.set(a)
		bb.set(b)
		u, i, m := a.Union(b), a.Intersect(b), a.Minus(b)
		var bu, bi, bm bits
		bu.set(u)
		bi.set(i)
		bm.set(m)
		for p := range numProtocols {
			for x := 1; x <= maxPort; x++ {
				if bu[p][x] != (ba[p][x] || bb[p][x]) || bi[p][x] != (ba[p][x] && bb[p][x]) || bm[p][x] != (ba[p][x] && !bb[p][x]) {
					t.Fatalf("%v and %v at %v/%d: union %v, intersection %v, difference %v", a, b, p, x, u, i, m)
				}
				if a.Has(p, x) != ba[p][x] {
					t.Fatalf("%v.Has(%v, %d) = %v", a, p, x, a.Has(p, x))
				}
			}
			// Canonical form: sorted, disjoint, not adjacent, so that
			// Equal is equality of sets.
			for _, s := range []PortSet{u, i, m} {
				for k := 1; k < len(s.r[p]); k++ {
					if int(s.r[p][k-1].hi)+1 >= int(s.r[p][k].lo) {
						t.Fatalf("%v is not canonical", s)
					}
				}
			}
		}
	}
}

func TestPortSetString(t *testing.T) {
	for _, tc := range []struct {
		set  PortSet
		want string
	}{
		{AllPorts(), "all"},
		{PortSet{}, "none"},
		{protocolPorts(UDP), "UDP:all"},
		{portsOf(TCP, 80, 80).Union(portsOf(TCP, 8000, 8080)).Union(portsOf(SCTP, 9, 9)), "TCP:80,8000-8080 SCTP:9"},
		{portsOf(TCP, 80, 80).Union(portsOf(TCP, 81, 81)), "TCP:80-81"},
	} {
		if got := tc.set.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func FuzzParsePort(f *testing.F) {
	for _, s := range []string{"80", "53/udp", "9/SCTP", "0", "65536", "x/TCP", "80/", "/TCP", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		proto, port, err := ParsePort(s)
		if err == nil && (port < 1 || port > maxPort || proto >= numProtocols) {
			t.Fatalf("ParsePort(%q) = %v, %d", s, proto, port)
		}
	})
}
