//go:build !nographviz

package main

import "github.com/rgraph/rgraph/render/graphviz"

// Built as is (go build, go install), rgraph links Graphviz and, when no
// rgraph-graphviz stands beside it, is its own worker: a child process of
// itself, started with $RGRAPH_GRAPHVIZ_WORKER=1, lays out, so that a
// crash in Graphviz is still an internal error and not rgraph's. Every
// command then pays Graphviz's WebAssembly start (render/graphviz); make
// build uses -tags nographviz and puts rgraph-graphviz beside rgraph, so
// that only commands that draw do.
const linksGraphviz = true

func serveGraphviz() error { return graphviz.Serve() }
