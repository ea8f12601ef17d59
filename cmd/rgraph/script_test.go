package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run "rgraph" as a re-executed test binary that
// calls run, so scripts exercise the real CLI without building it.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"rgraph": func() { os.Exit(run(context.Background(), os.Args[1:], NewEnv())) },
	})
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
