package netns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/internal/netnspin"
	"github.com/rgraph/rgraph/sandbox"
)

// recorder records and enforces one sandbox: the eBPF probe on its
// runbook cgroup and the DNS stub in its network namespace, seen as one
// source of attempts.
type recorder = collector.Source

// recorderSetup is what a recorder needs to start.
type recorderSetup struct {
	spec sandbox.Spec
	// cgroup is the runbook cgroup directory the probe attaches to.
	cgroup string
	// inNetNS runs f on a thread inside the sandbox's network namespace;
	// sockets f creates live there.
	inNetNS func(f func() error) error
}

// Driver is the network-namespace driver; see the package doc.
type Driver struct {
	newRecorder func(recorderSetup) (recorder, error)
}

// New returns the network-namespace driver, with the eBPF recorder and
// the DNS stub.
func New() *Driver { return &Driver{newRecorder: startRecorder} }

// Name implements [sandbox.Driver].
func (d *Driver) Name() string { return Name }

// box is one live sandbox of the netns driver.
type box struct {
	rs     *runState
	spec   sandbox.Spec
	l      *launcher
	nsFD   int
	cgDir  string
	cgRun  int // descriptor of cgDir/runbook
	cgInit int // descriptor of cgDir/init, the PID namespace's init's
	cgVal  int // descriptor of cgDir/validate
	work   string
	logs   string
	plan   netPlan
	rec    recorder
	mu     sync.Mutex
	closed bool
	kept   bool
}

// Start implements [sandbox.Driver]; see the package doc for what it
// builds.
func (d *Driver) Start(ctx context.Context, spec sandbox.Spec) (_ sandbox.Sandbox, err error) {
	if !privileged() {
		return nil, sandbox.ErrPermission
	}
	rs, err := newRun(spec.ID)
	if err != nil {
		return nil, err
	}
	spec.ID = rs.id
	s := &box{rs: rs, spec: spec, nsFD: -1, cgRun: -1, cgVal: -1, cgInit: -1}
	defer func() {
		if err != nil {
			if cerr := s.Close(); cerr != nil {
				err = fmt.Errorf("%w (and tearing down: %v)", err, cerr)
			}
		}
	}()
	step := func(what string, f func() error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}

	base, err := cgroupBase()
	if err != nil {
		return nil, err
	}
	s.cgDir = filepath.Join(base, rs.id)
	rs.meta.Cgroup = s.cgDir
	rs.meta.Upstream = spec.Upstream.NetNS
	if err := rs.save(); err != nil {
		return nil, err
	}
	if err := step("creating cgroups", func() error {
		if err := os.MkdirAll(base, 0o755); err != nil {
			return permErr(err)
		}
		fd, err := mkCgroup(s.cgDir)
		if err != nil {
			return err
		}
		unix.Close(fd)
		if s.cgRun, err = mkCgroup(filepath.Join(s.cgDir, "runbook")); err != nil {
			return err
		}
		if s.cgVal, err = mkCgroup(filepath.Join(s.cgDir, "validate")); err != nil {
			return err
		}
		// The init has a cgroup of its own: the runbook's is empty when
		// no process of the runbook is left (RunbookAlive).
		s.cgInit, err = mkCgroup(filepath.Join(s.cgDir, "init"))
		return err
	}); err != nil {
		return nil, err
	}
	if err := step("leasing addresses", rs.leaseSubnet); err != nil {
		return nil, err
	}
	up, sb := subnetAddrs(rs.meta.Subnet)
	s.plan = netPlan{veth: vethName(rs.id), upstream: up, sandbox: sb, routes: spec.Upstream.Routes}

	resolv := filepath.Join(rs.dir, "resolv.conf")
	if err := step("preparing files", func() error {
		if err := os.WriteFile(resolv, spec.Resolver.ResolvConf(readHostResolvConf()), 0o644); err != nil {
			return err
		}
		s.work, s.logs = filepath.Join(rs.dir, "work"), filepath.Join(rs.dir, "logs")
		for _, d := range []string{s.logs, scratchDir(rs.dir)} {
			if err := os.Mkdir(d, 0o755); err != nil {
				return err
			}
		}
		return writeFiles(s.work, spec)
	}); err != nil {
		return nil, err
	}

	if err := step("creating namespaces", func() error {
		var err error
		s.l, s.nsFD, err = startLauncher(launcherSetup{
			netns:  netnsName(rs.id),
			view:   viewSetup{runDir: rs.dir, work: s.work, resolvConf: resolv, unix: append(slices.Clone(spec.Rules.Unix), spec.Sockets...)},
			cgroup: s.cgInit,
		})
		return err
	}); err != nil {
		return nil, err
	}
	if err := step("wiring the network", func() error {
		upFD, err := openUpstream(spec.Upstream.NetNS)
		if err != nil {
			return err
		}
		defer unix.Close(upFD)
		h, err := handleIn(s.nsFD)
		if err != nil {
			return fmt.Errorf("in the sandbox: %w", err)
		}
		defer h.Close()
		return setupNetwork(h, upFD, s.plan)
	}); err != nil {
		return nil, err
	}
	if err := step("attaching the recorder", func() error {
		var err error
		s.rec, err = d.newRecorder(recorderSetup{
			spec:    spec,
			cgroup:  filepath.Join(s.cgDir, "runbook"),
			inNetNS: func(f func() error) error { return inNetNS(s.nsFD, f) },
		})
		return err
	}); err != nil {
		return nil, err
	}
	if err := step("building the sandbox's file system", s.l.sealed); err != nil {
		return nil, err
	}
	rs.meta.Init = s.l.init.Pid
	if err := rs.save(); err != nil {
		return nil, err
	}
	return s, nil
}

// writeFiles creates the working directory dir with the spec's files,
// owned by its user.
func writeFiles(dir string, spec sandbox.Spec) error {
	mode := os.FileMode(0o755)
	if spec.SharedWorkDir {
		mode = 0o777 | os.ModeSticky
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(dir, mode); err != nil {
		return err
	}
	for _, f := range spec.Files {
		p := filepath.Join(dir, f.Path)
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return fmt.Errorf("file %q is outside the working directory", f.Path)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Content, f.Mode); err != nil {
			return err
		}
	}
	if u := spec.User; u != nil {
		return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, int(u.UID), int(u.GID))
		})
	}
	return nil
}

func (s *box) ID() string      { return s.rs.id }
func (s *box) WorkDir() string { return s.work }

// Exec implements [sandbox.Sandbox].
func (s *box) Exec(ctx context.Context, c sandbox.Command) (sandbox.ExecResult, error) {
	s.mu.Lock()
	closed := s.closed || s.kept
	s.mu.Unlock()
	if closed {
		return sandbox.ExecResult{ExitCode: -1}, errors.New("sandbox is closed")
	}
	logPath := filepath.Join(s.logs, logName(c.Name))
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return sandbox.ExecResult{ExitCode: -1}, fmt.Errorf("creating log: %w", err)
	}
	cgfd := s.cgRun
	if c.Where == sandbox.InValidation {
		cgfd = s.cgVal
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", c.Shell)
	cmd.Dir = s.work
	cmd.Env = append(append([]string(nil), s.spec.Env...), "RGRAPH_RUN_ID="+s.rs.id, "RGRAPH_WORKDIR="+s.work)
	cmd.Stdout, cmd.Stderr = f, f
	// Each command gets a cgroup namespace rooted at its cgroup; the
	// launcher's seal (internal/seal) limits its capabilities.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, UseCgroupFD: true, CgroupFD: cgfd, Cloneflags: syscall.CLONE_NEWCGROUP}
	if u := c.User; u != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: u.Groups}
		cmd.Env = append(cmd.Env, "HOME="+u.Home, "USER="+u.Name, "LOGNAME="+u.Name)
	}
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	start := time.Now()
	s.l.do(func() { err = cmd.Start() })
	f.Close()
	if err != nil {
		return sandbox.ExecResult{ExitCode: -1}, fmt.Errorf("starting sh: %w", err)
	}
	waitErr := cmd.Wait()
	res := sandbox.ExecResult{ExitCode: cmd.ProcessState.ExitCode(), Duration: time.Since(start), TimedOut: errors.Is(ctx.Err(), context.DeadlineExceeded)}
	if waitErr != nil && res.ExitCode == 0 {
		res.ExitCode = -1
	}
	res.Output = readTail(logPath, sandbox.OutputLimit)
	return res, nil
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

// readTail returns about the last n bytes of the file at path: a little
// more, so that [sandbox.Run] can cut its tail at a line boundary.
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

// Probe implements [sandbox.Sandbox]: the check ([sandbox.CheckProbe]) is
// made by rgraph from a thread inside the sandbox's network namespace (and
// its mount namespace for unix sockets), so neither the probe nor the
// allowlist sees it.
func (s *box) Probe(ctx context.Context, p sandbox.Probe) error {
	return sandbox.CheckProbe(ctx, p, s.dial)
}

// ProbeUpstream implements [sandbox.UpstreamProber]: addresses are
// connected to from the sandbox's network namespace, whose routes lead to
// the upstream (rgraph's thread is outside the recorded cgroup, so nothing
// is denied or rewritten), and the connection is closed at once; socket
// paths are looked up (not connected to) in rgraph's own mount namespace:
// the host's, where upstream services bind them. Abstract unix names belong to a
// network namespace and are not looked up.
func (s *box) ProbeUpstream(ctx context.Context, network, address string) error {
	if network != "unix" {
		c, err := s.dial(ctx, network, address)
		if err != nil {
			return err
		}
		return c.Close()
	}
	if strings.HasPrefix(address, "@") {
		return errors.New("abstract unix names are not looked up upstream")
	}
	_, err := os.Stat(address)
	return err
}

// RunbookAlive implements [sandbox.Liveness]: whether the runbook cgroup
// (and its descendants) still holds a process.
func (s *box) RunbookAlive() (bool, error) {
	return cgroupPopulated(filepath.Join(s.cgDir, "runbook"))
}

func (s *box) dial(ctx context.Context, network, address string) (net.Conn, error) {
	if network == "unix" {
		return s.dialUnix(ctx, address)
	}
	// Names would be resolved from threads outside the namespace; probes
	// carry addresses (see ParseProbe), and localhost is loopback.
	if rest, ok := strings.CutPrefix(address, "localhost:"); ok {
		address = "127.0.0.1:" + rest
	}
	var c net.Conn
	err := inNetNS(s.nsFD, func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, address)
		return err
	})
	return c, err
}

// dialUnix connects to a unix socket at path as the sandbox's processes
// see it: in its mount (and network, for abstract names) namespace.
func (s *box) dialUnix(ctx context.Context, path string) (net.Conn, error) {
	var c net.Conn
	err := inView(s.l.mntFD, s.nsFD, func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, "unix", path)
		return err
	})
	return c, err
}

// Recording implements [sandbox.Sandbox].
func (s *box) Recording() (collector.Recording, error) {
	if s.rec == nil {
		return collector.Recording{}, errors.New("no recorder")
	}
	return s.rec.Snapshot()
}

// Keep implements [sandbox.Sandbox]: the recorder is detached (it lives in this
// process), the mount namespace is pinned, and the run is marked kept so
// that only `rgraph sandbox gc --kept` removes it.
func (s *box) Keep() (sandbox.Kept, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.kept {
		return sandbox.Kept{}, errors.New("sandbox is closed")
	}
	mnt := filepath.Join(s.rs.dir, "mnt")
	if err := bindFile(fmt.Sprintf("/proc/%d/task/%d/ns/mnt", os.Getpid(), s.l.tid), mnt); err != nil {
		return sandbox.Kept{}, fmt.Errorf("pinning the mount namespace: %w", err)
	}
	enter := filepath.Join(s.rs.dir, "enter")
	script := fmt.Sprintf(`#!/bin/sh
# Enter the kept rgraph sandbox %[1]s: its network, mount, IPC and PID
# namespaces and its runbook cgroup (no longer recorded or enforced, and
# with all of root's capabilities).
echo $$ > %[2]s/runbook/cgroup.procs || exit 1
exec nsenter --target=%[3]d --net --mount --ipc --pid --wd=%[4]s -- "${@:-/bin/sh}"
`, s.rs.id, s.cgDir, s.l.init.Pid, s.work)
	if err := os.WriteFile(enter, []byte(script), 0o755); err != nil {
		return sandbox.Kept{}, err
	}
	k := sandbox.Kept{
		ID:    s.rs.id,
		Enter: enter,
		Notes: []string{
			"network only: ip netns exec " + netnsName(s.rs.id) + " sh",
			"logs and working directory: " + s.rs.dir,
			"no longer recorded or enforced: the probe and the DNS stub lived in rgraph",
			"remove it with: rgraph sandbox gc --kept",
		},
	}
	if s.rec != nil {
		_ = s.rec.Close()
		s.rec = nil
	}
	if err := s.l.init.Keep(); err != nil {
		return sandbox.Kept{}, fmt.Errorf("keeping the sandbox's init: %w", err)
	}
	s.l.stop()
	s.rs.meta.Kept = &k
	if err := s.rs.save(); err != nil {
		return sandbox.Kept{}, err
	}
	s.closeFDs()
	s.rs.release()
	s.kept = true
	return k, nil
}

func (s *box) closeFDs() {
	for _, fd := range []*int{&s.nsFD, &s.cgRun, &s.cgVal, &s.cgInit} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

// Close implements [sandbox.Sandbox]: processes first (cgroup.kill), then the
// recorder, the namespaces, the veth pair, the address lease and the run
// directory.
func (s *box) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.kept {
		return nil
	}
	s.closed = true
	built := false
	if s.l != nil {
		built = s.l.sealed() == nil // a failed Start may not have waited
	}
	var errs []error
	if s.cgDir != "" {
		errs = append(errs, killCgroup(s.cgDir))
	}
	if s.rec != nil {
		errs = append(errs, s.rec.Close())
	}
	if s.l != nil {
		if built {
			s.l.init.Close(5 * time.Second)
		}
		s.l.stop()
	}
	s.closeFDs()
	if _, err := deleteVeth(s.spec.Upstream.NetNS, vethName(s.rs.id), false); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, permErr(netnspin.Unpin(netnsName(s.rs.id))))
	if s.rs.meta.Subnet >= 0 {
		errs = append(errs, ignoreNotExist(os.Remove(filepath.Join(subnetsDir(), fmt.Sprint(s.rs.meta.Subnet)))))
	}
	errs = append(errs, os.RemoveAll(s.rs.dir))
	s.rs.release()
	return errors.Join(errs...)
}
