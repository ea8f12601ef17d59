package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/collector/probe"
	"github.com/rgraph/rgraph/sandbox"
)

// Check implements [sandbox.Checker]: network namespaces, a cgroup v2
// hierarchy, Linux 5.8, root (or the capabilities) and each eBPF feature
// of collector/probe are required, in that order; kernel BTF and the unix
// socket hooks (to record unix sockets), tracepoints and nsenter are
// optional. It changes nothing on the
// machine.
func (d *Driver) Check(context.Context) []sandbox.Requirement {
	var reqs []sandbox.Requirement
	// add appends r, met unless err says what is missing; missing, when
	// set, says it better than err does.
	add := func(r sandbox.Requirement, err error, missing string) {
		r.OK = err == nil
		if err != nil {
			r.Err, r.Detail = err, missing
			if missing == "" {
				r.Detail = errSentence(err)
			}
		}
		reqs = append(reqs, r)
	}

	var err error
	if _, serr := os.Stat("/proc/self/ns/net"); serr != nil {
		err = sandbox.UnsupportedErr(errors.New("this kernel has no network namespaces"))
	}
	add(sandbox.Requirement{Name: "network namespaces", Detail: "/proc/self/ns/net", Fix: "a kernel built with CONFIG_NET_NS"}, err, "")

	root, err := cgroupRoot()
	add(sandbox.Requirement{Name: "cgroup v2", Detail: "mounted at " + root, Fix: "mount -t cgroup2 none /sys/fs/cgroup"}, err, "")

	release, ringbuf := kernelAtLeast(5, 8)
	add(sandbox.Requirement{Name: "kernel version", Detail: "Linux " + release, Fix: "Linux 5.8 or later (6.7 or later to record unix sockets)"},
		nil, "")
	if !ringbuf {
		reqs[len(reqs)-1].OK = false
		reqs[len(reqs)-1].Err = sandbox.UnsupportedErr(fmt.Errorf("kernel %s is older than Linux 5.8, which brought the ring buffer the recorder needs", release))
		reqs[len(reqs)-1].Detail = "Linux " + release + " is older than 5.8"
	}

	// The sealed view (view_linux.go): the mount API and overlays.
	_, mountAPI := kernelAtLeast(5, 12)
	err = nil
	if !mountAPI {
		err = sandbox.UnsupportedErr(fmt.Errorf("kernel %s has no mount_setattr (Linux 5.12)", release))
	}
	add(sandbox.Requirement{Name: "mount API", Detail: "Linux " + release + " (open_tree, move_mount, mount_setattr)", Fix: "Linux 5.12 or later"}, err, "")
	err = nil
	if !hasOverlay(release) {
		err = sandbox.UnsupportedErr(errors.New("no overlay file system"))
	}
	add(sandbox.Requirement{Name: "overlayfs", Detail: "the overlay file system, for each run's private view of the host's files",
		Fix: "a kernel built with CONFIG_OVERLAY_FS (modprobe overlay)"}, err, "not in /proc/filesystems and no overlay module for Linux "+release)

	privs := sandbox.Requirement{Name: "privileges", Detail: "running as root", Fix: "run as root (sudo), or with CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_BPF"}
	if unix.Geteuid() != 0 && hasCap(unix.CAP_SYS_ADMIN) {
		privs.Detail = "CAP_SYS_ADMIN"
	}
	ebpfFix := "Linux 5.8 or later built with CONFIG_BPF_SYSCALL and CONFIG_CGROUP_BPF"
	if privileged() {
		add(privs, nil, "")
		for _, f := range probe.Features() {
			add(sandbox.Requirement{Name: "eBPF " + f.Name, Detail: "supported", Fix: ebpfFix}, probeErr(f.Err), "")
		}
	} else {
		add(privs, sandbox.ErrPermission, fmt.Sprintf("uid %d without CAP_SYS_ADMIN", unix.Geteuid()))
		add(sandbox.Requirement{Name: "eBPF features", Fix: privs.Fix}, sandbox.ErrPermission,
			"not checked without privileges; as root each program and map type is listed")
	}

	// Optional: without them runs go ahead, and their records say what
	// was not recorded.
	_, noBTF := os.Stat("/sys/kernel/btf/vmlinux")
	btf := sandbox.Requirement{Name: "kernel BTF", Optional: true, OK: noBTF == nil,
		Detail: "/sys/kernel/btf/vmlinux", Fix: "a kernel built with CONFIG_DEBUG_INFO_BTF"}
	if !btf.OK {
		btf.Detail = "no /sys/kernel/btf/vmlinux: unix socket connects are neither recorded nor denied"
	}
	reqs = append(reqs, btf)
	_, recent := kernelAtLeast(6, 7)
	unixHooks := sandbox.Requirement{Name: "eBPF unix socket hooks (Linux 6.7)", Optional: true, OK: recent,
		Detail: "Linux " + release, Fix: "Linux 6.7 or later"}
	if !recent {
		unixHooks.Detail = "Linux " + release + " has no unix socket hooks: unix socket connects are neither recorded nor denied"
	}
	reqs = append(reqs, unixHooks)

	tracing := sandbox.Requirement{Name: "tracepoints", Optional: true, OK: mounted("tracefs", "/sys/kernel/tracing"),
		Detail: "tracefs at /sys/kernel/tracing", Fix: "mount -t tracefs nodev /sys/kernel/tracing"}
	if !tracing.OK {
		tracing.Detail = "no tracefs at /sys/kernel/tracing: the outcomes of allowed connects and packet sockets are not recorded"
	}
	reqs = append(reqs, tracing)

	nsenter, err := exec.LookPath("nsenter")
	enter := sandbox.Requirement{Name: "nsenter", Optional: true, OK: err == nil,
		Detail: nsenter + ", to enter sandboxes kept with --keep", Fix: "apt-get install util-linux"}
	if err != nil {
		enter.Detail = "not found: sandboxes kept with --keep cannot be entered with their enter script"
	}
	reqs = append(reqs, enter)
	return reqs
}

// hasOverlay reports whether the kernel has overlayfs, or can load it
// (the first overlay mount loads the module).
func hasOverlay(release string) bool {
	if b, err := os.ReadFile("/proc/filesystems"); err == nil && strings.Contains(string(b), "\toverlay\n") {
		return true
	}
	_, err := os.Stat("/lib/modules/" + release + "/kernel/fs/overlayfs")
	return err == nil
}

// errSentence is err's message without the "sandbox: " of its sentinel.
func errSentence(err error) string {
	return strings.TrimPrefix(err.Error(), "sandbox: ")
}

// kernelAtLeast reports whether the running kernel is at least
// major.minor, and its release.
func kernelAtLeast(major, minor int) (string, bool) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown", false
	}
	release := unix.ByteSliceToString(u.Release[:])
	return release, releaseAtLeast(release, major, minor)
}

// releaseAtLeast reports whether a kernel release such as
// "6.18.44-fc-v1045" is major.minor or later.
func releaseAtLeast(release string, major, minor int) bool {
	maj, rest, _ := strings.Cut(release, ".")
	digits := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if digits >= 0 {
		rest = rest[:digits]
	}
	m, err1 := strconv.Atoi(maj)
	n, err2 := strconv.Atoi(rest)
	if err1 != nil || err2 != nil {
		return false
	}
	return m > major || m == major && n >= minor
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

// mounted reports whether a file system of type fstype is mounted at dir.
func mounted(fstype, dir string) bool {
	b, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if f := strings.Fields(pre); ok && len(f) > 4 && unescapeMount(f[4]) == dir && strings.HasPrefix(post, fstype+" ") {
			return true
		}
	}
	return false
}
