package main

import (
	"os"
	"strings"
	"testing"
)

// TestSandboxInstall prints the microvm driver's script with --dry-run
// (on a Debian machine) and says that netns has nothing to install.
func TestSandboxInstall(t *testing.T) {
	e := newTestEnv(t, nil)
	if code := e.rgraph("sandbox", "install", "--driver", "netns"); code != 0 || !strings.Contains(e.errOut.String(), "nothing to install") {
		t.Errorf("install --driver netns: exit %d, stderr %q", code, e.errOut.String())
	}
	if code := e.rgraph("sandbox", "install", "--driver", "vm"); code != 2 {
		t.Errorf("install --driver vm: exit %d, want 2", code)
	}
	b, err := os.ReadFile("/etc/os-release")
	if err != nil || !strings.Contains(string(b), "ID=debian") {
		t.Skip("not a Debian machine: the script is tested in sandbox/microvm")
	}
	if code := e.rgraph("sandbox", "install", "--driver", "microvm", "--dry-run"); code != 0 || !strings.Contains(e.out.String(), "qemu-system-x86 nftables socat") {
		t.Errorf("install --dry-run: exit %d, stdout %q, stderr %q", code, e.out.String(), e.errOut.String())
	}
}
