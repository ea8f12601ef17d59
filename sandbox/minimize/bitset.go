package minimize

import (
	"math/bits"
	"strconv"
	"strings"
)

// bitset is a set of candidate indices. Its zero value is the empty set;
// it grows as members are added, so sets over a growing candidate list
// compare equal by key whatever their capacity.
type bitset []uint64

func newBitset(members ...int) bitset {
	var b bitset
	for _, m := range members {
		b = b.with(m)
	}
	return b
}

// full returns the set {0, ..., n-1}.
func full(n int) bitset {
	b := make(bitset, (n+63)/64)
	for i := 0; i < n; i++ {
		b[i/64] |= 1 << (i % 64)
	}
	return b
}

func (b bitset) clone() bitset { return append(bitset(nil), b...) }

func (b bitset) has(i int) bool {
	return i/64 < len(b) && b[i/64]&(1<<(i%64)) != 0
}

// with returns b ∪ {i}; it may modify b.
func (b bitset) with(i int) bitset {
	for len(b) <= i/64 {
		b = append(b, 0)
	}
	b[i/64] |= 1 << (i % 64)
	return b
}

// without returns b \ {i}; it modifies b.
func (b bitset) without(i int) bitset {
	if i/64 < len(b) {
		b[i/64] &^= 1 << (i % 64)
	}
	return b
}

// minus returns a new set b \ items.
func (b bitset) minus(items []int) bitset {
	c := b.clone()
	for _, i := range items {
		c = c.without(i)
	}
	return c
}

// union returns a new set b ∪ c.
func (b bitset) union(c bitset) bitset {
	if len(b) < len(c) {
		b, c = c, b
	}
	u := b.clone()
	for i, w := range c {
		u[i] |= w
	}
	return u
}

func (b bitset) len() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// members returns the indices in b, ascending.
func (b bitset) members() []int {
	out := make([]int, 0, b.len())
	for i, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			out = append(out, i*64+t)
			w &^= 1 << t
		}
	}
	return out
}

// key is a canonical map key: trailing zero words do not count.
func (b bitset) key() string {
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	var s strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			s.WriteByte('.')
		}
		s.WriteString(strconv.FormatUint(b[i], 36))
	}
	return s.String()
}
