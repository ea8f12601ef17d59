package minimize

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/rgraph/rgraph/collector"
)

// outcome is one finished trial of a set.
type outcome struct {
	seq  int
	id   string
	pass bool
}

// setRuns holds every trial of one candidate set, across passes: the cache
// that keeps identical sets from being run more often than a decision
// needs.
type setRuns struct {
	set bitset
	// all marks the observe set: everything allowed, not just candidates.
	all      bool
	outs     []outcome // in order of completion
	passes   int
	fails    int
	inflight int
}

// want asks the engine to start n more trials of runs, if slots are free.
type want struct {
	runs *setRuns
	n    int
}

type completion struct {
	seq   int
	id    string
	phase Phase
	runs  *setRuns
	out   Outcome
	err   error
	took  time.Duration
}

// engine runs trials for the passes of a minimization. One goroutine (the
// caller of drive) owns all its state; trials run in their own goroutines
// and report back on done.
type engine struct {
	oracle Oracle
	opts   Options
	start  time.Time

	cands  []Candidate
	byText map[string]int
	// found holds capabilities seen in trials but not yet candidates.
	found map[string]collector.Capability

	sets   map[string]*setRuns
	trials []TrialRecord   // in order of completion
	ids    map[string]bool // trial IDs in use
	seq    int
	phase  Phase
	// remaining estimates how many trials the current pass has left
	// after those done and running, for progress.
	remaining func() int

	best      bitset
	bestKnown bool

	inflight int
	done     chan completion
	err      error // the first oracle error
	// abort cancels the context trials run under, after an oracle error.
	abort context.CancelFunc
}

func newEngine(o Oracle, opts Options) *engine {
	opts = opts.withDefaults()
	return &engine{
		oracle:    o,
		opts:      opts,
		start:     opts.Now(),
		byText:    map[string]int{},
		found:     map[string]collector.Capability{},
		sets:      map[string]*setRuns{},
		ids:       map[string]bool{},
		done:      make(chan completion, opts.Parallel),
		remaining: func() int { return 0 },
		abort:     func() {},
	}
}

// runsOf returns the trial history of a candidate set.
func (e *engine) runsOf(set bitset) *setRuns {
	k := set.key()
	sr := e.sets[k]
	if sr == nil {
		sr = &setRuns{set: set.clone()}
		e.sets[k] = sr
	}
	return sr
}

// observeRuns returns the trial history of the everything-allowed set.
func (e *engine) observeRuns() *setRuns {
	const k = "*all"
	sr := e.sets[k]
	if sr == nil {
		sr = &setRuns{all: true}
		e.sets[k] = sr
	}
	return sr
}

func (e *engine) allow(sr *setRuns) collector.Allowlist {
	if sr.all {
		return collector.Allowlist{{All: true}}
	}
	var al collector.Allowlist
	for _, i := range sr.set.members() {
		al = append(al, e.cands[i].Capability)
	}
	return al
}

// drive runs one pass: it asks plan which trials it wants, starts them
// while slots are free, and re-plans after every finished trial, until
// plan wants nothing and no trial is running. It returns the first oracle
// error, or ctx.Err() once ctx is done; either way only after every
// running trial has returned.
func (e *engine) drive(ctx context.Context, phase Phase, plan func() []want, remaining func() int) error {
	e.phase, e.remaining = phase, remaining
	e.report()
	for {
		if ctx.Err() == nil && e.err == nil {
			wants := plan()
			for _, w := range wants {
				for i := 0; i < w.n && e.inflight < e.opts.Parallel; i++ {
					e.launch(ctx, w.runs)
				}
			}
			if e.inflight == 0 {
				if len(wants) > 0 {
					return fmt.Errorf("minimize: internal error: %s pass stalled", phase)
				}
				return nil
			}
		} else if e.inflight == 0 {
			if e.err != nil {
				return e.err
			}
			return ctx.Err()
		}
		e.complete(ctx, <-e.done)
		e.report()
	}
}

func (e *engine) launch(ctx context.Context, sr *setRuns) {
	e.seq++
	c := completion{seq: e.seq, id: fmt.Sprintf("%s-%04d", e.opts.TrialPrefix, e.seq), phase: e.phase, runs: sr}
	t := Trial{ID: c.id, Phase: e.phase, Allow: e.allow(sr)}
	sr.inflight++
	e.inflight++
	go func() {
		t0 := time.Now()
		c.out, c.err = e.oracle.Try(ctx, t)
		c.took = time.Since(t0)
		e.done <- c
	}()
}

// complete books a finished trial. Trials that end after ctx is done are
// dropped: an interrupted run is no evidence either way.
func (e *engine) complete(ctx context.Context, c completion) {
	e.inflight--
	c.runs.inflight--
	if ctx.Err() != nil {
		return
	}
	if c.err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("trial %s: %w", c.id, c.err)
			e.abort() // stop the other trials rather than wait for them
		}
		return
	}
	sr := c.runs
	pass := c.out.Recovered
	if r := c.out.Record; r != nil && r.ID != "" && !e.ids[r.ID] {
		c.id = r.ID // evidence then names the run record
	}
	e.ids[c.id] = true
	sr.outs = append(sr.outs, outcome{seq: c.seq, id: c.id, pass: pass})
	if pass {
		sr.passes++
	} else {
		sr.fails++
	}
	d := c.out.Duration
	if d == 0 {
		d = c.took
	}
	var allowed []int
	if !sr.all {
		allowed = sr.set.members()
	}
	e.trials = append(e.trials, TrialRecord{
		Trial:  collector.Trial{ID: c.id, Phase: string(c.phase), Allowed: allowed, Recovered: pass, Duration: collector.Duration(d)},
		Record: c.out.Record,
		seq:    c.seq,
	})
	if !sr.all {
		e.discover(c.out.Record)
		if _, pass, _ := e.accept(sr); pass {
			e.noteBest(sr.set)
		}
	}
}

// discover remembers capabilities a trial attempted that are not
// candidates yet, such as a fallback tried only when the primary was
// denied.
func (e *engine) discover(rec *collector.Record) {
	if rec == nil {
		return
	}
	for _, a := range rec.Attempts {
		for _, c := range attemptCapabilities(a, e.opts.Catalog) {
			t := c.String()
			if _, ok := e.byText[t]; !ok {
				e.found[t] = c
			}
		}
	}
}

// addCandidates appends capabilities to the candidates, skipping known
// ones, in text order; it returns how many were new.
func (e *engine) addCandidates(caps []collector.Capability, origin Origin) int {
	sorted := collector.Allowlist(caps).Sorted()
	n := 0
	for _, c := range sorted {
		if c.All || c.Validate() != nil {
			continue
		}
		t := c.String()
		if _, ok := e.byText[t]; ok {
			continue
		}
		e.byText[t] = len(e.cands)
		e.cands = append(e.cands, Candidate{Candidate: collector.Candidate{Capability: c}, Origin: origin})
		n++
	}
	return n
}

// adoptDiscovered makes the capabilities discovered so far candidates.
// It is called between passes only, so that candidate indices do not
// depend on the order in which parallel trials finish.
func (e *engine) adoptDiscovered() int {
	var caps []collector.Capability
	for _, c := range e.found {
		caps = append(caps, c)
	}
	clear(e.found)
	return e.addCandidates(caps, Discovered)
}

func (e *engine) noteBest(set bitset) {
	if !e.bestKnown || set.len() < e.best.len() {
		e.best, e.bestKnown = set.clone(), true
	}
}

func (e *engine) report() {
	if e.opts.Progress == nil {
		return
	}
	size := -1
	if e.bestKnown {
		size = e.best.len()
	}
	done := len(e.trials)
	e.opts.Progress(Progress{
		Phase:      e.phase,
		Done:       done,
		Running:    e.inflight,
		Planned:    done + e.inflight + max(0, e.remaining()),
		Size:       size,
		Candidates: len(e.cands),
		Elapsed:    e.opts.Now().Sub(e.start),
	})
}

// Decision rules. Each returns whether the set is decided, the decision,
// and how many more trials to start now.

// accept is the rule for removals: a set passes after Repeat consecutive
// successes, provided successes outnumber failures two to one (see
// majority), and fails at its first failure until then. In a search no
// trial of a failed set follows, so there the first failure decides;
// trials a later pass adds (leaveOneOut) may still show it passing, and
// both rules agree on the same history.
func (e *engine) accept(sr *setRuns) (decided, pass bool, need int) {
	trailing := sr.trailingPasses()
	switch {
	case trailing >= e.opts.Repeat && sr.majority():
		return true, true, 0
	case sr.fails > 0:
		return true, false, 0
	}
	return false, false, max(0, e.opts.Repeat-trailing-sr.inflight)
}

// majority reports whether a set's successes outnumber its failures two
// to one. A set that truly fails passes only by false successes, which
// are then rare; requiring the majority besides a run of Repeat keeps a
// long series of trials from producing that run by chance.
func (sr *setRuns) majority() bool { return sr.passes >= 2*sr.fails }

// trailingPasses counts the successes since the last failure.
func (sr *setRuns) trailingPasses() int {
	n := 0
	for _, o := range sr.outs {
		if o.pass {
			n++
		} else {
			n = 0
		}
	}
	return n
}

// verify is the rule for re-verifying a set: Repeat consecutive successes
// and a two-to-one majority among the trials after since, within
// verifyBudget·Repeat trials. It
// tolerates the odd false failure of a set that mostly passes: with a 15%
// false-failure rate and Repeat 3 it passes a good set 99.8% of the time,
// while a set that fails but shows a 10% false-success rate passes 1.2%.
func (e *engine) verify(sr *setRuns, since int) (decided, pass bool, need int) {
	r := e.opts.Repeat
	fresh, passes, trailing := 0, 0, 0
	for _, o := range sr.outs {
		if o.seq <= since {
			continue
		}
		fresh++
		if o.pass {
			passes++
			trailing++
		} else {
			trailing = 0
		}
	}
	switch {
	case trailing >= r && passes >= 2*(fresh-passes):
		return true, true, 0
	case fresh+max(1, r-trailing) > verifyBudget*r:
		return true, false, 0
	}
	return false, false, max(0, max(1, r-trailing)-sr.inflight)
}

// verifyBudget bounds the trials of a verification, in units of Repeat.
const verifyBudget = 5

// looVerdict is what the leave-one-out test says about a member.
type looVerdict int

const (
	looPending looVerdict = iota
	looHard               // every trial without it failed
	looDrop               // every trial without it passed: not needed
	looMixed              // inconclusive: kept, as a false success is the costlier error
)

// leaveOneOut is the rule for confirming a member by trials of the set
// without it: Repeat failures and no success show it hard. Once a trial
// without it passes, recovery is flaky here, and trials go on until it is
// dropped as [engine.accept] would remove it (Repeat consecutive
// successes and a two-to-one majority), or verifyBudget·Repeat trials are
// spent and it is kept (mixed). False failures thus cost trials rather
// than an unneeded capability, while a needed member is dropped only if
// false successes both come Repeat in a row and outnumber true failures.
func (e *engine) leaveOneOut(sr *setRuns) (looVerdict, int) {
	r := e.opts.Repeat
	trailing := sr.trailingPasses()
	switch {
	case sr.passes == 0 && sr.fails >= r:
		return looHard, 0
	case sr.passes == 0:
		return looPending, max(0, r-sr.fails-sr.inflight)
	case trailing >= r && sr.majority():
		return looDrop, 0
	case sr.passes+sr.fails >= verifyBudget*r:
		return looMixed, 0
	}
	return looPending, max(0, max(1, r-trailing)-sr.inflight)
}

// ids returns the IDs of the trials of sr, in the order they were started;
// only passing ones when passing is set.
func ids(sr *setRuns, passingOnly bool) []string {
	var out []outcome
	for _, o := range sr.outs {
		if !passingOnly || o.pass {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	s := make([]string, len(out))
	for i, o := range out {
		s[i] = o.id
	}
	return s
}
