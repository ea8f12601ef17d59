package graph

import (
	"cmp"
	"slices"
)

// Call is one edge of a runtime dependency graph as a tracing system
// reports it: service From called service To, Calls times over the window
// the report covers.
type Call struct {
	From, To string
	Calls    uint64
}

// RecoveryKinds are the edge kinds [Compare] counts as recovery
// dependencies unless told otherwise: what minimization proved (hard, and
// each member of a set of alternatives) and what an owner declared.
const RecoveryKinds = DefaultKinds

// CompareOptions configure [Compare].
type CompareOptions struct {
	// Kinds selects the recovery edges that count as dependencies.
	// Default (0): [RecoveryKinds].
	Kinds KindSet
	// Services limits the comparison to these services. Default: every
	// service of either graph.
	Services []string
}

// Comparison sets a recovery graph against a runtime graph, service by
// service.
type Comparison struct {
	// Services holds every service with a dependency on either side,
	// sorted by name.
	Services []ServiceComparison
	// Unknown lists services of the runtime graph that the recovery graph
	// has no node for (often a naming mismatch between the tracing system
	// and the catalog), sorted.
	Unknown []string
	// RecoveryOnly, RuntimeOnly and Both count the dependencies in each
	// category over all services.
	RecoveryOnly, RuntimeOnly, Both int
	// Endpoints counts recovery edges to unmapped endpoints, which a
	// runtime graph of services cannot name; they are not compared.
	Endpoints int
}

// ServiceComparison is one service's dependencies on each side.
type ServiceComparison struct {
	Service string
	// RecoveryOnly: needed to recover but not called while healthy,
	// typically hidden at runtime by a cache or a fallback, or used only
	// at start-up.
	RecoveryOnly []Dependency
	// RuntimeOnly: called while healthy but not needed to recover.
	RuntimeOnly []Dependency
	// Both: needed to recover and called while healthy.
	Both []Dependency
}

// Dependency is one dependency of a service in a [Comparison].
type Dependency struct {
	Service string
	// Kind is the kind of the recovery edge, or 0 when the recovery graph
	// has none. A runtime-only dependency can still have a kind outside
	// [CompareOptions.Kinds], such as soft: tried during recovery, not
	// needed.
	Kind Kind
	// Calls is the runtime call count; 0 for recovery-only dependencies.
	Calls uint64
	// Evidence is the recovery edge's evidence, if any.
	Evidence []Evidence
}

// Compare sets recovery graph g against the runtime graph given by calls:
// for each service, the dependencies present only in g (with a kind in
// opts.Kinds), only at runtime, and in both. Calls between the same pair
// are summed. Services are matched by name. Recovery edges to endpoints
// are counted in [Comparison.Endpoints] and otherwise left out. The result
// is deterministic.
func Compare(g *Graph, calls []Call, opts CompareOptions) Comparison {
	kinds := opts.Kinds
	if kinds == 0 {
		kinds = RecoveryKinds
	}
	var only map[string]bool
	if opts.Services != nil {
		only = map[string]bool{}
		for _, s := range opts.Services {
			only[s] = true
		}
	}
	type pair struct{ from, to string }
	runtime := map[pair]uint64{}
	bySource := map[string][]string{}
	for _, c := range calls {
		if only != nil && !only[c.From] {
			continue
		}
		p := pair{c.From, c.To}
		n, seen := runtime[p]
		if !seen {
			bySource[c.From] = append(bySource[c.From], c.To)
		}
		if n+c.Calls < n {
			runtime[p] = ^uint64(0) // saturate
		} else {
			runtime[p] = n + c.Calls
		}
	}

	var out Comparison
	done := map[string]bool{}
	add := func(sc ServiceComparison) {
		if len(sc.RecoveryOnly)+len(sc.RuntimeOnly)+len(sc.Both) == 0 {
			return
		}
		for _, l := range [][]Dependency{sc.RecoveryOnly, sc.RuntimeOnly, sc.Both} {
			slices.SortFunc(l, func(a, b Dependency) int { return cmp.Compare(a.Service, b.Service) })
		}
		out.RecoveryOnly += len(sc.RecoveryOnly)
		out.RuntimeOnly += len(sc.RuntimeOnly)
		out.Both += len(sc.Both)
		out.Services = append(out.Services, sc)
	}
	for v := int32(0); v < int32(g.Len()); v++ {
		name := g.Name(v)
		if g.Info(v).Type != Service || (only != nil && !only[name]) {
			continue
		}
		done[name] = true
		sc := ServiceComparison{Service: name}
		lo, hi := g.OutRange(v)
		matched := map[string]bool{}
		for e := lo; e < hi; e++ {
			t, k := g.EdgeTarget(e)
			to := g.Name(t)
			n, called := runtime[pair{name, to}]
			switch {
			case called:
				matched[to] = true
				d := Dependency{Service: to, Kind: k, Calls: n, Evidence: g.Evidence(e)}
				if kinds.Has(k) {
					sc.Both = append(sc.Both, d)
				} else {
					sc.RuntimeOnly = append(sc.RuntimeOnly, d)
				}
			case !kinds.Has(k):
			case g.Info(t).Type == Endpoint:
				out.Endpoints++
			default:
				sc.RecoveryOnly = append(sc.RecoveryOnly, Dependency{Service: to, Kind: k, Evidence: g.Evidence(e)})
			}
		}
		for _, to := range bySource[name] {
			if !matched[to] {
				sc.RuntimeOnly = append(sc.RuntimeOnly, Dependency{Service: to, Calls: runtime[pair{name, to}]})
			}
		}
		add(sc)
	}
	unknown := map[string]bool{}
	for p := range runtime {
		for _, s := range []string{p.from, p.to} {
			if _, ok := g.ID(s); !ok {
				unknown[s] = true
			}
		}
	}
	var rest []string
	for from := range bySource {
		if !done[from] {
			rest = append(rest, from)
		}
	}
	slices.Sort(rest)
	for _, from := range rest {
		sc := ServiceComparison{Service: from}
		for _, to := range bySource[from] {
			sc.RuntimeOnly = append(sc.RuntimeOnly, Dependency{Service: to, Calls: runtime[pair{from, to}]})
		}
		add(sc)
	}
	slices.SortFunc(out.Services, func(a, b ServiceComparison) int { return cmp.Compare(a.Service, b.Service) })
	for s := range unknown {
		out.Unknown = append(out.Unknown, s)
	}
	slices.Sort(out.Unknown)
	return out
}
