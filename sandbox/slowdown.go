package sandbox

import "time"

// Slower is implemented by drivers whose sandboxes run programs more
// slowly than the host does, such as a VM under emulation. [Run]
// stretches the scenario's timeouts, step timeouts and validation
// deadline and timeout by Slowdown, and gives the validation Slowdown
// times as many retries at the same interval, so that a scenario tuned
// on the host gives the same verdict there and its validation passes as
// soon as on the host once the service is up; a factor of 1 or less
// changes nothing.
type Slower interface {
	Slowdown() float64
}

// stretched returns a copy of sc whose durations are f times longer,
// except the validation's interval: its retries are f times as many.
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
	out.Validation.Retries = int(float64(sc.Validation.Retries) * f)
	out.Validation.Deadline = s(sc.Validation.Deadline)
	out.Validation.Timeout = s(sc.Validation.Timeout)
	return &out
}
