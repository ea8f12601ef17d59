package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/internal/dnsstub"
	"github.com/rgraph/rgraph/internal/dnsstub/dnsstubtest"
	"github.com/rgraph/rgraph/internal/privtest"
)

// netns is a network namespace owned by one locked OS thread; Do runs a
// function on that thread, so sockets it creates and processes it starts
// live in the namespace. The thread exits with the namespace at cleanup.
type netns struct {
	reqs chan func()
}

func newNetns(t testing.TB) *netns {
	t.Helper()
	n := &netns{reqs: make(chan func())}
	ready := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for f := range n.reqs {
			f()
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("creating network namespace: %v", err)
	}
	t.Cleanup(func() { close(n.reqs) })
	return n
}

func (n *netns) Do(f func()) {
	done := make(chan struct{})
	n.reqs <- func() { defer close(done); f() }
	<-done
}

// Test network, inside each test's own namespace:
//
//	lo      127.0.0.1, ::1; the DNS stub listens on 127.0.0.53:53 and [::1]:53
//	svc0    10.99.0.1/24, fd99::1/64: services (tcp 8080, udp 9000) and a
//	        fake upstream resolver on 10.99.0.53:53 and [fd99::53]:53
//	bh0     10.98.0.1/24, fd98::1/64: the blackhole 10.98.0.2 / fd98::2
//	        is routed here and vanishes
const (
	svc4       = "10.99.0.1"
	svc6       = "fd99::1"
	upstream4  = "10.99.0.53:53"
	upstream6  = "[fd99::53]:53"
	stub4      = "127.0.0.53:53"
	stub6      = "[::1]:53"
	blackhole4 = "10.98.0.2"
	blackhole6 = "fd98::2"
)

// testEnv is a cgroup and a network namespace with services, a fake
// upstream resolver and rgraph's DNS stub, torn down at cleanup.
type testEnv struct {
	t       testing.TB
	ns      *netns
	cgroup  string
	cgFD    *os.File
	dir     string // for unix sockets and result files
	probe   *Probe
	stub    *dnsstub.Stub
	udpSeen atomic.Int64 // datagrams the UDP services received
	tcpSeen atomic.Int64 // connections the TCP services accepted
}

// newTestEnv builds the environment and attaches a probe with the spec
// mkSpec returns for the environment's directory; Cgroup, DNS, DNS6 and,
// in blackhole mode, the blackhole addresses are filled in. The probe is
// attached to the shared collector or, with opts, to a collector of its
// own whose tables opts sizes.
func newTestEnv(t testing.TB, mkSpec func(dir string) Spec, opts ...loadOptions) *testEnv {
	t.Helper()
	privtest.Require(t)
	privtest.SkipIfUnsupported(t, Check(), func(err error) bool {
		return errors.Is(err, ErrUnsupported) || errors.Is(err, ErrPermission)
	})
	e := &testEnv{t: t, ns: newNetns(t), dir: t.TempDir()}
	e.makeCgroup()
	var err error
	e.ns.Do(func() { err = setupNetwork() })
	if err != nil {
		t.Fatalf("setting up the test network: %v", err)
	}
	e.startServices()

	spec := mkSpec(e.dir)
	spec.Cgroup = e.cgroup
	spec.DNS = netip.MustParseAddrPort(stub4)
	spec.DNS6 = netip.MustParseAddrPort(stub6)
	if spec.Fault == collector.FaultBlackhole {
		spec.Blackhole = netip.MustParseAddr(blackhole4)
		spec.Blackhole6 = netip.MustParseAddr(blackhole6)
	}
	c := sharedCollector(t)
	if len(opts) > 0 {
		c = openTestCollector(t, opts[0])
	}
	p, err := c.Attach(spec)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	e.probe = p
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("closing probe: %v", err)
		}
	})
	e.startStub(spec)
	return e
}

// sharedCollector returns the process-wide collector.
func sharedCollector(t testing.TB) *Collector {
	t.Helper()
	c, err := Shared()
	if err != nil {
		t.Fatalf("Shared: %v", err)
	}
	return c
}

// openTestCollector opens a collector of the test's own, closed at
// cleanup.
func openTestCollector(t testing.TB, opts loadOptions) *Collector {
	t.Helper()
	c, err := openCollector(opts)
	if err != nil {
		t.Fatalf("opening collector: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("closing collector: %v", err)
		}
	})
	return c
}

func (e *testEnv) makeCgroup() {
	e.cgroup, e.cgFD = newCgroup(e.t)
}

// newCgroup creates a cgroup of the test's own, removed at cleanup, and
// returns its path and an open descriptor for starting processes in it.
func newCgroup(t testing.TB) (string, *os.File) {
	t.Helper()
	root, err := cgroup2Mount()
	if err != nil {
		t.Fatal(err)
	}
	reapTestCgroups(root)
	var b [6]byte
	rand.Read(b[:])
	dir := filepath.Join(root, testCgroupPrefix+hex.EncodeToString(b[:]))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("creating cgroup: %v", err)
	}
	fd, err := os.Open(dir)
	if err != nil {
		os.Remove(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		fd.Close()
		removeCgroup(t, dir)
	})
	return dir, fd
}

const testCgroupPrefix = "rgraph-probe-test-"

// reapTestCgroups removes test cgroups that a killed test run (a timeout
// panic skips cleanups) left behind: empty, and older than ten minutes so
// that a test running in parallel keeps its own.
func reapTestCgroups(root string) {
	dirs, _ := filepath.Glob(filepath.Join(root, testCgroupPrefix+"*"))
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil || time.Since(st.ModTime()) < 10*time.Minute {
			continue
		}
		if procs, err := os.ReadFile(filepath.Join(d, "cgroup.procs")); err == nil && len(procs) == 0 {
			os.Remove(d)
		}
	}
}

// removeCgroup kills what is left in a cgroup and removes it.
func removeCgroup(t testing.TB, dir string) {
	os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.Remove(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("removing cgroup %s: %v", dir, err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setupNetwork runs in the namespace; it must not call t.Fatal, which
// would end the namespace's goroutine.
func setupNetwork() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return err
	}
	// This kernel has no dummy driver: veth pairs stand in. The blackhole
	// device has ARP off, so frames to the blackhole address go out at
	// once, addressed to bh0's own MAC, and its peer drops them.
	for _, d := range []struct {
		name  string
		addrs []string
		noARP bool
	}{
		{"svc0", []string{"10.99.0.1/24", "10.99.0.53/32", "fd99::1/64", "fd99::53/128"}, false},
		{"bh0", []string{"10.98.0.1/24", "fd98::1/64"}, true},
	} {
		l := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: d.name}, PeerName: d.name + "p"}
		if err := netlink.LinkAdd(l); err != nil {
			return fmt.Errorf("adding %s: %w", d.name, err)
		}
		for _, a := range d.addrs {
			addr, err := netlink.ParseAddr(a)
			if err != nil {
				return err
			}
			addr.Flags = unix.IFA_F_NODAD
			if err := netlink.AddrAdd(l, addr); err != nil {
				return fmt.Errorf("adding %s to %s: %w", a, d.name, err)
			}
		}
		if d.noARP {
			if err := netlink.LinkSetARPOff(l); err != nil {
				return err
			}
		}
		peer, err := netlink.LinkByName(d.name + "p")
		if err != nil {
			return err
		}
		for _, x := range []netlink.Link{l, peer} {
			if err := netlink.LinkSetUp(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// listen creates listeners in the namespace.
func (e *testEnv) listen(network string, addrs ...string) []net.Listener {
	e.t.Helper()
	var out []net.Listener
	var err error
	e.ns.Do(func() {
		for _, a := range addrs {
			var l net.Listener
			if l, err = net.Listen(network, a); err != nil {
				return
			}
			out = append(out, l)
		}
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		for _, l := range out {
			l.Close()
		}
	})
	return out
}

// listenPacket creates packet sockets in the namespace.
func (e *testEnv) listenPacket(network string, addrs ...string) []net.PacketConn {
	e.t.Helper()
	var out []net.PacketConn
	var err error
	e.ns.Do(func() {
		for _, a := range addrs {
			var pc net.PacketConn
			if pc, err = net.ListenPacket(network, a); err != nil {
				return
			}
			out = append(out, pc)
		}
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		for _, pc := range out {
			pc.Close()
		}
	})
	return out
}

// startServices starts, inside the namespace and outside the cgroup, TCP
// and UDP services and a fake upstream resolver that answers A questions
// for names under example with 10.99.0.1.
func (e *testEnv) startServices() {
	lns := e.listen("tcp", svc4+":8080", "["+svc6+"]:8080", "127.0.0.1:8081", "[::1]:8081")
	pcs := e.listenPacket("udp", svc4+":9000", "["+svc6+"]:9000", "127.0.0.1:9001")
	for _, p := range []string{"allowed.sock", "denied.sock", "dir/sub.sock"} {
		path := filepath.Join(e.dir, p)
		os.MkdirAll(filepath.Dir(path), 0o755)
		lns = append(lns, e.listen("unix", path)...)
	}
	for _, p := range []string{"dgram-denied.sock", "dir/dgram.sock"} {
		e.listenPacket("unixgram", filepath.Join(e.dir, p))
	}
	// A socket file nobody listens on: connects to it are refused.
	if fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0); err == nil {
		unix.Bind(fd, &unix.SockaddrUnix{Name: filepath.Join(e.dir, "dir/stale.sock")})
		unix.Close(fd)
	}
	for _, l := range lns {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				e.tcpSeen.Add(1)
				c.Close()
			}
		}()
	}
	for _, pc := range pcs {
		go func() {
			buf := make([]byte, 2048)
			for {
				if _, _, err := pc.ReadFrom(buf); err != nil {
					return
				}
				e.udpSeen.Add(1)
			}
		}()
	}

	// The fake upstream resolver.
	pcs = e.listenPacket("udp", upstream4, upstream6)
	lns = e.listen("tcp", upstream4, upstream6)
	for i := range pcs {
		dnsstubtest.Serve(pcs[i], lns[i], "example.", netip.MustParseAddr(svc4))
	}
}

// startStub runs rgraph's DNS stub on the stub addresses, attributing
// queries with the probe and forwarding to the fake upstream.
func (e *testEnv) startStub(spec Spec) {
	udp := e.listenPacket("udp", stub4, stub6)
	tcp := e.listen("tcp", stub4, stub6)
	fwd := dnsstub.Forwarder{
		Upstream: netip.MustParseAddrPort(upstream4),
		Dial: func(ctx context.Context, network, address string) (c net.Conn, err error) {
			e.ns.Do(func() { c, err = (&net.Dialer{}).DialContext(ctx, network, address) })
			return c, err
		},
	}
	s, err := dnsstub.Serve(context.Background(), dnsstub.Config{
		Rules: spec.Rules,
		Fault: spec.Fault,
		Attribute: func(proto collector.Protocol, client netip.AddrPort) (dnsstub.Origin, bool) {
			o, ok := e.probe.DNSOrigin(proto, client)
			return dnsstub.Origin(o), ok
		},
		Forward: fwd.Exchange,
		Timeout: 2 * time.Second,
	}, udp, tcp)
	if err != nil {
		e.t.Fatal(err)
	}
	e.stub = s
	e.t.Cleanup(func() { s.Close() })
}

// run starts a helper child in the cgroup and the namespace and returns
// the line it printed.
func (e *testEnv) run(comm, action string, args ...string) string {
	e.t.Helper()
	return e.runIn(e.cgFD, comm, action, args...)
}

// runIn is run in another cgroup, given by an open descriptor.
func (e *testEnv) runIn(cg *os.File, comm, action string, args ...string) string {
	e.t.Helper()
	self, err := os.Executable()
	if err != nil {
		e.t.Fatal(err)
	}
	var out bytes.Buffer
	var cmd *exec.Cmd
	var err2 error
	e.ns.Do(func() {
		cmd = exec.Command(self, append([]string{comm, action}, args...)...)
		cmd.Env = append(os.Environ(), helperEnv+"=1")
		cmd.Stdout = &out
		cmd.Stderr = &out
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}
		err2 = cmd.Start()
	})
	if err2 != nil {
		e.t.Fatalf("starting helper: %v", err2)
	}
	cmd.Wait() // outside the namespace thread, which stays free
	return strings.TrimSpace(out.String())
}

// attempts returns the probe's and the stub's records as sorted lines
// "COMM VERDICT ENDPOINT [TYPE] [FAILURE]", checking the fields the lines
// leave out.
func (e *testEnv) attempts() (probeLines, stubLines []string, col collector.Collection) {
	e.t.Helper()
	pr, err := e.probe.Snapshot()
	if err != nil {
		e.t.Fatal(err)
	}
	sr, err := e.stub.Snapshot()
	if err != nil {
		e.t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(e.cgroup, &st); err != nil {
		e.t.Fatal(err)
	}
	for _, a := range append(pr.Attempts, sr.Attempts...) {
		if err := checkAttempt(a, st.Ino); err != nil {
			e.t.Errorf("%+v: %v", a, err)
		}
	}
	return lines(pr.Attempts), lines(sr.Attempts), pr.Collection
}

func checkAttempt(a collector.Attempt, cgroupID uint64) error {
	switch {
	case a.Count == 0:
		return errors.New("count is 0")
	case a.FirstSeen.IsZero() || time.Since(a.FirstSeen) > time.Minute || time.Until(a.FirstSeen) > time.Second:
		return fmt.Errorf("first seen %v is not recent", a.FirstSeen)
	case a.Process.PID == 0:
		return errors.New("no pid")
	case a.CgroupID != cgroupID:
		return fmt.Errorf("cgroup id %d, want %d", a.CgroupID, cgroupID)
	}
	return nil
}

func lines(as []collector.Attempt) []string {
	var out []string
	for _, a := range as {
		s := a.Process.Comm + " " + string(a.Verdict) + " " + a.Endpoint()
		if a.Protocol == collector.DNS {
			s += " " + a.DNSType + " via " + netip.AddrPortFrom(a.Address, a.Port).String()
		}
		if a.Failure != "" {
			s += " " + a.Failure
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
