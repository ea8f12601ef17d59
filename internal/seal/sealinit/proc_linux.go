package sealinit

import "syscall"

// procReadOnly are the parts of /proc that configure the machine rather
// than show a process: root could write them without any capability.
var procReadOnly = []string{"sys", "sysrq-trigger", "irq", "bus", "fs"}

// procMasked are the parts of /proc that show the machine's memory, keys
// and timers; they are covered by /dev/null or an empty directory.
var procMasked = []string{"kcore", "keys", "key-users", "timer_list", "sched_debug", "latency_stats", "acpi", "asound", "scsi"}

const procFlags = syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC

// MountProc mounts a proc file system of the caller's own PID namespace
// over /proc, and restricts it ([RestrictProc]).
func MountProc() error {
	if err := syscall.Mount("proc", "/proc", "proc", procFlags, ""); err != nil {
		return &pathError{"mounting", "/proc", err}
	}
	return RestrictProc()
}

// RestrictProc makes the parts of /proc that configure the machine
// read-only, and covers those that show its memory, keys and timers.
// /dev/null must be there.
func RestrictProc() error {
	for _, p := range procReadOnly {
		p = "/proc/" + p
		if err := syscall.Mount(p, p, "", syscall.MS_BIND, ""); err != nil {
			if err == syscall.ENOENT {
				continue
			}
			return &pathError{"binding", p, err}
		}
		if err := syscall.Mount("", p, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY|procFlags, ""); err != nil {
			return &pathError{"making read-only", p, err}
		}
	}
	for _, p := range procMasked {
		p = "/proc/" + p
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			continue
		}
		var err error
		if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
			err = syscall.Mount("tmpfs", p, "tmpfs", syscall.MS_RDONLY|procFlags, "size=0")
		} else {
			err = syscall.Mount("/dev/null", p, "", syscall.MS_BIND, "")
		}
		if err != nil {
			return &pathError{"masking", p, err}
		}
	}
	return nil
}

// pathError is what went wrong doing op on path (os.PathError, without
// importing os).
type pathError struct {
	op, path string
	err      error
}

func (e *pathError) Error() string { return e.op + " " + e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }
