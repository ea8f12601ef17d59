// Package graph is rgraph's recovery graph and the analyses on it.
//
// An edge A -> B means "A needs B healthy before A can recover". Edges have
// a [Kind] (hard, soft, declared, alternative, observed); analyses use the
// kinds in a [KindSet], [DefaultKinds] (hard and declared) unless told
// otherwise.
//
// [Graph] is an immutable compact graph (dense int32 node IDs in name order,
// compressed sparse rows) built with a [Builder]. It satisfies gonum's graph
// interfaces through an adapter, so gonum's algorithms apply, while rgraph's
// own algorithms run directly on the arrays at fleet scale.
//
// The package imports no other rgraph package.
package graph
