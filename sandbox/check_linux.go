package sandbox

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/collector/probe"
)

// Check reports whether this machine can run the default driver: root
// (or the capabilities), network namespaces, a cgroup v2 hierarchy and the
// eBPF features of collector/probe. The error wraps [ErrPermission] or
// [ErrUnsupported] and says in one sentence what is missing.
func Check() error {
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		return fmt.Errorf("%w: this kernel has no network namespaces", ErrUnsupported)
	}
	if _, err := cgroupRoot(); err != nil {
		return err
	}
	if !privileged() {
		return ErrPermission
	}
	if err := probe.Check(); err != nil {
		return probeErr(err)
	}
	return nil
}

// privileged reports whether the process is root or has CAP_SYS_ADMIN,
// without which nothing of a sandbox can be built.
func privileged() bool { return unix.Geteuid() == 0 || hasCap(unix.CAP_SYS_ADMIN) }

// hasCap reports whether the calling thread has capability c in its
// effective set.
func hasCap(c uintptr) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}
