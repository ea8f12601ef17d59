package probe

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector"
)

// TestRunsAreIsolated attaches two runs of one collector at once, to two
// cgroups in the same network namespace with different rules, and checks
// that each is enforced by its own rules, records only its own attempts
// and DNS clients, and that detaching one leaves the other working and
// removes the detached run's entries.
func TestRunsAreIsolated(t *testing.T) {
	// A collector of the test's own, so that its tables hold nothing
	// but these two runs.
	e := newTestEnv(t, func(dir string) Spec {
		return Spec{Rules: collector.Rules{Nets: []collector.Capability{mustCap(t, "10.99.0.1:8080/tcp")}}}
	}, defaultLoadOptions)
	a := e.probe
	c := a.c
	cgB, fdB := newCgroup(t)
	b, err := c.Attach(Spec{Cgroup: cgB, DNS: netip.MustParseAddrPort(stub4)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })

	// One run per cgroup tree: nested or repeated attachments would run
	// the programs twice for the same process.
	child := filepath.Join(e.cgroup, "child")
	if err := os.Mkdir(child, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(child) })
	for _, cg := range []string{e.cgroup, child, cgB} {
		if p, err := c.Attach(Spec{Cgroup: cg}); err == nil {
			p.Close()
			t.Errorf("attaching a second run to %s succeeded", cg)
		}
	}

	e.runSteps([]step{
		{"a-ok", "connect", []string{"tcp", "10.99.0.1:8080", "1000"}, "ok"},
		{"a-lo", "connect", []string{"tcp", "127.0.0.1:8081", "1000"}, "EPERM"},
	})
	for _, s := range []step{
		{"b-deny", "connect", []string{"tcp", "10.99.0.1:8080", "1000"}, "EPERM"},
		{"b-dns", "dns", []string{"udp", "10.99.0.53:53", "any.example", "2000"}, "rcode:"},
	} {
		if got := e.runIn(fdB, s.comm, s.action, s.args...); !strings.HasPrefix(got, s.want) {
			t.Errorf("%s %s %v = %q, want %q", s.comm, s.action, s.args, got, s.want)
		}
	}

	snap := func(p *Probe) []string {
		t.Helper()
		r, err := p.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		return lines(r.Attempts)
	}
	if diff := cmp.Diff([]string{"a-lo denied 127.0.0.1:8081/tcp eperm", "a-ok allowed 10.99.0.1:8080/tcp"}, snap(a)); diff != "" {
		t.Errorf("run a (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"b-deny denied 10.99.0.1:8080/tcp eperm", "b-dns redirected 10.99.0.53:53/udp"}, snap(b)); diff != "" {
		t.Errorf("run b (-want +got):\n%s", diff)
	}

	// b's DNS client is b's, not a's.
	var clients []netip.AddrPort
	var k probeClientKey
	var o probeOrigin
	it := c.maps.DnsClients.Iterate()
	for it.Next(&k, &o) {
		if k.Run == b.id {
			clients = append(clients, netip.AddrPortFrom(addrOf(k.Family, k.Addr), k.Port))
		}
	}
	if len(clients) != 1 {
		t.Fatalf("run b has %d DNS clients, want 1", len(clients))
	}
	if got, ok := b.DNSOrigin(collector.UDP, clients[0]); !ok || got.Process.Comm != "b-dns" {
		t.Errorf("b.DNSOrigin(%v) = %+v, %v; want b-dns", clients[0], got, ok)
	}
	if got, ok := a.DNSOrigin(collector.UDP, clients[0]); ok {
		t.Errorf("a.DNSOrigin(%v) = %+v, found b's client", clients[0], got)
	}

	// Detaching a leaves b enforced and recording.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.runIn(fdB, "b-deny", "connect", "tcp", "10.99.0.1:8080", "1000"); got != "EPERM" {
		t.Errorf("b after a detached: %q, want EPERM", got)
	}
	if got := e.run("a-free", "connect", "tcp", "127.0.0.1:8081", "1000"); got != "ok" {
		t.Errorf("a's cgroup after detaching: %q, want the connect to go through", got)
	}
	r, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range r.Attempts {
		if at.Process.Comm == "b-deny" && at.Count != 2 {
			t.Errorf("b-deny counted %d times, want 2", at.Count)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	checkEmpty(t, c)
}

// checkEmpty checks that no run left anything in a collector's tables.
func checkEmpty(t *testing.T, c *Collector) {
	t.Helper()
	count := func(m *ebpf.Map) int {
		n := 0
		var k any
		for {
			next, err := m.NextKeyBytes(k)
			if err != nil {
				t.Fatal(err)
			}
			if next == nil {
				return n
			}
			n++
			k = next
		}
	}
	for _, m := range []struct {
		name string
		m    *ebpf.Map
	}{{"runs", c.maps.Runs}, {"dns_clients", c.maps.DnsClients}, {"peers", c.maps.Peers}} {
		if n := count(m.m); n != 0 {
			t.Errorf("%s has %d entries after every run detached", m.name, n)
		}
	}
	for slot, tables := range c.slots {
		if tables == nil {
			continue
		}
		for _, m := range tables.all() {
			if n := count(m); n != 0 {
				t.Errorf("slot %d: %v has %d entries after every run detached", slot, m, n)
			}
		}
		var id uint32
		if err := c.maps.SlotRuns.Lookup(uint32(slot), &id); err != nil || id != 0 {
			t.Errorf("slot %d still held by run %d (%v)", slot, id, err)
		}
	}
}

// TestUDPRepliesPass runs UDP servers in the cgroup, queried by clients
// outside it: a reply to a client that sent first is not a first hop, so
// it passes and is not recorded, while a datagram to anyone else is still
// denied. IPv4, IPv6, and IPv4 clients of a dual-stack socket.
func TestUDPRepliesPass(t *testing.T) {
	e := newTestEnv(t, func(dir string) Spec {
		return Spec{Rules: testRules(t, dir), Fault: collector.FaultReject}
	})
	for _, tc := range []struct {
		comm, listen, dial, other string
	}{
		{"serve4", "127.0.0.1:5300", "127.0.0.1:5300", "127.0.0.1:9001"},
		{"serve6", "[::1]:5301", "[::1]:5301", "[::1]:9001"},
		{"servedual", "[::]:5302", "127.0.0.1:5302", "127.0.0.1:9002"},
	} {
		done := make(chan string, 1)
		go func() { done <- e.runIn(e.cgFD, tc.comm, "udp-serve", tc.listen, tc.other) }()
		// The client's socket is made in the namespace, outside the
		// cgroup; it is used from here, leaving the namespace's thread
		// free to start the server.
		var conn net.Conn
		var err error
		e.ns.Do(func() { conn, err = net.Dial("udp", tc.dial) })
		if err != nil {
			t.Fatal(err)
		}
		reply, err := udpAsk(conn, done)
		conn.Close()
		if err != nil {
			t.Errorf("%s: asking %s: %v", tc.comm, tc.dial, err)
		}
		if got := <-done; got != "reply:ok other:EPERM" {
			t.Errorf("%s: server says %q, want reply:ok other:EPERM", tc.comm, got)
		}
		if reply != "ping" {
			t.Errorf("%s: client got %q, want the echo", tc.comm, reply)
		}
	}
	probeLines, _, _ := e.attempts()
	want := []string{
		"serve4 denied 127.0.0.1:9001/udp eperm",
		"serve6 denied [::1]:9001/udp eperm",
		"servedual denied 127.0.0.1:9002/udp eperm",
	}
	if diff := cmp.Diff(want, probeLines); diff != "" {
		t.Errorf("probe attempts (-want +got):\n%s", diff)
	}
}

// udpAsk sends "ping" on c every 50 ms until an answer arrives, the
// server gives up (done), or 5 s pass.
func udpAsk(c net.Conn, done chan string) (string, error) {
	buf := make([]byte, 64)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.Write([]byte("ping")); err != nil {
			return "", err
		}
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if n, err := c.Read(buf); err == nil {
			return string(buf[:n]), nil
		}
		select {
		case out := <-done:
			done <- out // for the caller
			return "", fmt.Errorf("the server ended first: %s", out)
		default:
		}
	}
	return "", errors.New("no answer")
}

// TestParallelAttach attaches and detaches runs from several goroutines
// at once, more of them than the slots Open prepares, and checks that
// every run got a slot of its own and nothing was left behind.
func TestParallelAttach(t *testing.T) {
	e := newTestEnv(t, func(string) Spec { return Spec{} }, defaultLoadOptions)
	c := e.probe.c
	e.probe.Close()
	const n = 2 * preparedSlots
	cgroups := make([]string, n)
	for i := range cgroups {
		cgroups[i], _ = newCgroup(t)
	}
	var mu sync.Mutex
	slots := map[uint32]string{}
	var wg sync.WaitGroup
	for round := range 3 {
		for _, cg := range cgroups {
			wg.Go(func() {
				p, err := c.Attach(Spec{Cgroup: cg, DNS: netip.MustParseAddrPort(stub4)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if other, ok := slots[p.slot]; ok {
					t.Errorf("round %d: %s and %s hold slot %d at once", round, other, cg, p.slot)
				}
				slots[p.slot] = cg
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
				delete(slots, p.slot)
				mu.Unlock()
				if err := p.Close(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	checkEmpty(t, c)
}
