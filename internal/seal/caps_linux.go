package seal

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Kept are the capabilities a sealed command keeps, as root: what ordinary
// daemons need to start (switch users and groups, own and read their
// files, bind ports below 1024, signal their own processes, chroot, write
// audit records). Everything else is dropped, among it what could undo a
// sandbox: CAP_SYS_ADMIN (mounts, namespaces, cgroups), CAP_BPF and
// CAP_PERFMON (detach the recorder), CAP_NET_ADMIN and CAP_NET_RAW
// (reconfigure the network, packet sockets no cgroup hook sees),
// CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_MKNOD (device
// nodes), CAP_DAC_READ_SEARCH (open_by_handle_at reaches files outside
// the mount namespace), CAP_SETPCAP and CAP_SETFCAP (regain
// capabilities), CAP_SYS_BOOT, CAP_SYS_TIME, CAP_SYSLOG,
// CAP_LINUX_IMMUTABLE, CAP_MAC_ADMIN and CAP_MAC_OVERRIDE.
var Kept = []uintptr{
	unix.CAP_CHOWN,
	unix.CAP_DAC_OVERRIDE,
	unix.CAP_FOWNER,
	unix.CAP_FSETID,
	unix.CAP_KILL,
	unix.CAP_SETGID,
	unix.CAP_SETUID,
	unix.CAP_NET_BIND_SERVICE,
	unix.CAP_SYS_CHROOT,
	unix.CAP_AUDIT_WRITE,
}

// capNames are the names of the capabilities, by number.
var capNames = []string{
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
	"setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
	"ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
	"sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
	"lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
	"wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
}

// CapName returns the name of capability c as capabilities(7) spells it,
// e.g. "CAP_SYS_ADMIN".
func CapName(c uintptr) string {
	if int(c) < len(capNames) {
		return "CAP_" + strings.ToUpper(capNames[c])
	}
	return fmt.Sprintf("CAP_%d", c)
}

// lastCap is the highest capability number the kernel knows.
func lastCap() uintptr {
	// PR_CAPBSET_READ fails with EINVAL past the last capability.
	c := uintptr(0)
	for ; c < 64; c++ {
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, c, 0, 0, 0); err != nil {
			break
		}
	}
	return c - 1
}

// Thread seals the calling OS thread for every process it starts from
// now on: all capabilities but [Kept] leave its bounding set, its
// inheritable and ambient sets are emptied, and no_new_privs is set, so a
// child that executes a program (as root or as anyone else, setuid and
// file capabilities included) never holds more than Kept. The thread's
// own effective and permitted sets are left alone: it still may create
// namespaces and place children in cgroups (clone3 with
// CLONE_NEWCGROUP and CLONE_INTO_CGROUP). Like every capability state it
// is per thread and cannot be undone: call it on a locked thread that
// ends with its goroutine (internal/nsthread).
func Thread() error {
	last := lastCap()
	for c := uintptr(0); c <= last; c++ {
		if slices.Contains(Kept, c) {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("dropping %s from the bounding set: %w", CapName(c), err)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("reading capabilities: %w", err)
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("clearing inheritable capabilities: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clearing ambient capabilities: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("setting no_new_privs: %w", err)
	}
	return nil
}
