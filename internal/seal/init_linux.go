package seal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// initEnv marks the process [StartInit] starts. This package's init
// function turns a process that has it, and that is PID 1, into the
// sandbox's init before any other package of the binary initializes.
const initEnv = "RGRAPH_SEAL_INIT"

// The init's descriptors: the control pipe it reads (EOF ends it, "keep"
// keeps it) and the pipe it reports readiness on ("ok" or an error).
const (
	ctlFD   = 3
	readyFD = 4
)

func init() {
	if os.Getpid() != 1 || os.Getenv(initEnv) != "1" {
		return
	}
	os.Exit(runInit())
}

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
// The init is /proc/self/exe, so every binary that starts one must
// import this package (its init function does the rest).
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
		Env:         []string{initEnv + "=1"},
		ExtraFiles:  []*os.File{ctlR, readyW}, // fds 3 and 4
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

// runInit is the init's life: mount /proc, report, reap, and end when
// the control pipe closes unless told to stay.
func runInit() int {
	ready := os.NewFile(readyFD, "ready")
	ctl := os.NewFile(ctlFD, "control")
	// Signals from inside the namespace must not end it: the kernel only
	// delivers those init handles, and Go handles these by exiting.
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE)
	// Not dumpable: processes of the sandbox cannot ptrace it or open its
	// /proc files, although it runs as root with all capabilities.
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	children := make(chan os.Signal, 1)
	signal.Notify(children, syscall.SIGCHLD)

	end := make(chan struct{})
	go func() {
		kept := false
		sc := bufio.NewScanner(ctl)
		for sc.Scan() {
			switch sc.Text() {
			case "keep":
				kept = true
			case "proc":
				if err := mountProc(-1); err != nil {
					fmt.Fprintln(ready, err)
				} else {
					fmt.Fprintln(ready, "ok")
				}
				ready.Close()
			}
		}
		if !kept {
			close(end)
		}
	}()
	for {
		reap()
		select {
		case <-children:
		case <-end:
			return 0
		}
	}
}

// reap collects every child that has exited.
func reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// procReadOnly are the parts of /proc that configure the machine rather
// than show a process; root could write them without any capability.
var procReadOnly = []string{"sys", "sysrq-trigger", "irq", "bus", "fs"}

// procMasked are the parts of /proc that show the machine's memory,
// keys and timers; they are covered by /dev/null or an empty directory.
var procMasked = []string{"kcore", "keys", "key-users", "timer_list", "sched_debug", "latency_stats", "acpi", "asound", "scsi"}

// errNoPidnsOption says the proc file system has no pidns option.
var errNoPidnsOption = errors.New("proc has no pidns option")

// MountProc mounts a proc file system of the PID namespace pidns (a
// descriptor) over /proc, then makes the parts of it that configure the
// machine read-only and covers those that show its memory, keys and
// timers. Root could write them without any capability. It needs the
// proc file system's pidns option (Linux 6.18).
func MountProc(pidns int) error { return mountProc(pidns) }

// mountProc is [MountProc]; pidns -1 mounts the caller's own PID
// namespace's proc (the init does that on older kernels).
func mountProc(pidns int) error {
	const flags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if pidns < 0 {
		if err := unix.Mount("proc", "/proc", "proc", flags, ""); err != nil {
			return fmt.Errorf("mounting /proc: %w", err)
		}
	} else {
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
	}
	for _, p := range procReadOnly {
		p = "/proc/" + p
		if err := unix.Mount(p, p, "", unix.MS_BIND, ""); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return fmt.Errorf("binding %s: %w", p, err)
		}
		if err := unix.Mount("", p, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|flags, ""); err != nil {
			return fmt.Errorf("making %s read-only: %w", p, err)
		}
	}
	for _, p := range procMasked {
		p = "/proc/" + p
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			continue
		}
		var err error
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			err = unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY|flags, "size=0")
		} else {
			err = unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("masking %s: %w", p, err)
		}
	}
	return nil
}
