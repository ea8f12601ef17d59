package guest

import (
	"errors"
	"fmt"
	"io"
	"net/rpc"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/collector/probe"
	"github.com/rgraph/rgraph/sandbox/microvm/internal/vmproto"
)

// stageEnv marks the agent's second start (see [Main]).
const stageEnv = "RGRAPH_AGENT_STAGE"

// Paths of the guest.
const (
	modulesDir = "/.rgraph/modules"
	hostMount  = "/.rgraph/host"
	portsDir   = "/sys/class/virtio-ports"
)

// Main is the guest agent, PID 1 of the VM; it never returns. It mounts
// the kernel's file systems and starts itself again (cilium/ebpf reads
// /proc/self/mountinfo once, at package initialization, before the first
// start could mount /proc), loads the kernel modules, asks the host for
// the sandbox's setup, builds it, and serves the host's calls until the
// host goes away; then it powers the VM off.
func Main() {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "rgraph agent: this is the init of rgraph's microVMs, not a command to run")
		os.Exit(2)
	}
	if os.Getenv(stageEnv) == "" {
		if err := stage1(); err != nil {
			fail(err)
		}
	}
	a := &agent{cancels: map[uint64]func(){}}
	if err := a.run(); err != nil {
		fail(err)
	}
	powerOff()
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "rgraph agent: %v\n", err)
	powerOff()
}

// powerOff ends the VM: qemu, started with -no-reboot, exits.
func powerOff() {
	unix.Sync()
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	for {
		time.Sleep(time.Hour)
	}
}

// stage1 mounts /proc, /sys and /dev and starts the agent again.
func stage1() error {
	for _, m := range []struct{ fs, dir string }{{"proc", "/proc"}, {"sysfs", "/sys"}, {"devtmpfs", "/dev"}} {
		if err := mount(m.fs, m.dir, m.fs, 0, ""); err != nil {
			return err
		}
	}
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return syscall.Exec(exe, os.Args, append(os.Environ(), stageEnv+"=2"))
}

func mount(source, target, fstype string, flags uintptr, data string) error {
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mounting %s on %s: %w", fstype, target, err)
	}
	return nil
}

// agent is the guest's state.
type agent struct {
	setup    vmproto.Setup
	host     *rpc.Client
	launcher *launcher
	cgroup   string // the run's cgroup directory
	cgRun    int    // descriptor of cgroup/runbook
	cgVal    int    // descriptor of cgroup/validate
	rec      *recorder
	logs     string

	// timings are how long the start's steps took.
	timings []string
	// template is set in a VM restored from a snapshot: its recorder was
	// loaded before the clock was set, clockShift ago.
	template   bool
	clockShift time.Duration

	mu      sync.Mutex
	cancels map[uint64]func()
	kept    bool
}

func (a *agent) run() error {
	start := time.Now()
	// A runbook running as root could otherwise end the agent, and with
	// it the VM, with a signal.
	signal.Ignore(unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGPIPE, unix.SIGUSR1, unix.SIGUSR2)
	if err := a.mountAll(); err != nil {
		return err
	}
	t := time.Now()
	if err := loadModules(modulesDir); err != nil {
		return err
	}
	a.timings = append(a.timings, fmt.Sprintf("agent started at uptime %v", uptime().Round(time.Millisecond)), fmt.Sprintf("modules %v", time.Since(t).Round(time.Millisecond)))
	hostPort, err := openPort(vmproto.PortHost)
	if err != nil {
		return err
	}
	if cmdlineFlag(vmproto.TemplateArg) {
		// The host snapshots the VM while it waits below: each run
		// restored from it starts here, with the recorder's programs
		// loaded and verified (the longest part of a start under
		// emulation).
		if _, err := probe.Shared(); err != nil {
			return err
		}
		a.template = true
		if _, err := hostPort.Write([]byte(vmproto.TemplateReady + "\n")); err != nil {
			return err
		}
	}
	if line, err := readLine(hostPort); err != nil || line != vmproto.Go {
		return fmt.Errorf("waiting for the host: got %q, %v", line, err)
	}
	if a.template {
		// Restored from the snapshot: the setup starts now.
		start = time.Now()
		a.timings = []string{"restored from the snapshot"}
	}
	a.host = rpc.NewClient(hostPort)
	var u unix.Utsname
	_ = unix.Uname(&u)
	hello := vmproto.Hello{Version: vmproto.Version, Kernel: unix.ByteSliceToString(u.Release[:]), Uptime: uptime()}
	if err := a.host.Call(vmproto.HostHello, hello, &a.setup); err != nil {
		return fmt.Errorf("asking the host for the setup: %w", err)
	}
	ready := vmproto.Ready{}
	if err := a.build(); err != nil {
		ready.Err = err.Error()
		ready.Unsupported = errors.Is(err, probe.ErrUnsupported)
		ready.Permission = errors.Is(err, probe.ErrPermission)
	}
	ready.Took, ready.Steps = time.Since(start), a.timings
	if err := a.host.Call(vmproto.HostReady, ready, &vmproto.Empty{}); err != nil || ready.Err != "" {
		return fmt.Errorf("setup: %s", ready.Err)
	}
	ctl, err := openPort(vmproto.PortCtl)
	if err != nil {
		return err
	}
	srv := rpc.NewServer()
	if err := srv.RegisterName(vmproto.Agent, &service{a}); err != nil {
		return err
	}
	// Until the host hangs up: rgraph closed the VM, or it died.
	srv.ServeConn(ctl)
	a.mu.Lock()
	kept := a.kept
	a.mu.Unlock()
	if kept {
		select {}
	}
	return nil
}

// mountAll mounts what the agent and the runbook need beyond stage1's.
func (a *agent) mountAll() error {
	for _, m := range []struct {
		fs, dir string
		flags   uintptr
		data    string
	}{
		{"devpts", "/dev/pts", unix.MS_NOSUID | unix.MS_NOEXEC, "newinstance,ptmxmode=0666"},
		{"tmpfs", "/dev/shm", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
		{"tmpfs", "/run", unix.MS_NOSUID | unix.MS_NODEV, "mode=755"},
		{"cgroup2", "/sys/fs/cgroup", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		{"tracefs", "/sys/kernel/tracing", 0, ""},
	} {
		if err := mount(m.fs, m.dir, m.fs, m.flags, m.data); err != nil {
			return err
		}
	}
	_ = os.Symlink("/proc/self/fd", "/dev/fd")
	_ = os.Symlink("pts/ptmx", "/dev/ptmx")
	// Nothing the runbook does may create namespaces of its own (with
	// them, root without capabilities regains some) or load code into
	// the kernel.
	for k, v := range map[string]string{
		"user/max_user_namespaces":         "0",
		"kernel/unprivileged_bpf_disabled": "1",
		"kernel/kexec_load_disabled":       "1",
		"net/ipv4/ping_group_range":        "1 0",
	} {
		if err := os.WriteFile("/proc/sys/"+k, []byte(v), 0); err != nil {
			return fmt.Errorf("setting %s: %w", k, err)
		}
	}
	return nil
}

// loadModules loads the kernel modules of dir in name order (the
// initramfs numbers them dependencies first), then forbids loading any
// other.
func loadModules(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("loading module %s: %w", n, err)
		}
	}
	return os.WriteFile("/proc/sys/kernel/modules_disabled", []byte("1"), 0)
}

// openPort opens the virtio-serial port called name, waiting for its
// device to appear.
func openPort(name string) (*os.File, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		ents, _ := os.ReadDir(portsDir)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(portsDir, e.Name(), "name"))
			if err == nil && strings.TrimSpace(string(b)) == name {
				return os.OpenFile("/dev/"+e.Name(), os.O_RDWR, 0)
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no virtio-serial port %s", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func uptime() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// cmdlineFlag reports whether the kernel's command line has name=1.
func cmdlineFlag(name string) bool {
	b, _ := os.ReadFile("/proc/cmdline")
	for _, f := range strings.Fields(string(b)) {
		if f == name+"=1" {
			return true
		}
	}
	return false
}

// readLine reads one line a byte at a time, so that nothing after it is
// consumed.
func readLine(f *os.File) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for len(b) < 256 {
		n, err := f.Read(one)
		if n == 0 && (err == nil || errors.Is(err, io.EOF)) {
			time.Sleep(10 * time.Millisecond) // the host is not connected yet
			continue
		}
		if err != nil {
			return string(b), err
		}
		if one[0] == '\n' {
			return string(b), nil
		}
		b = append(b, one[0])
	}
	return string(b), fmt.Errorf("line too long")
}
