package netns_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/rgraph/rgraph/collector/probe"
	"github.com/rgraph/rgraph/internal/privtest"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/netns"
)

// TestCheckRequirements checks the driver's requirements in the order
// they are reported, and that as root (as CI runs) every required one is
// met and says what it found.
func TestCheckRequirements(t *testing.T) {
	reqs := netns.New().Check(context.Background())
	var names []string
	for _, r := range reqs {
		names = append(names, r.Name)
		if r.Detail == "" || r.Fix == "" {
			t.Errorf("requirement %q has no detail or no fix: %+v", r.Name, r)
		}
		if !r.OK && r.Err == nil && !r.Optional {
			t.Errorf("missing requirement %q has no error", r.Name)
		}
	}
	want := []string{"network namespaces", "cgroup v2", "kernel version", "mount API", "overlayfs", "privileges"}
	if os.Geteuid() == 0 {
		for _, f := range probe.Features() {
			want = append(want, "eBPF "+f.Name)
		}
	} else {
		want = append(want, "eBPF features")
	}
	want = append(want, "kernel BTF", "eBPF unix socket hooks (Linux 6.7)", "tracepoints", "nsenter")
	if !slices.Equal(names, want) {
		t.Errorf("requirements = %v, want %v", names, want)
	}
	privtest.Require(t)
	for _, r := range reqs {
		if !r.OK && !r.Optional {
			privtest.Skip(t, "as root, %s is missing: %s", r.Name, r.Detail)
		}
	}
	if err := sandbox.Ready(context.Background(), netns.Name); err != nil {
		t.Errorf("Ready(netns) = %v with every requirement met", err)
	}
}
