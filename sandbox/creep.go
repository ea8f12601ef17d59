package sandbox

import "github.com/rgraph/rgraph/collector"

// Outside returns the attempts that rules do not allow: what a run tried
// beyond an allowlist, for the creep gate of `rgraph run --check`. DNS
// questions are judged by name (the resolver they were sent to counts as
// allowed when rules allow it); the port-53 connects the recorder
// redirected to the DNS stub are judged by their questions, not on their
// own. Raw sockets are always outside. Attempts whose target does not
// exist upstream ([collector.Attempt.Absent]: no socket at the path, a name
// that is NXDOMAIN, a refused connect) are no dependency and never
// outside.
func Outside(attempts []collector.Attempt, rules collector.Rules) []collector.Attempt {
	var out []collector.Attempt
	for _, a := range attempts {
		if !a.Absent() && !allowedBy(a, rules) {
			out = append(out, a)
		}
	}
	return out
}

func allowedBy(a collector.Attempt, r collector.Rules) bool {
	switch a.Protocol {
	case collector.Unix:
		return r.AllowsUnix(a.Path)
	case collector.DNS:
		resolver := a.Address.IsValid() &&
			(r.AllowsAddr(collector.UDP, a.Address, a.Port) || r.AllowsAddr(collector.TCP, a.Address, a.Port))
		return r.AllowsQuestion(a.DNSName, resolver)
	case collector.TCP, collector.UDP:
		if a.Verdict == collector.Redirected {
			return true
		}
		return r.AllowsAddr(a.Protocol, a.Address, a.Port)
	}
	return r.All
}
