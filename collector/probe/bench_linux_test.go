package probe

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rgraph/rgraph/collector"
)

// BenchmarkConnectOverhead measures what the probe adds to connect(): a
// child in the cgroup times blocking TCP connects to an allowed listener
// on a local address of the test's namespace, alternately without and
// with the probe attached, and reports p50 and p99 of both.
func BenchmarkConnectOverhead(b *testing.B) {
	const n, rounds = 10000, 2
	mkSpec := func(string) Spec {
		return Spec{Rules: collector.Rules{Nets: []collector.Capability{mustCap(b, "10.99.0.1:8080/tcp")}}}
	}
	e := newTestEnv(b, mkSpec)
	e.probe.Close()
	spec := mkSpec("")
	spec.Cgroup = e.cgroup
	measure := func() [3]float64 {
		out := e.run("bench", "connect-bench", "10.99.0.1:8080", strconv.Itoa(n))
		var r [3]float64
		f := strings.Fields(out)
		if len(f) != 3 {
			b.Fatalf("connect-bench: %s", out)
		}
		for i := range r {
			r[i], _ = strconv.ParseFloat(f[i], 64)
		}
		return r
	}
	var off, on [3]float64
	for range rounds {
		r := measure()
		for i := range off {
			off[i] += r[i] / rounds
		}
		p, err := Load(spec)
		if err != nil {
			b.Fatal(err)
		}
		r = measure()
		p.Close()
		for i := range on {
			on[i] += r[i] / rounds
		}
	}
	b.ReportMetric(off[0], "p50-ns-without")
	b.ReportMetric(off[1], "p99-ns-without")
	b.ReportMetric(on[0], "p50-ns-with")
	b.ReportMetric(on[1], "p99-ns-with")
	b.ReportMetric(on[0]-off[0], "p50-ns-added")
	b.ReportMetric(on[1]-off[1], "p99-ns-added")
	b.Logf("connect() over %d×%d loopback connects: without probe p50 %.1fµs p99 %.1fµs mean %.1fµs; with probe p50 %.1fµs p99 %.1fµs mean %.1fµs",
		rounds, n, off[0]/1e3, off[1]/1e3, off[2]/1e3, on[0]/1e3, on[1]/1e3, on[2]/1e3)
}

// BenchmarkLossRate drives attempts to distinct destinations at rising
// rates. Each step starts a fresh probe, fills its dedup map and then
// keeps every further attempt on the ring buffer for a second, so the
// user-space reader must keep up. It reports the first rate at which
// anything was lost (always counted, see TestLossIsCountedNeverSilent).
func BenchmarkLossRate(b *testing.B) {
	e := newTestEnv(b, func(string) Spec { return Spec{} })
	e.probe.Close()
	spec := Spec{Cgroup: e.cgroup}
	firstLoss := 0.0
	for _, rate := range []int{25000, 50000, 100000, 200000, 400000, 0} {
		overflow := rate
		if rate == 0 {
			overflow = 600000
		}
		total := int(defaultLoadOptions.inetEntries) + overflow
		p, err := Load(spec)
		if err != nil {
			b.Fatal(err)
		}
		out := e.run("flood", "flood", strconv.Itoa(total), strconv.Itoa(rate))
		st, err := p.Stats()
		p.Close()
		if err != nil {
			b.Fatal(err)
		}
		var sent int
		var ns int64
		if _, err := fmt.Sscanf(out, "sent %d in %d", &sent, &ns); err != nil {
			b.Fatalf("flood: %s", out)
		}
		achieved := float64(sent) / (float64(ns) / float64(time.Second))
		b.Logf("target %7d/s achieved %7.0f/s: %d attempts, map full %d, ring full %d, lost %d",
			rate, achieved, sent, st.MapFull, st.RingbufFull, st.Lost)
		if st.Lost > 0 && firstLoss == 0 {
			firstLoss = achieved
		}
	}
	b.ReportMetric(firstLoss, "attempts/s-at-first-loss")
}
