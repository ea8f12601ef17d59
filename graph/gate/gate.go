package gate

import (
	"slices"
	"time"

	"github.com/rgraph/rgraph/graph"
)

// Options configure [Evaluate].
type Options struct {
	// Kinds are the edge kinds for cycles, waves and closures; the zero
	// set means [graph.DefaultKinds], as in [graph.DiffOptions].
	Kinds graph.KindSet
	// Baseline lists accepted findings; nil accepts nothing.
	Baseline *Baseline
	// FailOn selects the categories of open findings that fail the gate;
	// nil means no gate (nothing fails), an empty slice a gate that
	// nothing fails.
	FailOn []graph.Category
	// Now decides which baseline entries have expired.
	Now time.Time
}

// Report is what the gate found between two releases.
type Report struct {
	// Delta is the diff without the items of accepted findings;
	// improvements are kept.
	Delta graph.Delta
	// Accepted are the findings the baseline accepts.
	Accepted []graph.Finding
	// Expired are the baseline entries past their expiry, sorted by key.
	Expired []Entry
	// Unused are the baseline entries, not expired, that accept no
	// finding: stale, or mistyped; in file order.
	Unused []Entry
	// Gated is true when FailOn was given.
	Gated bool
	// Failing are the open findings whose category is in FailOn.
	Failing []graph.Finding
}

// Failed reports whether the gate fails: it was asked for and some open
// finding is in a failing category.
func (r Report) Failed() bool { return r.Gated && len(r.Failing) > 0 }

// Open returns the findings the baseline does not accept, followed by one
// finding per expired baseline entry: what --write-baseline writes. It
// makes them on each call, one per item of the delta.
func (r Report) Open() []graph.Finding {
	return append(graph.Findings(r.Delta), ExpiredFindings(r.Expired)...)
}

// Evaluate diffs old against new, turns the delta into findings, applies
// the baseline and selects the findings that fail the gate. It makes only
// the findings it needs: those of the categories the baseline names and
// those of FailOn.
func Evaluate(old, new *graph.Graph, opts Options) Report {
	delta := graph.Diff(old, new, graph.DiffOptions{Kinds: opts.Kinds})
	var named []graph.Category
	if opts.Baseline != nil {
		for _, e := range opts.Baseline.Entries {
			if c, ok := keyCategory(e.Key); ok && !slices.Contains(named, c) {
				named = append(named, c)
			}
		}
	}
	_, accepted, expired := Apply(graph.FindingsIn(delta, named), opts.Baseline, opts.Now)
	r := Report{
		Unused:   unused(opts.Baseline, accepted, opts.Now),
		Delta:    graph.FilterDelta(delta, accepted),
		Accepted: accepted,
		Expired:  expired,
		Gated:    opts.FailOn != nil,
		Failing:  graph.FindingsIn(graph.FilterDelta(delta, accepted), opts.FailOn),
	}
	if slices.Contains(opts.FailOn, graph.CategoryExpiredBaseline) {
		r.Failing = append(r.Failing, ExpiredFindings(expired)...)
	}
	return r
}

// unused returns b's entries, not expired at now, that accept none of
// accepted.
func unused(b *Baseline, accepted []graph.Finding, now time.Time) []Entry {
	if b == nil {
		return nil
	}
	used := map[string]bool{}
	for _, f := range accepted {
		used[f.Key] = true
	}
	var out []Entry
	for _, e := range b.Entries {
		if !e.Expired(now) && !used[e.Key] {
			out = append(out, e)
		}
	}
	return out
}
