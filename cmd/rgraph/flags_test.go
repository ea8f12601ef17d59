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

func TestFieldsFlag(t *testing.T) {
	compare := []flagCase[compareOptions]{
		{"one", []string{"compare", "--fields", "dependency"}, &compareOptions{Kinds: "alternative,declared,hard", Output: "text", Fields: []string{"dependency"}}},
		{"list and repeat, any case", []string{"compare", "--fields", "Calls, service", "--fields", "where"},
			&compareOptions{Kinds: "alternative,declared,hard", Output: "text", Fields: []string{"calls", "service", "where"}}},
		{"unknown", []string{"compare", "--fields", "service,kind"}, nil},
		{"twice", []string{"compare", "--fields", "service", "--fields", "service"}, nil},
		{"empty name", []string{"compare", "--fields", "service,"}, nil},
	}
	testFlags(t, compare, newCompareCmd, func(o *compareOptions) { o.Env, o.OpenStore = nil, nil })
	releases := []flagCase[releasesOptions]{
		{"releases", []string{"releases", "--fields", "name,edges"}, &releasesOptions{Output: "text", Fields: []string{"name", "edges"}}},
		{"releases unknown", []string{"releases", "--fields", "size"}, nil},
	}
	testFlags(t, releases, newReleasesCmd, func(o *releasesOptions) { o.Env, o.OpenStore = nil, nil })
	run := []flagCase[runOptions]{
		{"run", []string{"run", "--fields", "destination,failure", "s.yaml"},
			&runOptions{Scenario: "s.yaml", Batch: batchFlags{Scenarios: []string{"s.yaml"}}, Driver: "netns", Accel: "auto", Output: "text", Fields: []string{"destination", "failure"}}},
		{"run unknown", []string{"run", "--fields", "step", "s.yaml"}, nil},
	}
	testFlags(t, run, newRunCmd, func(o *runOptions) { o.Env, o.OpenStore, o.Run = nil, nil, nil })
}

// TestFieldsFlagErrors checks that a bad --fields says what is wrong and
// which names are valid.
func TestFieldsFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"releases", "--fields", "nam"}, `unknown field "nam"; did you mean "name"?`},
		{[]string{"compare", "--fields", "zzzzzz"}, `known fields: "calls", "dependency", "recovery-kind", "service", "where"`},
	}
	for _, tt := range tests {
		e := newTestEnv(t, nil)
		if code := e.rgraph(tt.args...); code != exitUsage {
			t.Errorf("rgraph %v = exit %d, want %d", tt.args, code, exitUsage)
		}
		if !strings.Contains(e.errOut.String(), tt.want) || !strings.Contains(e.errOut.String(), "--fields") {
			t.Errorf("rgraph %v said %q, want it to name --fields and %q", tt.args, e.errOut, tt.want)
		}
	}
}

// TestCompleteFields checks that --fields completes the field names not
// yet given, after the ones given.
func TestCompleteFields(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"releases", "--fields", ""}, []string{"name", "created", "services", "endpoints", "edges", "records"}},
		{[]string{"compare", "--fields", "calls,service,"}, []string{"calls,service,dependency", "calls,service,where", "calls,service,recovery-kind"}},
		{[]string{"run", "--fields", "verdict,p"}, []string{"verdict,destination", "verdict,service", "verdict,process", "verdict,count", "verdict,failure"}},
	}
	for _, tt := range tests {
		e := newTestEnv(t, nil)
		if code := e.rgraph(append([]string{"__complete"}, tt.args...)...); code != exitOK {
			t.Fatalf("completing %v = exit %d: %s", tt.args, code, e.errOut)
		}
		got := strings.Fields(strings.Split(e.out.String(), ":")[0])
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("completions of %v (-want +got):\n%s", tt.args, d)
		}
	}
}
