package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/render/graphviz"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// TestMain lets testscript run "rgraph" and its Graphviz worker
// "rgraph-graphviz" as a re-executed test binary, so scripts exercise the
// real CLI without building it; tests that call run directly lay out in
// this process. It takes down the production fleet the end-to-end tests
// bring up.
func TestMain(m *testing.M) {
	if os.Getenv(graphvizSelfEnv) == "1" {
		// A test's rgraph laying out in a child of itself (graphvizWorker).
		os.Exit(graphvizMain())
	}
	render.UseLayout(graphviz.Layout)
	testscript.Main(fleetMain{m}, map[string]func(){
		"rgraph":              func() { os.Exit(run(context.Background(), os.Args[1:], NewEnv())) },
		"rgraph-bench-fleets": func() { os.Exit(writeFleets()) },
		"rgraph-graphviz": func() {
			if err := graphviz.Serve(); err != nil {
				fmt.Fprintln(os.Stderr, "rgraph-graphviz:", err)
				os.Exit(1)
			}
		},
	})
}

// fleetMain runs the tests through sandboxtest.Main.
type fleetMain struct{ m *testing.M }

func (f fleetMain) Run() int {
	code := sandboxtest.Main(f.m)
	for _, b := range []*build{&split, &selfContained} {
		if b.path != "" {
			os.RemoveAll(filepath.Dir(b.path))
		}
	}
	return code
}

// TestScript runs the end-to-end scripts in testdata/script/*.txtar.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("RGRAPH_STORE", e.WorkDir+"/store")
			e.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}
