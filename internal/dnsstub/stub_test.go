package dnsstub

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/internal/dnsstub/dnsstubtest"
)

// upstream is a fake resolver on loopback: it answers NAME/A with
// 192.0.2.1 for names under example and NXDOMAIN otherwise, over UDP and
// TCP on the same port.
type upstream struct {
	addr netip.AddrPort
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{addr: addrPortOf(pc.LocalAddr())}
	l, err := net.Listen("tcp", u.addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close(); l.Close() })
	dnsstubtest.Serve(pc, l, "example.", netip.MustParseAddr("192.0.2.1"))
	return u
}

type stubEnv struct {
	stub *Stub
	udp  netip.AddrPort
	tcp  netip.AddrPort
	up   *upstream
}

// startStub serves cfg on loopback. Every client is attributed to the
// process "asker" and the resolver 10.0.0.53:53 unless cfg.Attribute is
// set; forwards go to the fake upstream unless cfg.Forward is set.
func startStub(t *testing.T, cfg Config) *stubEnv {
	t.Helper()
	up := startUpstream(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Attribute == nil {
		cfg.Attribute = func(collector.Protocol, netip.AddrPort) (Origin, bool) {
			return Origin{Process: collector.Process{PID: 42, Comm: "asker"}, CgroupID: 7, Resolver: netip.MustParseAddrPort("10.0.0.53:53")}, true
		}
	}
	if cfg.Forward == nil {
		cfg.Forward = Forwarder{Upstream: up.addr}.Exchange
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Second
	}
	s, err := Serve(context.Background(), cfg, []net.PacketConn{pc}, []net.Listener{l})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &stubEnv{stub: s, udp: addrPortOf(pc.LocalAddr()), tcp: addrPortOf(l.Addr()), up: up}
}

func mkQuery(t testing.TB, name string, typ dnsmessage.Type) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 0xbeef, RecursionDesired: true})
	b.StartQuestions()
	if err := b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}); err != nil {
		t.Fatal(err)
	}
	out, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ask sends msg and returns the response's rcode, or "timeout".
func ask(t testing.TB, proto string, to netip.AddrPort, msg []byte, wait time.Duration) string {
	t.Helper()
	c, err := net.Dial(proto, to.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	var resp []byte
	if proto == "udp" {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil {
			return "timeout"
		}
		resp = buf[:n]
	} else {
		if err := writeTCP(c, msg); err != nil {
			t.Fatal(err)
		}
		if resp, err = readTCP(c); err != nil {
			return "timeout"
		}
	}
	var p dnsmessage.Parser
	h, err := p.Start(resp)
	if err != nil {
		return "malformed"
	}
	if len(msg) >= 2 && h.ID != binary.BigEndian.Uint16(msg) {
		return "wrong id"
	}
	return strings.TrimPrefix(h.RCode.String(), "RCode")
}

func stubLines(t *testing.T, s *Stub) ([]string, collector.Collection) {
	t.Helper()
	r, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range r.Attempts {
		line := a.Process.Comm + " " + string(a.Verdict) + " " + a.DNSName + " " + a.DNSType + " via " +
			netip.AddrPortFrom(a.Address, a.Port).String()
		if a.Failure != "" {
			line += " " + a.Failure
		}
		if a.Upstream != "" {
			line += " upstream:" + string(a.Upstream)
		}
		if a.Count != 1 {
			line += fmt.Sprintf(" x%d", a.Count)
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out, r.Collection
}

func rules(t *testing.T) collector.Rules {
	t.Helper()
	c, err := collector.ParseCapability("10.0.0.53:53")
	if err != nil {
		t.Fatal(err)
	}
	return collector.Rules{
		Nets:             []collector.Capability{c},
		Names:            []string{"svc.example"},
		AnyResolverNames: []string{"*.any.example"},
		Claimed:          []string{"svc.example", "other.example", "gone.test"},
	}
}

func TestStubReject(t *testing.T) {
	e := startStub(t, Config{Rules: rules(t)})
	for _, tt := range []struct {
		proto string
		name  string
		typ   dnsmessage.Type
		want  string
	}{
		{"udp", "svc.example.", dnsmessage.TypeA, "Success"},
		{"udp", "SVC.Example.", dnsmessage.TypeA, "Success"},     // same question, another case
		{"tcp", "svc.example.", dnsmessage.TypeAAAA, "Success"},  // no answer, but the name exists
		{"udp", "other.example.", dnsmessage.TypeA, "Refused"},   // claimed by a service not allowed
		{"tcp", "unowned.example.", dnsmessage.TypeA, "Success"}, // nobody claims it, resolver allowed
		{"udp", "a.any.example.", dnsmessage.TypeTXT, "Success"}, // dns capability
		{"udp", "nowhere.test.", dnsmessage.TypeA, "NameError"},  // allowed, does not exist upstream
		{"udp", "gone.test.", dnsmessage.TypeA, "Refused"},       // denied; not asked upstream by default
	} {
		to := e.udp
		if tt.proto == "tcp" {
			to = e.tcp
		}
		if got := ask(t, tt.proto, to, mkQuery(t, tt.name, tt.typ), 2*time.Second); got != tt.want {
			t.Errorf("%s %s %v = %s, want %s", tt.proto, tt.name, tt.typ, got, tt.want)
		}
	}
	got, col := stubLines(t, e.stub)
	want := []string{
		"asker allowed a.any.example TXT via 10.0.0.53:53",
		"asker allowed nowhere.test A via 10.0.0.53:53 nxdomain upstream:absent",
		"asker allowed svc.example A via 10.0.0.53:53 x2",
		"asker allowed svc.example AAAA via 10.0.0.53:53",
		"asker allowed unowned.example A via 10.0.0.53:53",
		"asker denied gone.test A via 10.0.0.53:53 refused",
		"asker denied other.example A via 10.0.0.53:53 refused",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	if !col.Complete || col.Lost != 0 || len(col.NotRecorded) != 0 {
		t.Errorf("collection = %+v", col)
	}
}

func TestStubDeniedResolver(t *testing.T) {
	// The caller addressed a resolver that is not allowed: only names of
	// dns capabilities pass.
	e := startStub(t, Config{
		Rules: rules(t),
		Attribute: func(collector.Protocol, netip.AddrPort) (Origin, bool) {
			return Origin{Process: collector.Process{PID: 1, Comm: "rogue"}, Resolver: netip.MustParseAddrPort("203.0.113.9:53")}, true
		},
	})
	if got := ask(t, "udp", e.udp, mkQuery(t, "svc.example.", dnsmessage.TypeA), time.Second); got != "Refused" {
		t.Errorf("svc.example via a denied resolver = %s, want Refused", got)
	}
	if got := ask(t, "udp", e.udp, mkQuery(t, "b.any.example.", dnsmessage.TypeA), time.Second); got != "Success" {
		t.Errorf("b.any.example via a denied resolver = %s, want Success", got)
	}
	got, _ := stubLines(t, e.stub)
	want := []string{
		"rogue allowed b.any.example A via 203.0.113.9:53",
		"rogue denied svc.example A via 203.0.113.9:53 refused",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

// TestStubAskDenied checks that with AskDenied a denied question is asked
// upstream, once, to learn whether its name exists there, and that the
// caller still gets REFUSED (reject) or nothing (blackhole), also when the
// resolver the caller addressed is the one denied.
func TestStubAskDenied(t *testing.T) {
	for _, tt := range []struct {
		name     string
		fault    collector.FaultMode
		resolver string
		want     string
		lines    []string
	}{
		{"reject", collector.FaultReject, "10.0.0.53:53", "Refused", []string{
			"asker denied gone.test A via 10.0.0.53:53 refused upstream:absent x2",
			"asker denied other.example A via 10.0.0.53:53 refused",
		}},
		{"blackhole", collector.FaultBlackhole, "10.0.0.53:53", "timeout", []string{
			"asker denied gone.test A via 10.0.0.53:53 dropped upstream:absent x2",
			"asker denied other.example A via 10.0.0.53:53 dropped",
		}},
		{"denied resolver", collector.FaultReject, "203.0.113.9:53", "Refused", []string{
			"asker denied gone.test A via 203.0.113.9:53 refused upstream:absent x2",
			"asker denied other.example A via 203.0.113.9:53 refused",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var forwards atomic.Int32
			var e *stubEnv
			e = startStub(t, Config{
				Rules:     rules(t),
				Fault:     tt.fault,
				AskDenied: true,
				Attribute: func(collector.Protocol, netip.AddrPort) (Origin, bool) {
					return Origin{Process: collector.Process{PID: 42, Comm: "asker"}, Resolver: netip.MustParseAddrPort(tt.resolver)}, true
				},
				Forward: func(ctx context.Context, proto collector.Protocol, _ netip.AddrPort, q []byte) ([]byte, error) {
					forwards.Add(1)
					return Forwarder{Upstream: e.up.addr}.Exchange(ctx, proto, netip.AddrPort{}, q)
				},
			})
			for _, q := range []string{"gone.test.", "gone.test.", "other.example."} {
				if got := ask(t, "udp", e.udp, mkQuery(t, q, dnsmessage.TypeA), 300*time.Millisecond); got != tt.want {
					t.Errorf("%s = %s, want %s", q, got, tt.want)
				}
			}
			got, _ := stubLines(t, e.stub)
			if diff := cmp.Diff(tt.lines, got); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
			if n := forwards.Load(); n != 2 {
				t.Errorf("%d questions asked upstream, want 2 (each denied question once)", n)
			}
		})
	}
}

func TestStubBlackhole(t *testing.T) {
	e := startStub(t, Config{Rules: rules(t), Fault: collector.FaultBlackhole})
	if got := ask(t, "udp", e.udp, mkQuery(t, "other.example.", dnsmessage.TypeA), 300*time.Millisecond); got != "timeout" {
		t.Errorf("denied question over UDP = %s, want no answer", got)
	}
	if got := ask(t, "tcp", e.tcp, mkQuery(t, "other.example.", dnsmessage.TypeA), 300*time.Millisecond); got != "timeout" {
		t.Errorf("denied question over TCP = %s, want no answer", got)
	}
	if got := ask(t, "udp", e.udp, mkQuery(t, "svc.example.", dnsmessage.TypeA), time.Second); got != "Success" {
		t.Errorf("allowed question = %s, want Success", got)
	}
	got, _ := stubLines(t, e.stub)
	want := []string{
		"asker allowed svc.example A via 10.0.0.53:53",
		"asker denied other.example A via 10.0.0.53:53 dropped x2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

func TestStubForwardFailure(t *testing.T) {
	e := startStub(t, Config{
		Rules: rules(t),
		Forward: func(context.Context, collector.Protocol, netip.AddrPort, []byte) ([]byte, error) {
			return nil, errors.New("unreachable")
		},
	})
	if got := ask(t, "udp", e.udp, mkQuery(t, "svc.example.", dnsmessage.TypeA), time.Second); got != "ServerFailure" {
		t.Errorf("failed forward = %s, want ServerFailure", got)
	}
	got, _ := stubLines(t, e.stub)
	if want := []string{"asker allowed svc.example A via 10.0.0.53:53 servfail"}; !cmp.Equal(want, got) {
		t.Errorf("attempts = %q, want %q", got, want)
	}
}

func TestStubUnattributed(t *testing.T) {
	// Without attribution the resolver is the stub itself, which rules do
	// not allow, and a Forwarder without Upstream has nowhere to go.
	e := startStub(t, Config{
		Rules:     rules(t),
		Attribute: func(collector.Protocol, netip.AddrPort) (Origin, bool) { return Origin{}, false },
		Forward:   Forwarder{}.Exchange,
	})
	if got := ask(t, "udp", e.udp, mkQuery(t, "c.any.example.", dnsmessage.TypeA), time.Second); got != "ServerFailure" {
		t.Errorf("unattributed question without upstream = %s, want ServerFailure", got)
	}
	if got := ask(t, "udp", e.udp, mkQuery(t, "svc.example.", dnsmessage.TypeA), time.Second); got != "Refused" {
		t.Errorf("svc.example asked of the stub itself = %s, want Refused", got)
	}
	got, _ := stubLines(t, e.stub)
	want := []string{
		" allowed c.any.example A via " + e.udp.String() + " servfail",
		" denied svc.example A via " + e.udp.String() + " refused",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

func TestStubMalformed(t *testing.T) {
	e := startStub(t, Config{Rules: rules(t)})
	q := mkQuery(t, "svc.example.", dnsmessage.TypeA)
	if got := ask(t, "udp", e.udp, q[:14], time.Second); got != "FormatError" {
		t.Errorf("truncated question = %s, want FormatError", got)
	}
	if got := ask(t, "udp", e.udp, q[:5], 300*time.Millisecond); got != "timeout" {
		t.Errorf("truncated header = %s, want no answer", got)
	}
	notify := append([]byte(nil), q...)
	notify[2] |= 4 << 3 // opcode NOTIFY
	if got := ask(t, "udp", e.udp, notify, time.Second); got != "NotImplemented" {
		t.Errorf("NOTIFY = %s, want NotImplemented", got)
	}
	got, col := stubLines(t, e.stub)
	if len(got) != 0 {
		t.Errorf("attempts = %q, want none", got)
	}
	if len(col.NotRecorded) != 1 || !strings.Contains(col.NotRecorded[0], "2 malformed") {
		t.Errorf("NotRecorded = %q, want the 2 malformed messages named", col.NotRecorded)
	}
}

func TestStubLossIsCounted(t *testing.T) {
	e := startStub(t, Config{Rules: rules(t), MaxAttempts: 2})
	for _, n := range []string{"a.any.example.", "b.any.example.", "c.any.example.", "a.any.example."} {
		ask(t, "udp", e.udp, mkQuery(t, n, dnsmessage.TypeA), time.Second)
	}
	got, col := stubLines(t, e.stub)
	if len(got) != 2 || col.Complete || col.Lost != 1 {
		t.Errorf("attempts %q, collection %+v: want 2 attempts, 1 lost, incomplete", got, col)
	}
}

func TestStubTCPPipelining(t *testing.T) {
	e := startStub(t, Config{Rules: rules(t)})
	c, err := net.Dial("tcp", e.tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	for _, n := range []string{"svc.example.", "other.example.", "svc.example."} {
		if err := writeTCP(c, mkQuery(t, n, dnsmessage.TypeA)); err != nil {
			t.Fatal(err)
		}
	}
	var rcodes []string
	for range 3 {
		resp, err := readTCP(c)
		if err != nil {
			t.Fatal(err)
		}
		var p dnsmessage.Parser
		h, _ := p.Start(resp)
		rcodes = append(rcodes, strings.TrimPrefix(h.RCode.String(), "RCode"))
	}
	if want := []string{"Success", "Refused", "Success"}; !cmp.Equal(rcodes, want) {
		t.Errorf("rcodes = %v, want %v", rcodes, want)
	}
}

func TestServeErrors(t *testing.T) {
	if _, err := Serve(context.Background(), Config{}, nil, nil); err == nil {
		t.Error("Serve without sockets succeeded")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := Serve(context.Background(), Config{Fault: "drop"}, []net.PacketConn{pc}, nil); err == nil {
		t.Error("Serve with an unknown fault mode succeeded")
	}
}

func TestServeStopsWithContext(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Serve(ctx, Config{}, []net.PacketConn{pc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return after the context was cancelled")
	}
}
