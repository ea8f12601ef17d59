package sandbox

import "time"

// Slower is implemented by drivers whose sandboxes run programs more
// slowly than the host does, such as a VM under emulation. [Run]
// stretches the scenario's timeouts, step timeouts and validation
// timing by Slowdown, so that a scenario tuned on the host gives the same
// verdict there; a factor of 1 or less changes nothing.
type Slower interface {
	Slowdown() float64
}

// stretched returns a copy of sc whose durations are f times longer.
func (sc *Scenario) stretched(f float64) *Scenario {
	if f <= 1 {
		return sc
	}
	s := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f) }
	out := *sc
	out.Timeout = s(sc.Timeout)
	out.Runbook = make([]Step, len(sc.Runbook))
	for i, st := range sc.Runbook {
		st.Timeout = s(st.Timeout)
		out.Runbook[i] = st
	}
	out.Validation.Interval = s(sc.Validation.Interval)
	out.Validation.Deadline = s(sc.Validation.Deadline)
	out.Validation.Timeout = s(sc.Validation.Timeout)
	return &out
}
