package minimize_test

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestReferences checks the reference algorithms themselves, so that the
// benchmark compares against correct implementations.
func TestReferences(t *testing.T) {
	algs := map[string]func(int, *counter) []int{"ddmin": ddmin, "leave-one-out": leaveOneOut, "quickxplain": quickXplain}
	for name, alg := range algs {
		for seed := range uint64(40) {
			r := rand.New(rand.NewPCG(seed, 7))
			n := 1 + r.IntN(80)
			k := 1 + r.IntN(min(n, 12))
			req := slices.Sorted(slices.Values(r.Perm(n)[:k]))
			c := newCounter(func(s []int) bool {
				for _, x := range req {
					if !slices.Contains(s, x) {
						return false
					}
				}
				return true
			})
			got := alg(n, c)
			slices.Sort(got)
			if !slices.Equal(got, req) {
				t.Errorf("%s(n=%d) = %v, want %v", name, n, got, req)
			}
		}
	}
}
