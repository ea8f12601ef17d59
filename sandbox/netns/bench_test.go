//go:build linux

package netns_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/netns"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// BenchmarkSetupTeardown measures building and removing one sandbox:
// "netns" is the sandbox's own machinery (namespaces, veth, cgroups,
// mounts, leases), "probe" adds the eBPF recorder and the DNS stub.
// Reported: setup-ms and teardown-ms per sandbox (means), and p50-ms, the
// median of setup plus teardown.
func BenchmarkSetupTeardown(b *testing.B) {
	f := sandboxtest.Fleet(b)
	for _, d := range []struct {
		name   string
		driver sandbox.Driver
	}{{"netns", netns.NewWithoutRecorder()}, {"probe", netns.New()}} {
		b.Run(d.name, func(b *testing.B) {
			// One untimed sandbox first: the process loads the eBPF
			// collector once, in its first run.
			sb, err := d.driver.Start(context.Background(), sandbox.Spec{Fault: collector.FaultReject, Upstream: sandbox.Upstream{NetNS: f.NetNS}})
			if err != nil {
				b.Fatal(err)
			}
			if err := sb.Close(); err != nil {
				b.Fatal(err)
			}
			var setup, teardown time.Duration
			var both []time.Duration
			for b.Loop() {
				t0 := time.Now()
				sb, err := d.driver.Start(context.Background(), sandbox.Spec{Fault: collector.FaultReject, Upstream: sandbox.Upstream{NetNS: f.NetNS}})
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := sb.Close(); err != nil {
					b.Fatal(err)
				}
				setup += t1.Sub(t0)
				teardown += time.Since(t1)
				both = append(both, time.Since(t0))
			}
			slices.Sort(both)
			b.ReportMetric(float64(setup.Microseconds())/1000/float64(b.N), "setup-ms")
			b.ReportMetric(float64(teardown.Microseconds())/1000/float64(b.N), "teardown-ms")
			b.ReportMetric(float64(both[len(both)/2].Microseconds())/1000, "p50-ms")
		})
	}
}

// BenchmarkParallelRuns runs the logd scenario (the fleet's quickest
// recovery) with 1, 2, 4 and 8 runs in flight on this machine and reports
// the throughput (runs/s) and the mean wall time of one run (ms/run). The
// "netns" variants leave out the eBPF recorder to show what the sandbox
// itself scales to.
func BenchmarkParallelRuns(b *testing.B) {
	f := sandboxtest.Fleet(b)
	sc, err := sandbox.LoadScenario(sandboxtest.ScenarioPath("logd"))
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range []struct {
		name   string
		driver sandbox.Driver
	}{{"netns", netns.NewWithoutRecorder()}, {"probe", netns.New()}} {
		o := f.Options()
		o.Driver = d.driver
		o.NoGC = true
		// One untimed run first: the process loads the eBPF collector
		// once, in its first run.
		if _, err := sandbox.Run(context.Background(), sc, o); err != nil {
			b.Fatal(err)
		}
		for _, p := range []int{1, 2, 4, 8} {
			b.Run(fmt.Sprintf("%s/p=%d", d.name, p), func(b *testing.B) {
				var (
					mu    sync.Mutex
					total time.Duration
					runs  int
					fails int
				)
				start := time.Now()
				for b.Loop() {
					var wg sync.WaitGroup
					for range p {
						wg.Go(func() {
							t0 := time.Now()
							rec, err := sandbox.Run(context.Background(), sc, o)
							mu.Lock()
							defer mu.Unlock()
							total += time.Since(t0)
							runs++
							if err != nil || !rec.Outcome.Recovered {
								fails++
							}
						})
					}
					wg.Wait()
				}
				elapsed := time.Since(start)
				if fails > 0 {
					b.Errorf("%d of %d runs failed", fails, runs)
				}
				b.ReportMetric(float64(runs)/elapsed.Seconds(), "runs/s")
				b.ReportMetric(float64(total.Milliseconds())/float64(runs), "ms/run")
			})
		}
	}
}
