// Command rgraph-graphviz lays out rgraph's SVG and PNG drawings. rgraph
// starts it as a child process when it first draws one; it is not meant
// to be run by hand. It is a program of its own so that only processes
// that draw pay for starting Graphviz, which runs as WebAssembly
// (render/graphviz): 0.15 s of CPU on every start, seconds while its
// compilation cache is cold.
package main

import (
	"fmt"
	"os"

	"github.com/rgraph/rgraph/render/graphviz"
)

func main() {
	if err := graphviz.Serve(); err != nil {
		fmt.Fprintln(os.Stderr, "rgraph-graphviz:", err)
		os.Exit(1)
	}
}
