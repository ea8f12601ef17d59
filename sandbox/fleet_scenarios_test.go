package sandbox_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// TestFleetScenarios checks that every fleet service has a scenario whose
// committed allowlist is its hard dependencies and whose soft list is its
// soft ones, as ground-truth.yaml says.
func TestFleetScenarios(t *testing.T) {
	gt := sandboxtest.GroundTruth(t)
	if len(gt.Services) != 9 {
		t.Fatalf("ground truth has %d services, want 9", len(gt.Services))
	}
	names := func(al collector.Allowlist) []string {
		out := []string{}
		for _, c := range al {
			if c.Service == "" {
				t.Errorf("capability %v is not a service", c)
			}
			out = append(out, c.Service)
		}
		slices.Sort(out)
		return out
	}
	for svc, deps := range gt.Services {
		t.Run(svc, func(t *testing.T) {
			sc, err := sandbox.LoadScenario(sandboxtest.ScenarioPath(svc))
			if err != nil {
				t.Fatal(err)
			}
			if sc.Service != svc {
				t.Errorf("service = %q, want %q", sc.Service, svc)
			}
			hard, soft := slices.Sorted(slices.Values(deps.Hard)), slices.Sorted(slices.Values(deps.Soft))
			if hard == nil {
				hard = []string{}
			}
			if soft == nil {
				soft = []string{}
			}
			if diff := cmp.Diff(hard, names(sc.Allow)); diff != "" {
				t.Errorf("allow differs from the ground truth's hard dependencies (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(soft, names(sc.Soft)); diff != "" {
				t.Errorf("soft differs from the ground truth's soft dependencies (-want +got):\n%s", diff)
			}
		})
	}
}
