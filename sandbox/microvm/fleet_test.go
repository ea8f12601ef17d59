//go:build linux

package microvm_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/microvm"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// fleetServices are the example fleet's services. CI runs web's scenario
// (DNS through resolv.conf, a lookup that bypasses it, a soft dependency
// hidden by a seeded cache); RGRAPH_MICROVM_FLEET=1 runs them all.
var fleetServices = []string{"dns", "logd", "ca", "scheduler", "coord", "config", "discovery", "pkgstore", "web"}

func services(t *testing.T) []string {
	if os.Getenv("RGRAPH_MICROVM_FLEET") == "1" {
		return fleetServices
	}
	return []string{"web"}
}

func load(t *testing.T, service string) *sandbox.Scenario {
	t.Helper()
	sc, err := sandbox.LoadScenario(sandboxtest.ScenarioPath(service))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// attemptKey is what a recorded attempt says about a dependency,
// without what differs from run to run (process IDs, cgroups, counts,
// times): its target, verdict, failure and whether the target exists
// upstream.
func attemptKey(a collector.Attempt) string {
	return fmt.Sprintf("%s %s %s %s %s %s upstream=%q", a.Process.Comm, a.Protocol, a.Endpoint(), a.DNSType, a.Verdict, a.Failure, a.Upstream)
}

func keys(rec *collector.Record) []string {
	var out []string
	for _, a := range rec.Attempts {
		out = append(out, attemptKey(a))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func describe(rec *collector.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s driver %s recovered=%v error=%q\nvalidation: %s\n", rec.ID, rec.Driver, rec.Outcome.Recovered, rec.Outcome.Error, rec.Outcome.Validation.Output)
	for _, s := range rec.Outcome.Steps {
		fmt.Fprintf(&b, "step %s exit %d: %s\n", s.Name, s.ExitCode, s.Output)
	}
	for _, k := range keys(rec) {
		fmt.Fprintf(&b, "  %s\n", k)
	}
	return b.String()
}

// TestFleetSameAsNetns runs fleet scenarios under both drivers: the VM
// recovers as the netns sandbox does and records the same attempts.
func TestFleetSameAsNetns(t *testing.T) {
	d := newDriver(t)
	sandboxtest.RequireSandbox(t)
	f := sandboxtest.Fleet(t)
	for _, svc := range services(t) {
		t.Run(svc, func(t *testing.T) {
			sc := load(t, svc)
			o := f.Options()
			want, err := sandbox.Run(context.Background(), sc, o)
			if err != nil {
				t.Fatalf("netns: %v", err)
			}
			o.Driver = d
			got, err := sandbox.Run(context.Background(), sc, o)
			if err != nil {
				t.Fatalf("microvm: %v", err)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("record does not validate: %v", err)
			}
			if got.Driver != microvm.Name {
				t.Errorf("record's driver = %q, want %q", got.Driver, microvm.Name)
			}
			if got.Outcome.Recovered != want.Outcome.Recovered || !slices.Equal(keys(got), keys(want)) {
				t.Errorf("microvm and netns differ\nmicrovm: %s\nnetns: %s", describe(got), describe(want))
			}
			t.Logf("%s: netns %v, microvm %v", svc, want.Outcome.Duration.Std(), got.Outcome.Duration.Std())
		})
	}
}
