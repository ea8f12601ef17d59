package probe

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/internal/privtest"
)

// TestUnprivilegedGetsOneSentence runs Check and Load as nobody, without
// capabilities: both must fail with ErrPermission and the one sentence
// that says what is needed, not an errno.
func TestUnprivilegedGetsOneSentence(t *testing.T) {
	privtest.Require(t) // to become nobody
	root, err := cgroup2Mount()
	if err != nil {
		privtest.Skip(t, "%v", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// nobody cannot reach the test binary in go's build directory: copy it.
	dir, err := os.MkdirTemp("", "rgraph-probe-nobody")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "probe.test")
	b, err := os.ReadFile(self)
	if err == nil {
		err = os.WriteFile(bin, b, 0o755)
	}
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "nobody", "check", root)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v: %s", err, out)
	}
	want := fmt.Sprintf("check: %s (permission true)\nload: %s (permission true)\n", permissionSentence, permissionSentence)
	if string(out) != want {
		t.Errorf("as nobody:\n%s\nwant:\n%s", out, want)
	}
}

func TestCheck(t *testing.T) {
	privtest.Require(t)
	privtest.SkipIfUnsupported(t, Check(), func(err error) bool { return errors.Is(err, ErrUnsupported) })
}

// TestKernelTrieMatchesRules looks destinations up in the loaded address
// trie, the way the programs do, and compares with Rules.AllowsAddr.
func TestKernelTrieMatchesRules(t *testing.T) {
	rules := collector.Rules{}
	for _, s := range []string{"10.0.0.0/8:80/tcp", "10.1.0.0/16:443", "10.1.2.3:53/udp", "10.1.2.0/24:8000-8100/tcp",
		"127.0.0.1:9000", "[fd00::/8]:443/tcp", "[fd00::1]:53", "[::ffff:0:0/96]:22/tcp", "192.0.2.0/24", "0.0.0.0/0:7/udp"} {
		rules.Nets = append(rules.Nets, mustCap(t, s))
	}
	e := newTestEnv(t, func(string) Spec { return Spec{Rules: rules} })
	m := e.probe.tables.netRules
	for _, a := range []string{"10.0.0.1", "10.1.0.9", "10.1.2.3", "10.1.2.200", "11.0.0.1", "127.0.0.1", "127.0.0.2",
		"fd00::1", "fd00::2", "fe80::1", "::ffff:10.1.2.3", "192.0.2.77", "0.0.0.0", "255.255.255.255", "::"} {
		addr := netip.MustParseAddr(a)
		for _, port := range []uint16{0, 7, 22, 53, 80, 443, 8000, 8100, 8101, 9000} {
			for _, proto := range []collector.Protocol{collector.TCP, collector.UDP} {
				u := addr.Unmap()
				k := probeLpmNetKey{Prefixlen: 8 + uint32(u.BitLen()), Data: netKey(u)}
				var v probeNetRule
				got := false
				if err := m.Lookup(&k, &v); err == nil {
					bit := protoTCP
					if proto == collector.UDP {
						bit = protoUDP
					}
					for i := 0; i < int(v.N); i++ {
						r := v.R[i]
						got = got || (port >= r.Lo && port <= r.Hi && r.Protos&bit != 0)
					}
				}
				if want := rules.AllowsAddr(proto, addr, port); got != want {
					t.Errorf("kernel trie allows %s %v:%d = %v, Rules.AllowsAddr = %v", proto, addr, port, got, want)
				}
			}
		}
	}
}
