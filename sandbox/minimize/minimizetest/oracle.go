// Package minimizetest provides a simulated recovery for testing and
// benchmarking the minimizer without a sandbox: a monotone formula over
// capabilities, with seeded flakiness in both directions.
package minimizetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox/minimize"
)

// Oracle is a simulated service: it recovers when, for every clause of
// Needs, at least one of the clause's capabilities is allowed. A clause of
// one capability is a hard dependency, a longer clause a set of
// alternatives tried in order (two resolvers, say).
//
// Its run records show what the service attempted: for each clause its
// members in order up to the first allowed one (a fallback shows only
// when the primary is denied), and every capability of Soft. Capabilities
// are text forms (see [collector.ParseCapability]); a service capability
// is attempted at its first catalog endpoint, DNS name or socket path.
//
// Oracle is safe for concurrent use; with flakiness and Parallel above one
// the outcomes depend on scheduling.
type Oracle struct {
	Needs [][]string
	Soft  []string
	// FalseSuccess is the probability that a trial that should fail
	// reports recovery, FalseFailure that one that should pass does not.
	FalseSuccess, FalseFailure float64
	// Seed seeds the flakiness.
	Seed uint64
	// Delay is how long each trial takes (it returns early, with the
	// context's error, when ctx is done).
	Delay time.Duration
	// Catalog places service capabilities; nil when there are none.
	Catalog *collector.Catalog
	// NoRecord makes Try return no run record.
	NoRecord bool

	mu       sync.Mutex
	rng      *rand.Rand
	calls    int
	running  int
	peak     int
	attempts map[string]collector.Attempt
}

// Try implements [minimize.Oracle].
func (o *Oracle) Try(ctx context.Context, t minimize.Trial) (minimize.Outcome, error) {
	o.mu.Lock()
	o.calls++
	o.running++
	o.peak = max(o.peak, o.running)
	var allow []string
	for _, c := range t.Allow {
		allow = append(allow, c.String())
	}
	if o.rng == nil {
		o.rng = rand.New(rand.NewPCG(o.Seed, 0x5eed))
	}
	flip := o.rng.Float64()
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.running--
		o.mu.Unlock()
	}()
	if o.Delay > 0 {
		select {
		case <-time.After(o.Delay):
		case <-ctx.Done():
			return minimize.Outcome{}, fmt.Errorf("simulated trial %s: %w", t.ID, ctx.Err())
		}
	}
	if err := ctx.Err(); err != nil {
		return minimize.Outcome{}, fmt.Errorf("simulated trial %s: %w", t.ID, err)
	}
	allowed := func(c string) bool {
		return slices.Contains(allow, c) || slices.Contains(allow, "all")
	}
	truth := Satisfied(o.Needs, allowed)
	got := truth
	switch {
	case truth && flip < o.FalseFailure:
		got = false
	case !truth && flip < o.FalseSuccess:
		got = true
	}
	out := minimize.Outcome{Recovered: got, Duration: o.Delay}
	if !o.NoRecord {
		rec, err := o.record(t, allowed, got)
		if err != nil {
			return minimize.Outcome{}, err
		}
		out.Record = rec
	}
	return out, nil
}

// Satisfied reports whether needs holds when allowed says which
// capabilities are allowed.
func Satisfied(needs [][]string, allowed func(string) bool) bool {
	for _, clause := range needs {
		if !slices.ContainsFunc(clause, allowed) {
			return false
		}
	}
	return true
}

func (o *Oracle) record(t minimize.Trial, allowed func(string) bool, recovered bool) (*collector.Record, error) {
	rec := &collector.Record{
		SchemaVersion: collector.SchemaVersion,
		Kind:          collector.KindRun,
		ID:            t.ID,
		Scenario:      "simulated",
		Service:       "simulated",
		FaultMode:     collector.FaultReject,
		Allowlist:     t.Allow,
		Outcome:       collector.Outcome{Recovered: recovered, Duration: collector.Duration(o.Delay)},
		Collection:    collector.Collection{Complete: true},
	}
	attempt := func(c string) error {
		a, err := o.cachedAttempt(c)
		if err != nil {
			return err
		}
		a.Verdict, a.Count = collector.Denied, 1
		if allowed(c) {
			a.Verdict = collector.Allowed
		}
		rec.Attempts = append(rec.Attempts, a)
		return nil
	}
	for _, clause := range o.Needs {
		for _, c := range clause {
			if err := attempt(c); err != nil {
				return nil, err
			}
			if allowed(c) {
				break
			}
		}
	}
	for _, c := range o.Soft {
		if err := attempt(c); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(rec.Attempts, func(a, b collector.Attempt) int {
		return strings.Compare(a.Endpoint(), b.Endpoint())
	})
	return rec, nil
}

// cachedAttempt is attempt, computed once per capability.
func (o *Oracle) cachedAttempt(c string) (collector.Attempt, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if a, ok := o.attempts[c]; ok {
		return a, nil
	}
	a, err := o.attempt(c)
	if err != nil {
		return a, err
	}
	if o.attempts == nil {
		o.attempts = map[string]collector.Attempt{}
	}
	o.attempts[c] = a
	return a, nil
}

// attempt returns an attempt that the minimizer maps back to capability c.
func (o *Oracle) attempt(c string) (collector.Attempt, error) {
	cp, err := collector.ParseCapability(c)
	if err != nil {
		return collector.Attempt{}, err
	}
	a := collector.Attempt{Process: collector.Process{PID: 1, Comm: "svc"}}
	switch {
	case cp.Service != "":
		s, ok := o.Catalog.Lookup(cp.Service)
		switch {
		case !ok:
			return a, fmt.Errorf("simulated capability %q: service not in the catalog", c)
		case len(s.Endpoints) > 0:
			e, err := collector.ParseCapability(s.Endpoints[0])
			if err != nil {
				return a, err
			}
			a.Protocol, a.Address, a.Port = e.Protocol, e.CIDR.Addr(), e.Ports.Lo
			if a.Protocol == "" {
				a.Protocol = collector.TCP
			}
		case len(s.DNS) > 0:
			a.Protocol, a.DNSName = collector.DNS, s.DNS[0]
		case len(s.Unix) > 0:
			a.Protocol, a.Path = collector.Unix, s.Unix[0]
		default:
			return a, fmt.Errorf("simulated capability %q: service has no endpoint", c)
		}
	case cp.CIDR.IsValid():
		a.Protocol, a.Address, a.Port = cp.Protocol, cp.CIDR.Addr(), cp.Ports.Lo
		if a.Protocol == "" {
			a.Protocol = collector.TCP
		}
	case cp.Unix != "":
		a.Protocol, a.Path = collector.Unix, cp.Unix
	case cp.DNS != "" && cp.DNS != "*":
		a.Protocol, a.DNSName = collector.DNS, cp.DNS
	default:
		return a, fmt.Errorf("simulated capability %q cannot be attempted", c)
	}
	return a, nil
}

// Calls returns how many trials were run.
func (o *Oracle) Calls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls
}

// Peak returns the most trials that ran at once.
func (o *Oracle) Peak() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.peak
}

// Addrs returns n distinct address capabilities ("10.0.1.2:443/tcp"), a
// convenient supply of candidates for tests.
func Addrs(n int) []string {
	out := make([]string, n)
	base := netip.MustParseAddr("10.0.0.1").As4()
	for i := range out {
		b := base
		b[2], b[3] = byte(i/250), byte(1+i%250)
		out[i] = netip.AddrFrom4(b).String() + ":443/tcp"
	}
	return out
}

// Random returns an oracle over n address candidates of which k, chosen
// with seed, are hard dependencies and the rest soft, and the required
// capabilities.
func Random(n, k int, seed uint64) (*Oracle, []string) {
	caps := Addrs(n)
	r := rand.New(rand.NewPCG(seed, 1))
	perm := r.Perm(n)
	o := &Oracle{Seed: seed}
	req := make([]string, 0, k)
	for i, p := range perm {
		if i < k {
			o.Needs = append(o.Needs, []string{caps[p]})
			req = append(req, caps[p])
		} else {
			o.Soft = append(o.Soft, caps[p])
		}
	}
	slices.Sort(req)
	return o, req
}
