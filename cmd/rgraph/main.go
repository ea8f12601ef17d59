// Command rgraph measures, stores and analyses recovery dependency graphs.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if os.Getenv(graphvizSelfEnv) == "1" {
		os.Exit(graphvizMain())
	}
	os.Exit(run(context.Background(), os.Args[1:], NewEnv()))
}

// graphvizMain serves as the Graphviz worker (see graphvizWorker) and
// returns the exit code.
func graphvizMain() int {
	if err := serveGraphviz(); err != nil {
		fmt.Fprintln(os.Stderr, "rgraph (Graphviz worker):", err)
		return 1
	}
	return 0
}
