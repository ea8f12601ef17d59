//go:build linux

package microvm_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/minimize"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// The driver's benchmarks report medians in seconds (run them with
// -benchtime Nx for N samples) and the load average at the end, since on
// a shared machine under emulation the load decides most of the time.

func reportP50(b *testing.B, unit string, ds []time.Duration) {
	slices.Sort(ds)
	if len(ds) > 0 {
		b.ReportMetric(ds[len(ds)/2].Seconds(), "p50-"+unit)
		b.ReportMetric(ds[len(ds)-1].Seconds(), "max-"+unit)
	}
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.Logf("load average: %s", strings.Join(strings.Fields(string(l))[:3], " "))
	}
}

// BenchmarkBoot measures qemu's start to the sandbox built in the guest
// (boot-s), and its teardown (close-s).
func BenchmarkBoot(b *testing.B) {
	d := newDriver(b)
	u := sandboxtest.Fleet(b)
	spec := sandbox.Spec{Fault: collector.FaultReject, Upstream: sandbox.Upstream{NetNS: u.NetNS}, Env: []string{"PATH=/usr/bin:/bin"}}
	var boots, closes []time.Duration
	for b.Loop() {
		t0 := time.Now()
		sb, err := d.Start(context.Background(), spec)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := sb.Close(); err != nil {
			b.Fatal(err)
		}
		boots, closes = append(boots, t1.Sub(t0)), append(closes, time.Since(t1))
	}
	reportP50(b, "close-s", closes)
	reportP50(b, "boot-s", boots)
}

// BenchmarkFleetRun runs the fleet's web scenario end to end in a VM:
// boot, runbook, validation, recording, teardown (run-s).
func BenchmarkFleetRun(b *testing.B) {
	d := newDriver(b)
	f := sandboxtest.Fleet(b)
	sc, err := sandbox.LoadScenario(sandboxtest.ScenarioPath("web"))
	if err != nil {
		b.Fatal(err)
	}
	o := f.Options()
	o.Driver = d
	var runs []time.Duration
	for b.Loop() {
		t0 := time.Now()
		rec, err := sandbox.Run(context.Background(), sc, o)
		if err != nil {
			b.Fatal(err)
		}
		if !rec.Outcome.Recovered {
			b.Fatalf("web did not recover: %s", rec.Outcome.Error)
		}
		runs = append(runs, time.Since(t0))
	}
	reportP50(b, "run-s", runs)
}

// BenchmarkMinimize minimizes the fleet's ca scenario (one hard
// dependency) in VMs, with one success accepting a removal
// (minimize-s, and runs per minimization).
func BenchmarkMinimize(b *testing.B) {
	d := newDriver(b)
	f := sandboxtest.Fleet(b)
	sc, err := sandbox.LoadScenario(sandboxtest.ScenarioPath("ca"))
	if err != nil {
		b.Fatal(err)
	}
	o := f.Options()
	o.Driver = d
	oracle := minimize.OracleFunc(func(ctx context.Context, t minimize.Trial) (minimize.Outcome, error) {
		so := o
		allow := append(collector.Allowlist{}, t.Allow...)
		so.Allow = &allow
		rec, err := sandbox.Run(ctx, sc, so)
		if err != nil {
			return minimize.Outcome{}, err
		}
		return minimize.Outcome{Recovered: rec.Outcome.Recovered, Record: rec, Duration: rec.Outcome.Duration.Std()}, nil
	})
	var took []time.Duration
	runs := 0
	for b.Loop() {
		t0 := time.Now()
		res, err := minimize.Minimize(context.Background(), oracle, minimize.Options{Repeat: 1, Parallel: 1, Catalog: sc.Catalog})
		if err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
		runs += res.Runs()
	}
	b.ReportMetric(float64(runs)/float64(len(took)), "runs")
	reportP50(b, "minimize-s", took)
}
