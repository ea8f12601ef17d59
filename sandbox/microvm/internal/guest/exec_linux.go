package guest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/nsthread"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/microvm/internal/vmproto"
)

// keptCaps are the capabilities commands keep: Docker's default set
// without CAP_NET_RAW (no cgroup hook sees packet sockets) and
// CAP_MKNOD. Without CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN,
// CAP_SYS_MODULE, CAP_SYS_PTRACE and CAP_SYS_RAWIO a command cannot
// detach the recorder, load kernel code, reconfigure the network or
// reach into the agent.
var keptCaps = []uintptr{
	unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_FOWNER, unix.CAP_FSETID,
	unix.CAP_KILL, unix.CAP_SETGID, unix.CAP_SETUID, unix.CAP_SETPCAP,
	unix.CAP_NET_BIND_SERVICE, unix.CAP_SYS_CHROOT, unix.CAP_AUDIT_WRITE, unix.CAP_SETFCAP,
}

// launcher is the thread every command is started from: it lives in a
// mount namespace of its own in which /sys (the cgroup hierarchy
// included) and /proc/sys are read-only and the agent's virtio ports are
// hidden, and it has dropped every capability but [keptCaps]. Commands
// inherit both, so root in a runbook can neither leave its cgroup nor
// switch the recorder off.
type launcher struct{ t *nsthread.Thread }

func startLauncher() (*launcher, error) {
	t, err := nsthread.Start(seal)
	if err != nil {
		return nil, err
	}
	return &launcher{t}, nil
}

// seal runs on the launcher thread.
func seal() error {
	if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
		return fmt.Errorf("creating a mount namespace: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return err
	}
	if err := unix.Mount("/proc/sys", "/proc/sys", "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding /proc/sys: %w", err)
	}
	for _, dir := range []string{"/sys", "/proc/sys"} {
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := unix.MountSetattr(-1, dir, unix.AT_RECURSIVE, attr); err != nil {
			return fmt.Errorf("making %s read-only: %w", dir, err)
		}
	}
	hide, _ := filepath.Glob("/dev/vport*")
	hide = append(hide, "/proc/sysrq-trigger")
	for _, p := range hide {
		if err := unix.Mount("/dev/null", p, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("hiding %s: %w", p, err)
		}
	}
	return dropCaps(keptCaps)
}

// dropCaps leaves the calling thread with the capabilities keep in its
// bounding, permitted, effective and inheritable sets and none ambient,
// so that what it starts, root included, never has more.
func dropCaps(keep []uintptr) error {
	last := uintptr(unix.CAP_LAST_CAP)
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			last = uintptr(n)
		}
	}
	kept := map[uintptr]bool{}
	for _, c := range keep {
		kept[c] = true
	}
	for c := uintptr(0); c <= last; c++ {
		if kept[c] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("dropping capability %d: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clearing ambient capabilities: %w", err)
	}
	var data [2]unix.CapUserData
	for _, c := range keep {
		data[c/32].Permitted |= 1 << (c % 32)
	}
	for i := range data {
		data[i].Effective = data[i].Permitted
		data[i].Inheritable = data[i].Permitted
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("dropping capabilities: %w", err)
	}
	return nil
}

// service is the Agent the host calls.
type service struct{ a *agent }

// Exec runs a command and waits for it.
func (s *service) Exec(args vmproto.Exec, res *vmproto.ExecResult) error {
	*res = s.a.exec(args)
	return nil
}

// Cancel kills the process group of the command with args' token.
func (s *service) Cancel(token uint64, _ *vmproto.Empty) error {
	s.a.mu.Lock()
	cancel := s.a.cancels[token]
	s.a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return nil
}

func (a *agent) exec(args vmproto.Exec) vmproto.ExecResult {
	ctx, cancel := context.WithCancel(context.Background())
	if args.Timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), args.Timeout)
	}
	defer cancel()
	a.mu.Lock()
	a.cancels[args.Token] = cancel
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.cancels, args.Token)
		a.mu.Unlock()
	}()

	fail := func(err error) vmproto.ExecResult { return vmproto.ExecResult{ExitCode: -1, Err: err.Error()} }
	logPath := filepath.Join(a.logs, logName(args.Name))
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fail(fmt.Errorf("creating log: %w", err))
	}
	cgfd := a.cgRun
	if args.Validation {
		cgfd = a.cgVal
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", args.Shell)
	cmd.Dir = a.setup.WorkDir
	cmd.Env = append(append([]string(nil), a.setup.Env...), "RGRAPH_RUN_ID="+a.setup.ID, "RGRAPH_WORKDIR="+a.setup.WorkDir)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, UseCgroupFD: true, CgroupFD: cgfd}
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	start := time.Now()
	err = a.launcher.t.Do(cmd.Start)
	f.Close()
	if err != nil {
		return fail(fmt.Errorf("starting sh: %w", err))
	}
	waitErr := cmd.Wait()
	res := vmproto.ExecResult{ExitCode: cmd.ProcessState.ExitCode(), Duration: time.Since(start), TimedOut: errors.Is(ctx.Err(), context.DeadlineExceeded)}
	if waitErr != nil && res.ExitCode == 0 {
		res.ExitCode = -1
	}
	res.Output = readTail(logPath, 4<<10)
	return res
}

func logName(name string) string {
	clean := strings.Map(func(r rune) rune {
		if r == '/' || r == 0 || r == ' ' {
			return '_'
		}
		return r
	}, name)
	return clean + ".log"
}

// readTail returns about the last n bytes of the file at path.
func readTail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > int64(n) {
		_, _ = f.Seek(st.Size()-int64(n)-200, io.SeekStart)
	}
	b, _ := io.ReadAll(io.LimitReader(f, int64(n)+200))
	return string(b)
}

// Probe makes a health check from the agent: in the guest's network,
// outside the recorded cgroup.
func (s *service) Probe(args vmproto.Probe, res *vmproto.ProbeResult) error {
	ctx, cancel := context.WithCancel(context.Background())
	if args.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, args.Timeout)
	}
	defer cancel()
	p := sandbox.Probe{Kind: sandbox.ProbeKind(args.Kind), Target: args.Target, Status: args.Status, Body: args.Body}
	if err := sandbox.CheckProbe(ctx, p, dial); err != nil {
		res.Err = err.Error()
		res.TimedOut = ctx.Err() != nil
		var errno syscall.Errno
		if errors.As(err, &errno) {
			res.Errno = uintptr(errno)
		}
	}
	return nil
}

// dial connects from the agent: in the guest's network, outside the
// recorded cgroup. Probes carry addresses; localhost is loopback.
func dial(ctx context.Context, network, address string) (net.Conn, error) {
	if rest, ok := strings.CutPrefix(address, "localhost:"); ok {
		address = "127.0.0.1:" + rest
	}
	return (&net.Dialer{}).DialContext(ctx, network, address)
}

// Alive reports whether a process of the runbook still runs: its cgroup
// (and the cgroups below it) is populated.
func (s *service) Alive(_ vmproto.Empty, alive *bool) error {
	b, err := os.ReadFile(filepath.Join(s.a.cgroup, "runbook", "cgroup.events"))
	if err != nil {
		return err
	}
	*alive = strings.Contains(string(b), "populated 1")
	return nil
}

// Recording returns what the recorder saw.
func (s *service) Recording(_ vmproto.Empty, res *vmproto.Recording) error {
	if s.a.rec == nil {
		res.Recording.Collection.NotRecorded = []string{"everything: this VM ran without its recorder (a test of the host's filter)"}
		return nil
	}
	r, err := s.a.rec.recording()
	res.Recording = r
	if err != nil {
		res.Err = err.Error()
	}
	return nil
}

// Keep makes the agent stay when the host hangs up, and opens the shell
// port for `rgraph sandbox enter`-style access.
func (s *service) Keep(_ vmproto.Empty, res *vmproto.Kept) error {
	s.a.mu.Lock()
	s.a.kept = true
	s.a.mu.Unlock()
	go s.a.serveShell()
	res.Notes = []string{"still recorded and enforced: the probe and the DNS stub live in the VM's agent"}
	return nil
}

// Shutdown powers the VM off once the reply is on its way.
func (s *service) Shutdown(_ vmproto.Empty, _ *vmproto.Empty) error {
	go func() {
		time.Sleep(20 * time.Millisecond)
		powerOff()
	}()
	return nil
}
