package main

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

func TestRuntimeFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want *runtimeIngestOptions // nil: a usage error
	}{
		{"all flags", []string{"ingest", "--release", "r1", "--format", "otlp", "--replace", "-o", "json", "a", "-"},
			&runtimeIngestOptions{Release: "r1", Format: "otlp", Replace: true, Paths: []string{"a", "-"}, Output: "json"}},
		{"defaults", []string{"ingest", "--release", "r1", "deps.json"}, &runtimeIngestOptions{Release: "r1", Format: "auto", Paths: []string{"deps.json"}, Output: "text"}},
		{"missing release", []string{"ingest", "deps.json"}, nil},
		{"nothing to ingest", []string{"ingest", "--release", "r1"}, nil},
		{"bad release name", []string{"ingest", "--release", "a b", "x"}, nil},
		{"bad format", []string{"ingest", "--release", "r1", "--format", "zipkin2", "x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			var got *runtimeIngestOptions
			root := flagRoot(func(g *globalOptions) *cobra.Command {
				rt := &cobra.Command{Use: "runtime"}
				rt.AddCommand(newRuntimeIngestCmd(e.Env, g, func(_ context.Context, o *runtimeIngestOptions) error { got = o; return nil }))
				return rt
			})
			root.SetArgs(append([]string{"runtime"}, tt.args...))
			err := root.ExecuteContext(context.Background())
			if tt.want == nil {
				if code := exitCode(context.Background(), err); code != exitUsage {
					t.Fatalf("rgraph runtime %v = exit %d (%v), want usage error", tt.args, code, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Env, got.OpenStore = nil, nil
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
			if !storeDirIsEmpty(t, e) {
				t.Error("parsing flags opened the store")
			}
		})
	}
}

func TestCompareFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want *compareOptions
	}{
		{"defaults", []string{"compare"}, &compareOptions{Kinds: "alternative,declared,hard", Output: "text"}},
		{"all flags", []string{"compare", "--release", "r1", "--kinds", "hard", "--service", "a,b", "--service", "c", "-o", "md"},
			&compareOptions{Release: "r1", Kinds: "hard", Services: []string{"a", "b", "c"}, Output: "md"}},
		{"bad kinds", []string{"compare", "--kinds", "nope"}, nil},
		{"bad output", []string{"compare", "-o", "svg"}, nil},
		{"argument", []string{"compare", "web"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			var got *compareOptions
			root := flagRoot(func(g *globalOptions) *cobra.Command {
				return newCompareCmd(e.Env, g, func(_ context.Context, o *compareOptions) error { got = o; return nil })
			})
			root.SetArgs(tt.args)
			err := root.ExecuteContext(context.Background())
			if tt.want == nil {
				if code := exitCode(context.Background(), err); code != exitUsage {
					t.Fatalf("rgraph %v = exit %d (%v), want usage error", tt.args, code, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Env, got.OpenStore = nil, nil
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
		})
	}
}

func TestReportVerbsHelpDoesNotOpenStore(t *testing.T) {
	for _, args := range [][]string{
		{"docs", "--help"}, {"docs"}, {"compare", "--help"}, {"compare", "-o", "dot"},
		{"runtime"}, {"runtime", "ingest", "--help"}, {"runtime", "show", "--help"}, {"runtime", "delete"},
	} {
		e := newTestEnv(t, nil)
		e.rgraph(args...)
		if !storeDirIsEmpty(t, e) {
			t.Errorf("rgraph %v opened the store", args)
		}
	}
}
