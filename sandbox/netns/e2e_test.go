package netns_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/netns"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// These tests run the example fleet's scenarios in real sandboxes against
// a production fleet in a namespace this test process owns. They need
// root and the eBPF recorder; see sandboxtest.RequireSandbox.

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helper())
	}
	os.Exit(sandboxtest.Main(m))
}

// fleetServices are the services of the example fleet.
var fleetServices = []string{"dns", "logd", "ca", "scheduler", "coord", "config", "discovery", "pkgstore", "web"}

func load(t *testing.T, service string) *sandbox.Scenario {
	t.Helper()
	sc, err := sandbox.LoadScenario(sandboxtest.ScenarioPath(service))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// run runs sc with opts on top of the fleet's options and checks that
// the run left nothing behind.
func run(t *testing.T, f *sandboxtest.FleetEnv, sc *sandbox.Scenario, opts sandbox.Options) *collector.Record {
	t.Helper()
	o := f.Options()
	o.Allow, o.Fault, o.Timeout, o.Keep = opts.Allow, opts.Fault, opts.Timeout, opts.Keep
	rec, err := sandbox.Run(context.Background(), sc, o)
	if err != nil {
		t.Fatalf("Run(%s): %v", sc.Name, err)
	}
	if err := rec.Validate(); err != nil {
		t.Errorf("record of %s does not validate: %v", sc.Name, err)
	}
	if !opts.Keep {
		sandboxtest.AssertClean(t, f.NetNS, rec.ID)
	}
	return rec
}

// services returns the catalog services rec's attempts reach, by verdict.
// A port-53 attempt the probe redirected to the DNS stub reached its
// resolver when a question sent to that resolver was forwarded.
func services(sc *sandbox.Scenario, rec *collector.Record) (allowed, denied []string) {
	forwarded := map[string]bool{}
	for _, a := range rec.Attempts {
		if a.Protocol == collector.DNS && a.Verdict == collector.Allowed {
			forwarded[a.Address.String()] = true
		}
	}
	for _, a := range rec.Attempts {
		svc, ok := sc.Catalog.Resolve(a)
		if !ok || svc == sc.Service {
			continue
		}
		verdict := a.Verdict
		if verdict == collector.Redirected {
			verdict = collector.Denied
			if forwarded[a.Address.String()] {
				verdict = collector.Allowed
			}
		}
		switch verdict {
		case collector.Allowed:
			allowed = append(allowed, svc)
		case collector.Denied:
			denied = append(denied, svc)
		}
	}
	slices.Sort(allowed)
	slices.Sort(denied)
	return slices.Compact(allowed), slices.Compact(denied)
}

func describe(rec *collector.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s recovered=%v error=%q\nvalidation: %s\n", rec.ID, rec.Outcome.Recovered, rec.Outcome.Error, rec.Outcome.Validation.Output)
	for _, s := range rec.Outcome.Steps {
		fmt.Fprintf(&b, "step %s exit %d: %s\n", s.Name, s.ExitCode, s.Output)
	}
	for _, a := range rec.Attempts {
		fmt.Fprintf(&b, "  %s %s %s %s\n", a.Verdict, a.Endpoint(), a.DNSType, a.Failure)
	}
	return b.String()
}

func names(al collector.Allowlist) []string {
	var out []string
	for _, c := range al {
		out = append(out, c.Service)
	}
	slices.Sort(out)
	return out
}

// TestFleetRecovers runs every scenario with its committed allowlist: it
// recovers, and its hard dependencies are exactly the services it was
// allowed to reach and did reach.
func TestFleetRecovers(t *testing.T) {
	f := sandboxtest.Fleet(t)
	for _, svc := range fleetServices {
		t.Run(svc, func(t *testing.T) {
			t.Parallel()
			sc := load(t, svc)
			rec := run(t, f, sc, sandbox.Options{})
			if !rec.Outcome.Recovered {
				t.Fatalf("%s did not recover with its committed allowlist:\n%s", svc, describe(rec))
			}
			allowed, denied := services(sc, rec)
			if want := names(sc.Allow); strings.Join(allowed, ",") != strings.Join(want, ",") {
				t.Errorf("reached %v, want its hard dependencies %v\n%s", allowed, want, describe(rec))
			}
			if want := names(sc.Soft); strings.Join(denied, ",") != strings.Join(want, ",") {
				t.Errorf("denied %v, want its soft dependencies %v\n%s", denied, want, describe(rec))
			}
			if creep := sandbox.Outside(rec.Attempts, committed(t, sc)); len(creep) > 0 {
				t.Errorf("attempts outside the committed allowlist: %v", creep)
			}
			if !rec.Collection.Complete {
				t.Errorf("recording incomplete: %+v", rec.Collection)
			}
		})
	}
}

func committed(t *testing.T, sc *sandbox.Scenario) collector.Rules {
	t.Helper()
	r, err := sc.Committed()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFleetHardDependencyRemoved removes each hard dependency in turn:
// the scenario no longer recovers, and the record shows the denied
// attempt.
func TestFleetHardDependencyRemoved(t *testing.T) {
	f := sandboxtest.Fleet(t)
	for _, svc := range fleetServices {
		sc := load(t, svc)
		for i, dep := range sc.Allow {
			t.Run(svc+"-without-"+dep.Service, func(t *testing.T) {
				t.Parallel()
				al := slices.Delete(slices.Clone(sc.Allow), i, i+1)
				rec := run(t, f, sc, sandbox.Options{Allow: &al})
				if rec.Outcome.Recovered {
					t.Fatalf("%s recovered without its hard dependency %s:\n%s", svc, dep.Service, describe(rec))
				}
				if _, denied := services(sc, rec); !slices.Contains(denied, dep.Service) {
					t.Errorf("no denied attempt to %s recorded:\n%s", dep.Service, describe(rec))
				}
			})
		}
	}
}

// TestFleetSoftDependency shows what a cache hides: with pkgstore allowed
// the scheduler and web use it; without it they still recover from their
// caches; without the caches they do not.
func TestFleetSoftDependency(t *testing.T) {
	f := sandboxtest.Fleet(t)
	for _, svc := range []string{"scheduler", "web"} {
		sc := load(t, svc)
		t.Run(svc+"-with-pkgstore", func(t *testing.T) {
			al := append(slices.Clone(sc.Allow), sc.Soft...)
			rec := run(t, f, sc, sandbox.Options{Allow: &al})
			allowed, denied := services(sc, rec)
			if !rec.Outcome.Recovered || !slices.Contains(allowed, "pkgstore") || len(denied) > 0 {
				t.Errorf("want recovered with pkgstore reached and nothing denied:\n%s", describe(rec))
			}
		})
		t.Run(svc+"-without-cache", func(t *testing.T) {
			noCache := *sc
			noCache.Files = nil
			rec := run(t, f, &noCache, sandbox.Options{})
			if rec.Outcome.Recovered {
				t.Errorf("recovered without pkgstore and without its cache:\n%s", describe(rec))
			}
		})
	}
}

// TestCheckCreep adds a new dependency to a runbook: the creep check
// names it although the scenario still recovers.
func TestCheckCreep(t *testing.T) {
	f := sandboxtest.Fleet(t)
	sc := load(t, "pkgstore")
	sc.Runbook = append(slices.Clone(sc.Runbook), sandbox.Step{
		Name: "warm up", Run: "fleet check coord --addr 10.99.0.12:2379 || true", Timeout: 5 * time.Second,
	})
	rec := run(t, f, sc, sandbox.Options{})
	if !rec.Outcome.Recovered {
		t.Fatalf("did not recover:\n%s", describe(rec))
	}
	creep := sandbox.Outside(rec.Attempts, committed(t, sc))
	if len(creep) != 1 || creep[0].Endpoint() != "10.99.0.12:2379/tcp" || creep[0].Verdict != collector.Denied {
		t.Errorf("Outside = %v, want the one denied attempt to coord", creep)
	}
}

// TestBlackhole denies in blackhole mode: the dependency's connect hangs
// until the client gives up, the record says "dropped", and the run
// timeout ends a runbook that would wait far longer.
func TestBlackhole(t *testing.T) {
	f := sandboxtest.Fleet(t)
	t.Run("hard dependency dropped", func(t *testing.T) {
		sc := load(t, "coord")
		none := collector.Allowlist{}
		rec := run(t, f, sc, sandbox.Options{Allow: &none, Fault: collector.FaultBlackhole})
		if rec.Outcome.Recovered || rec.FaultMode != collector.FaultBlackhole {
			t.Fatalf("want not recovered in blackhole mode:\n%s", describe(rec))
		}
		var dropped bool
		for _, a := range rec.Attempts {
			dropped = dropped || a.Endpoint() == "10.99.0.10:8443/tcp" && a.Verdict == collector.Denied && a.Failure == "dropped"
		}
		if !dropped {
			t.Errorf("no dropped attempt to the ca:\n%s", describe(rec))
		}
	})
	t.Run("run timeout", func(t *testing.T) {
		sc := load(t, "coord")
		sc.Runbook = []sandbox.Step{{Name: "wait for the ca", Run: "curl -sS --max-time 60 http://10.99.0.10:8443/healthz", Timeout: time.Minute}}
		none := collector.Allowlist{}
		start := time.Now()
		rec := run(t, f, sc, sandbox.Options{Allow: &none, Fault: collector.FaultBlackhole, Timeout: 1500 * time.Millisecond})
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("run took %v, want about its 1.5s timeout", took)
		}
		if rec.Outcome.Recovered || len(rec.Outcome.Timeouts) != 1 || rec.Outcome.Timeouts[0].Step != "run" || !rec.Outcome.Steps[0].TimedOut {
			t.Errorf("want the run timeout noted and the step timed out:\n%s\ntimeouts %v", describe(rec), rec.Outcome.Timeouts)
		}
	})
}

// TestCancelCleansUp cancels a run midway, as Ctrl-C does: Run returns
// at once and nothing is left (processes, namespace, cgroup, veth,
// mounts, lease, run directory).
func TestCancelCleansUp(t *testing.T) {
	f := sandboxtest.Fleet(t)
	sc := load(t, "logd")
	marker := fmt.Sprintf("31.%d", os.Getpid())
	sc.Runbook = []sandbox.Step{{Name: "hang", Run: "sleep " + marker, Timeout: time.Minute}}
	ctx, cancel := context.WithCancel(context.Background())
	o := f.Options()
	var id string
	o.Progress = func(e sandbox.Event) {
		if e.Kind == sandbox.EventStepStart {
			id = e.RunID
			time.AfterFunc(300*time.Millisecond, cancel)
		}
	}
	start := time.Now()
	_, err := sandbox.Run(ctx, sc, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Run took %v after cancel", took)
	}
	sandboxtest.AssertClean(t, f.NetNS, id)
	if pids := processesWith(marker); len(pids) > 0 {
		t.Errorf("processes left: %v", pids)
	}
}

// processesWith returns the pids whose command line contains s.
func processesWith(s string) []string {
	var out []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), s) && d.Name() != fmt.Sprint(os.Getpid()) {
			out = append(out, d.Name())
		}
	}
	return out
}

const helperEnv = "RGRAPH_SANDBOX_TEST_HELPER"

// helper is the test binary re-run as a process that starts a sandbox,
// starts a background process in it, leaves IPC objects there (a SysV
// shared memory segment, a POSIX message queue, a file in /dev/shm),
// prints the run ID and the sandbox's IPC namespace, and waits to be
// killed: a run that dies without tearing down.
func helper() int {
	sb, err := netns.New().Start(context.Background(), sandbox.Spec{
		Fault:    collector.FaultReject,
		Upstream: sandbox.Upstream{NetNS: os.Getenv(helperEnv)},
		Env:      []string{"PATH=/usr/bin:/bin"},
	})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	marker := os.Getenv("MARKER")
	res, err := sb.Exec(context.Background(), sandbox.Command{Name: "bg", Shell: "sleep " + marker +
		" & ipcmk -M 4096 >/dev/null && ipcmk -Q >/dev/null && echo x > /dev/shm/rgraph-" + marker + " && readlink /proc/self/ns/ipc"})
	if err != nil || res.ExitCode != 0 {
		fmt.Println("error:", err, res.Output)
		return 1
	}
	fmt.Println(sb.ID())
	fmt.Println(strings.TrimSpace(res.Output))
	select {}
}

// TestGCReapsKilledRun kills -9 a process in the middle of a run: every
// process of its sandbox dies with it, and with them its IPC objects,
// while its namespace, cgroup, veth, lease and run directory stay until
// GC (which every Run calls first) removes them.
func TestGCReapsKilledRun(t *testing.T) {
	f := sandboxtest.Fleet(t)
	marker := fmt.Sprintf("32.%d", os.Getpid())
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+f.NetNS, "MARKER="+marker)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	id := strings.TrimSpace(line)
	ipcNS, _ := r.ReadString('\n')
	ipcNS = strings.TrimSpace(ipcNS)
	if err != nil || strings.HasPrefix(id, "error") || !strings.HasPrefix(ipcNS, "ipc:[") {
		cmd.Process.Kill()
		t.Fatalf("helper: %q %q %v", line, ipcNS, err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for len(processesWith(marker)) > 0 || len(holders(ipcNS)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("5s after its owner was killed, the run still has processes %v; its IPC namespace %s is held by %v", processesWith(marker), ipcNS, holders(ipcNS))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("processes and IPC namespace gone %v after the kill", time.Until(deadline.Add(-5*time.Second)).Abs())
	if _, err := os.Stat("/dev/shm/rgraph-" + marker); err == nil {
		t.Errorf("the run's /dev/shm file is on the host")
	}
	if left := sandboxtest.Leftovers(id); len(left) < 4 || !sandboxtest.VethExists(f.NetNS, id) {
		t.Fatalf("a killed run should leave its objects for GC; found %v", left)
	}
	reaped, err := sandbox.GC(context.Background(), sandbox.GCOptions{})
	if err != nil {
		t.Fatalf("GC: %v", err)
	}
	var kinds []string
	for _, l := range reaped {
		if l.RunID == id {
			kinds = append(kinds, l.Kind)
		}
	}
	slices.Sort(kinds)
	if want := "cgroup netns run subnet veth"; strings.Join(kinds, " ") != want {
		t.Errorf("GC reaped %v of run %s, want %s", kinds, id, want)
	}
	sandboxtest.AssertClean(t, f.NetNS, id)
}

// holders returns the pids of the processes in namespace ns (as
// readlink /proc/PID/ns/KIND names it).
func holders(ns string) []string {
	kind, _, _ := strings.Cut(ns, ":")
	var out []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if l, err := os.Readlink("/proc/" + d.Name() + "/ns/" + kind); err == nil && l == ns {
			out = append(out, d.Name())
		}
	}
	return out
}

// TestKeep leaves a sandbox for debugging: GC leaves it alone until asked
// for kept sandboxes, and the enter script gets into it.
func TestKeep(t *testing.T) {
	f := sandboxtest.Fleet(t)
	sc := load(t, "logd")
	o := f.Options()
	o.Keep = true
	var kept *sandbox.Kept
	o.Progress = func(e sandbox.Event) {
		if e.Kind == sandbox.EventKept {
			kept = &e.Kept
		}
	}
	rec, err := sandbox.Run(context.Background(), sc, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sandbox.GC(context.Background(), sandbox.GCOptions{Kept: true}) })
	if kept == nil || !rec.Outcome.Recovered {
		t.Fatalf("kept %v, recovered %v", kept, rec.Outcome.Recovered)
	}
	enter := exec.Command(kept.Enter, "sh", "-c", `ip -br addr show eth0; cat /etc/resolv.conf; fleet check logd --socket "$PWD/logd.sock"`)
	enter.Env = append(os.Environ(), "PATH="+f.Bin+":"+os.Getenv("PATH"))
	b, err := enter.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "10.98.") || !strings.Contains(string(b), "nameserver 10.99.0.53") || !strings.Contains(string(b), "logd: healthy") {
		t.Errorf("entering the kept sandbox: %v\n%s", err, b)
	}
	if _, err := sandbox.GC(context.Background(), sandbox.GCOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(sandboxtest.Leftovers(rec.ID)) == 0 {
		t.Fatal("GC without Kept removed a kept sandbox")
	}
	if _, err := sandbox.GC(context.Background(), sandbox.GCOptions{Kept: true}); err != nil {
		t.Fatal(err)
	}
	sandboxtest.AssertClean(t, f.NetNS, rec.ID)
}

// TestParallelRunsIsolated runs two sandboxes side by side: a server in
// one is invisible to the other, each gets its own addresses, and each
// recording holds only its own attempts.
func TestParallelRunsIsolated(t *testing.T) {
	f := sandboxtest.Fleet(t)
	env := []string{"PATH=" + f.Bin + ":/usr/bin:/bin"}
	loopback, _ := collector.ParseCapability("127.0.0.0/8")
	start := func() sandbox.Sandbox {
		cat, _ := collector.NewCatalog()
		rules, _ := cat.Expand(collector.Allowlist{loopback})
		sb, err := netns.New().Start(context.Background(), sandbox.Spec{Rules: rules, Fault: collector.FaultReject, Upstream: sandbox.Upstream{NetNS: f.NetNS}, Env: env})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sb.Close()
			sandboxtest.AssertClean(t, f.NetNS, sb.ID())
		})
		return sb
	}
	a, b := start(), start()
	ctx := context.Background()
	exec := func(sb sandbox.Sandbox, where sandbox.Where, shell string) sandbox.ExecResult {
		res, err := sb.Exec(ctx, sandbox.Command{Name: "x", Shell: shell, Where: where})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	exec(a, sandbox.InRunbook, "fleet serve coord --listen 127.0.0.1:2379 &")
	time.Sleep(200 * time.Millisecond)
	if res := exec(a, sandbox.InValidation, "fleet check coord"); !strings.Contains(res.Output, "recovery failed") && !strings.Contains(res.Output, "UNHEALTHY") {
		t.Errorf("in its own sandbox the server should answer (unhealthy: no ca): %q", res.Output)
	}
	if res := exec(b, sandbox.InRunbook, "fleet check coord"); res.ExitCode == 0 || !strings.Contains(res.Output, "refused") {
		t.Errorf("the other sandbox reached the server: exit %d %q", res.ExitCode, res.Output)
	}
	ra, _ := a.Recording()
	rb, _ := b.Recording()
	has := func(r collector.Recording, endpoint string) bool {
		return slices.ContainsFunc(r.Attempts, func(x collector.Attempt) bool { return x.Endpoint() == endpoint })
	}
	if !has(ra, "10.99.0.10:8443/tcp") || has(rb, "10.99.0.10:8443/tcp") {
		t.Errorf("coord's attempt to the ca should be in a's recording only:\na %v\nb %v", ra.Attempts, rb.Attempts)
	}
	if !has(rb, "127.0.0.1:2379/tcp") || has(ra, "127.0.0.1:2379/tcp") {
		t.Errorf("b's connect to 127.0.0.1:2379 should be in b's recording only:\na %v\nb %v", ra.Attempts, rb.Attempts)
	}
	if a.ID() == b.ID() {
		t.Errorf("both sandboxes have ID %s", a.ID())
	}
}

// TestRunEndsWhenNothingIsLeft checks the driver's Liveness: a run whose
// validation fails ends at the first failed try once no process of the
// runbook is left (a background daemon included), not at its deadline.
func TestRunEndsWhenNothingIsLeft(t *testing.T) {
	sandboxtest.RequireSandbox(t)
	for _, tt := range []struct {
		name, step string
		min, max   time.Duration
	}{
		{"nothing started", "true", 0, 5 * time.Second},
		{"daemon exits after 2s", "sleep 2 &", 2 * time.Second, 8 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := sandbox.ParseScenario([]byte(`schemaVersion: 1
kind: scenario
service: job
runbook:
  - run: "`+tt.step+`"
validation:
  run: "false"
  retries: 1000
  interval: 100ms
  deadline: 30s
`), "job.yaml")
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			rec, err := sandbox.Run(context.Background(), sc, sandbox.Options{Driver: netns.New()})
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			if rec.Outcome.Recovered || !strings.Contains(rec.Outcome.Error, "no process of the runbook is left") || took < tt.min || took > tt.max {
				t.Errorf("recovered %v in %v (%q), want a failure between %v and %v because nothing is left", rec.Outcome.Recovered, took, rec.Outcome.Error, tt.min, tt.max)
			}
			sandboxtest.AssertClean(t, "", rec.ID)
		})
	}
}

// TestDeniedTargetsLookedUpUpstream checks the driver's UpstreamProber:
// glibc's denied connect to nscd's socket, which does not exist, is
// recorded absent upstream, and a denied connect to a port nobody listens
// on refused upstream; neither is creep.
func TestDeniedTargetsLookedUpUpstream(t *testing.T) {
	sandboxtest.RequireSandbox(t)
	if _, err := os.Stat("/var/run/nscd/socket"); err == nil {
		t.Skip("nscd runs on this machine: its socket exists")
	}
	for _, tool := range []string{"getent", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	sc, err := sandbox.ParseScenario([]byte(`schemaVersion: 1
kind: scenario
service: job
resolver:
  nameservers: [10.99.0.53]
  options: ["timeout:1", "attempts:1"]
runbook:
  - run: getent hosts db.example; curl -s --max-time 1 http://127.0.0.1:1/; true
validation:
  run: "true"
`), "job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := sandbox.Run(context.Background(), sc, sandbox.Options{Driver: netns.New()})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]collector.Upstream{}
	for _, a := range rec.Attempts {
		if a.Verdict == collector.Denied && a.Protocol != collector.DNS {
			got[a.Endpoint()] = a.Upstream
		}
	}
	if got["unix:/var/run/nscd/socket"] != collector.UpstreamAbsent || got["127.0.0.1:1/tcp"] != collector.UpstreamRefused {
		t.Errorf("denied attempts' upstream = %v, want nscd absent and 127.0.0.1:1 refused\n%s", got, describe(rec))
	}
	for _, a := range sandbox.Outside(rec.Attempts, collector.Rules{}) {
		if a.Protocol != collector.DNS && a.Protocol != collector.UDP { // the question for db.example is creep
			t.Errorf("creep %s %s (upstream %q), want none but DNS", a.Verdict, a.Endpoint(), a.Upstream)
		}
	}
	sandboxtest.AssertClean(t, "", rec.ID)
}
