package minimize

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/rgraph/rgraph/collector"
)

// Algorithm names the search in [collector.Minimization.Algorithm].
const Algorithm = "adaptive-binary-splitting"

// Errors Minimize returns for conditions a caller may branch on.
var (
	// ErrNotRecovered means the scenario did not recover even with
	// everything allowed, so there is nothing to minimize.
	ErrNotRecovered = errors.New("minimize: scenario does not recover with everything allowed")
	// ErrCandidatesInsufficient means allowing every candidate does not
	// recover although allowing everything did: the recording missed a
	// dependency (or the scenario needs something no capability names).
	ErrCandidatesInsufficient = errors.New("minimize: allowing every candidate does not recover")
)

// observeTries is how often the observe run is tried before the scenario
// is taken not to recover: Repeat+1, at least 3, so that a false failure
// does not end a minimization before it starts.
func observeTries(repeat int) int { return max(3, repeat+1) }

// maxRepairs bounds how often a final set that fails re-verification is
// grown back and re-confirmed.
const maxRepairs = 2

// Minimize pares a scenario's allowlist down to a minimal set of
// capabilities under which oracle still reports recovery, and classifies
// every candidate. It runs these passes:
//
//  1. Observe: one trial with everything allowed (tried up to Repeat+1
//     times, at least 3, until it passes); the capabilities of its attempts (see
//     [Capabilities]) and [Options.Candidates] become the candidates, in
//     text order.
//  2. Search: the candidates together must pass (Repeat consecutive
//     successes within 5·Repeat trials; if not, capabilities attempted in
//     the failing trials are added, twice at most). Then adaptive binary
//     splitting removes groups of candidates, accepting a removal only
//     after Repeat consecutive successes. With k of n candidates needed it
//     takes about k·log2(n/k) + 2k questions.
//  3. Confirm: the minimal set is re-verified with fresh trials, and the
//     set without each member is tried Repeat times (1-minimality). A
//     member whose removal fails every time is hard; once its removal
//     passes, trials go on until it is dropped (Repeat consecutive
//     successes and a two-to-one majority) or 5·Repeat trials are spent
//     and it is kept. If the
//     minimal set fails its re-verification the search is repeated over
//     the other candidates with the minimal set fixed.
//  4. Alternatives: for each member h, the trial allowing every candidate
//     but h tests whether anything can stand in for it; when it passes,
//     the same splitting finds a minimal substitute, and the search
//     repeats without it, up to [Options.MaxAlternatives] times. Members
//     and their substitutes form an alternative group. This costs one
//     trial per member when there are no alternatives, and about
//     log2(n)+2 questions per substitute found.
//
// Everything else is soft. Capabilities attempted in later trials but not
// observed at first (a fallback tried only when the primary is denied) are
// added as candidates between passes, so that they can be found as
// alternatives.
//
// With Parallel above one, free slots run the remaining repeats of a
// question, the independent confirmation trials, and speculatively the
// questions the search will ask next under either answer; speculation
// never changes the answer, only how many trials it takes.
//
// Minimize returns ErrNotRecovered, ErrCandidatesInsufficient, or an
// oracle error wrapped with the trial's ID. When ctx is cancelled it waits
// for running trials to return and, if some candidate set is already
// known to pass, returns the smallest one as an interrupted Result with a
// nil error; otherwise ctx.Err().
func Minimize(ctx context.Context, oracle Oracle, opts Options) (*Result, error) {
	e := newEngine(oracle, opts)
	outer := ctx
	ctx, e.abort = context.WithCancel(ctx)
	defer e.abort()
	if err := e.observe(ctx); err != nil {
		return nil, err
	}
	m, err := e.search(ctx)
	if err == nil {
		var c *confirmation
		if c, err = e.confirm(ctx, m); err == nil {
			e.remaining = func() int { return 0 }
			e.report() // the final count
			return e.result(c), nil
		}
	}
	if outer.Err() != nil && e.bestKnown {
		return e.interrupted(), nil
	}
	return nil, err
}

// observe runs everything allowed and turns its attempts into candidates.
func (e *engine) observe(ctx context.Context) error {
	sr := e.observeRuns()
	err := e.drive(ctx, PhaseObserve, func() []want {
		if sr.passes > 0 || sr.fails >= observeTries(e.opts.Repeat) {
			return nil
		}
		return []want{{sr, 1 - sr.inflight}}
	}, func() int { return 1 - sr.passes - sr.inflight })
	if err != nil {
		return err
	}
	if sr.passes == 0 {
		return fmt.Errorf("%w (%d trials)", ErrNotRecovered, sr.fails)
	}
	var observed collector.Allowlist
	for _, t := range e.trials {
		observed = append(observed, Capabilities(t.Record, e.opts.Catalog)...)
	}
	e.addCandidates(observed, Observed)
	e.addCandidates(e.opts.Candidates, Listed)
	all := full(len(e.cands)).members()
	for i := range e.trials {
		e.trials[i].Allowed = all
	}
	return nil
}

// search checks that the candidates suffice and splits them down.
func (e *engine) search(ctx context.Context) (bitset, error) {
	var c bitset
	for round := 0; ; round++ {
		c = full(len(e.cands))
		since := e.seq
		sr := e.runsOf(c)
		err := e.drive(ctx, PhaseSearch, func() []want {
			if decided, _, need := e.verify(sr, since); !decided {
				return []want{{sr, need}}
			}
			return nil
		}, func() int { return e.opts.Repeat + e.estimateSplit(len(e.cands), 1, 0) })
		if err != nil {
			return nil, err
		}
		if _, pass, _ := e.verify(sr, since); pass {
			break
		}
		if round == maxRepairs || e.adoptDiscovered() == 0 {
			return nil, fmt.Errorf("%w (%d candidates, %d of %d trials failed)", ErrCandidatesInsufficient, len(e.cands), sr.fails, sr.passes+sr.fails)
		}
	}
	e.noteBest(c)
	order := c.members()
	return e.split(ctx, PhaseSearch, c, order, func(s *split) int { return e.estimateConfirm(len(s.needed) + s.estimate()) })
}

// split runs a splitting search from start (known to pass) over the
// removable items in order, speculating on free slots.
func (e *engine) split(ctx context.Context, phase Phase, start bitset, order []int, after func(*split) int) (bitset, error) {
	s := newSplit(start, order)
	plan := func() []want {
		if e.advance(s) == nil {
			return nil
		}
		var wants []want
		seen := map[string]bool{}
		free := e.opts.Parallel - e.inflight
		frontier := []*split{s}
		for steps := 0; len(frontier) > 0 && free > 0 && steps < 4*e.opts.Parallel; steps++ {
			h := frontier[0]
			frontier = frontier[1:]
			q := e.advance(h)
			if q == nil || seen[q.key()] {
				continue
			}
			seen[q.key()] = true
			sr := e.runsOf(q)
			_, _, need := e.accept(sr)
			wants = append(wants, want{sr, need})
			free -= need
			if e.opts.Parallel > 1 {
				yes, no := h.clone(), h.clone()
				yes.answer(true)
				no.answer(false)
				frontier = append(frontier, yes, no)
			}
		}
		return wants
	}
	remaining := func() int {
		return e.estimateSplit(len(s.u)+len(s.lo), s.estimate(), len(s.lo)) + after(s)
	}
	if err := e.drive(ctx, phase, plan, remaining); err != nil {
		return nil, err
	}
	return s.keep, nil
}

// questioner is a search that asks about one candidate set at a time:
// [split] and [altSearch].
type questioner interface {
	// next returns the set to decide next, nil when done.
	next() bitset
	// answer feeds the outcome of the set next returned.
	answer(pass bool)
}

// advance feeds q every answer already decided by the accept rule and
// returns its first undecided question, nil when it is done.
func (e *engine) advance(q questioner) bitset {
	for set := q.next(); set != nil; set = q.next() {
		decided, pass, _ := e.accept(e.runsOf(set))
		if !decided {
			return set
		}
		q.answer(pass)
	}
	return nil
}

// estimateSplit estimates the trials a split search has left with u
// undecided items of which d are needed, lo of them in a group being
// halved: about d·(log2(u/d)+2) questions, half of them passing (Repeat
// trials) and half failing (one).
func (e *engine) estimateSplit(u, d, lo int) int {
	if u == 0 {
		return 0
	}
	d = max(1, min(d, u))
	q := float64(d)*(math.Log2(float64(u)/float64(d))+2) + math.Log2(float64(lo+1))
	return int(math.Ceil(q * float64(1+e.opts.Repeat) / 2))
}

// estimateConfirm estimates the trials of the confirmation pass for a
// minimal set of size k: re-verification, leave-one-out, one screen each.
func (e *engine) estimateConfirm(k int) int {
	return e.opts.Repeat + k*e.opts.Repeat + k
}
