// Package graph is rgraph's recovery graph and the analyses on it.
//
// An edge A -> B means "A needs B healthy before A can recover". Edges have
// a [Kind] (hard, soft, declared, alternative, observed); analyses use the
// kinds in a [KindSet], [DefaultKinds] (hard, alternative and declared)
// unless told otherwise. Alternative edges form groups (see
// [Graph.Groups]) of which a service needs any one: [RecoveryOrder] and
// [Cycles] wait for one member of each, the earliest to recover, so an
// alternative breaks a cycle when another member needs no jumpstart.
// Endpoints (what no catalog service owns) are never recovered or waited
// for; a plan lists them apart.
//
// [Graph] is an immutable compact graph (dense int32 node IDs in name order,
// compressed sparse rows) built with a [Builder] or from raw arrays with
// [FromCSR]. The analyses run directly on those arrays, iteratively (no
// recursion, so depth never matters), skipping edges of other kinds in
// place, and their output is deterministic: names sorted, ties broken by
// name.
//
//   - [Cycles]: every bootstrap knot (strongly connected component with
//     more than one member, or a self-loop) with one shortest witness
//     cycle, a rotation-invariant [CycleID], ranked cut suggestions
//     (weighted feedback arc sets, exact for small knots) and optional
//     bounded cycle listing.
//   - [RecoveryOrder]: recovery waves with jumpstart groups, --target
//     restriction, a --max-parallel cap by list scheduling, the CPM
//     critical path, the member of each alternative group waited for, and
//     the unowned endpoints services need.
//   - [Why]: the shortest chain of needs between two services, and with
//     All the k shortest loopless alternatives (Yen).
//   - [Diff] and [Findings]: what changed between two releases, as
//     findings with stable keys for a CI gate (package graph/gate holds the
//     gate: baselines and the pipeline).
//   - [Compare]: a recovery graph against a runtime call graph, service by
//     service.
//   - [Filter], [Subgraph], [Closure], [Dependents], [Condense] and
//     [TransitiveReduction]: helpers for drawing and targeting.
//
// Every algorithm is linear in the graph or bounded by a documented work
// limit; results that hit a limit say so (Component.WitnessExact,
// Cut.Exact, Component.Truncated, Growth.Estimated). A graph remembers its
// strongly connected components per kind set (about 12 bytes a service),
// so analyses after the first over the same kinds skip that pass.
//
// [Graph.Directed] exposes a graph as a gonum graph.Directed without
// copying it into maps, so gonum's algorithms (topo, path, flow, network,
// encoding/dot) apply as well; at a million services it runs gonum's
// TarjanSCC several times faster and in a fraction of the memory of
// gonum's map-based simple.DirectedGraph.
//
// Errors callers branch on are exported sentinels: [ErrUnknownService],
// [ErrNoPath], [ErrInvalidCSR].
//
// The package imports no other rgraph package and reads no file format.
package graph
