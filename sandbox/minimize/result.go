package minimize

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/rgraph/rgraph/collector"
)

// ErrNoRecord means a minimization record was asked for but the oracle
// returned no run record to base it on.
var ErrNoRecord = errors.New("minimize: no run record of the final set")

// Origin says where a candidate came from.
type Origin string

// Origins.
const (
	// Observed: attempted in the observe run.
	Observed Origin = "observed"
	// Listed: given in [Options.Candidates] and not observed.
	Listed Origin = "listed"
	// Discovered: first attempted in a later trial, typically a fallback
	// tried only when the primary was denied.
	Discovered Origin = "discovered"
)

// Candidate is one capability the minimization considered, with its class.
type Candidate struct {
	collector.Candidate
	Origin Origin
}

// TrialRecord is one trial as it ran.
type TrialRecord struct {
	collector.Trial
	// Record is the run record the oracle returned, if any.
	Record *collector.Record
	seq    int
}

// Result is the outcome of [Minimize].
type Result struct {
	// Minimal is the minimal allowlist found, sorted by text form, ready
	// to paste into the scenario. It is known to pass, also when
	// Interrupted.
	Minimal collector.Allowlist
	// Candidates are all capabilities considered: observed, listed, then
	// discovered ones, each group in text order. Trial.Allowed indexes it.
	Candidates []Candidate
	// Trials are every trial run, in the order they were started.
	Trials []TrialRecord
	// Repeat is the number of consecutive successes that accepted a
	// removal.
	Repeat    int
	Algorithm string
	// Confidence estimates the probability that no required capability
	// was dropped by a false success (0 when Interrupted), and
	// ConfidenceNote explains it in one line that starts with a label:
	// high (>= 0.99), medium (>= 0.9), low, unstable or interrupted.
	Confidence     float64
	ConfidenceNote string
	// Interrupted is set when the minimization was cancelled: Minimal is
	// then the smallest set known to pass, classes are provisional (its
	// members hard, the rest soft) and nothing was confirmed.
	Interrupted bool
	// Final is the run record of a passing trial of Minimal, nil when the
	// oracle returned none.
	Final *collector.Record
	// Absent are the endpoints the observe trials attempted whose targets
	// do not exist upstream ([collector.Attempt.Absent]), sorted: shown,
	// but no candidates.
	Absent []string
}

// Runs returns the number of trials, of any phase.
func (r *Result) Runs() int { return len(r.Trials) }

// RunsIn returns the number of trials of phase p.
func (r *Result) RunsIn(p Phase) int {
	n := 0
	for _, t := range r.Trials {
		if t.Phase == string(p) {
			n++
		}
	}
	return n
}

// Class returns the class of the candidate with text form capability, and
// false when it was no candidate.
func (r *Result) Class(capability string) (collector.Class, bool) {
	for _, c := range r.Candidates {
		if c.Capability.String() == capability {
			return c.Class, true
		}
	}
	return "", false
}

// Minimization returns the portable form of the result.
func (r *Result) Minimization() *collector.Minimization {
	m := &collector.Minimization{
		Minimal:     append(collector.Allowlist{}, r.Minimal...),
		Runs:        r.Runs(),
		Repeat:      r.Repeat,
		Algorithm:   r.Algorithm,
		Confidence:  r.ConfidenceNote,
		Interrupted: r.Interrupted,
		Candidates:  make([]collector.Candidate, len(r.Candidates)),
		Trials:      make([]collector.Trial, len(r.Trials)),
	}
	for i, c := range r.Candidates {
		m.Candidates[i] = c.Candidate
	}
	for i, t := range r.Trials {
		m.Trials[i] = t.Trial
	}
	return m
}

// Record returns the minimization record for rgraph ingest: the run record
// of the final verification with kind minimization, the given id, the
// minimal allowlist, and the [collector.Minimization]. It returns
// ErrNoRecord when the oracle returned no run record, and the validation
// error of an invalid one.
func (r *Result) Record(id string) (*collector.Record, error) {
	if r.Final == nil {
		return nil, ErrNoRecord
	}
	rec := *r.Final
	rec.Kind = collector.KindMinimization
	rec.ID = id
	rec.Allowlist = append(collector.Allowlist{}, r.Minimal...)
	rec.Minimization = r.Minimization()
	if err := rec.Validate(); err != nil {
		return nil, fmt.Errorf("building minimization record: %w", err)
	}
	return &rec, nil
}

// result classifies the candidates after a complete minimization.
func (e *engine) result(c *confirmation) *Result {
	r := e.newResult(c.minimal)
	group := map[int]int{}
	evidence := map[int][]string{}
	g := 0
	for _, h := range c.minimal.members() {
		a := c.alts[h]
		if a == nil || len(a.subs) == 0 {
			continue
		}
		g++
		group[h] = g
		evidence[h] = ids(e.runsOf(c.minimal.clone().without(h)), false)
		for i, sub := range a.subs {
			swap := ids(e.runsOf(a.swaps[i]), true)
			evidence[h] = append(evidence[h], swap...)
			for _, x := range sub {
				if _, ok := group[x]; !ok {
					group[x] = g
					evidence[x] = swap
				}
			}
		}
	}
	soft := ids(e.runsOf(c.minimal), true)
	mixed := 0
	for i := range r.Candidates {
		cd := &r.Candidates[i].Candidate
		switch {
		case group[i] > 0:
			cd.Class, cd.Group, cd.Trials = collector.Alternative, group[i], evidence[i]
		case c.minimal.has(i):
			cd.Class = collector.Hard
			if !c.unstable {
				cd.Trials = ids(e.runsOf(c.minimal.clone().without(i)), false)
				if a := c.alts[i]; a != nil {
					for _, s := range a.screens {
						cd.Trials = append(cd.Trials, ids(e.runsOf(s), false)...)
					}
				}
			}
			if c.loo[i] == looMixed {
				mixed++
			}
		default:
			cd.Class, cd.Trials = collector.Soft, soft
		}
	}
	r.Confidence, r.ConfidenceNote = e.confidence(c, mixed)
	return r
}

// interrupted returns the best result known when the minimization was
// cancelled.
func (e *engine) interrupted() *Result {
	r := e.newResult(e.best)
	soft := ids(e.runsOf(e.best), true)
	for i := range r.Candidates {
		cd := &r.Candidates[i].Candidate
		if e.best.has(i) {
			cd.Class = collector.Hard
		} else {
			cd.Class, cd.Trials = collector.Soft, soft
		}
	}
	r.Interrupted = true
	r.ConfidenceNote = fmt.Sprintf("interrupted after %d trials: the allowlist passed %d consecutive trials but is neither minimal nor confirmed",
		len(e.trials), e.opts.Repeat)
	return r
}

func (e *engine) newResult(minimal bitset) *Result {
	r := &Result{
		Repeat:     e.opts.Repeat,
		Algorithm:  Algorithm,
		Candidates: append([]Candidate(nil), e.cands...),
		Trials:     append([]TrialRecord(nil), e.trials...),
	}
	sort.Slice(r.Trials, func(i, j int) bool { return r.Trials[i].seq < r.Trials[j].seq })
	absent := map[string]bool{}
	for _, t := range r.Trials {
		if t.Phase != string(PhaseObserve) || t.Record == nil {
			continue
		}
		for _, a := range t.Record.Attempts {
			if a.Absent() && !absent[a.Endpoint()] {
				absent[a.Endpoint()] = true
				r.Absent = append(r.Absent, a.Endpoint())
			}
		}
	}
	sort.Strings(r.Absent)
	for _, i := range minimal.members() {
		r.Minimal = append(r.Minimal, e.cands[i].Capability)
	}
	r.Minimal = r.Minimal.Sorted()
	sr := e.runsOf(minimal)
	for j := len(sr.outs) - 1; j >= 0 && r.Final == nil; j-- {
		if sr.outs[j].pass {
			for _, t := range e.trials {
				if t.seq == sr.outs[j].seq {
					r.Final = t.Record
				}
			}
		}
	}
	return r
}

// confidence estimates the probability that no required capability was
// dropped. A false success can only hurt at a question whose true answer
// is "fails", and such a question is taken as passing only after Repeat
// consecutive successes (with at most one failure before them), so with a
// per-trial false-success rate p each decided question is wrong with
// probability at most about 2·p^Repeat. The estimate sums that over every
// candidate set decided. p is estimated from the trials of sets run more
// than once, as the share that disagreed with the majority of their set
// (plus half a trial, so that no disagreement is not read as p = 0).
func (e *engine) confidence(c *confirmation, mixed int) (float64, string) {
	disagree, repeated, decided := 0, 0, 0
	for _, sr := range e.sets {
		if sr.all {
			continue
		}
		if n := sr.passes + sr.fails; n > 0 {
			decided++
			if n >= 2 {
				repeated += n
				disagree += min(sr.passes, sr.fails)
			}
		}
	}
	vr := e.runsOf(c.minimal)
	vpass, vruns := 0, 0
	for _, o := range vr.outs {
		if o.seq > c.since {
			vruns++
			if o.pass {
				vpass++
			}
		}
	}
	p := (float64(disagree) + 0.5) / (float64(repeated) + 1)
	risk := math.Min(1, 2*float64(decided)*math.Pow(p, float64(e.opts.Repeat)))
	conf := 1 - risk
	label := "low"
	switch {
	case c.unstable:
		label, conf = "unstable", 0
	case conf >= 0.99:
		label = "high"
	case conf >= 0.9:
		label = "medium"
	}
	note := fmt.Sprintf("%s (%.4f): %d candidate sets decided, a removal accepted after %d consecutive successes; %d of %d trials of repeated sets disagreed; final set passed %d of %d re-verification trials",
		label, conf, decided, e.opts.Repeat, disagree, repeated, vpass, vruns)
	if mixed > 0 {
		note += fmt.Sprintf("; kept on inconclusive leave-one-out trials: %d", mixed)
	}
	if c.repairs > 0 {
		note += fmt.Sprintf("; repairs after a failed re-verification: %d", c.repairs)
	}
	if c.unstable {
		note += "; recovery was unreliable even with every candidate allowed, so every candidate is kept"
	}
	return conf, note
}
