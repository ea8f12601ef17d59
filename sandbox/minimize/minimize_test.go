package minimize_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox/minimize"
	"github.com/rgraph/rgraph/sandbox/minimize/minimizetest"
)

// bound is the search target for k needed of n: 2k·log2(n/k) + 2k, plus
// one trial for checking that the candidates pass together. For k = 0 the
// splitting halves down to nothing: log2(n) + 1 questions.
func bound(n, k int) float64 {
	if k == 0 {
		return math.Ceil(math.Log2(float64(max(n, 1)))) + 2
	}
	return 2*float64(k)*math.Log2(float64(n)/float64(k)) + 2*float64(k) + 1
}

func strs(al collector.Allowlist) []string {
	var out []string
	for _, c := range al {
		out = append(out, c.String())
	}
	slices.Sort(out)
	return out
}

func minimizeOK(t *testing.T, o minimize.Oracle, opts minimize.Options) *minimize.Result {
	t.Helper()
	res, err := minimize.Minimize(context.Background(), o, opts)
	if err != nil {
		t.Fatalf("Minimize: %v", err)
	}
	return res
}

// checkClasses checks that exactly want are hard and the rest soft.
func checkClasses(t *testing.T, res *minimize.Result, hard []string) {
	t.Helper()
	for _, c := range res.Candidates {
		want := collector.Soft
		if slices.Contains(hard, c.Capability.String()) {
			want = collector.Hard
		}
		if c.Class != want {
			t.Errorf("class of %s = %s, want %s", c.Capability, c.Class, want)
		}
		if len(c.Trials) == 0 {
			t.Errorf("candidate %s has no evidence", c.Capability)
		}
	}
}

// checkEvidence checks that each hard candidate cites at least repeat
// failing trials that did not allow it, and each soft one a passing trial
// that did not allow it.
func checkEvidence(t *testing.T, res *minimize.Result, repeat int) {
	t.Helper()
	byID := map[string]collector.Trial{}
	for _, tr := range res.Trials {
		byID[tr.ID] = tr.Trial
	}
	for i, c := range res.Candidates {
		fails, passes := 0, 0
		for _, id := range c.Trials {
			tr, ok := byID[id]
			if !ok {
				t.Fatalf("%s cites unknown trial %s", c.Capability, id)
			}
			if slices.Contains(tr.Allowed, i) {
				continue
			}
			if tr.Recovered {
				passes++
			} else {
				fails++
			}
		}
		switch c.Class {
		case collector.Hard:
			if fails < repeat || passes > 0 {
				t.Errorf("hard %s: %d failing and %d passing trials without it, want >= %d and 0", c.Capability, fails, passes, repeat)
			}
		case collector.Soft:
			if passes == 0 {
				t.Errorf("soft %s: no passing trial without it", c.Capability)
			}
		}
	}
}

func TestMinimizeMonotone(t *testing.T) {
	tests := []struct {
		name      string
		n, k      int
		repeat    int
		seed      uint64
		maxSearch float64
	}{
		{name: "nothing needed", n: 30, k: 0, repeat: 1},
		{name: "single candidate needed", n: 1, k: 1, repeat: 1},
		{name: "single candidate not needed", n: 1, k: 0, repeat: 1},
		{name: "one of many", n: 64, k: 1, repeat: 1},
		{name: "n=50 k=5", n: 50, k: 5, repeat: 1, seed: 3},
		{name: "n=200 k=10", n: 200, k: 10, repeat: 1, seed: 4},
		{name: "n=1000 k=20", n: 1000, k: 20, repeat: 1, seed: 5},
		{name: "all needed", n: 40, k: 40, repeat: 1},
		{name: "half needed", n: 40, k: 20, repeat: 1, seed: 6},
		{name: "repeat 3", n: 50, k: 5, repeat: 3, seed: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, req := minimizetest.Random(tt.n, tt.k, tt.seed)
			res := minimizeOK(t, o, minimize.Options{Repeat: tt.repeat})
			if got := strs(res.Minimal); !slices.Equal(got, req) {
				t.Fatalf("Minimal = %v, want %v", got, req)
			}
			checkClasses(t, res, req)
			// A failing question costs one trial, a passing one Repeat.
			search := float64(res.RunsIn(minimize.PhaseSearch))
			if b := bound(tt.n, tt.k) * float64(tt.repeat); search > b {
				t.Errorf("search took %v trials, bound %v", search, b)
			}
			// Confirmation: re-verify, leave each member out, screen each
			// member for substitutes.
			wantConfirm := tt.repeat + tt.k*tt.repeat
			if tt.k < tt.n {
				wantConfirm += tt.k
			}
			// Trials cached from the search count, so it may take fewer.
			if got := res.RunsIn(minimize.PhaseConfirm); got > wantConfirm {
				t.Errorf("confirm took %d trials, want at most %d", got, wantConfirm)
			}
			checkEvidence(t, res, tt.repeat)
			if res.Runs() != o.Calls() {
				t.Errorf("Runs() = %d, oracle saw %d", res.Runs(), o.Calls())
			}
			if res.Interrupted {
				t.Error("Interrupted set")
			}
		})
	}
}

// TestMinimizeProperty checks random monotone instances: the result is
// exactly the required set, within the bound, for any n and k.
func TestMinimizeProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	worst := 0.0
	for i := range 150 {
		n := 1 + r.IntN(150)
		k := r.IntN(min(n, 25) + 1)
		repeat := 1 + r.IntN(2)
		seed := r.Uint64()
		o, req := minimizetest.Random(n, k, seed)
		res, err := minimize.Minimize(context.Background(), o, minimize.Options{Repeat: repeat, MaxAlternatives: -1})
		if err != nil {
			t.Fatalf("case %d (n=%d k=%d): %v", i, n, k, err)
		}
		if got := strs(res.Minimal); !slices.Equal(got, req) {
			t.Fatalf("case %d (n=%d k=%d seed=%d): Minimal = %v, want %v", i, n, k, seed, got, req)
		}
		search := float64(res.RunsIn(minimize.PhaseSearch))
		b := bound(n, k) * float64(repeat)
		if search > b {
			t.Errorf("case %d (n=%d k=%d seed=%d repeat=%d): search took %v trials, bound %.1f", i, n, k, seed, repeat, search, b)
		}
		if search/b > worst {
			worst = search / b
			t.Logf("n=%d k=%d repeat=%d: %v search trials, bound %.1f", n, k, repeat, search, b)
		}
	}
	t.Logf("worst search/bound ratio %.2f", worst)
}

// TestAlternatives checks OR groups: the result is a passing, 1-minimal
// set, and each group's members share an alternative group, whether
// observed or discovered as a fallback.
func TestAlternatives(t *testing.T) {
	a := minimizetest.Addrs(12)
	tests := []struct {
		name  string
		needs [][]string
		soft  []string
		// groups lists the expected alternative groups (as sets).
		groups [][]string
	}{
		{
			name:   "two resolvers, the second a fallback",
			needs:  [][]string{{a[0]}, {a[1], a[2]}},
			soft:   a[5:9],
			groups: [][]string{{a[1], a[2]}},
		},
		{
			name:   "three mirrors",
			needs:  [][]string{{a[3], a[4], a[5]}, {a[0]}},
			soft:   a[8:],
			groups: [][]string{{a[3], a[4], a[5]}},
		},
		{
			name:   "two groups",
			needs:  [][]string{{a[0], a[1]}, {a[2], a[3]}, {a[4]}},
			soft:   a[6:9],
			groups: [][]string{{a[0], a[1]}, {a[2], a[3]}},
		},
		{
			name:  "alternative listed but only soft elsewhere",
			needs: [][]string{{a[0]}},
			soft:  a[1:4],
		},
	}
	for _, tt := range tests {
		for _, par := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/parallel=%d", tt.name, par), func(t *testing.T) {
				o := &minimizetest.Oracle{Needs: tt.needs, Soft: tt.soft}
				res := minimizeOK(t, o, minimize.Options{Repeat: 2, Parallel: par})
				min := strs(res.Minimal)
				in := func(set []string) func(string) bool {
					return func(c string) bool { return slices.Contains(set, c) }
				}
				if !minimizetest.Satisfied(tt.needs, in(min)) {
					t.Fatalf("Minimal %v does not satisfy %v", min, tt.needs)
				}
				for i := range min {
					less := slices.Delete(slices.Clone(min), i, i+1)
					if minimizetest.Satisfied(tt.needs, in(less)) {
						t.Errorf("Minimal %v is not 1-minimal: %s is not needed", min, min[i])
					}
				}
				groups := map[int][]string{}
				for _, c := range res.Candidates {
					if c.Class == collector.Alternative {
						groups[c.Group] = append(groups[c.Group], c.Capability.String())
					}
				}
				var got [][]string
				for _, g := range groups {
					slices.Sort(g)
					got = append(got, g)
				}
				want := slices.Clone(tt.groups)
				for _, g := range want {
					slices.Sort(g)
				}
				cmpSets := func(x, y []string) int { return strings.Compare(strings.Join(x, ","), strings.Join(y, ",")) }
				slices.SortFunc(got, cmpSets)
				slices.SortFunc(want, cmpSets)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("alternative groups (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestFlaky checks the asymmetric handling of flaky recoveries with seeded
// oracles: false failures may only keep extra capabilities, which the
// confirmation then drops; false successes are caught by repeats.
func TestFlaky(t *testing.T) {
	const seeds = 20
	run := func(t *testing.T, fs, ff float64, repeat int) (missed, extra int) {
		t.Helper()
		for seed := range uint64(seeds) {
			o, req := minimizetest.Random(40, 4, seed)
			o.FalseSuccess, o.FalseFailure = fs, ff
			res, err := minimize.Minimize(context.Background(), o, minimize.Options{Repeat: repeat})
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			got := strs(res.Minimal)
			for _, r := range req {
				if !slices.Contains(got, r) {
					missed++
				}
			}
			for _, g := range got {
				if !slices.Contains(req, g) {
					extra++
				}
			}
			if len(res.Trials) != o.Calls() {
				t.Errorf("seed %d: %d trials recorded, oracle ran %d", seed, len(res.Trials), o.Calls())
			}
		}
		t.Logf("false success %v, false failure %v, repeat %d: %d required dropped, %d unneeded kept over %d instances", fs, ff, repeat, missed, extra, seeds)
		return missed, extra
	}
	t.Run("false failures only keep, then confirmation drops", func(t *testing.T) {
		missed, extra := run(t, 0, 0.15, 3)
		if missed > 0 {
			t.Errorf("%d required capabilities dropped without any false success", missed)
		}
		// A clean question fails with probability 1-0.85^3 = 39%, so the
		// search keeps several unneeded capabilities per instance; the
		// confirmation must drop nearly all of them.
		if extra > seeds/4 {
			t.Errorf("%d unneeded capabilities kept over %d runs; confirmation should drop most", extra, seeds)
		}
	})
	t.Run("repeats catch false successes", func(t *testing.T) {
		missedOnce, _ := run(t, 0.2, 0, 1)
		missedRepeat, _ := run(t, 0.2, 0, 4)
		if missedOnce == 0 {
			t.Errorf("repeat 1 with 20%% false successes never dropped a required capability; the test oracle is not flaky")
		}
		// Each decision errs with probability about 2·0.2^4 instead of
		// 0.2: expect a handful of losses at most where repeat 1 has dozens.
		if missedRepeat > 2 || missedRepeat*10 > missedOnce {
			t.Errorf("repeat 4 dropped %d required capabilities (repeat 1 dropped %d)", missedRepeat, missedOnce)
		}
	})
	t.Run("both", func(t *testing.T) {
		missed, extra := run(t, 0.1, 0.1, 3)
		if missed > 0 || extra > seeds/4 {
			t.Errorf("%d required capabilities dropped, %d unneeded kept", missed, extra)
		}
	})
}

func TestConfidence(t *testing.T) {
	o, _ := minimizetest.Random(30, 3, 1)
	res := minimizeOK(t, o, minimize.Options{Repeat: 3})
	if res.Confidence < 0.99 || !strings.HasPrefix(res.ConfidenceNote, "high") {
		t.Errorf("steady oracle with repeat 3: confidence %v %q, want high", res.Confidence, res.ConfidenceNote)
	}
	o, _ = minimizetest.Random(30, 3, 1)
	o.FalseFailure, o.FalseSuccess = 0.15, 0.15
	flaky := minimizeOK(t, o, minimize.Options{Repeat: 3})
	if flaky.Confidence >= res.Confidence {
		t.Errorf("flaky oracle: confidence %v not below steady %v (%s)", flaky.Confidence, res.Confidence, flaky.ConfidenceNote)
	}
	o, _ = minimizetest.Random(30, 3, 1)
	once := minimizeOK(t, o, minimize.Options{Repeat: 1})
	if once.Confidence >= res.Confidence {
		t.Errorf("repeat 1: confidence %v not below repeat 3's %v", once.Confidence, res.Confidence)
	}
}

// TestParallelSameAnswer checks that speculation and parallel repeats
// change only the number of trials, not the answer.
func TestParallelSameAnswer(t *testing.T) {
	a := minimizetest.Addrs(60)
	needs := [][]string{{a[3]}, {a[10], a[11]}, {a[17]}, {a[40]}, {a[41]}, {a[55], a[2]}}
	var soft []string
	for _, c := range a {
		if !slices.ContainsFunc(needs, func(cl []string) bool { return slices.Contains(cl, c) }) {
			soft = append(soft, c)
		}
	}
	type answer struct {
		Minimal    []string
		Candidates []string
	}
	get := func(par int) (answer, *minimizetest.Oracle) {
		o := &minimizetest.Oracle{Needs: needs, Soft: soft, Delay: time.Millisecond}
		res := minimizeOK(t, o, minimize.Options{Repeat: 2, Parallel: par})
		ans := answer{Minimal: strs(res.Minimal)}
		for _, c := range res.Candidates {
			// Trial IDs differ; the capability, class and group must not.
			ans.Candidates = append(ans.Candidates, fmt.Sprintf("%s %s %d %s", c.Capability, c.Class, c.Group, c.Origin))
		}
		return ans, o
	}
	want, _ := get(1)
	for _, par := range []int{2, 4, 8} {
		got, o := get(par)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Parallel %d differs from serial (-serial +parallel):\n%s", par, diff)
		}
		if p := o.Peak(); p < 2 || p > par {
			t.Errorf("Parallel %d: peak concurrency %d", par, p)
		}
	}
}

func TestCancel(t *testing.T) {
	for _, par := range []int{1, 4} {
		for _, after := range []int{3, 20, 45} {
			t.Run(fmt.Sprintf("parallel=%d/after=%d", par, after), func(t *testing.T) {
				o, req := minimizetest.Random(80, 6, 2)
				o.Delay = 2 * time.Millisecond
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var cancelledAt atomic.Int64
				opts := minimize.Options{Repeat: 2, Parallel: par, Progress: func(p minimize.Progress) {
					if p.Done >= after && cancelledAt.Load() == 0 {
						cancelledAt.Store(time.Now().UnixNano())
						cancel()
					}
				}}
				res, err := minimize.Minimize(ctx, o, opts)
				if took := time.Since(time.Unix(0, cancelledAt.Load())); took > time.Second {
					t.Errorf("returned %v after cancellation", took)
				}
				if err != nil {
					t.Fatalf("Minimize: %v", err)
				}
				if !res.Interrupted {
					t.Fatal("Interrupted not set")
				}
				got := strs(res.Minimal)
				for _, r := range req {
					if !slices.Contains(got, r) {
						t.Errorf("best-so-far %v lacks required %s: it does not pass", got, r)
					}
				}
				if len(got) == 0 || res.Final == nil {
					t.Errorf("best-so-far %v has no passing run record", got)
				}
				if !strings.HasPrefix(res.ConfidenceNote, "interrupted") || res.Confidence != 0 {
					t.Errorf("confidence %v %q after interruption", res.Confidence, res.ConfidenceNote)
				}
				rec, err := res.Record("m1")
				if err != nil {
					t.Fatalf("Record: %v", err)
				}
				if !rec.Minimization.Interrupted {
					t.Error("record does not say interrupted")
				}
			})
		}
	}
	t.Run("before anything passed", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		o, _ := minimizetest.Random(10, 2, 1)
		_, err := minimize.Minimize(ctx, o, minimize.Options{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Minimize with a cancelled context = %v, want context.Canceled", err)
		}
	})
}

func TestErrors(t *testing.T) {
	a := minimizetest.Addrs(5)
	errBoom := errors.New("boom")
	calls := 0
	tests := []struct {
		name   string
		oracle minimize.Oracle
		want   error
	}{
		{"never recovers", minimize.OracleFunc(func(context.Context, minimize.Trial) (minimize.Outcome, error) {
			return minimize.Outcome{}, nil
		}), minimize.ErrNotRecovered},
		// Needs a capability it never attempts: allowing every observed
		// one is not enough.
		{"unobserved dependency", minimize.OracleFunc(func(_ context.Context, tr minimize.Trial) (minimize.Outcome, error) {
			return minimize.Outcome{Recovered: len(tr.Allow) == 1 && tr.Allow[0].All}, nil
		}), minimize.ErrCandidatesInsufficient},
		{"oracle error", minimize.OracleFunc(func(context.Context, minimize.Trial) (minimize.Outcome, error) {
			calls++
			if calls > 3 {
				return minimize.Outcome{}, errBoom
			}
			return minimize.Outcome{Recovered: true}, nil
		}), errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := minimize.Minimize(context.Background(), tt.oracle, minimize.Options{Candidates: collector.Allowlist{mustCap(t, a[0]), mustCap(t, a[1])}, Repeat: 1})
			if !errors.Is(err, tt.want) {
				t.Errorf("Minimize = %v, want %v", err, tt.want)
			}
		})
	}
}

func mustCap(t *testing.T, s string) collector.Capability {
	t.Helper()
	c, err := collector.ParseCapability(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestListedCandidates checks that listed candidates are considered and
// that a listed but never attempted capability is found soft.
func TestListedCandidates(t *testing.T) {
	a := minimizetest.Addrs(6)
	o := &minimizetest.Oracle{Needs: [][]string{{a[0]}, {a[1]}}, Soft: a[2:4], NoRecord: true}
	res := minimizeOK(t, o, minimize.Options{Repeat: 1, Candidates: collector.Allowlist{
		mustCap(t, a[0]), mustCap(t, a[1]), mustCap(t, a[2]), mustCap(t, a[5]),
	}})
	if got, want := strs(res.Minimal), []string{a[0], a[1]}; !slices.Equal(got, want) {
		t.Errorf("Minimal = %v, want %v", got, want)
	}
	checkClasses(t, res, []string{a[0], a[1]})
	for _, c := range res.Candidates {
		if c.Origin != minimize.Listed {
			t.Errorf("origin of %s = %s, want listed", c.Capability, c.Origin)
		}
	}
	if _, err := res.Record("x"); !errors.Is(err, minimize.ErrNoRecord) {
		t.Errorf("Record without run records = %v, want ErrNoRecord", err)
	}
}

// TestNonMonotone checks an oracle where allowing more can hurt: the
// result must still pass and be 1-minimal, as the confirmation checks.
func TestNonMonotone(t *testing.T) {
	a := minimizetest.Addrs(8)
	// Recovers with a0, and either a1 or not a2 (a2 without a1, say a
	// stale cache, breaks it).
	pass := func(allow []string) bool {
		has := func(c string) bool { return slices.Contains(allow, c) || slices.Contains(allow, "all") }
		return has(a[0]) && (has(a[1]) || !has(a[2]))
	}
	o := minimize.OracleFunc(func(_ context.Context, tr minimize.Trial) (minimize.Outcome, error) {
		return minimize.Outcome{Recovered: pass(strs(tr.Allow))}, nil
	})
	var cands collector.Allowlist
	for _, c := range a {
		cands = append(cands, mustCap(t, c))
	}
	res := minimizeOK(t, o, minimize.Options{Repeat: 1, Candidates: cands})
	got := strs(res.Minimal)
	if !pass(got) {
		t.Fatalf("Minimal %v does not pass", got)
	}
	for i := range got {
		if pass(slices.Delete(slices.Clone(got), i, i+1)) {
			t.Errorf("Minimal %v is not 1-minimal: %s is not needed", got, got[i])
		}
	}
}

func TestRecord(t *testing.T) {
	a := minimizetest.Addrs(10)
	o := &minimizetest.Oracle{Needs: [][]string{{a[0]}, {a[1], a[2]}}, Soft: a[3:]}
	res := minimizeOK(t, o, minimize.Options{Repeat: 2, TrialPrefix: "svc-20261122"})
	rec, err := res.Record("svc-min-1")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := collector.Encode(&buf, rec); err != nil {
		t.Fatal(err)
	}
	back, err := collector.Decode(buf.Bytes(), "minimization.json")
	if err != nil {
		t.Fatalf("decoding the record: %v", err)
	}
	m := back.Minimization
	switch {
	case back.Kind != collector.KindMinimization || back.ID != "svc-min-1":
		t.Errorf("kind %q id %q", back.Kind, back.ID)
	case m.Runs != len(m.Trials) || m.Runs != o.Calls():
		t.Errorf("runs %d, trials %d, oracle calls %d", m.Runs, len(m.Trials), o.Calls())
	case m.Repeat != 2 || m.Algorithm != minimize.Algorithm || m.Confidence == "":
		t.Errorf("repeat %d algorithm %q confidence %q", m.Repeat, m.Algorithm, m.Confidence)
	case !slices.Equal(strs(back.Allowlist), strs(m.Minimal)):
		t.Errorf("record allowlist %v, minimal %v", back.Allowlist, m.Minimal)
	}
	ids := map[string]bool{}
	phases := map[string]int{}
	for i, tr := range m.Trials {
		if ids[tr.ID] || !strings.HasPrefix(tr.ID, "svc-20261122-") {
			t.Errorf("trial %d: ID %q duplicate or without prefix", i, tr.ID)
		}
		ids[tr.ID] = true
		phases[tr.Phase]++
		if i > 0 && tr.ID < m.Trials[i-1].ID {
			t.Errorf("trials out of order: %s after %s", tr.ID, m.Trials[i-1].ID)
		}
	}
	if phases["observe"] != 1 || phases["search"] == 0 || phases["confirm"] == 0 || len(phases) != 3 {
		t.Errorf("phases %v", phases)
	}
	for _, c := range m.Candidates {
		for _, id := range c.Trials {
			if !ids[id] {
				t.Errorf("candidate %s cites unknown trial %s", c.Capability, id)
			}
		}
	}
	// The evidence of a hard candidate is failing trials without it.
	for _, c := range m.Candidates {
		if c.Class != collector.Hard {
			continue
		}
		for _, id := range c.Trials {
			for j, tr := range m.Trials {
				if tr.ID == id && (tr.Recovered || slices.Contains(tr.Allowed, slices.IndexFunc(m.Candidates, func(x collector.Candidate) bool {
					return x.Capability.String() == c.Capability.String()
				}))) {
					t.Errorf("hard %s cites trial %d that passed or allowed it", c.Capability, j)
				}
			}
		}
	}
}

func TestProgress(t *testing.T) {
	o, _ := minimizetest.Random(60, 4, 9)
	var seen []minimize.Progress
	res := minimizeOK(t, o, minimize.Options{Repeat: 2, Parallel: 2, Progress: func(p minimize.Progress) { seen = append(seen, p) }})
	order := map[minimize.Phase]int{minimize.PhaseObserve: 0, minimize.PhaseSearch: 1, minimize.PhaseConfirm: 2}
	for i, p := range seen {
		if p.Planned < p.Done+p.Running || p.Running > 2 || p.Candidates > 60 {
			t.Errorf("progress %d: %+v", i, p)
		}
		if i > 0 {
			prev := seen[i-1]
			if p.Done < prev.Done || order[p.Phase] < order[prev.Phase] {
				t.Errorf("progress went back: %+v after %+v", p, prev)
			}
			if prev.Size >= 0 && (p.Size < 0 || p.Size > prev.Size) {
				t.Errorf("best size grew: %+v after %+v", p, prev)
			}
		}
	}
	last := seen[len(seen)-1]
	if last.Phase != minimize.PhaseConfirm || last.Done != res.Runs() || last.Size != len(res.Minimal) {
		t.Errorf("last progress %+v, runs %d, minimal %d", last, res.Runs(), len(res.Minimal))
	}
}

// TestOracleErrorStopsTrials checks that an oracle error cancels the
// trials still running instead of waiting for them.
func TestOracleErrorStopsTrials(t *testing.T) {
	errBoom := errors.New("sandbox broke")
	var calls atomic.Int32
	o := minimize.OracleFunc(func(ctx context.Context, tr minimize.Trial) (minimize.Outcome, error) {
		n := calls.Add(1)
		if n == 3 {
			return minimize.Outcome{}, errBoom
		}
		if n > 3 {
			select {
			case <-ctx.Done():
				return minimize.Outcome{}, ctx.Err()
			case <-time.After(time.Minute):
			}
		}
		return minimize.Outcome{Recovered: true}, nil
	})
	cands := collector.Allowlist{}
	for _, a := range minimizetest.Addrs(30) {
		cands = append(cands, mustCap(t, a))
	}
	t0 := time.Now()
	_, err := minimize.Minimize(context.Background(), o, minimize.Options{Repeat: 4, Parallel: 4, Candidates: cands})
	if !errors.Is(err, errBoom) {
		t.Errorf("Minimize = %v, want %v", err, errBoom)
	}
	if took := time.Since(t0); took > 10*time.Second {
		t.Errorf("returned after %v: running trials were not cancelled", took)
	}
}
