package probe

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/rgraph/rgraph/collector"
)

// TestLoadConfigMatrix attaches a run under every combination of the
// per-run settings (DNS stubs, blackhole addresses, allow-all). The
// verifier checked every path once when the collector was opened; this
// checks that no configuration a sandbox may choose fails to attach or
// to detach.
func TestLoadConfigMatrix(t *testing.T) {
	e := newTestEnv(t, func(string) Spec { return Spec{} })
	e.probe.Close()
	rules := collector.Rules{Nets: []collector.Capability{mustCap(t, "10.0.0.0/8:80/tcp")}, Unix: []string{"/run/x.sock"}}
	start := time.Now()
	for bits := 0; bits < 32; bits++ {
		spec := Spec{Cgroup: e.cgroup, Rules: rules, Fault: collector.FaultReject}
		if bits&1 != 0 {
			spec.DNS = netip.MustParseAddrPort(stub4)
		}
		if bits&2 != 0 {
			spec.DNS6 = netip.MustParseAddrPort(stub6)
		}
		if bits&4 != 0 {
			spec.Blackhole = netip.MustParseAddr(blackhole4)
		}
		if bits&8 != 0 {
			spec.Blackhole6 = netip.MustParseAddr(blackhole6)
		}
		if bits&(4|8) != 0 {
			spec.Fault = collector.FaultBlackhole
		}
		if bits&16 != 0 {
			spec.Rules.All = true
		}
		t.Run(fmt.Sprintf("dns4=%v,dns6=%v,bh4=%v,bh6=%v,all=%v", bits&1 != 0, bits&2 != 0, bits&4 != 0, bits&8 != 0, bits&16 != 0), func(t *testing.T) {
			p, err := Load(spec)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Logf("32 attachments in %v", time.Since(start))
}
