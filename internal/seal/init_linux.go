package seal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/seal/sealinit"
)

// initScript is the sandbox's init, run by /bin/sh as PID 1 of its PID
// namespace: it ignores the signals processes of the namespace could end
// it with (the kernel delivers to an init only those it handles), and
// waits for a watcher of the control pipe on descriptor 3. A shell that
// waits for a child reaps every child that exits meanwhile, orphans of
// the namespace included. At the pipe's end the init exits, and the
// kernel kills every process of the namespace; after "keep" it waits
// forever. A watcher killed by a process of the namespace is replaced.
const initScript = `trap '' HUP INT QUIT TERM USR1 USR2 PIPE ALRM TSTP TTIN TTOU
while :; do
	( read -r line <&3 || exit 0; [ "$line" = keep ] && exit 7; exit 0 ) &
	wait $!
	case $? in
	0) exit 0 ;;
	7) break ;;
	esac
done
exec 3<&-
while :; do
	sleep 3600 &
	wait $!
done`

// Init is a running sandbox init: PID 1 of a PID namespace.
type Init struct {
	// Pid is its process ID in the caller's PID namespace.
	Pid int
	cmd *exec.Cmd
	ctl *os.File
}

// StartInit starts the init of a new PID namespace from the calling
// thread, which must have unshared CLONE_NEWPID and not started any
// process since: the init is its first child, PID 1. attr places it
// (cgroup, cgroup namespace); the init joins the caller's other
// namespaces. The init is a few lines of /bin/sh (initScript), cheap to
// start. Call [Init.MountProc] before starting anything else in the
// namespace, and [Init.Close] when the sandbox ends.
func StartInit(attr *syscall.SysProcAttr) (*Init, error) {
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:        "/bin/sh",
		Args:        []string{"sh", "-c", initScript, "rgraph-init"},
		Env:         []string{"PATH=/usr/bin:/bin"},
		ExtraFiles:  []*os.File{ctlR}, // descriptor 3
		SysProcAttr: attr,
	}
	err = cmd.Start()
	ctlR.Close()
	if err != nil {
		ctlW.Close()
		return nil, fmt.Errorf("starting the sandbox's init: %w", err)
	}
	return &Init{Pid: cmd.Process.Pid, cmd: cmd, ctl: ctlW}, nil
}

// MountProc mounts a /proc of the init's PID namespace over /proc and
// restricts it (see [MountProc]). It must run on a thread in the init's
// mount namespace that may mount. On kernels whose proc file system has
// no pidns option, a helper born in the namespace mounts it: the binary
// itself again, which package sealinit turns into that helper.
func (i *Init) MountProc() error {
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/pid", i.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the sandbox's PID namespace: %w", err)
	}
	defer unix.Close(fd)
	err = MountProc(fd)
	if !errors.Is(err, errNoPidnsOption) {
		return err
	}
	return mountProcFromInside()
}

// mountProcFromInside has a helper born in the caller's new PID
// namespace mount /proc (package sealinit).
func mountProcFromInside() error {
	var out bytes.Buffer
	helper := &exec.Cmd{Path: "/proc/self/exe", Args: []string{"rgraph-proc"}, Env: []string{sealinit.ProcEnv + "=1"}, Stderr: &out}
	if err := helper.Run(); err != nil {
		return fmt.Errorf("mounting /proc in the sandbox: %v: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// Keep lets the init, and so its PID namespace, outlive the caller:
// after Keep, only killing the init ends it.
func (i *Init) Keep() error {
	_, err := io.WriteString(i.ctl, "keep\n")
	i.ctl.Close()
	return err
}

// Close ends the init, and with it every process of its PID namespace,
// and reaps it. It waits at most timeout for the init to exit, then
// kills it.
func (i *Init) Close(timeout time.Duration) {
	i.ctl.Close()
	done := make(chan error, 1)
	go func() { done <- i.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(timeout):
		_ = i.cmd.Process.Kill()
		<-done
	}
}

// errNoPidnsOption says the proc file system has no pidns option.
var errNoPidnsOption = errors.New("proc has no pidns option")

// MountProc mounts a proc file system of the PID namespace pidns (a
// descriptor) over /proc in the calling thread's mount namespace, then
// restricts it as sealinit.RestrictProc does. It needs the proc file
// system's pidns option (added in 2025; Linux 6.18 has it), and wraps
// errNoPidnsOption without it.
func MountProc(pidns int) error {
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("mounting /proc: %w", err)
	}
	defer unix.Close(fs)
	if err := unix.FsconfigSetFd(fs, "pidns", pidns); err != nil {
		return fmt.Errorf("%w: %v", errNoPidnsOption, err)
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return fmt.Errorf("mounting /proc: %w", err)
	}
	m, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return fmt.Errorf("mounting /proc: %w", err)
	}
	defer unix.Close(m)
	if err := unix.MoveMount(m, "", unix.AT_FDCWD, "/proc", unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("mounting /proc: %w", err)
	}
	return sealinit.RestrictProc()
}
