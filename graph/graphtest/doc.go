// Package graphtest builds [graph.Graph] values for tests and benchmarks:
// adjacency literals ([FromAdjacency]), random graphs ([Random]) and
// deterministic synthetic fleets at scale ([Fleet], [FleetEdges],
// [WriteFleetTSV], [Evolve]). It also holds [TightSCCWaves], a minimal
// compact-array implementation of cyclic components and recovery waves
// that benchmarks run side by side with package graph's algorithms.
//
// Nothing here is part of rgraph's product API.
package graphtest
