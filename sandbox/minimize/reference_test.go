package minimize_test

import (
	"slices"
	"strconv"
	"strings"
)

// Reference algorithms, for tests and benchmarks only: they are what the
// product's search is measured against, never a code path of it. Each
// finds a minimal passing subset of items 0..n-1 given pass, counting
// distinct sets asked (results are cached, as a real minimizer would).

// counter memoizes a pass predicate and counts distinct questions.
type counter struct {
	pass  func([]int) bool
	cache map[string]bool
	asked int
}

func newCounter(pass func([]int) bool) *counter {
	return &counter{pass: pass, cache: map[string]bool{}}
}

func (c *counter) test(set []int) bool {
	s := slices.Sorted(slices.Values(set))
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	k := strings.Join(parts, ",")
	if v, ok := c.cache[k]; ok {
		return v
	}
	c.asked++
	v := c.pass(s)
	c.cache[k] = v
	return v
}

func items(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// leaveOneOut removes each item alone from the full set; the items whose
// removal fails are the result. n questions; wrong with alternatives.
func leaveOneOut(n int, c *counter) []int {
	all := items(n)
	var need []int
	for i := range n {
		if !c.test(slices.Delete(slices.Clone(all), i, i+1)) {
			need = append(need, i)
		}
	}
	return need
}

// ddmin is Zeller and Hildebrandt's minimizing delta debugging (TSE 2002),
// with "passes" as the property to keep: it tries subsets, then
// complements, at increasing granularity, and returns a 1-minimal set. It
// assumes the empty set fails.
func ddmin(n int, c *counter) []int {
	cur, gran := items(n), 2
	for len(cur) >= 2 {
		parts := split(cur, gran)
		if i := slices.IndexFunc(parts, c.test); i >= 0 {
			cur, gran = parts[i], 2
			continue
		}
		if gran > 2 {
			found := false
			for i := range parts {
				if comp := complement(parts, i); c.test(comp) {
					cur, gran, found = comp, gran-1, true
					break
				}
			}
			if found {
				continue
			}
		}
		if gran >= len(cur) {
			break
		}
		gran = min(2*gran, len(cur))
	}
	return cur
}

func split(s []int, n int) [][]int {
	var out [][]int
	start := 0
	for i := range n {
		end := start + (len(s)-start)/(n-i)
		out = append(out, s[start:end])
		start = end
	}
	return out
}

func complement(parts [][]int, skip int) []int {
	var out []int
	for i, p := range parts {
		if i != skip {
			out = append(out, p...)
		}
	}
	return out
}

// quickXplain is Junker's QuickXplain (AAAI 2004) with "passes" in the
// role of "inconsistent": a preferred minimal passing subset.
func quickXplain(n int, c *counter) []int {
	if c.test(nil) {
		return nil
	}
	var qx func(b, delta, cs []int) []int
	qx = func(b, delta, cs []int) []int {
		if len(delta) > 0 && c.test(b) {
			return nil
		}
		if len(cs) == 1 {
			return cs
		}
		c1, c2 := cs[:len(cs)/2], cs[len(cs)/2:]
		d2 := qx(append(slices.Clone(b), c1...), c1, c2)
		d1 := qx(append(slices.Clone(b), d2...), d2, c1)
		return append(d1, d2...)
	}
	return qx(nil, nil, items(n))
}
