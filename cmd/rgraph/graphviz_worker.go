//go:build nographviz

package main

import "errors"

// Built with -tags nographviz (make build), rgraph does not link Graphviz:
// SVG and PNG are laid out in rgraph-graphviz, beside rgraph or on PATH.
const linksGraphviz = false

func serveGraphviz() error {
	return errors.New("this rgraph was built with -tags nographviz: it does not link Graphviz")
}
