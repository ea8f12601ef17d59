package probe

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rgraph/rgraph/collector"
)

// BenchmarkConnectOverhead measures what the probe adds to connect(): a
// child in the cgroup times blocking TCP connects to an allowed listener
// on a local address of the test's namespace, in rounds that alternate
// no probe, the cgroup hooks alone, and the full probe (each round opens
// and closes its collector: the tracepoints serve the whole machine). It
// reports the median over rounds of each round's p50 and p99, which is
// robust to other load on the machine.
func BenchmarkConnectOverhead(b *testing.B) {
	const n, rounds = 4000, 5
	mkSpec := func(string) Spec {
		return Spec{Rules: collector.Rules{Nets: []collector.Capability{mustCap(b, "10.99.0.1:8080/tcp")}}}
	}
	e := newTestEnv(b, mkSpec, defaultLoadOptions)
	e.probe.c.Close()
	spec := mkSpec("")
	spec.Cgroup = e.cgroup
	measure := func() (p50, p99 float64) {
		out := e.run("bench", "connect-bench", "10.99.0.1:8080", strconv.Itoa(n))
		if _, err := fmt.Sscanf(out, "%g %g", &p50, &p99); err != nil {
			b.Fatalf("connect-bench: %s", out)
		}
		return p50, p99
	}
	hooksOnly := defaultLoadOptions
	hooksOnly.noTracepoints = true
	configs := []struct {
		name string
		opts *loadOptions
	}{{"without", nil}, {"hooks", &hooksOnly}, {"with", &defaultLoadOptions}}
	p50s := make([][]float64, len(configs))
	p99s := make([][]float64, len(configs))
	for range rounds {
		for i, c := range configs {
			var col *Collector
			if c.opts != nil {
				var err error
				if col, err = openCollector(*c.opts); err != nil {
					b.Fatal(err)
				}
				if _, err = col.Attach(spec); err != nil {
					b.Fatal(err)
				}
			}
			a, z := measure()
			if col != nil {
				col.Close()
			}
			p50s[i] = append(p50s[i], a)
			p99s[i] = append(p99s[i], z)
		}
	}
	med := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	var m50, m99 [3]float64
	for i, c := range configs {
		m50[i], m99[i] = med(p50s[i]), med(p99s[i])
		b.ReportMetric(m50[i], "p50-ns-"+c.name)
		b.ReportMetric(m99[i], "p99-ns-"+c.name)
	}
	b.ReportMetric(m50[2]-m50[0], "p50-ns-added")
	b.ReportMetric(m99[2]-m99[0], "p99-ns-added")
	b.Logf("connect() p50/p99, median of %d rounds of %d loopback connects: without probe %.1f/%.1fµs; cgroup hooks only %.1f/%.1fµs; full probe %.1f/%.1fµs; added %.1f/%.1fµs",
		rounds, n, m50[0]/1e3, m99[0]/1e3, m50[1]/1e3, m99[1]/1e3, m50[2]/1e3, m99[2]/1e3, (m50[2]-m50[0])/1e3, (m99[2]-m99[0])/1e3)
}

// BenchmarkLossRate drives attempts to distinct destinations at rising
// rates. Each step attaches a fresh run, fills its dedup map and then
// keeps every further attempt on the ring buffer, so the user-space
// reader must keep up. The last steps run unpaced, from one process and
// then from two at once. It reports the highest rate without loss and the
// first rate with loss (0: none), which is always counted (see
// TestLossIsCountedNeverSilent).
func BenchmarkLossRate(b *testing.B) {
	e := newTestEnv(b, func(string) Spec { return Spec{} }, defaultLoadOptions)
	c := e.probe.c
	e.probe.Close()
	spec := Spec{Cgroup: e.cgroup}
	var maxClean, firstLoss float64
	steps := []struct{ rate, procs int }{{25000, 1}, {50000, 1}, {100000, 1}, {200000, 1}, {400000, 1}, {0, 1}, {0, 2}}
	for _, s := range steps {
		overflow := s.rate
		if s.rate == 0 {
			overflow = 600000
		}
		total := int(defaultLoadOptions.inetEntries) + overflow
		p, err := c.Attach(spec)
		if err != nil {
			b.Fatal(err)
		}
		outs := make([]string, s.procs)
		var wg sync.WaitGroup
		for i := range outs {
			wg.Go(func() { outs[i] = e.run("flood", "flood", strconv.Itoa(total), strconv.Itoa(s.rate)) })
		}
		wg.Wait()
		st, err := p.Stats()
		p.Close()
		if err != nil {
			b.Fatal(err)
		}
		sent, slowest := 0, int64(0)
		for _, out := range outs {
			var n int
			var ns int64
			if _, err := fmt.Sscanf(out, "sent %d in %d", &n, &ns); err != nil {
				b.Fatalf("flood: %s", out)
			}
			sent += n
			slowest = max(slowest, ns)
		}
		achieved := float64(sent) / (float64(slowest) / float64(time.Second))
		b.Logf("target %7d/s × %d: achieved %7.0f/s, %d attempts, map full %d, ring full %d, lost %d",
			s.rate, s.procs, achieved, sent, st.MapFull, st.RingbufFull, st.Lost)
		switch {
		case st.Lost == 0:
			maxClean = max(maxClean, achieved)
		case firstLoss == 0:
			firstLoss = achieved
		}
	}
	b.ReportMetric(maxClean, "attempts/s-max-without-loss")
	b.ReportMetric(firstLoss, "attempts/s-at-first-loss")
}

// BenchmarkAttach measures what a run costs: opening a collector (once
// per process: loading and verifying the programs, attaching the
// tracepoints), attaching one run to a cgroup with the full rule set of
// the privileged tests and detaching it, and closing the collector.
// Reported: open-ms and close-ms (once), attach-us and detach-us (per
// run).
func BenchmarkAttach(b *testing.B) {
	e := newTestEnv(b, func(string) Spec { return Spec{} })
	e.probe.Close()
	spec := Spec{Cgroup: e.cgroup, Rules: testRules(b, e.dir), Fault: collector.FaultReject,
		DNS: netip.MustParseAddrPort(stub4), DNS6: netip.MustParseAddrPort(stub6)}
	t0 := time.Now()
	c, err := openCollector(defaultLoadOptions)
	if err != nil {
		b.Fatal(err)
	}
	open := time.Since(t0)
	var attach, detach time.Duration
	for b.Loop() {
		t0 := time.Now()
		p, err := c.Attach(spec)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
		attach += t1.Sub(t0)
		detach += time.Since(t1)
	}
	t0 = time.Now()
	if err := c.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(open.Microseconds())/1e3, "open-ms")
	b.ReportMetric(float64(time.Since(t0).Microseconds())/1e3, "close-ms")
	b.ReportMetric(float64(attach.Microseconds())/float64(b.N), "attach-us")
	b.ReportMetric(float64(detach.Microseconds())/float64(b.N), "detach-us")
}
