package main

import (
	"context"
	"testing"

	"github.com/spf13/cobra"
)

func TestRuntimeFlags(t *testing.T) {
	tests := []flagCase[runtimeIngestOptions]{
		{"all flags", []string{"runtime", "ingest", "--release", "r1", "--format", "otlp", "--replace", "-o", "json", "a", "-"},
			&runtimeIngestOptions{Release: "r1", Format: "otlp", Replace: true, Paths: []string{"a", "-"}, Output: "json"}},
		{"defaults", []string{"runtime", "ingest", "--release", "r1", "deps.json"}, &runtimeIngestOptions{Release: "r1", Format: "auto", Paths: []string{"deps.json"}, Output: "text"}},
		{"missing release", []string{"runtime", "ingest", "deps.json"}, nil},
		{"nothing to ingest", []string{"runtime", "ingest", "--release", "r1"}, nil},
		{"bad release name", []string{"runtime", "ingest", "--release", "a b", "x"}, nil},
		{"bad format", []string{"runtime", "ingest", "--release", "r1", "--format", "zipkin2", "x"}, nil},
	}
	nested := func(env *Env, g *globalOptions, runF func(context.Context, *runtimeIngestOptions) error) *cobra.Command {
		rt := &cobra.Command{Use: "runtime"}
		rt.AddCommand(newRuntimeIngestCmd(env, g, runF))
		return rt
	}
	testFlags(t, tests, nested, func(o *runtimeIngestOptions) { o.Env, o.OpenStore = nil, nil })
}

func TestCompareFlags(t *testing.T) {
	tests := []flagCase[compareOptions]{
		{"defaults", []string{"compare"}, &compareOptions{Kinds: "alternative,declared,hard", Output: "text"}},
		{"all flags", []string{"compare", "--release", "r1", "--kinds", "hard", "--service", "a,b", "--service", "c", "-o", "md"},
			&compareOptions{Release: "r1", Kinds: "hard", Services: []string{"a", "b", "c"}, Output: "md"}},
		{"bad kinds", []string{"compare", "--kinds", "nope"}, nil},
		{"bad output", []string{"compare", "-o", "svg"}, nil},
		{"argument", []string{"compare", "web"}, nil},
	}
	testFlags(t, tests, newCompareCmd, func(o *compareOptions) { o.Env, o.OpenStore = nil, nil })
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
