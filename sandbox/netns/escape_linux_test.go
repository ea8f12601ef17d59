package netns_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/internal/netnspin"
	"github.com/rgraph/rgraph/internal/nsthread"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/netns"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// The escape suite runs deliberate and accidental attempts to leave a
// sealed run, each in a sandbox of its own whose upstream is a network
// namespace this test creates, with listeners on every address and port
// an attempt aims at. Each case asserts that the attempt was blocked, that
// the record holds it with the right verdict and service, and that its
// listener heard nothing. Two controls, allowed, show that the listeners
// do hear what gets through. The test binary itself is the tool the
// runbooks run (escapeEnv).

// escapeEnv makes the test binary perform one escape action (escapeDo)
// and exit: "REACHED" and 0 when the action got through, "BLOCKED: why"
// and 1 when it did not.
const escapeEnv = "RGRAPH_ESCAPE_ACTION"

func init() {
	if os.Getenv(escapeEnv) != "" {
		if err := escapeDo(os.Args[1:]); err != nil {
			fmt.Println("BLOCKED:", err)
			os.Exit(1)
		}
		fmt.Println("REACHED")
		os.Exit(0)
	}
}

// The upstream's addresses, on its loopback device.
var (
	esc4   = netip.MustParseAddr("10.77.0.1")
	esc6   = netip.MustParseAddr("fd77::1")
	escDNS = netip.MustParseAddr("10.77.0.53")
)

// escapeDo performs one action; see the cases of TestEscape.
func escapeDo(args []string) error {
	if len(args) == 0 {
		return errors.New("no action")
	}
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch args[0] {
	case "tcp":
		c, err := net.DialTimeout("tcp", arg(1), 2*time.Second)
		if err != nil {
			return err
		}
		_, err = c.Write([]byte("escaped\n"))
		c.Close()
		return err
	case "udp":
		pc, err := net.ListenPacket("udp", ":0")
		if err != nil {
			return err
		}
		defer pc.Close()
		to, err := net.ResolveUDPAddr("udp", arg(1))
		if err != nil {
			return err
		}
		_, err = pc.WriteTo([]byte("escaped\n"), to)
		return err
	case "udp-connected":
		c, err := net.Dial("udp", arg(1))
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("escaped\n"))
		return err
	case "tfo":
		ap := netip.MustParseAddrPort(arg(1))
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Sendto(fd, []byte("escaped\n"), unix.MSG_FASTOPEN, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())})
	case "sendmmsg":
		return sendmmsg(args[1:])
	case "raw":
		return openSocket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	case "packet":
		return openSocket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
	case "ping":
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		echo := []byte{8, 0, 0xf7, 0xff, 0, 0, 0, 0} // type 8, checksum of the rest
		return unix.Sendto(fd, echo, 0, &unix.SockaddrInet4{Addr: esc4.As4()})
	case "unix":
		c, err := net.DialTimeout("unix", arg(1), 2*time.Second)
		if err != nil {
			return err
		}
		c.Close()
		return nil
	case "dns-udp", "dns-tcp":
		return askDNS(strings.TrimPrefix(args[0], "dns-"), arg(1), arg(2))
	case "cgroup-move":
		// Move into the cgroup whose cgroup.procs is arg(1), then connect.
		if err := os.WriteFile(arg(1), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
			fmt.Println("moving:", err)
		}
		return escapeDo([]string{"tcp", arg(2)})
	case "socket-then-move":
		ap := netip.MustParseAddrPort(arg(2))
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := os.WriteFile(arg(1), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
			fmt.Println("moving:", err)
		}
		return unix.Connect(fd, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())})
	}
	return fmt.Errorf("unknown action %q", args[0])
}

func openSocket(family, typ, proto int) error {
	fd, err := unix.Socket(family, typ, proto)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// sendmmsg sends one datagram to each address with a single sendmmsg
// call on an unconnected UDP socket.
func sendmmsg(addrs []string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	payload := []byte("escaped\n")
	names := make([]unix.RawSockaddrInet4, len(addrs))
	iovs := make([]unix.Iovec, len(addrs))
	msgs := make([]unix.Mmsghdr, len(addrs))
	for i, a := range addrs {
		ap := netip.MustParseAddrPort(a)
		names[i] = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: ap.Addr().As4()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&names[i].Port))[:], ap.Port())
		iovs[i] = unix.Iovec{Base: &payload[0]}
		iovs[i].SetLen(len(payload))
		msgs[i].Hdr = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&names[i])), Namelen: unix.SizeofSockaddrInet4, Iov: &iovs[i]}
		msgs[i].Hdr.SetIovlen(1)
	}
	n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), uintptr(len(msgs)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	if int(n) < len(msgs) {
		return fmt.Errorf("sent %d of %d datagrams", n, len(msgs))
	}
	return nil
}

// askDNS asks server (ADDR:PORT) for name's A record over network and
// wants an answer that is not a refusal.
func askDNS(network, server, name string) error {
	q := dnsmessage.Message{Header: dnsmessage.Header{ID: 7, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name + "."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}}}
	b, err := q.Pack()
	if err != nil {
		return err
	}
	c, err := net.DialTimeout(network, server, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if network == "tcp" {
		b = append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)
	}
	if _, err := c.Write(b); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if network == "tcp" {
		buf, n = buf[2:], n-2
	}
	var m dnsmessage.Message
	if err := m.Unpack(buf[:n]); err != nil {
		return err
	}
	if m.RCode != dnsmessage.RCodeSuccess {
		return fmt.Errorf("answered %v", m.RCode)
	}
	return nil
}

// escapeNet is an upstream the tests' sandboxes leak back to: a network
// namespace with esc4, esc6 and escDNS on its loopback device and
// listeners that count what reaches them, by protocol and port.
type escapeNet struct {
	name string
	fd   int
	// pid is a process in the namespace.
	pid   int
	mu    sync.Mutex
	heard map[string]*atomic.Int64 // "tcp/7001", "udp/53", "unix:/path", "unix:@name"
	close []io.Closer
}

// count returns the counter of what reached key's listener.
func (u *escapeNet) count(key string) *atomic.Int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.heard[key] == nil {
		u.heard[key] = new(atomic.Int64)
	}
	return u.heard[key]
}

// heardFrom returns how many connections or datagrams reached key.
func (u *escapeNet) heardFrom(key string) int64 { return u.count(key).Load() }

func (u *escapeNet) serveStream(key string, l net.Listener) {
	u.mu.Lock()
	u.close = append(u.close, l)
	u.mu.Unlock()
	n := u.count(key)
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

func (u *escapeNet) servePackets(key string, pc net.PacketConn) {
	u.mu.Lock()
	u.close = append(u.close, pc)
	u.mu.Unlock()
	n := u.count(key)
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			n.Add(1)
		}
	}()
}

// newEscapeNet creates the upstream namespace; t's cleanup removes it
// with everything started in it.
func newEscapeNet(t *testing.T) *escapeNet {
	t.Helper()
	u := &escapeNet{name: fmt.Sprintf("rgtest-up-%d", os.Getpid()), fd: -1, heard: map[string]*atomic.Int64{}}
	t.Cleanup(func() {
		for _, c := range u.close {
			c.Close()
		}
		if u.fd >= 0 {
			unix.Close(u.fd)
		}
		if err := netnspin.Unpin(u.name); err != nil {
			t.Errorf("removing the upstream namespace: %v", err)
		}
	})
	err := nsthread.Do(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return err
		}
		if err := netnspin.Pin(u.name, fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())); err != nil {
			return err
		}
		var err error
		u.fd, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetUp(lo); err != nil {
			return err
		}
		for _, p := range []string{esc4.String() + "/32", escDNS.String() + "/32", esc6.String() + "/128"} {
			a, err := netlink.ParseAddr(p)
			if err != nil {
				return err
			}
			if err := netlink.AddrAdd(lo, a); err != nil && !strings.Contains(p, ":") { // no IPv6: fine
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("creating the upstream namespace: %v", err)
	}
	return u
}

// in runs f on a thread in the upstream namespace: sockets it creates and
// processes it starts live there.
func (u *escapeNet) in(t *testing.T, f func() error) {
	t.Helper()
	err := nsthread.Do(func() error {
		if err := unix.Setns(u.fd, unix.CLONE_NEWNET); err != nil {
			return err
		}
		return f()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// listen starts counting listeners on every address of the namespace:
// TCP and UDP ports, and an abstract unix socket when abstract is set;
// and a process that stays there (pid).
func (u *escapeNet) listen(t *testing.T, tcpPorts, udpPorts []int, abstract string) {
	t.Helper()
	u.in(t, func() error {
		for _, p := range tcpPorts {
			l, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
			if err != nil {
				return err
			}
			u.serveStream(fmt.Sprintf("tcp/%d", p), l)
		}
		for _, p := range udpPorts {
			pc, err := net.ListenPacket("udp", fmt.Sprintf(":%d", p))
			if err != nil {
				return err
			}
			u.servePackets(fmt.Sprintf("udp/%d", p), pc)
		}
		if abstract != "" {
			l, err := net.Listen("unix", abstract)
			if err != nil {
				return err
			}
			u.serveStream("unix:"+abstract, l)
		}
		sleeper := exec.Command("sleep", "600")
		if err := sleeper.Start(); err != nil {
			return err
		}
		u.pid = sleeper.Process.Pid
		t.Cleanup(func() {
			sleeper.Process.Kill()
			sleeper.Wait()
		})
		return nil
	})
}

// listenUnix serves a unix socket at path on the host, counted as
// "unix:"+path.
func (u *escapeNet) listenUnix(t *testing.T, path string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	u.serveStream("unix:"+path, l)
}

// wantAttempt is an attempt a case's record must hold.
type wantAttempt struct {
	endpoint string // collector.Attempt.Endpoint()
	verdict  collector.Verdict
	service  string // the catalog service it is credited to; "" for none
}

// escapeCase is one row of the suite's table.
type escapeCase struct {
	name string
	// shell is the runbook: one step per line. $BIN is the test binary
	// (escapeDo), $SECRET, $SHARED, $CGROUP, $ID are set.
	shell string
	allow []string
	want  []wantAttempt
	// listeners are the keys of the listeners the case aims at: they must
	// hear nothing, or something for a control.
	listeners []string
	control   bool
	// blackhole runs the case in blackhole mode: denied datagrams are
	// sent (and dropped), so only the listeners tell that they were
	// blocked.
	blackhole bool
}

// TestEscape runs the escape suite and prints its table.
func TestEscape(t *testing.T) {
	sandboxtest.RequireSandbox(t)
	dir, err := os.MkdirTemp("", "rgtest-esc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	shared := filepath.Join(dir, "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret.sock")
	abstract := fmt.Sprintf("@rgtest-esc-%d", os.Getpid())
	tcp := []int{7001, 7002, 7003, 7004, 7010, 7013, 7015, 7016, 7017, 7020, 7021, 7024, 7025, 7099, 53}
	udp := []int{7011, 7012, 7014, 7022, 7023, 53, 5353}
	u := newEscapeNet(t)
	u.listen(t, tcp, udp, abstract)
	u.listenUnix(t, secret)
	u.listenUnix(t, filepath.Join(shared, "ok.sock"))
	cat, err := collector.ParseCatalog(fmt.Appendf(nil, `schemaVersion: 1
kind: catalog
services:
  - {name: up4, endpoints: ["%s"]}
  - {name: up6, endpoints: ["%s"]}
  - {name: resolver, endpoints: ["%s"], dns: [secret.example]}
  - {name: secret, unix: ["%s"]}
  - {name: shared, unix: ["%s/*"]}
  - {name: abstract, unix: ["%s"]}
`, esc4, esc6, escDNS, secret, shared, abstract), "escape-catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	root, err := cgroupRootForTest()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e4 := func(port int) string { return netip.AddrPortFrom(esc4, uint16(port)).String() }
	e6 := func(port int) string { return netip.AddrPortFrom(esc6, uint16(port)).String() }
	denied := func(endpoint, service string) wantAttempt { return wantAttempt{endpoint, collector.Denied, service} }
	tcpKey := func(port int) string { return fmt.Sprintf("tcp/%d", port) }
	udpKey := func(port int) string { return fmt.Sprintf("udp/%d", port) }
	cases := []escapeCase{
		{name: "leave the cgroup", shell: "$BIN cgroup-move $CGROUP/cgroup.procs " + e4(7001),
			want: []wantAttempt{denied(e4(7001)+"/tcp", "up4")}, listeners: []string{tcpKey(7001)}},
		{name: "move into the validation cgroup", shell: "$BIN cgroup-move $CGROUP/rgraph/$ID/validate/cgroup.procs " + e4(7002),
			want: []wantAttempt{denied(e4(7002)+"/tcp", "up4")}, listeners: []string{tcpKey(7002)}},
		{name: "detach the recorder", shell: "for id in $(bpftool link list 2>&1 | cut -d: -f1); do bpftool link detach id $id; done; echo; $BIN tcp " + e4(7003),
			want: []wantAttempt{denied(e4(7003)+"/tcp", "up4")}, listeners: []string{tcpKey(7003)}},
		{name: "socket first, then leave", shell: "$BIN socket-then-move $CGROUP/cgroup.procs " + e4(7004),
			want: []wantAttempt{denied(e4(7004)+"/tcp", "up4")}, listeners: []string{tcpKey(7004)}},
		{name: "unix:DIR/* allowed, DIR/../secret.sock", shell: "$BIN unix $SHARED/../secret.sock", allow: []string{"service:shared"},
			want: []wantAttempt{denied("unix:"+secret, "secret")}, listeners: []string{"unix:" + secret}},
		{name: "unix:DIR/* allowed, symlink in DIR", shell: "ln -sf ../secret.sock $SHARED/link.sock; $BIN unix $SHARED/link.sock", allow: []string{"service:shared"},
			want: []wantAttempt{{"unix:" + shared + "/link.sock", collector.Allowed, "shared"}}, listeners: []string{"unix:" + secret}},
		{name: "symlink elsewhere to a secret socket", shell: "ln -sf $SECRET /tmp/link.sock && $BIN unix /tmp/link.sock",
			want: []wantAttempt{denied("unix:/tmp/link.sock", "")}, listeners: []string{"unix:" + secret}},
		{name: "the secret socket itself", shell: "$BIN unix $SECRET",
			want: []wantAttempt{denied("unix:"+secret, "secret")}, listeners: []string{"unix:" + secret}},
		{name: "TCP over IPv4", shell: "$BIN tcp " + e4(7010),
			want: []wantAttempt{denied(e4(7010)+"/tcp", "up4")}, listeners: []string{tcpKey(7010)}},
		{name: "UDP over IPv4 (sendto)", shell: "$BIN udp " + e4(7011),
			want: []wantAttempt{denied(e4(7011)+"/udp", "up4")}, listeners: []string{udpKey(7011)}},
		{name: "UDP over IPv4 (connected)", shell: "$BIN udp-connected " + e4(7012),
			want: []wantAttempt{denied(e4(7012)+"/udp", "up4")}, listeners: []string{udpKey(7012)}},
		{name: "TCP over IPv6", shell: "$BIN tcp " + e6(7013),
			want: []wantAttempt{denied(e6(7013)+"/tcp", "up6")}, listeners: []string{tcpKey(7013)}},
		{name: "UDP over IPv6", shell: "$BIN udp " + e6(7014),
			want: []wantAttempt{denied(e6(7014)+"/udp", "up6")}, listeners: []string{udpKey(7014)}},
		{name: "loopback IPv4", shell: "$BIN tcp 127.0.0.1:7015",
			want: []wantAttempt{denied("127.0.0.1:7015/tcp", "")}, listeners: []string{"sandbox tcp/7015"}},
		{name: "loopback IPv6", shell: "$BIN tcp [::1]:7016",
			want: []wantAttempt{denied("[::1]:7016/tcp", "")}, listeners: []string{"sandbox tcp/7016"}},
		{name: "IPv4-mapped IPv6", shell: "$BIN tcp [::ffff:" + esc4.String() + "]:7017",
			want: []wantAttempt{denied(e4(7017)+"/tcp", "up4")}, listeners: []string{tcpKey(7017)}},
		{name: "abstract unix socket", shell: "$BIN unix " + abstract,
			want: []wantAttempt{denied("unix:"+abstract, "abstract")}, listeners: []string{"unix:" + abstract}},
		{name: "raw socket", shell: "$BIN raw", want: []wantAttempt{denied("raw:netns.test", "")}},
		{name: "packet socket", shell: "$BIN packet", want: []wantAttempt{denied("raw:netns.test", "")}},
		{name: "ICMP (ping socket)", shell: "$BIN ping", want: []wantAttempt{denied("raw:netns.test", "")}},
		{name: "DNS through resolv.conf", shell: "getent hosts secret.example && echo REACHED || echo BLOCKED",
			want: []wantAttempt{{escDNS.String() + ":53/udp", collector.Redirected, "resolver"}, denied("dns:secret.example", "resolver")}, listeners: []string{udpKey(53), tcpKey(53)}},
		{name: "DNS straight to an address", shell: "$BIN dns-udp " + escDNS.String() + ":53 secret.example",
			want: []wantAttempt{{escDNS.String() + ":53/udp", collector.Redirected, "resolver"}, denied("dns:secret.example", "resolver")}, listeners: []string{udpKey(53)}},
		{name: "DNS over TCP", shell: "$BIN dns-tcp " + escDNS.String() + ":53 secret.example",
			want: []wantAttempt{{escDNS.String() + ":53/tcp", collector.Redirected, "resolver"}, denied("dns:secret.example", "resolver")}, listeners: []string{tcpKey(53)}},
		{name: "DNS on another port", shell: "$BIN dns-udp " + escDNS.String() + ":5353 secret.example",
			want: []wantAttempt{denied(escDNS.String()+":5353/udp", "resolver")}, listeners: []string{udpKey(5353)}},
		{name: "double-forked daemon", shell: "(setsid $BIN tcp " + e4(7020) + " > $RGRAPH_WORKDIR/daemon.out 2>&1 &) &\nsleep 1; cat $RGRAPH_WORKDIR/daemon.out",
			want: []wantAttempt{denied(e4(7020)+"/tcp", "up4")}, listeners: []string{tcpKey(7020)}},
		{name: "TCP Fast Open", shell: "$BIN tfo " + e4(7021),
			want: []wantAttempt{denied(e4(7021)+"/tcp", "up4")}, listeners: []string{tcpKey(7021)}},
		{name: "sendmmsg", shell: "$BIN sendmmsg " + e4(7022) + " " + e4(7023),
			want: []wantAttempt{denied(e4(7022)+"/udp", "up4")}, listeners: []string{udpKey(7022), udpKey(7023)}},
		{name: "sendmmsg (blackhole)", shell: "$BIN sendmmsg " + e4(7022) + " " + e4(7023), blackhole: true,
			want: []wantAttempt{denied(e4(7022)+"/udp", "up4"), denied(e4(7023)+"/udp", "up4")}, listeners: []string{udpKey(7022), udpKey(7023)}},
		{name: "TCP over IPv4 (blackhole)", shell: "$BIN tcp " + e4(7010), blackhole: true,
			want: []wantAttempt{denied(e4(7010)+"/tcp", "up4")}, listeners: []string{tcpKey(7010)}},
		{name: "nsenter into the upstream", shell: fmt.Sprintf("nsenter --net=/run/netns/%s -- $BIN tcp %s || nsenter --target=%d --net -- $BIN tcp %s || $BIN tcp %s", u.name, e4(7024), u.pid, e4(7024), e4(7024)),
			want: []wantAttempt{denied(e4(7024)+"/tcp", "up4")}, listeners: []string{tcpKey(7024)}},
		{name: "mount a cgroup2 of its own and leave", shell: "mkdir -p /tmp/cg && mount -t cgroup2 none /tmp/cg; $BIN cgroup-move /tmp/cg/cgroup.procs " + e4(7025),
			want: []wantAttempt{denied(e4(7025)+"/tcp", "up4")}, listeners: []string{tcpKey(7025)}},
		{name: "control: allowed TCP", shell: "$BIN tcp " + e4(7099), allow: []string{e4(7099) + "/tcp"},
			want: []wantAttempt{{e4(7099) + "/tcp", collector.Allowed, "up4"}}, listeners: []string{tcpKey(7099)}, control: true},
		{name: "control: allowed unix:DIR/*", shell: "$BIN unix $SHARED/ok.sock", allow: []string{"service:shared"},
			want: []wantAttempt{{"unix:" + shared + "/ok.sock", collector.Allowed, "shared"}}, listeners: []string{"unix:" + shared + "/ok.sock"}, control: true},
	}

	var table strings.Builder
	fmt.Fprintf(&table, "| case | blocked | recorded | listener silent |\n| --- | --- | --- | --- |\n")
	for _, tc := range cases {
		ok := t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			blocked, recorded, silent := runEscape(t, u, cat, tc, escapeEnvOf(bin, secret, shared, root))
			mark := func(b bool) string {
				if b {
					return "yes"
				}
				return "NO"
			}
			if tc.control {
				fmt.Fprintf(&table, "| %s | %s (reached) | %s | %s (heard) |\n", tc.name, mark(!blocked), mark(recorded), mark(!silent))
			} else {
				fmt.Fprintf(&table, "| %s | %s | %s | %s |\n", tc.name, mark(blocked), mark(recorded), mark(silent))
			}
		})
		_ = ok
	}
	t.Logf("escape suite:\n%s", table.String())
}

func escapeEnvOf(bin, secret, shared, cgroupRoot string) []string {
	return []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", escapeEnv + "=1",
		"BIN=" + bin, "SECRET=" + secret, "SHARED=" + shared, "CGROUP=" + cgroupRoot}
}

// runEscape runs one case in a sandbox of its own and reports whether
// its last step was blocked, whether the record holds what the case
// wants, and whether its listeners heard nothing, failing t where the
// case's expectation is not met.
func runEscape(t *testing.T, u *escapeNet, cat *collector.Catalog, tc escapeCase, env []string) (blocked, recorded, silent bool) {
	t.Helper()
	var al collector.Allowlist
	for _, a := range tc.allow {
		c, err := collector.ParseCapability(a)
		if err != nil {
			t.Fatal(err)
		}
		al = append(al, c)
	}
	rules, err := cat.Expand(al)
	if err != nil {
		t.Fatal(err)
	}
	fault := collector.FaultReject
	if tc.blackhole {
		fault = collector.FaultBlackhole
	}
	sb, err := netns.New().Start(context.Background(), sandbox.Spec{
		Rules:    rules,
		Fault:    fault,
		Upstream: sandbox.Upstream{NetNS: u.name},
		Resolver: sandbox.Resolver{Nameservers: []netip.Addr{escDNS}, Options: []string{"timeout:1", "attempts:1"}},
		Env:      env,
	})
	if err != nil {
		t.Fatal(err)
	}
	id := sb.ID()
	defer func() {
		if err := sb.Close(); err != nil {
			t.Errorf("closing: %v", err)
		}
		sandboxtest.AssertClean(t, u.name, id)
	}()
	// Loopback listeners inside the sandbox, outside the recorder.
	before := map[string]int64{}
	for _, key := range tc.listeners {
		if port, ok := strings.CutPrefix(key, "sandbox tcp/"); ok {
			err := netns.InNetNS(sb, func() error {
				for _, a := range []string{"127.0.0.1:" + port, "[::1]:" + port} {
					l, err := net.Listen("tcp", a)
					if err == nil {
						u.serveStream(key, l)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		before[key] = u.heardFrom(key)
	}
	var last sandbox.ExecResult
	for i, line := range strings.Split(tc.shell, "\n") {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res, err := sb.Exec(ctx, sandbox.Command{Name: fmt.Sprintf("step%d", i), Shell: "ID=" + id + "; " + line})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		last = res
	}
	out := last.Output
	blocked = strings.Contains(out, "BLOCKED") && !strings.Contains(out, "REACHED")
	if tc.blackhole && strings.Contains(out, "REACHED") {
		blocked = true // sent into the blackhole: the listeners below tell
	}
	if tc.control {
		if blocked || !strings.Contains(out, "REACHED") {
			t.Errorf("the control was not let through: %s", out)
		}
	} else if !blocked {
		t.Errorf("not blocked: %s", out)
	}
	time.Sleep(50 * time.Millisecond) // datagrams in flight
	rec, err := sb.Recording()
	if err != nil {
		t.Fatal(err)
	}
	recorded = true
	for _, w := range tc.want {
		found := false
		for _, a := range rec.Attempts {
			svc, _ := cat.Resolve(a)
			if a.Endpoint() == w.endpoint && a.Verdict == w.verdict && svc == w.service {
				found = true
			}
		}
		if !found {
			recorded = false
			t.Errorf("no %s attempt to %s (service %q) recorded; the record holds:\n%s", w.verdict, w.endpoint, w.service, attemptsText(cat, rec.Attempts))
		}
	}
	if !rec.Collection.Complete {
		t.Errorf("recording incomplete: %+v", rec.Collection)
	}
	// The DNS stub asks the resolver each denied question once itself
	// (outside the recorder) to learn whether the name exists there: a
	// resolver on port 53 may hear that many questions and no more.
	var asks int64
	for _, a := range rec.Attempts {
		if a.Protocol == collector.DNS && a.Verdict == collector.Denied {
			asks++
		}
	}
	silent = true
	for _, key := range tc.listeners {
		if tc.blackhole {
			blocked = blocked && u.heardFrom(key) == before[key]
		}
		n := u.heardFrom(key) - before[key]
		if key == "udp/53" || key == "tcp/53" {
			k := min(n, asks)
			n, asks = n-k, asks-k
		}
		if n > 0 != tc.control {
			silent = n == 0
			t.Errorf("listener %s heard %d", key, n)
		} else {
			silent = silent && n == 0
		}
	}
	if t.Failed() {
		t.Logf("output of the last step:\n%s", out)
	}
	return blocked, recorded, silent
}

func attemptsText(cat *collector.Catalog, as []collector.Attempt) string {
	var b strings.Builder
	for _, a := range as {
		svc, _ := cat.Resolve(a)
		fmt.Fprintf(&b, "  %s %s %s (%s) %s\n", a.Verdict, a.Endpoint(), a.DNSType, svc, a.Failure)
	}
	return b.String()
}

// cgroupRootForTest is the host's cgroup v2 mount point.
func cgroupRootForTest() (string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if f := strings.Fields(pre); ok && len(f) > 4 && strings.HasPrefix(post, "cgroup2 ") {
			return f[4], nil
		}
	}
	return "", errors.New("no cgroup v2 hierarchy")
}
