//go:build linux

package microvm_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/internal/nsthread"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/microvm"
)

// upstream is a network namespace of the test's, with listeners that
// count the connections they accept.
type upstream struct {
	name   string
	counts map[string]*atomic.Int32
}

// Addresses of the test's upstream: the allowlist allows the first.
const (
	allowedAddr = "10.96.0.1:8080"
	deniedAddr  = "10.96.0.2:9090"
)

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{name: fmt.Sprintf("rgtest-mvm-%d", os.Getpid()), counts: map[string]*atomic.Int32{}}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", u.name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", u.name).Run() })
	ip("-n", u.name, "link", "set", "lo", "up")
	fd, err := unix.Open("/run/netns/"+u.name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for _, a := range []string{allowedAddr, deniedAddr} {
		ap := netip.MustParseAddrPort(a)
		ip("-n", u.name, "addr", "add", ap.Addr().String()+"/32", "dev", "lo")
		var l net.Listener
		err := nsthread.Do(func() error {
			if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
				return err
			}
			var err error
			l, err = net.Listen("tcp", a)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		n := &atomic.Int32{}
		u.counts[a] = n
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				n.Add(1)
				c.Close()
			}
		}()
	}
	return u
}

// helperSpec is a sandbox spec whose runbooks find this test binary (as
// the helper) on their PATH, and may reach allowedAddr.
func helperSpec(t *testing.T, u *upstream) (sandbox.Spec, string) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := (*collector.Catalog)(nil).Expand(collector.Allowlist{{CIDR: netip.MustParsePrefix("10.96.0.1/32"), Ports: collector.PortRange{Lo: 8080, Hi: 8080}, Protocol: collector.TCP}})
	if err != nil {
		t.Fatal(err)
	}
	return sandbox.Spec{
		Rules:    rules,
		Fault:    collector.FaultReject,
		Upstream: sandbox.Upstream{NetNS: u.name},
		Env:      []string{"PATH=" + filepath.Dir(exe) + ":/usr/sbin:/usr/bin:/sbin:/bin", helperEnv + "=1"},
	}, filepath.Base(exe)
}

func start(t *testing.T, d *microvm.Driver, spec sandbox.Spec) sandbox.Sandbox {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sb, err := d.Start(ctx, spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		assertClean(t, sb.ID(), spec.Upstream.NetNS)
	})
	return sb
}

func execIn(t *testing.T, sb sandbox.Sandbox, shell string) sandbox.ExecResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := sb.Exec(ctx, sandbox.Command{Name: "test", Shell: shell})
	if err != nil {
		t.Fatalf("Exec(%q): %v", shell, err)
	}
	return res
}

// TestHostFilterAlone boots a guest without its recorder, as if a
// runbook had switched it off: the host's filter still lets through only
// what the allowlist allows.
func TestHostFilterAlone(t *testing.T) {
	d := newDriver(t)
	microvm.Unrecorded(d)
	u := newUpstream(t)
	spec, helper := helperSpec(t, u)
	sb := start(t, d, spec)
	res := execIn(t, sb, fmt.Sprintf("%[1]s connect %[2]s; %[1]s connect %[3]s; %[1]s connect 10.97.255.254:80", helper, allowedAddr, deniedAddr))
	t.Logf("runbook output:\n%s", res.Output)
	if !strings.Contains(res.Output, "connect: ok") {
		t.Errorf("the allowed connect failed:\n%s", res.Output)
	}
	if n := u.counts[allowedAddr].Load(); n != 1 {
		t.Errorf("%s accepted %d connections, want 1", allowedAddr, n)
	}
	if n := u.counts[deniedAddr].Load(); n != 0 {
		t.Errorf("%s accepted %d connections from an unrecorded guest, want 0: the host's filter let them through", deniedAddr, n)
	}
}

// TestRunbookCannotEscape runs a runbook that tries to leave its cgroup,
// create namespaces, reach eBPF, the kernel and the agent, and then
// connects where it may not: every try is refused, and nothing reaches
// the upstream.
func TestRunbookCannotEscape(t *testing.T) {
	d := newDriver(t)
	u := newUpstream(t)
	spec, helper := helperSpec(t, u)
	sb := start(t, d, spec)
	res := execIn(t, sb, fmt.Sprintf("%[1]s escape; unshare --user true && echo ESCAPED a user namespace || echo refused a user namespace; %[1]s connect %[2]s; cat /proc/self/status | grep -E '^Cap(Eff|Bnd)'", helper, deniedAddr))
	t.Logf("runbook output:\n%s", res.Output)
	if strings.Contains(res.Output, "ESCAPED") || strings.Count(res.Output, "refused ") != 8 {
		t.Errorf("the runbook got out, or not every try ran:\n%s", res.Output)
	}
	if n := u.counts[deniedAddr].Load(); n != 0 {
		t.Errorf("%s accepted %d connections, want 0", deniedAddr, n)
	}
	rec, err := sb.Recording()
	if err != nil {
		t.Fatal(err)
	}
	denied := false
	for _, a := range rec.Attempts {
		if a.Protocol == collector.TCP && a.Endpoint() == deniedAddr+"/tcp" && a.Verdict == collector.Denied {
			denied = true
		}
	}
	if !denied {
		t.Errorf("the recording has no denied attempt to %s: %+v", deniedAddr, rec.Attempts)
	}
	// The same VM, as sandbox.Run sees it after the runbook.
	t.Run("liveness", func(t *testing.T) { testLiveness(t, sb, helper) })
	t.Run("upstream", func(t *testing.T) { testUpstream(t, sb) })
	t.Run("probes", func(t *testing.T) { testProbes(t, sb) })
}

// testProbes makes health checks of kinds the guest's agent learned from
// sandbox.CheckProbe: a udp port nobody is bound to is refused, the
// daemon testLiveness started answers tcp.
func testProbes(t *testing.T, sb sandbox.Sandbox) {
	tests := []struct {
		probe string
		want  string // "": healthy; else in the error
	}{
		{"tcp:127.0.0.1:7000", ""},
		{"udp:127.0.0.1:9", "refused"},
		{"tcp:127.0.0.1:7001", "connection refused"},
	}
	for _, tt := range tests {
		p, err := sandbox.ParseProbe(tt.probe)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = sb.Probe(ctx, p)
		cancel()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Probe(%s) = %v, want %q", tt.probe, err, tt.want)
		}
	}
}

// testLiveness checks that the VM tells whether a process of the
// runbook still runs: after the runbook above, nothing; with a daemon
// started in the background, something.
func testLiveness(t *testing.T, sb sandbox.Sandbox, helper string) {
	l := sb.(sandbox.Liveness)
	if alive, err := l.RunbookAlive(); err != nil || alive {
		t.Errorf("RunbookAlive() after a runbook that left nothing = %v, %v; want false, nil", alive, err)
	}
	execIn(t, sb, helper+" listen 127.0.0.1:7000 >/dev/null 2>&1 &")
	if alive, err := l.RunbookAlive(); err != nil || !alive {
		t.Errorf("RunbookAlive() with a daemon in the background = %v, %v; want true, nil", alive, err)
	}
}

// testUpstream checks what the VM says of denied targets: upstream
// addresses are looked at from the host (an upstream listener is there,
// a closed port refused), the guest's own loopback in the guest (the
// daemon testLiveness started is there), socket paths on the host.
func testUpstream(t *testing.T, sb sandbox.Sandbox) {
	p := sb.(sandbox.UpstreamProber)
	probe := func(network, address string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return p.ProbeUpstream(ctx, network, address)
	}
	var err error
	for range 50 { // the daemon may still be starting
		if err = probe("tcp", "127.0.0.1:7000"); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("the guest's loopback daemon: %v, want it there", err)
	}
	tests := []struct {
		network, address string
		want             error // nil: there
	}{
		{"tcp", deniedAddr, nil},
		{"tcp", "10.96.0.2:1", unix.ECONNREFUSED},
		{"tcp", "127.0.0.1:7001", unix.ECONNREFUSED},
		{"unix", "/run/rgraph-no-such-socket", unix.ENOENT},
	}
	for _, tt := range tests {
		err := probe(tt.network, tt.address)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("ProbeUpstream(%s, %s) = %v, want %v", tt.network, tt.address, err, tt.want)
		}
	}
}

// assertClean fails t when anything of VM run id is left on the host.
func assertClean(t *testing.T, id, upstream string) {
	t.Helper()
	for _, p := range []string{"/run/rgraph/vms/" + id, "/run/netns/rgvm-" + id} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("run %s left %s", id, p)
		}
	}
	leases, _ := filepath.Glob("/run/rgraph/vm-subnets/*")
	for _, l := range leases {
		if target, _ := os.Readlink(l); target == id {
			t.Errorf("run %s left its lease %s", id, l)
		}
	}
	if pids := qemuPIDs(id); len(pids) > 0 {
		t.Errorf("run %s left qemu running: pid %v", id, pids)
	}
	if upstream != "" {
		if out, _ := exec.Command("ip", "-n", upstream, "link", "show", "rv"+id).CombinedOutput(); !strings.Contains(string(out), "does not exist") {
			t.Errorf("run %s left its veth rv%s in %s: %s", id, id, upstream, out)
		}
	}
}

// qemuPIDs returns the processes whose command line names run id's
// directory: its qemu.
func qemuPIDs(id string) []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), "/run/rgraph/vms/"+id+"/") {
			out = append(out, filepath.Base(filepath.Dir(p)))
		}
	}
	return out
}
