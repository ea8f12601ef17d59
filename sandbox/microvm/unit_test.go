//go:build linux

package microvm

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox"
)

// readCPIO parses a newc archive into name -> "mode:data" (or
// "mode:major,minor" for a device).
func readCPIO(t *testing.T, b []byte) (map[string]string, []string) {
	t.Helper()
	out := map[string]string{}
	var order []string
	r := bytes.NewReader(b)
	pad := func() {
		off, _ := r.Seek(0, io.SeekCurrent)
		if off%4 != 0 {
			r.Seek(4-off%4, io.SeekCurrent)
		}
	}
	for {
		hdr := make([]byte, 110)
		if _, err := io.ReadFull(r, hdr); err != nil {
			t.Fatalf("reading a header: %v", err)
		}
		if string(hdr[:6]) != "070701" {
			t.Fatalf("bad magic %q", hdr[:6])
		}
		field := func(i int) int {
			v, err := strconv.ParseUint(string(hdr[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			return int(v)
		}
		mode, size, major, minor, nameLen := field(1), field(6), field(9), field(10), field(11)
		name := make([]byte, nameLen)
		io.ReadFull(r, name)
		pad()
		data := make([]byte, size)
		io.ReadFull(r, data)
		pad()
		n := strings.TrimRight(string(name), "\x00")
		if n == "TRAILER!!!" {
			if r.Len() != 0 {
				t.Errorf("%d bytes after the trailer", r.Len())
			}
			return out, order
		}
		v := fmt.Sprintf("%o:%s", mode, data)
		if mode&cpioChar == cpioChar && mode&cpioFile != cpioFile {
			v = fmt.Sprintf("%o:%d,%d", mode, major, minor)
		}
		out[n] = v
		order = append(order, n)
	}
}

func TestCPIO(t *testing.T) {
	var buf bytes.Buffer
	c := newCPIOWriter(&buf)
	c.CharDev("dev/console", 0o600, 5, 1)
	c.File("/.rgraph/modules/00-a.ko", 0o644, []byte("abc"))
	c.FileFrom("usr/lib/x/libc.so.6", 0o755, 5, strings.NewReader("hello"))
	c.Symlink("lib64", "usr/lib64")
	c.Dir("tmp", 0o1777)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d is not a multiple of 4", buf.Len())
	}
	got, order := readCPIO(t, buf.Bytes())
	want := map[string]string{
		"dev":                     "40755:",
		"dev/console":             "20600:5,1",
		".rgraph":                 "40755:",
		".rgraph/modules":         "40755:",
		".rgraph/modules/00-a.ko": "100644:abc",
		"usr":                     "40755:",
		"usr/lib":                 "40755:",
		"usr/lib/x":               "40755:",
		"usr/lib/x/libc.so.6":     "100755:hello",
		"lib64":                   "120777:usr/lib64",
		"tmp":                     "41777:",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("entries %v, want %d", order, len(want))
	}
	// Parents come before their children.
	if slices.Index(order, "usr/lib") > slices.Index(order, "usr/lib/x/libc.so.6") {
		t.Errorf("a directory after its content: %v", order)
	}
}

func TestCPIOShortReader(t *testing.T) {
	c := newCPIOWriter(io.Discard)
	c.FileFrom("x", 0o644, 10, strings.NewReader("short"))
	if err := c.Close(); err == nil {
		t.Error("Close after a short file = nil, want an error")
	}
}

func TestNftRuleset(t *testing.T) {
	cat, err := collector.NewCatalog(collector.Service{Name: "coord", Endpoints: []string{"10.99.0.12:2379/tcp"}})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := cat.Expand(collector.Allowlist{
		{Service: "coord"},
		{CIDR: netip.MustParsePrefix("10.0.0.0/8")},
		{CIDR: netip.MustParsePrefix("10.99.0.53/32"), Ports: collector.PortRange{Lo: 53, Hi: 54}, Protocol: collector.UDP},
		{CIDR: netip.MustParsePrefix("fd00::1/128")},
		{Unix: "/run/x.sock"},
	})
	if err != nil {
		t.Fatal(err)
	}
	spec := filterSpec{Rules: rules, Fault: collector.FaultReject, VM: "tap0", Up: "eth0", Proxy: netip.MustParseAddrPort("10.97.0.5:50000")}
	got := nftRuleset(spec)
	for _, want := range []string{
		"policy drop;",
		"ct state established,related accept",
		`iifname "tap0" oifname "eth0" ip daddr 10.99.0.12/32 tcp dport 2379 accept`,
		`iifname "tap0" oifname "eth0" ip daddr 10.0.0.0/8 meta l4proto { tcp, udp } accept`,
		`iifname "tap0" oifname "eth0" ip daddr 10.99.0.53/32 udp dport 53-54 accept`,
		`iifname "tap0" meta l4proto tcp reject with tcp reset`,
		`iifname "tap0" ip daddr 10.97.0.5 tcp dport 50000 accept`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("ruleset lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "fd00") || strings.Contains(got, "x.sock") {
		t.Errorf("ruleset names what never crosses the VM's IPv4 link:\n%s", got)
	}
	spec.Fault = collector.FaultBlackhole
	if got := nftRuleset(spec); strings.Contains(got, "reject") {
		t.Errorf("blackhole ruleset rejects:\n%s", got)
	}
	spec.Rules = collector.Rules{All: true}
	if got := nftRuleset(spec); !strings.Contains(got, `iifname "tap0" oifname "eth0" accept`) {
		t.Errorf("all does not allow everything:\n%s", got)
	}
}

func TestQEMUArgs(t *testing.T) {
	c := vmConfig{Accel: AccelTCG, Kernel: "/k", Initrd: "/i", MemoryMiB: 512, TSCkHz: 2096022, TapFD: 3, MAC: templateMAC,
		Share: "/s", ShareTag: "rgraph", CtlSocket: "/c", HostSocket: "/h", ShellSocket: "/sh", Console: "/con", Seccomp: true,
		Template: true, Incoming: "/snap"}
	args := strings.Join(c.args(), " ")
	for _, want := range []string{"-M microvm", "-accel tcg -cpu max", "-netdev tap,id=net0,fd=3", "readonly=on",
		"tsc_early_khz=2096022", "no_timer_check", "rdinit=/.rgraph/rgraph", "rgraph.template=1", "-incoming file:/snap", "-sandbox on", "-no-reboot"} {
		if !strings.Contains(args, want) {
			t.Errorf("qemu args lack %q: %s", want, args)
		}
	}
	c.Accel, c.Incoming, c.Template = AccelKVM, "", false
	args = strings.Join(c.args(), " ")
	if !strings.Contains(args, "-accel kvm -cpu host") || strings.Contains(args, "no_timer_check") || strings.Contains(args, "incoming") {
		t.Errorf("KVM args: %s", args)
	}
}

func TestResolveAccel(t *testing.T) {
	pvm := kvmStatus{Reason: "/dev/kvm is PVM"}
	hw := kvmStatus{OK: true}
	for _, tt := range []struct {
		in      Accel
		kvm     kvmStatus
		want    Accel
		wantErr bool
	}{
		{AccelAuto, pvm, AccelTCG, false},
		{AccelAuto, hw, AccelKVM, false},
		{AccelKVM, pvm, "", true},
		{AccelKVM, hw, AccelKVM, false},
		{AccelTCG, hw, AccelTCG, false},
	} {
		got, err := resolveAccel(tt.in, tt.kvm)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("resolveAccel(%s, %+v) = %s, %v", tt.in, tt.kvm, got, err)
		}
	}
	if _, err := ParseAccel("qemu"); err == nil {
		t.Error("ParseAccel(qemu) = nil error")
	}
}

func TestInstallScript(t *testing.T) {
	bookworm := []byte("ID=debian\nVERSION_CODENAME=bookworm\n")
	s, err := InstallScript(bookworm, "http://mirror.example/debian")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Suites: bookworm-backports", "URIs: http://mirror.example/debian",
		"apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86 nftables socat",
		"apt-get download", "dpkg-deb -x", DefaultDir + "/kernel"} {
		if !strings.Contains(s, want) {
			t.Errorf("bookworm script lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "apt-get install -y -qq --no-install-recommends -t bookworm-backports linux-image") {
		t.Error("the script installs the kernel as a boot kernel")
	}
	s, err = InstallScript([]byte("ID=debian\nVERSION_CODENAME=trixie\n"), "http://deb.debian.org/debian")
	if err != nil || strings.Contains(s, "backports") {
		t.Errorf("trixie: %v\n%s", err, s)
	}
	for _, osr := range []string{"ID=ubuntu\nVERSION_CODENAME=noble\n", "ID=debian\nVERSION_CODENAME=bullseye\n"} {
		if _, err := InstallScript([]byte(osr), ""); err == nil {
			t.Errorf("InstallScript(%q) = nil error", osr)
		}
	}
}

func TestBzPayload(t *testing.T) {
	img := make([]byte, 0x1000)
	copy(img[0x202:], "HdrS")
	img[0x1f1] = 1 // setup sectors: the protected-mode code is at 1024
	binary.LittleEndian.PutUint32(img[0x248:], 16)
	binary.LittleEndian.PutUint32(img[0x24c:], 8)
	copy(img[1024+16:], "PAYLOAD!")
	got, err := bzPayload(img)
	if err != nil || string(got) != "PAYLOAD!" {
		t.Errorf("bzPayload = %q, %v", got, err)
	}
	if _, err := bzPayload(make([]byte, 0x1000)); err == nil {
		t.Error("bzPayload of no bzImage = nil error")
	}
	binary.LittleEndian.PutUint32(img[0x24c:], 1<<20)
	if _, err := bzPayload(img); err == nil {
		t.Error("bzPayload out of range = nil error")
	}
}

func TestKernelVersions(t *testing.T) {
	vs := []string{"6.12.95+deb12-amd64", "6.1.0-57-amd64", "6.12.118-amd64", "6.9.1-amd64"}
	slices.SortFunc(vs, compareVersions)
	if want := []string{"6.1.0-57-amd64", "6.9.1-amd64", "6.12.95+deb12-amd64", "6.12.118-amd64"}; !slices.Equal(vs, want) {
		t.Errorf("sorted %v, want %v", vs, want)
	}
	if (kernel{Version: "6.1.0-57-amd64"}).atLeast(6, 7) || !(kernel{Version: "6.12.95+deb12-amd64"}).atLeast(6, 7) {
		t.Error("atLeast(6, 7) is wrong")
	}
	for file, want := range map[string]string{"virtio-net.ko.xz": "virtio_net", "9p.ko": "9p", "x.txt": ""} {
		if got, _ := moduleName(file); got != want {
			t.Errorf("moduleName(%s) = %q, want %q", file, got, want)
		}
	}
}

func TestLeaseAddrs(t *testing.T) {
	a := leaseAddrs(1)
	got := []string{a.upstream.String(), a.outer.String(), a.vmNet.String(), a.tap.String(), a.guest.String()}
	want := []string{"10.97.0.9/30", "10.97.0.10/30", "10.97.0.12/30", "10.97.0.13/30", "10.97.0.14/30"}
	if !slices.Equal(got, want) {
		t.Errorf("leaseAddrs(1) = %v, want %v", got, want)
	}
	last := leaseAddrs(leaseCount() - 1)
	if last.guest.Addr().Compare(BlackholeAddr) >= 0 || !RunNet.Contains(last.guest.Addr()) {
		t.Errorf("the last lease %v reaches the blackhole %v", last.guest, BlackholeAddr)
	}
}

func TestUnixSockets(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "a.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		unix []string
		want []string
	}{
		{"a socket", []string{sock}, []string{sock}},
		{"a path with nothing there", []string{filepath.Join(dir, "none.sock")}, nil},
		{"a file that is no socket", []string{file}, nil},
		{"a directory", []string{dir + "/*"}, []string{sock}},
		{"relative and abstract", []string{"a.sock", "@abstract"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unixSockets(collector.Rules{Unix: tt.unix}); !slices.Equal(got, tt.want) {
				t.Errorf("unixSockets(%q) = %q, want %q", tt.unix, got, tt.want)
			}
		})
	}
}

func TestStartRefusesUser(t *testing.T) {
	_, err := New(Config{}).Start(context.Background(), sandbox.Spec{User: &sandbox.User{Name: "postgres", UID: 102}})
	if !errors.Is(err, sandbox.ErrUnsupported) || !strings.Contains(err.Error(), "postgres") {
		t.Fatalf("Start with a user: err = %v, want one wrapping sandbox.ErrUnsupported naming the user", err)
	}
}
