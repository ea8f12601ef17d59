package seal

import (
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

// Init is a running sandbox init: PID 1 of a PID namespace.
type Init struct {
	// Pid is its process ID in the caller's PID namespace.
	Pid   int
	cmd   *exec.Cmd
	ctl   *os.File
	ready *os.File
}

// StartInit starts the init of a new PID namespace from the calling
// thread, which must have unshared CLONE_NEWPID and not started any
// process since: the init is its first child, PID 1. attr places it
// (cgroup, cgroup namespace); the init joins the caller's other
// namespaces. It does not wait for the init to run. Call [Init.MountProc]
// before starting anything else in the namespace, and [Init.Close] when
// the sandbox ends.
//
// The init is /proc/self/exe, which package sealinit turns into the init;
// this package imports it, so every binary that can start an init can
// be one.
func StartInit(attr *syscall.SysProcAttr) (*Init, error) {
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{"rgraph-init"},
		Env:         []string{sealinit.Env + "=1"},
		ExtraFiles:  []*os.File{ctlR, readyW}, // sealinit.CtlFD and ReadyFD
		SysProcAttr: attr,
	}
	err = cmd.Start()
	ctlR.Close()
	readyW.Close()
	if err != nil {
		ctlW.Close()
		readyR.Close()
		return nil, fmt.Errorf("starting the sandbox's init: %w", err)
	}
	return &Init{Pid: cmd.Process.Pid, cmd: cmd, ctl: ctlW, ready: readyR}, nil
}

// MountProc mounts a /proc of the init's PID namespace over /proc and
// makes the parts of it that configure the machine read-only (see
// [MountProc]). It must run on a thread in the init's mount namespace
// that may mount. Kernels whose proc file system has no pidns option
// (before Linux 6.18) have the init mount it, and MountProc waits for
// that.
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
	if _, err := io.WriteString(i.ctl, "proc\n"); err != nil {
		return fmt.Errorf("asking the sandbox's init to mount /proc: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(i.ready, 4<<10))
	switch msg := strings.TrimSpace(string(b)); {
	case err != nil:
		return fmt.Errorf("waiting for the sandbox's init: %w", err)
	case msg == "ok":
		return nil
	case msg == "":
		return errors.New("the sandbox's init ended before it mounted /proc")
	default:
		return fmt.Errorf("sandbox init: %s", msg)
	}
}

// Keep lets the init, and so its PID namespace, outlive the caller:
// after Keep, only killing the init ends it.
func (i *Init) Keep() error {
	_, err := io.WriteString(i.ctl, "keep\n")
	i.ctl.Close()
	return err
}

// Close ends the init, and with it every process of its PID namespace,
// and reaps it. It waits at most timeout for the init to exit.
func (i *Init) Close(timeout time.Duration) error {
	i.ctl.Close()
	i.ready.Close()
	done := make(chan error, 1)
	go func() { done <- i.cmd.Wait() }()
	select {
	case <-done:
		return nil // it exits with a signal when killed first: fine
	case <-time.After(timeout):
		_ = i.cmd.Process.Kill()
		<-done
		return nil
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
