package main

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/graph"
)

// flagCase is one command line of a flag test and the options it parses
// to; want nil means a usage error.
type flagCase[T any] struct {
	name string
	args []string
	want *T
}

// testFlags runs each case through the verb newCmd makes, with a runF that
// captures the options, on a root with rgraph's global flags: a case with
// want nil must be a usage error, any other must parse to want once drop
// has cleared the dependencies (Env, OpenStore, ...) from what was
// captured. Parsing flags must never open the store.
func testFlags[T any](t *testing.T, tests []flagCase[T], newCmd func(env *Env, g *globalOptions, runF func(context.Context, *T) error) *cobra.Command, drop func(*T), opts ...cmp.Option) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			var got *T
			root := flagRoot(func(g *globalOptions) *cobra.Command {
				return newCmd(e.Env, g, func(_ context.Context, o *T) error { got = o; return nil })
			})
			root.SetArgs(tt.args)
			err := root.ExecuteContext(context.Background())
			code := exitCode(context.Background(), err)
			switch {
			case tt.want == nil && code != exitUsage:
				t.Fatalf("rgraph %v = exit %d (%v), want usage error %d", tt.args, code, err, exitUsage)
			case tt.want == nil:
			case err != nil:
				t.Fatalf("rgraph %v: %v", tt.args, err)
			default:
				drop(got)
				if d := cmp.Diff(tt.want, got, opts...); d != "" {
					t.Errorf("options (-want +got):\n%s", d)
				}
			}
			if !storeDirIsEmpty(t, e) {
				t.Error("parsing flags opened the store")
			}
		})
	}
}

// TestCompleteKinds checks that --kinds completes every edge kind graph
// knows, and all.
func TestCompleteKinds(t *testing.T) {
	for _, verb := range []string{"cycles", "compare"} {
		e := newTestEnv(t, nil)
		if code := e.rgraph("__complete", verb, "--kinds", ""); code != exitOK {
			t.Fatalf("completing %s --kinds = exit %d: %s", verb, code, e.errOut)
		}
		got := strings.Fields(strings.Split(e.out.String(), ":")[0])
		var want []string
		for _, k := range graph.AllKinds {
			want = append(want, k.String())
		}
		want = append(want, "all")
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s --kinds completions (-want +got):\n%s", verb, d)
		}
	}
}
