package minimize

import (
	"time"

	"github.com/rgraph/rgraph/collector"
)

// Options configure [Minimize]. The zero value of each field selects the
// documented default.
type Options struct {
	// Repeat is how many consecutive successes accept a removal, how many
	// runs re-verify the final set, and how many failing runs confirm
	// each member of it. Default 3; 1 trusts every single success.
	Repeat int
	// Parallel is how many trials may run at once. Above one the oracle
	// must accept concurrent calls; the minimizer fills the slots with
	// repeats, independent confirmation runs and speculative search
	// questions (see [Minimize]). Default 1.
	Parallel int
	// Candidates are capabilities to consider besides the observed ones,
	// such as the scenario's own list. Default none.
	Candidates collector.Allowlist
	// Catalog maps observed attempts to the services that own them; an
	// attempt it does not map becomes an address, unix or dns capability.
	// Default none: every attempt is kept as its endpoint.
	Catalog *collector.Catalog
	// MaxAlternatives bounds how many substitutes are searched for each
	// member of the minimal set. Default 4; negative disables the
	// search for alternatives.
	MaxAlternatives int
	// TrialPrefix starts every trial ID. Default "trial".
	TrialPrefix string
	// Progress, when set, is called at the start of each pass and after
	// each trial, from one goroutine at a time. Default none.
	Progress func(Progress)
	// Now reads the clock for elapsed times. Default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Repeat <= 0 {
		o.Repeat = 3
	}
	if o.Parallel <= 0 {
		o.Parallel = 1
	}
	if o.MaxAlternatives == 0 {
		o.MaxAlternatives = 4
	}
	if o.TrialPrefix == "" {
		o.TrialPrefix = "trial"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Progress is a snapshot of a running minimization, for a status line.
type Progress struct {
	Phase Phase
	// Done counts finished trials; Running those in flight.
	Done, Running int
	// Planned estimates the total number of trials, Done included; it is
	// revised as the search learns how many candidates are needed.
	Planned int
	// Size is the size of the smallest candidate set known to pass so
	// far (-1 before any is known), of Candidates in all.
	Size, Candidates int
	Elapsed          time.Duration
}
