package minimize

import (
	"math"
	"math/bits"
)

// split is adaptive binary splitting (Hwang's generalised binary splitting,
// JASA 1972) in removal form, as a resumable state machine. It starts from
// a set known to pass and tries to remove groups of the removable items;
// a group whose removal fails holds at least one needed item, which a
// binary search isolates while removing the halves that turn out clean.
// The set it keeps therefore always passes and only shrinks.
//
// With k of n items needed and monotone recovery it asks about
// k·log2(n/k) + 2k questions (see the benchmarks). Hwang's rule needs the
// number of needed items left; split estimates it from the items decided
// so far (see estimateNeeded).
//
// The caller asks [split.next] for the question, decides it, and feeds the
// answer to [split.answer]. Because the state is a plain value, [split.clone]
// lets a scheduler answer hypothetically and look ahead (speculation).
type split struct {
	// keep is the smallest set known to pass: the result when done.
	keep bitset
	// u lists the undecided removable items; removal is tried from the
	// end, so among alternatives the item listed first is the one kept.
	u []int
	// lo is the group being halved (keep minus lo fails); nil when none.
	lo []int
	// needed lists the items shown necessary, in the order found.
	needed []int
	// found and clean count the needed and the removed items so far.
	found, clean int
	// group is the group size chosen for the pending group question.
	group int
}

// newSplit starts a search from start, a set known to pass that holds
// every item of order.
func newSplit(start bitset, order []int) *split {
	return &split{keep: start.clone(), u: append([]int(nil), order...)}
}

func (s *split) clone() *split {
	c := *s
	c.keep = s.keep.clone()
	c.u = append([]int(nil), s.u...)
	c.lo = append([]int(nil), s.lo...)
	c.needed = append([]int(nil), s.needed...)
	if s.lo == nil {
		c.lo = nil
	}
	return &c
}

// done reports whether every removable item is decided.
func (s *split) done() bool { return len(s.u) == 0 && s.lo == nil }

// estimate is how many of the undecided items the search expects to be
// needed.
func (s *split) estimate() int {
	return estimateNeeded(s.found, s.clean, len(s.u)+len(s.lo))
}

// next returns the set whose outcome the search needs next, or nil when
// it is done.
func (s *split) next() bitset {
	switch {
	case s.lo != nil:
		return s.keep.minus(s.lo[len(s.lo)/2:])
	case len(s.u) == 0:
		return nil
	}
	s.group = groupSize(len(s.u), s.estimate())
	return s.keep.minus(s.u[len(s.u)-s.group:])
}

// answer advances the search with the outcome of the set next returned.
func (s *split) answer(pass bool) {
	if s.lo == nil { // a group question
		g := s.group
		group := s.u[len(s.u)-g:]
		if pass {
			s.keep = s.keep.minus(group)
			s.u = s.u[:len(s.u)-g]
			s.clean += g
			return
		}
		s.lo = append([]int(nil), group...)
		s.u = s.u[:len(s.u)-g]
		s.settle()
		return
	}
	// halving lo: the question removed its upper half.
	h := len(s.lo) / 2
	if pass {
		s.keep = s.keep.minus(s.lo[h:])
		s.clean += len(s.lo) - h
		s.lo = s.lo[:h]
	} else {
		s.u = append(s.u, s.lo[:h]...)
		s.lo = s.lo[h:]
	}
	s.settle()
}

// settle records a needed item once halving has isolated it.
func (s *split) settle() {
	if len(s.lo) == 1 {
		s.needed = append(s.needed, s.lo[0])
		s.found++
		s.lo = nil
	}
}

// estimateNeeded estimates how many of u undecided items are needed from
// found needed and clean removed items so far: the observed density with
// √u clean items as a prior. Without the prior a search that halves into a
// needed item at once (no clean half seen yet) would believe every item is
// needed and test the rest one at a time; with it the worst case over
// random placements stays within 2k·log2(n/k) + 2k (see the tests).
func estimateNeeded(found, clean, u int) int {
	if found == 0 || u == 0 {
		return 1
	}
	den := found + clean + isqrt(u)
	d := (found*u + den/2) / den
	return max(1, min(d, u))
}

// isqrt returns the integer square root of u >= 0.
func isqrt(u int) int {
	r := int(math.Sqrt(float64(u)))
	for r*r > u {
		r--
	}
	for (r+1)*(r+1) <= u {
		r++
	}
	return r
}

// groupSize is Hwang's group size for u items of which d are needed:
// test one at a time when u <= 2d-2, else the largest power of two not
// above (u-d+1)/d.
func groupSize(u, d int) int {
	if u <= 2*d-2 {
		return 1
	}
	r := (u - d + 1) / d
	if r < 1 {
		return 1
	}
	return 1 << (bits.Len(uint(r)) - 1)
}
