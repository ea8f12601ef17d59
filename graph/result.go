package graph

import "time"

// Edge is an edge by name, as analyses report it.
type Edge struct {
	From     string     `json:"from"`
	To       string     `json:"to"`
	Kind     Kind       `json:"kind"`
	Evidence []Evidence `json:"evidence,omitempty"`
	// AnyOf lists, for an alternative edge, the groups it belongs to:
	// each the sorted targets of which From needs any one.
	AnyOf [][]string `json:"anyOf,omitempty"`
}

// Cycle is one ordered cycle: Services[0] -> Services[1] -> ... ->
// Services[0]. It is rotated to start at its smallest name, so equal cycles
// compare equal; ID is derived from that rotation.
type Cycle struct {
	ID       string   `json:"id"`
	Services []string `json:"services"`
	Edges    []Edge   `json:"edges"`
}

// Component is a bootstrap knot: a strongly connected component with more
// than one member, or a single member that needs itself.
type Component struct {
	// ID is the canonical ID of the witness cycle.
	ID      string   `json:"id"`
	Members []string `json:"members"` // sorted
	// Witness is one shortest cycle in the component.
	Witness Cycle `json:"witness"`
	// WitnessExact is false when the component was too large for an
	// exhaustive search within the work bound and Witness is the shortest
	// cycle found, not a proven shortest one (see [CycleOptions]).
	WitnessExact bool `json:"witnessExact"`
	// Cuts are ranked suggestions of edge sets whose removal makes the
	// component acyclic, cheapest first.
	Cuts []Cut `json:"cuts"`
	// Cycles lists elementary cycles when bounded enumeration was asked for.
	Cycles []Cycle `json:"cycles,omitempty"`
	// Truncated is true when enumeration stopped at a limit.
	Truncated bool `json:"truncated,omitempty"`
}

// Cut is a set of edges whose removal breaks every cycle of a component.
type Cut struct {
	Edges []Edge  `json:"edges"`
	Cost  float64 `json:"cost"`
	// Exact is true when the cut is a proven minimum-cost feedback arc set.
	Exact bool `json:"exact"`
}

// Order is a recovery plan: waves of services that can recover in parallel.
type Order struct {
	Waves []Wave `json:"waves"`
	// CriticalPath is the longest chain of needs by recovery time.
	CriticalPath CriticalPath `json:"criticalPath"`
	// Alternatives says, for each alternative group of a service in the
	// plan, which member the service waits for and why; sorted by
	// service, then members.
	Alternatives []Choice `json:"alternatives,omitempty"`
	// Unowned lists the endpoints no catalog service owns that services
	// in the plan need over the kinds analysed. They are not recovered by
	// the plan and nothing waits for them; sorted by endpoint.
	Unowned []Unowned `json:"unowned,omitempty"`
}

// Choice is the member of an alternative group a recovery plan waits for.
type Choice struct {
	// Service needs any one of AnyOf (sorted).
	Service string   `json:"service"`
	AnyOf   []string `json:"anyOf"`
	// Chosen is the member the plan waits for.
	Chosen string       `json:"chosen"`
	Reason ChoiceReason `json:"reason"`
}

// Unowned is an endpoint outside the catalog that services need.
type Unowned struct {
	Endpoint string   `json:"endpoint"`
	NeededBy []string `json:"neededBy"` // sorted
	// Records are the sources of the evidence of the edges to it (run
	// records, edge-list lines), sorted.
	Records []string `json:"records"`
}

// Wave is one step of recovery. Everything in wave i needs only things in
// waves before i (or, for a jumpstart group, its own members).
type Wave struct {
	Index int `json:"index"`
	// Services lists every service recovered in this wave, sorted,
	// jumpstart group members included.
	Services []string `json:"services"`
	// Groups are the bootstrap cycles placed in this wave as a unit.
	Groups []Group `json:"groups,omitempty"`
	// OverWidth is true for a wave that holds a jumpstart group larger
	// than OrderOptions.MaxParallel: the group cannot be split, so it gets
	// a wave of its own.
	OverWidth bool `json:"overWidth,omitempty"`
}

// Group is a cyclic component recovered as one unit: it needs a jumpstart
// (a manual bootstrap step) because its members need each other.
type Group struct {
	ID      string   `json:"id"`
	Members []string `json:"members"`
}

// CriticalPath is the chain of services that bounds recovery time.
type CriticalPath struct {
	Services []string      `json:"services"`
	Duration time.Duration `json:"duration"`
	// Defaulted lists services on the path whose recovery time was not
	// known and was taken from the default.
	Defaulted []string `json:"defaulted,omitempty"`
}

// Path is a chain of needs from one service to another.
type Path struct {
	Edges []Edge `json:"edges"`
}

// Delta is what changed between two releases of the graph.
type Delta struct {
	AddedServices   []string     `json:"addedServices"`
	RemovedServices []string     `json:"removedServices"`
	AddedEdges      []Edge       `json:"addedEdges"`
	RemovedEdges    []Edge       `json:"removedEdges"`
	KindChanges     []KindChange `json:"kindChanges"`
	NewCycles       []Cycle      `json:"newCycles"`
	ResolvedCycles  []Cycle      `json:"resolvedCycles"`
	LaterWave       []WaveShift  `json:"laterWave"`
	ClosureGrowth   []Growth     `json:"closureGrowth"`
}

// KindChange is an edge present in both releases with a different kind.
type KindChange struct {
	From string `json:"from"`
	To   string `json:"to"`
	Old  Kind   `json:"old"`
	New  Kind   `json:"new"`
}

// WaveShift is a service that recovers in a later wave than before.
type WaveShift struct {
	Service string `json:"service"`
	Old     int    `json:"old"`
	New     int    `json:"new"`
}

// Growth is a service whose transitive closure (everything it needs,
// directly or not) grew.
type Growth struct {
	Service string `json:"service"`
	Old     int    `json:"old"`
	New     int    `json:"new"`
	// Estimated is true when Old and New are estimates (see [Diff]).
	Estimated bool `json:"estimated,omitempty"`
}
