package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"
)

// The privileged tests generate traffic from child processes: this test
// binary, re-executed with helperEnv set, runs one action and prints one
// line. Each child names itself (its comm) so that records can be told
// apart, and does its system calls on one locked thread so that the name,
// the capabilities it drops and the calls all belong to that thread.
const helperEnv = "RGRAPH_PROBE_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(helperMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// helperMain runs: COMM ACTION ARGS...
func helperMain(args []string) int {
	runtime.LockOSThread()
	if len(args) < 2 {
		fmt.Println("usage: COMM ACTION ARGS...")
		return 2
	}
	name := append([]byte(args[0]), 0)
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&name[0])), 0, 0, 0)
	out, err := helperAction(args[1], args[2:])
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println(out)
	return 0
}

func helperAction(action string, a []string) (string, error) {
	arg := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	ms := func(i int) time.Duration {
		n, _ := strconv.Atoi(arg(i))
		return time.Duration(n) * time.Millisecond
	}
	switch action {
	case "connect": // tcp|udp ADDR:PORT TIMEOUT_MS
		return inetConnect(arg(0), arg(1), ms(2))
	case "sendto": // ADDR:PORT
		return udpSendto(arg(0))
	case "udp-serve": // ADDR:PORT OTHER:PORT
		return udpServe(arg(0), arg(1))
	case "unix-connect": // PATH
		return unixOp(unix.SOCK_STREAM, arg(0))
	case "unix-sendto": // PATH
		return unixOp(unix.SOCK_DGRAM, arg(0))
	case "socket": // FAMILY TYPE PROTO [nocap]
		return socketOp(arg(0), arg(1), arg(2), arg(3) == "nocap")
	case "dns": // udp|tcp SERVER NAME TIMEOUT_MS
		return dnsQuery(arg(0), arg(1), arg(2), ms(3))
	case "getent": // RESOLV_CONF NAME
		return "", getent(arg(0), arg(1))
	case "spawn": // wait|detach RESULT_FILE COMM ACTION ARGS...
		return spawn(arg(0), arg(1), a[2:])
	case "flood": // N RATE: N UDP sends to distinct destinations at RATE per second (0: at once)
		return flood(arg(0), arg(1))
	case "connect-bench": // ADDR:PORT N: time N TCP connects
		return connectBench(arg(0), arg(1))
	case "check": // CGROUP: Check and Load, as whoever runs this
		_, err := Load(Spec{Cgroup: arg(0)})
		return fmt.Sprintf("check: %v (permission %v)\nload: %v (permission %v)",
			Check(), errors.Is(Check(), ErrPermission), err, errors.Is(err, ErrPermission)), nil
	case "sleep-then": // MS RESULT_FILE ACTION ARGS...
		time.Sleep(ms(0))
		out, err := helperAction(arg(2), a[3:])
		if err != nil {
			out = "error: " + err.Error()
		}
		return out, os.WriteFile(arg(1), []byte(out), 0o644)
	}
	return "", fmt.Errorf("unknown action %q", action)
}

// result names an errno the way the tests expect it.
func result(err error) string {
	var errno syscall.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &errno):
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

func sockaddr(s string) (unix.Sockaddr, int, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil, 0, err
	}
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}, unix.AF_INET, nil
	}
	return &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}, unix.AF_INET6, nil
}

// inetConnect connects without blocking and waits up to timeout: "ok",
// an errno name, or "timeout".
func inetConnect(proto, addr string, timeout time.Duration) (string, error) {
	sa, fam, err := sockaddr(addr)
	if err != nil {
		return "", err
	}
	typ := unix.SOCK_STREAM
	if proto == "udp" {
		typ = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(fam, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	err = unix.Connect(fd, sa)
	if !errors.Is(err, unix.EINPROGRESS) {
		return result(err), nil
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	n, err := unix.Poll(pfd, int(timeout.Milliseconds()))
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "timeout", nil
	}
	soErr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return "", err
	}
	return result(errnoOrNil(soErr)), nil
}

func errnoOrNil(n int) error {
	if n == 0 {
		return nil
	}
	return syscall.Errno(n)
}

func udpSendto(addr string) (string, error) {
	sa, fam, err := sockaddr(addr)
	if err != nil {
		return "", err
	}
	fd, err := unix.Socket(fam, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	return result(unix.Sendto(fd, []byte("x"), 0, sa)), nil
}

// udpServe answers the first datagram that arrives on addr, then sends
// one to other, a destination that never sent anything: "reply:RESULT
// other:RESULT".
func udpServe(addr, other string) (string, error) {
	sa, fam, err := sockaddr(addr)
	if err != nil {
		return "", err
	}
	osa, _, err := sockaddr(other)
	if err != nil {
		return "", err
	}
	fd, err := unix.Socket(fam, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	if fam == unix.AF_INET6 {
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0) // [::] takes IPv4 too
	}
	if err := unix.Bind(fd, sa); err != nil {
		return "", err
	}
	tv := unix.NsecToTimeval((5 * time.Second).Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	buf := make([]byte, 512)
	n, from, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return "", fmt.Errorf("receiving: %w", err)
	}
	reply := result(unix.Sendto(fd, buf[:n], 0, from))
	return "reply:" + reply + " other:" + result(unix.Sendto(fd, []byte("x"), 0, osa)), nil
}

// unixOp connects a stream socket or sends on a datagram socket; a path
// starting with @ is abstract.
func unixOp(typ int, path string) (string, error) {
	fd, err := unix.Socket(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	sa := &unix.SockaddrUnix{Name: path}
	if typ == unix.SOCK_STREAM {
		return result(unix.Connect(fd, sa)), nil
	}
	return result(unix.Sendto(fd, []byte("x"), 0, sa)), nil
}

func socketOp(fam, typ, proto string, nocap bool) (string, error) {
	f, err1 := strconv.Atoi(fam)
	t, err2 := strconv.Atoi(typ)
	p, err3 := strconv.Atoi(proto)
	if err := errors.Join(err1, err2, err3); err != nil {
		return "", err
	}
	if nocap {
		if err := dropCap(unix.CAP_NET_RAW); err != nil {
			return "", err
		}
	}
	fd, err := unix.Socket(f, t|unix.SOCK_CLOEXEC, p)
	if err == nil {
		unix.Close(fd)
	}
	return result(err), nil
}

// dropCap removes a capability from the calling thread.
func dropCap(c int) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[c/32].Effective &^= 1 << (c % 32)
	data[c/32].Permitted &^= 1 << (c % 32)
	return unix.Capset(&hdr, &data[0])
}

// dnsQuery asks for NAME/A and reports "rcode:RCODE from:ADDR", where ADDR
// is where the answer (UDP, unconnected) or the peer (TCP) appears to be.
func dnsQuery(proto, server, name string, timeout time.Duration) (string, error) {
	sa, fam, err := sockaddr(server)
	if err != nil {
		return "", err
	}
	q, err := buildQuery(name)
	if err != nil {
		return "", err
	}
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	if proto == "udp" {
		fd, err := unix.Socket(fam, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return "", err
		}
		defer unix.Close(fd)
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		if err := unix.Sendto(fd, q, 0, sa); err != nil {
			return result(err), nil
		}
		buf := make([]byte, 4096)
		n, from, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) {
			return "timeout", nil
		}
		if err != nil {
			return result(err), nil
		}
		return "rcode:" + rcodeOf(buf[:n]) + " from:" + sockaddrString(from), nil
	}
	fd, err := unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	if err := unix.Connect(fd, sa); err != nil {
		return result(err), nil
	}
	peer, err := unix.Getpeername(fd)
	if err != nil {
		return "", err
	}
	msg := append([]byte{byte(len(q) >> 8), byte(len(q))}, q...)
	if _, err := unix.Write(fd, msg); err != nil {
		return result(err), nil
	}
	buf := make([]byte, 4096)
	got := 0
	for got < 2 || got < 2+int(buf[0])<<8|int(buf[1]) {
		n, err := unix.Read(fd, buf[got:])
		if errors.Is(err, unix.EAGAIN) {
			return "timeout", nil
		}
		if err != nil || n == 0 {
			return "closed", nil
		}
		got += n
	}
	return "rcode:" + rcodeOf(buf[2:got]) + " from:" + sockaddrString(peer), nil
}

func buildQuery(name string) ([]byte, error) {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: uint16(os.Getpid()), RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	n, err := dnsmessage.NewName(name + ".")
	if err != nil {
		return nil, err
	}
	if err := b.Question(dnsmessage.Question{Name: n, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}); err != nil {
		return nil, err
	}
	return b.Finish()
}

func rcodeOf(b []byte) string {
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil {
		return "malformed"
	}
	return strings.TrimPrefix(h.RCode.String(), "RCode")
}

func sockaddrString(sa unix.Sockaddr) string {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)).String()
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port)).String()
	}
	return fmt.Sprint(sa)
}

// getent resolves name with glibc (getent ahostsv4) in a private mount
// namespace where /etc/resolv.conf is replaced by resolvConf.
func getent(resolvConf, name string) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return err
	}
	if err := unix.Mount(resolvConf, "/etc/resolv.conf", "", unix.MS_BIND, ""); err != nil {
		return err
	}
	path, err := exec.LookPath("getent")
	if err != nil {
		return err
	}
	return unix.Exec(path, []string{"getent", "ahostsv4", name}, os.Environ())
}

// spawn runs a child helper. wait: run COMM ACTION... and print its
// output. detach: start a middle process that starts the child with
// setsid and exits at once (a double fork); the child writes its result
// to resultFile.
func spawn(mode, resultFile string, rest []string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	switch mode {
	case "wait":
		out, err := exec.CommandContext(context.Background(), self, rest...).Output()
		return strings.TrimSpace(string(out)), err
	case "detach":
		// rest: COMM ACTION... for the grandchild; this process is the
		// middle one and leaves before the grandchild acts.
		args := append([]string{rest[0], "sleep-then", "300", resultFile}, rest[1:]...)
		cmd := exec.Command(self, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			return "", err
		}
		cmd.Process.Release()
		return "detached", nil
	}
	return "", fmt.Errorf("unknown spawn mode %q", mode)
}

// floodDest is the i-th distinct destination of a flood: 127.1.x.y:port,
// ports from 1024 up (port 53 would be redirected).
func floodDest(i int) *unix.SockaddrInet4 {
	host := i / 60000
	return &unix.SockaddrInet4{Addr: [4]byte{127, 1, byte(host >> 8), byte(host)}, Port: 1024 + i%60000}
}

// flood sends n datagrams, each to a new destination, paced at rate per
// second in 1 ms slices; it prints "sent N in NS".
func flood(ns, rates string) (string, error) {
	n, err1 := strconv.Atoi(ns)
	rate, err2 := strconv.Atoi(rates)
	if err := errors.Join(err1, err2); err != nil {
		return "", err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	msg := []byte("x")
	start := time.Now()
	for i := 0; i < n; i++ {
		if rate > 0 && i%max(1, rate/1000) == 0 {
			// Wait until i attempts are due.
			due := start.Add(time.Duration(float64(i) / float64(rate) * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		unix.Sendto(fd, msg, 0, floodDest(i))
	}
	return fmt.Sprintf("sent %d in %d", n, time.Since(start).Nanoseconds()), nil
}

// connectBench times n blocking TCP connects to addr (each socket reset
// with SO_LINGER 0 so that no TIME_WAIT piles up) and prints
// "p50 p99 mean" in nanoseconds.
func connectBench(addr, ns string) (string, error) {
	n, err := strconv.Atoi(ns)
	if err != nil {
		return "", err
	}
	sa, fam, err := sockaddr(addr)
	if err != nil {
		return "", err
	}
	d := make([]int64, 0, n)
	for i := 0; i < n; i++ {
		fd, err := unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return "", err
		}
		t0 := time.Now()
		err = unix.Connect(fd, sa)
		el := time.Since(t0)
		unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		unix.Close(fd)
		if err != nil {
			return "", fmt.Errorf("connect %d: %w", i, err)
		}
		d = append(d, el.Nanoseconds())
	}
	slices.Sort(d)
	var sum int64
	for _, x := range d {
		sum += x
	}
	return fmt.Sprintf("%d %d %d", d[len(d)/2], d[len(d)*99/100], sum/int64(len(d))), nil
}
