package probe

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector"
)

func mustCap(t testing.TB, s string) collector.Capability {
	t.Helper()
	c, err := collector.ParseCapability(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testRules allows one TCP and one UDP service per family, one resolver,
// two unix paths, and the DNS names svc.example (through an allowed
// resolver) and any.example (through any resolver); claimed.example
// belongs to a service that is not allowed.
func testRules(t testing.TB, dir string) collector.Rules {
	return collector.Rules{
		Nets: []collector.Capability{
			mustCap(t, "10.99.0.1:8080-8090/tcp"),
			mustCap(t, "[fd99::1]:8080/tcp"),
			mustCap(t, "10.99.0.1:9000/udp"),
			mustCap(t, "[fd99::1]:9000/udp"),
			mustCap(t, "10.99.0.53:53"),
			mustCap(t, "10.98.0.2:80/tcp"),  // allowed, but frames to it vanish
			mustCap(t, "10.200.0.1:80/tcp"), // allowed, but not routed
		},
		Unix:             []string{dir + "/allowed.sock", dir + "/dir/*"},
		Names:            []string{"svc.example"},
		AnyResolverNames: []string{"any.example"},
		Claimed:          []string{"svc.example", "claimed.example"},
	}
}

type step struct {
	comm, action string
	args         []string
	want         string // the start of the helper's output
}

func (e *testEnv) runSteps(steps []step) {
	e.t.Helper()
	for _, s := range steps {
		got := e.run(s.comm, s.action, s.args...)
		if !strings.HasPrefix(got, s.want) {
			e.t.Errorf("%s %s %v = %q, want %q", s.comm, s.action, s.args, got, s.want)
		}
	}
}

// sorted returns lines sorted, as testEnv.attempts returns them.
func sorted(lines []string) []string {
	out := slices.Clone(lines)
	slices.Sort(out)
	return out
}

func writeResolvConf(t testing.TB, dir, server string) string {
	p := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(p, []byte("nameserver "+server+"\noptions timeout:1 attempts:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFile waits for a helper to write its result.
func waitFile(t testing.TB, path string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return string(b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no result in %s", path)
	return ""
}

func TestProbeReject(t *testing.T) {
	e := newTestEnv(t, func(dir string) Spec {
		return Spec{Rules: testRules(t, dir), Fault: collector.FaultReject}
	})

	d := e.dir
	resolv := writeResolvConf(t, d, "10.99.0.53")
	result := filepath.Join(d, "grandchild.result")
	e.runSteps([]step{
		{"tcp4ok", "connect", []string{"tcp", "10.99.0.1:8080", "1000"}, "ok"},
		{"tcp4lo", "connect", []string{"tcp", "127.0.0.1:8081", "1000"}, "EPERM"},
		{"tcp6ok", "connect", []string{"tcp", "[fd99::1]:8080", "1000"}, "ok"},
		{"tcp6lo", "connect", []string{"tcp", "[::1]:8081", "1000"}, "EPERM"},
		{"tcpmapped", "connect", []string{"tcp", "[::ffff:10.99.0.1]:8080", "1000"}, "ok"},
		{"tcprefused", "connect", []string{"tcp", "10.99.0.1:8085", "1000"}, "ECONNREFUSED"},
		{"tcpabandon", "connect", []string{"tcp", "10.98.0.2:80", "300"}, "timeout"},
		{"tcpnoroute", "connect", []string{"tcp", "10.200.0.1:80", "300"}, "ENETUNREACH"},
		{"udp4ok", "sendto", []string{"10.99.0.1:9000"}, "ok"},
		{"udp4lo", "sendto", []string{"127.0.0.1:9001"}, "EPERM"},
		{"udp6ok", "sendto", []string{"[fd99::1]:9000"}, "ok"},
		{"udpconn", "connect", []string{"udp", "127.0.0.1:9001", "1000"}, "EPERM"},
		{"unixok", "unix-connect", []string{d + "/allowed.sock"}, "ok"},
		{"unixdeny", "unix-connect", []string{d + "/denied.sock"}, "EPERM"},
		{"unixabs", "unix-connect", []string{"@rgraph-test-abstract"}, "EPERM"},
		{"unixsub", "unix-sendto", []string{d + "/dir/dgram.sock"}, "ok"},
		{"unixdgram", "unix-sendto", []string{d + "/dgram-denied.sock"}, "EPERM"},
		{"unixabsent", "unix-connect", []string{d + "/dir/missing.sock"}, "ENOENT"},
		{"unixstale", "unix-connect", []string{d + "/dir/stale.sock"}, "ECONNREFUSED"},
		{"rawicmp", "socket", []string{"2", "3", "1"}, "EPERM"},   // AF_INET, SOCK_RAW, ICMP
		{"pingsock", "socket", []string{"2", "2", "1"}, "EACCES"}, // AF_INET, SOCK_DGRAM, ICMP: ping_group_range refuses before sock_create
		{"packet", "socket", []string{"17", "3", "768"}, "ok"},    // AF_PACKET: hooks cannot refuse it
		{"packetnocap", "socket", []string{"17", "3", "768", "nocap"}, "EPERM"},
		{"dnsdirect", "dns", []string{"udp", "10.99.0.99:53", "any.example", "2000"}, "rcode:Success from:10.99.0.99:53"},
		{"dnsdenied", "dns", []string{"udp", "10.99.0.99:53", "svc.example", "2000"}, "rcode:Refused from:10.99.0.99:53"},
		{"dnstcp", "dns", []string{"tcp", "10.99.0.53:53", "svc.example", "2000"}, "rcode:Success from:10.99.0.53:53"},
		{"dns6", "dns", []string{"udp", "[fd99::53]:53", "any.example", "2000"}, "rcode:Success from:[fd99::53]:53"},
		{"dnsmapped", "dns", []string{"udp", "[::ffff:10.99.0.53]:53", "svc.example", "2000"}, "rcode:Success from:10.99.0.53:53"},
		{"x", "getent", []string{resolv, "svc.example"}, "10.99.0.1       STREAM svc.example"},
		{"x", "getent", []string{resolv, "claimed.example"}, ""},
		{"forker", "spawn", []string{"wait", "-", "child1", "connect", "tcp", "10.99.0.1:8080", "1000"}, "ok"},
		{"middle", "spawn", []string{"detach", result, "grandchild", "connect", "tcp", "10.99.0.1:8080", "1000"}, "detached"},
	})
	if got := waitFile(t, result); got != "ok" {
		t.Errorf("grandchild connect = %q, want ok", got)
	}

	probeLines, stubLines, col := e.attempts()
	wantProbe := []string{
		"child1 allowed 10.99.0.1:8080/tcp",
		"dns6 redirected [fd99::53]:53/udp",
		"dnsdenied redirected 10.99.0.99:53/udp",
		"dnsdirect redirected 10.99.0.99:53/udp",
		"dnsmapped redirected 10.99.0.53:53/udp",
		"dnstcp redirected 10.99.0.53:53/tcp",
		"getent denied unix:/var/run/nscd/socket eperm", // glibc tries nscd first
		"getent redirected 10.99.0.53:53/udp",
		"grandchild allowed 10.99.0.1:8080/tcp",
		"packet allowed raw:packet",
		"packetnocap denied raw:packetnocap eperm",
		"pingsock denied raw:pingsock eperm",
		"rawicmp denied raw:rawicmp eperm",
		"tcp4lo denied 127.0.0.1:8081/tcp eperm",
		"tcpabandon allowed 10.98.0.2:80/tcp abandoned",
		"tcpnoroute allowed 10.200.0.1:80/tcp unreachable",
		"tcp4ok allowed 10.99.0.1:8080/tcp",
		"tcp6lo denied [::1]:8081/tcp eperm",
		"tcp6ok allowed [fd99::1]:8080/tcp",
		"tcpmapped allowed 10.99.0.1:8080/tcp",
		"tcprefused allowed 10.99.0.1:8085/tcp refused",
		"udp4lo denied 127.0.0.1:9001/udp eperm",
		"udp4ok allowed 10.99.0.1:9000/udp",
		"udp6ok allowed [fd99::1]:9000/udp",
		"udpconn denied 127.0.0.1:9001/udp eperm",
		"unixabs denied unix:@rgraph-test-abstract eperm",
		"unixabsent allowed unix:" + d + "/dir/missing.sock absent",
		"unixdeny denied unix:" + d + "/denied.sock eperm",
		"unixdgram denied unix:" + d + "/dgram-denied.sock eperm",
		"unixok allowed unix:" + d + "/allowed.sock",
		"unixstale allowed unix:" + d + "/dir/stale.sock refused",
		"unixsub allowed unix:" + d + "/dir/dgram.sock",
	}
	if diff := cmp.Diff(sorted(wantProbe), probeLines); diff != "" {
		t.Errorf("probe attempts (-want +got):\n%s", diff)
	}
	wantStub := []string{
		"dns6 allowed dns:any.example A via [fd99::53]:53",
		"dnsdenied denied dns:svc.example A via 10.99.0.99:53 refused",
		"dnsdirect allowed dns:any.example A via 10.99.0.99:53",
		"dnsmapped allowed dns:svc.example A via 10.99.0.53:53",
		"dnstcp allowed dns:svc.example A via 10.99.0.53:53",
		"getent allowed dns:svc.example A via 10.99.0.53:53",
		"getent denied dns:claimed.example A via 10.99.0.53:53 refused",
	}
	if diff := cmp.Diff(sorted(wantStub), stubLines); diff != "" {
		t.Errorf("stub attempts (-want +got):\n%s", diff)
	}
	if !col.Complete || col.Lost != 0 || len(col.NotRecorded) != 0 {
		t.Errorf("collection = %+v, want complete with nothing lost or unrecorded", col)
	}
}

func TestProbeBlackhole(t *testing.T) {
	e := newTestEnv(t, func(dir string) Spec {
		return Spec{Rules: testRules(t, dir), Fault: collector.FaultBlackhole}
	})
	d := e.dir
	e.runSteps([]step{
		// Denied TCP connects hang instead of failing, loopback included.
		{"bhtcp", "connect", []string{"tcp", "127.0.0.1:8081", "700"}, "timeout"},
		{"bhtcp6", "connect", []string{"tcp", "[::1]:8081", "700"}, "timeout"},
		{"bhmapped", "connect", []string{"tcp", "[::ffff:127.0.0.1]:8081", "700"}, "timeout"},
		// Denied UDP sends succeed, and nothing arrives.
		{"bhudp", "sendto", []string{"127.0.0.1:9001"}, "ok"},
		{"bhudpconn", "connect", []string{"udp", "127.0.0.1:9001", "700"}, "ok"},
		// Allowed traffic still flows.
		{"okudp", "sendto", []string{"10.99.0.1:9000"}, "ok"},
		{"oktcp", "connect", []string{"tcp", "10.99.0.1:8080", "1000"}, "ok"},
		// Unix and raw sockets cannot be blackholed: EPERM.
		{"bhunix", "unix-connect", []string{d + "/denied.sock"}, "EPERM"},
		{"bhraw", "socket", []string{"2", "3", "1"}, "EPERM"},
		// A denied question gets no answer; an allowed one does.
		{"bhdns", "dns", []string{"udp", "10.99.0.99:53", "svc.example", "700"}, "timeout"},
		{"bhdnstcp", "dns", []string{"tcp", "10.99.0.53:53", "claimed.example", "700"}, "timeout"},
		{"okdns", "dns", []string{"udp", "10.99.0.99:53", "any.example", "2000"}, "rcode:Success from:10.99.0.99:53"},
	})
	// Give stray packets time to arrive, should any have escaped.
	time.Sleep(100 * time.Millisecond)
	if n := e.udpSeen.Load(); n != 1 {
		t.Errorf("UDP services received %d datagrams, want 1 (okudp only)", n)
	}
	if n := e.tcpSeen.Load(); n != 1 {
		t.Errorf("TCP services accepted %d connections, want 1 (oktcp only)", n)
	}

	probeLines, stubLines, col := e.attempts()
	wantProbe := []string{
		"bhdns redirected 10.99.0.99:53/udp",
		"bhdnstcp redirected 10.99.0.53:53/tcp",
		"bhmapped denied 127.0.0.1:8081/tcp dropped",
		"bhraw denied raw:bhraw eperm",
		"bhtcp denied 127.0.0.1:8081/tcp dropped",
		"bhtcp6 denied [::1]:8081/tcp dropped",
		"bhudp denied 127.0.0.1:9001/udp dropped",
		"bhudpconn denied 127.0.0.1:9001/udp dropped",
		"bhunix denied unix:" + d + "/denied.sock eperm",
		"okdns redirected 10.99.0.99:53/udp",
		"oktcp allowed 10.99.0.1:8080/tcp",
		"okudp allowed 10.99.0.1:9000/udp",
	}
	if diff := cmp.Diff(sorted(wantProbe), probeLines); diff != "" {
		t.Errorf("probe attempts (-want +got):\n%s", diff)
	}
	wantStub := []string{
		"bhdns denied dns:svc.example A via 10.99.0.99:53 dropped",
		"bhdnstcp denied dns:claimed.example A via 10.99.0.53:53 dropped",
		"okdns allowed dns:any.example A via 10.99.0.99:53",
	}
	if diff := cmp.Diff(sorted(wantStub), stubLines); diff != "" {
		t.Errorf("stub attempts (-want +got):\n%s", diff)
	}
	if !col.Complete || col.Lost != 0 {
		t.Errorf("collection = %+v, want complete", col)
	}
}
