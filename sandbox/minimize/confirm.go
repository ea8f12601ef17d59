package minimize

import (
	"context"
	"errors"
	"fmt"
)

// errUnstable means the scenario does not reliably recover even with every
// candidate allowed, so the minimal set cannot be repaired.
var errUnstable = errors.New("minimize: recovery is unstable with every candidate allowed")

// confirmation is the outcome of the confirm pass.
type confirmation struct {
	minimal bitset
	// since marks the trials that count as fresh re-verification of
	// minimal: those started after it.
	since int
	// loo holds each member's leave-one-out verdict.
	loo map[int]looVerdict
	// alts holds each member's search for substitutes.
	alts map[int]*altSearch
	// unstable is set when no set passed re-verification reliably;
	// minimal then holds every candidate.
	unstable bool
	repairs  int
}

// confirm re-verifies the minimal set m, tests each member by leaving it
// out, repairs m if it fails its re-verification, and looks for
// alternatives.
func (e *engine) confirm(ctx context.Context, m bitset) (*confirmation, error) {
	c := &confirmation{minimal: m, since: e.seq, loo: map[int]looVerdict{}, alts: map[int]*altSearch{}}
	// Each round removes a member or repairs (see below); the bound only
	// guards against a bug turning into an endless loop.
	for round := 0; ; round++ {
		if round > len(e.cands)+maxRepairs+1 {
			return nil, fmt.Errorf("minimize: internal error: confirmation did not settle after %d rounds", round)
		}
		e.adoptDiscovered()
		vr := e.runsOf(c.minimal)
		pending := func() []want {
			var w []want
			if decided, _, need := e.verify(vr, c.since); !decided {
				w = append(w, want{vr, need})
			}
			for _, h := range c.minimal.members() {
				if c.loo[h] != looPending {
					continue
				}
				sr := e.runsOf(c.minimal.clone().without(h))
				if v, need := e.leaveOneOut(sr); v == looPending {
					w = append(w, want{sr, need})
				}
			}
			return w
		}
		remaining := func() int {
			n := 0
			for _, w := range pending() {
				n += w.n
			}
			return n + c.minimal.len()
		}
		if err := e.drive(ctx, PhaseConfirm, pending, remaining); err != nil {
			return nil, err
		}
		if _, pass, _ := e.verify(vr, c.since); !pass {
			if err := e.repair(ctx, c); err != nil {
				if errors.Is(err, errUnstable) {
					return c, nil
				}
				return nil, err
			}
			continue
		}
		// Settle verdicts. Members shown unnecessary one at a time may
		// not be unnecessary together (alternatives both kept); a
		// splitting search over them removes what can go together. It
		// removes at least one: halving ends with a question that leaves
		// out a single member, which accept decides as leaveOneOut did.
		var drop []int
		for _, h := range c.minimal.members() {
			if c.loo[h] != looPending {
				continue
			}
			v, _ := e.leaveOneOut(e.runsOf(c.minimal.clone().without(h)))
			if v == looDrop {
				drop = append(drop, h)
				continue
			}
			c.loo[h] = v
		}
		if len(drop) == 0 {
			break
		}
		if len(drop) == 1 {
			// The set without it passed Repeat consecutive trials.
			c.minimal = c.minimal.clone().without(drop[0])
		} else {
			m, err := e.split(ctx, PhaseConfirm, c.minimal, drop, func(*split) int { return 0 })
			if err != nil {
				return nil, err
			}
			c.minimal = m
		}
		// Members already shown hard stay hard (their removal from a
		// larger set failed); the rest are tested again.
		for _, h := range drop {
			delete(c.loo, h)
		}
		e.noteBest(c.minimal)
	}
	if err := e.alternatives(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// repair grows a minimal set that failed re-verification: it re-verifies
// the set of every candidate and searches the candidates outside the
// minimal set with the minimal set fixed. After maxRepairs, or when
// every candidate together fails too, it gives up and marks c unstable.
func (e *engine) repair(ctx context.Context, c *confirmation) error {
	all := full(len(e.cands))
	if c.repairs < maxRepairs {
		c.repairs++
		since := e.seq
		sr := e.runsOf(all)
		err := e.drive(ctx, PhaseConfirm, func() []want {
			if decided, _, need := e.verify(sr, since); !decided {
				return []want{{sr, need}}
			}
			return nil
		}, func() int { return e.opts.Repeat })
		if err != nil {
			return err
		}
		if _, pass, _ := e.verify(sr, since); pass {
			var order []int
			for _, i := range all.members() {
				if !c.minimal.has(i) {
					order = append(order, i)
				}
			}
			grown, err := e.split(ctx, PhaseConfirm, all, order, func(*split) int { return 0 })
			if err != nil {
				return err
			}
			c.minimal, c.since, c.loo = grown, e.seq, map[int]looVerdict{}
			return nil
		}
	}
	c.minimal, c.unstable = all, true
	return errUnstable
}

// altSearch looks for substitutes of one member h of the minimal set: sets
// of other candidates that, allowed instead of h, let the scenario
// recover.
type altSearch struct {
	h    int
	base bitset // the minimal set without h
	pool []int  // candidates outside the minimal set not yet taken
	max  int
	// sp searches the pool for a minimal substitute once a screen has
	// passed; nil while screening.
	sp *split
	// subs are the substitutes found, each a minimal set of pool items,
	// and swaps the passing sets that show them (base plus substitute).
	subs  [][]int
	swaps []bitset
	// screens are the screen questions asked (base plus pool).
	screens []bitset
	done    bool
}

func newAltSearch(h int, minimal bitset, pool []int, maxSubs int) *altSearch {
	a := &altSearch{h: h, base: minimal.clone().without(h), pool: pool, max: maxSubs}
	a.done = len(pool) == 0 || maxSubs <= 0
	return a
}

func (a *altSearch) screen() bitset { return a.base.union(newBitset(a.pool...)) }

func (a *altSearch) next() bitset {
	switch {
	case a.done:
		return nil
	case a.sp != nil:
		return a.sp.next()
	}
	return a.screen()
}

func (a *altSearch) answer(pass bool) {
	if a.sp == nil {
		q := a.screen()
		a.screens = append(a.screens, q)
		if !pass {
			a.done = true
			return
		}
		a.sp = newSplit(q, a.pool)
		return
	}
	a.sp.answer(pass)
	if !a.sp.done() {
		return
	}
	var sub []int
	for _, i := range a.sp.keep.members() {
		if !a.base.has(i) {
			sub = append(sub, i)
		}
	}
	if len(sub) == 0 {
		// The base passed without h after all: evidence disagreeing with
		// the leave-one-out test. h stays, as the safe choice.
		a.done = true
		return
	}
	a.subs = append(a.subs, sub)
	a.swaps = append(a.swaps, a.sp.keep)
	taken := newBitset(sub...)
	var rest []int
	for _, i := range a.pool {
		if !taken.has(i) {
			rest = append(rest, i)
		}
	}
	a.pool, a.sp = rest, nil
	a.done = len(a.subs) >= a.max || len(a.pool) == 0
}

// alternatives runs the substitute search for every member of the minimal
// set side by side. Members that found none are searched again, twice at
// most, when trials meanwhile discovered new candidates.
func (e *engine) alternatives(ctx context.Context, c *confirmation) error {
	if e.opts.MaxAlternatives < 0 || c.unstable {
		return nil
	}
	redo := c.minimal.members()
	for round := 0; round < 3 && len(redo) > 0; round++ {
		var pool []int
		for i := range e.cands {
			if !c.minimal.has(i) {
				pool = append(pool, i)
			}
		}
		var active []*altSearch
		for _, h := range redo {
			a := newAltSearch(h, c.minimal, pool, e.opts.MaxAlternatives)
			c.alts[h] = a
			active = append(active, a)
		}
		plan := func() []want {
			var w []want
			for _, a := range active {
				if q := e.advance(a); q != nil {
					sr := e.runsOf(q)
					_, _, need := e.accept(sr)
					w = append(w, want{sr, need})
				}
			}
			return w
		}
		remaining := func() int {
			n := 0
			for _, a := range active {
				if !a.done {
					n++
				}
			}
			return n
		}
		if err := e.drive(ctx, PhaseConfirm, plan, remaining); err != nil {
			return err
		}
		if e.adoptDiscovered() == 0 {
			break
		}
		redo = redo[:0:0]
		for _, a := range active {
			if len(a.subs) == 0 {
				redo = append(redo, a.h)
			}
		}
	}
	return nil
}
