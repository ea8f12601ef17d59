package minimize_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox/minimize"
	"github.com/rgraph/rgraph/sandbox/minimize/minimizetest"
)

// benchSeeds is how many random instances each benchmark takes the median
// over.
const benchSeeds = 30

// benchSizes are the sizes the issue asks about.
var benchSizes = []struct{ n, k int }{{50, 5}, {200, 10}, {1000, 20}}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// listed returns the oracle's capabilities as candidates, so that
// benchmarks skip building and mapping records.
func listed(n int) collector.Allowlist {
	var al collector.Allowlist
	for _, a := range minimizetest.Addrs(n) {
		c, err := collector.ParseCapability(a)
		if err != nil {
			panic(err)
		}
		al = append(al, c)
	}
	return al
}

// BenchmarkRuns reports the trials a minimization takes with an ideal
// (monotone, never flaky) oracle and Repeat 1, median over benchSeeds
// random placements of k needed among n: the search (including the check
// that all candidates pass together), the confirmation pass, and the
// reference algorithms on the same instances, next to the target bound
// 2k·log2(n/k) + 2k.
func BenchmarkRuns(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(fmt.Sprintf("n=%d,k=%d", sz.n, sz.k), func(b *testing.B) {
			cands := listed(sz.n)
			var search, confirm, dd, loo, qx []float64
			for b.Loop() {
				search, confirm, dd, loo, qx = nil, nil, nil, nil, nil
				for seed := range uint64(benchSeeds) {
					o, req := minimizetest.Random(sz.n, sz.k, seed)
					o.NoRecord = true
					res, err := minimize.Minimize(context.Background(), o, minimize.Options{Repeat: 1, Candidates: cands})
					if err != nil {
						b.Fatal(err)
					}
					if got := strs(res.Minimal); !slices.Equal(got, req) {
						b.Fatalf("seed %d: Minimal %v, want %v", seed, got, req)
					}
					search = append(search, float64(res.RunsIn(minimize.PhaseSearch)))
					confirm = append(confirm, float64(res.RunsIn(minimize.PhaseConfirm)))

					// The references see the same instance as item indices.
					need := make([]int, 0, sz.k)
					addrs := minimizetest.Addrs(sz.n)
					for _, r := range req {
						need = append(need, slices.Index(addrs, r))
					}
					pass := func(s []int) bool {
						for _, x := range need {
							if !slices.Contains(s, x) {
								return false
							}
						}
						return true
					}
					for _, ref := range []struct {
						alg func(int, *counter) []int
						out *[]float64
					}{{ddmin, &dd}, {leaveOneOut, &loo}, {quickXplain, &qx}} {
						c := newCounter(pass)
						ref.alg(sz.n, c)
						*ref.out = append(*ref.out, float64(c.asked))
					}
				}
			}
			bound := 2*float64(sz.k)*math.Log2(float64(sz.n)/float64(sz.k)) + 2*float64(sz.k)
			b.ReportMetric(median(search), "search-runs")
			b.ReportMetric(median(confirm), "confirm-runs")
			b.ReportMetric(bound, "bound-runs")
			b.ReportMetric(median(qx), "quickxplain-runs")
			b.ReportMetric(median(dd), "ddmin-runs")
			b.ReportMetric(median(loo), "leave-one-out-runs")
		})
	}
}

// BenchmarkFlaky reports trials and accuracy with a flaky oracle (5% false
// successes and 10% false failures) at n=50, k=5 for several Repeat
// values: exact is the share of instances whose result is exactly the
// required set, dropped the required capabilities lost per instance.
func BenchmarkFlaky(b *testing.B) {
	const n, k = 50, 5
	for _, repeat := range []int{1, 2, 3, 5} {
		b.Run(fmt.Sprintf("repeat=%d", repeat), func(b *testing.B) {
			cands := listed(n)
			var runs []float64
			exact, dropped := 0, 0
			for b.Loop() {
				runs, exact, dropped = nil, 0, 0
				for seed := range uint64(benchSeeds) {
					o, req := minimizetest.Random(n, k, seed)
					o.NoRecord, o.FalseSuccess, o.FalseFailure = true, 0.05, 0.10
					res, err := minimize.Minimize(context.Background(), o, minimize.Options{Repeat: repeat, Candidates: cands})
					if err != nil {
						b.Fatal(err)
					}
					got := strs(res.Minimal)
					if slices.Equal(got, req) {
						exact++
					}
					for _, r := range req {
						if !slices.Contains(got, r) {
							dropped++
						}
					}
					runs = append(runs, float64(res.Runs()))
				}
			}
			b.ReportMetric(median(runs), "runs")
			b.ReportMetric(100*float64(exact)/benchSeeds, "exact-%")
			b.ReportMetric(float64(dropped)/benchSeeds, "dropped/instance")
		})
	}
}

// BenchmarkParallel reports trials and wall time, in units of one trial's
// duration (rounds), at n=200, k=10 for several Parallel values, median
// over 5 instances. Speculation trades extra trials for fewer rounds.
func BenchmarkParallel(b *testing.B) {
	const n, k, seeds = 200, 10, 5
	const delay = 2 * time.Millisecond
	for _, repeat := range []int{1, 3} {
		for _, par := range []int{1, 2, 4, 8} {
			b.Run(fmt.Sprintf("repeat=%d,parallel=%d", repeat, par), func(b *testing.B) {
				cands := listed(n)
				var runs, rounds []float64
				for b.Loop() {
					runs, rounds = nil, nil
					for seed := range uint64(seeds) {
						o, req := minimizetest.Random(n, k, seed)
						o.NoRecord, o.Delay = true, delay
						t0 := time.Now()
						res, err := minimize.Minimize(context.Background(), o, minimize.Options{Repeat: repeat, Parallel: par, Candidates: cands})
						if err != nil {
							b.Fatal(err)
						}
						if got := strs(res.Minimal); !slices.Equal(got, req) {
							b.Fatalf("seed %d: Minimal %v, want %v", seed, got, req)
						}
						runs = append(runs, float64(res.Runs()))
						rounds = append(rounds, float64(time.Since(t0))/float64(delay))
					}
				}
				b.ReportMetric(median(runs), "runs")
				b.ReportMetric(median(rounds), "rounds")
			})
		}
	}
}
