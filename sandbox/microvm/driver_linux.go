package microvm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/rpc"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/internal/dnsstub"
	"github.com/rgraph/rgraph/internal/netnspin"
	"github.com/rgraph/rgraph/internal/nsthread"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/microvm/internal/vmproto"
)

// Driver is the microVM driver; see the package doc.
type Driver struct {
	cfg Config

	mu     sync.Mutex
	assets *assets // prepared once per driver

	// unrecorded starts guests without their recorder, so that tests can
	// show what the host's filter alone stops.
	unrecorded bool

	snapMu   sync.Mutex
	snapPath string
	snapErr  error // a failed snapshot is not tried again by this driver
}

// snapshot returns the snapshot runs start from, building it once.
func (d *Driver) snapshot(a *assets, cfg Config) (string, error) {
	d.snapMu.Lock()
	defer d.snapMu.Unlock()
	if d.snapPath != "" {
		if _, err := os.Stat(d.snapPath); err != nil {
			d.snapPath = "" // removed as stale by another agent's run
		}
	}
	if d.snapPath == "" && d.snapErr == nil {
		d.snapPath, d.snapErr = d.ensureSnapshot(a, cfg)
	}
	return d.snapPath, d.snapErr
}

// New returns a microVM driver with cfg; zero fields take their
// defaults (see [Config]).
func New(cfg Config) *Driver { return &Driver{cfg: cfg} }

// Name implements [sandbox.Driver].
func (d *Driver) Name() string { return Name }

// Slowdown implements [sandbox.Slower]: [Config.Slowdown], else
// [TCGSlowdown] when the guest runs under emulation and 1 under KVM.
func (d *Driver) Slowdown() float64 {
	if d.cfg.Slowdown > 0 {
		return d.cfg.Slowdown
	}
	if a, err := resolveAccel(d.cfg.withDefaults().Accel, probeKVM()); err == nil && a == AccelKVM {
		return 1
	}
	return TCGSlowdown
}

// assets are what every VM of a driver boots from.
type assets struct {
	qemu     string
	firmware string
	accel    Accel
	kernel   kernel
	image    string // the ELF vmlinux, or the bzImage
	initrd   initramfs
	agent    string
	tsc      int
}

// prepare finds qemu, the kernel and the agent, and builds (or finds in
// the cache) the vmlinux and the initramfs.
func (d *Driver) prepare() (*assets, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.assets != nil {
		return d.assets, nil
	}
	cfg := d.cfg.withDefaults()
	a := &assets{tsc: tscKHz()}
	var err error
	if a.accel, err = resolveAccel(cfg.Accel, probeKVM()); err != nil {
		return nil, sandbox.UnsupportedErr(err)
	}
	if a.qemu, err = exec.LookPath(cfg.QEMU); err != nil {
		return nil, sandbox.UnsupportedErr(fmt.Errorf("no %s: %w (install it with: rgraph sandbox install --driver microvm)", cfg.QEMU, errors.Unwrap(err)))
	}
	if _, err := os.Stat(qbootPath); err == nil {
		a.firmware = qbootPath
	}
	if a.kernel, err = findKernel(kernelRoot(cfg.Dir)); err != nil {
		return nil, sandbox.UnsupportedErr(fmt.Errorf("%w (install one with: rgraph sandbox install --driver microvm)", err))
	}
	if a.agent, err = findAgent(cfg.Agent); err != nil {
		return nil, sandbox.UnsupportedErr(err)
	}
	if err := os.MkdirAll(cfg.CacheDir, 0o755); err != nil {
		return nil, permErr(err)
	}
	a.image = filepath.Join(cfg.CacheDir, "vmlinux-"+a.kernel.Version)
	if _, err := os.Stat(a.image); err != nil {
		err := extractVmlinux(a.kernel.image(), a.image)
		switch {
		case errors.Is(err, errKeepBzImage):
			a.image = a.kernel.image()
		case err != nil:
			return nil, fmt.Errorf("extracting the guest kernel: %w", err)
		}
	}
	if a.initrd, err = buildInitramfs(cfg.CacheDir, a.agent, a.kernel); err != nil {
		return nil, err
	}
	d.assets = a
	return a, nil
}

// vm is one live sandbox of the microVM driver.
type vm struct {
	d     *Driver
	a     *assets
	cfg   Config
	rs    *runState
	spec  sandbox.Spec
	addrs runAddrs
	ns    *runNS
	tap   *os.File
	work  string

	unixSockets []string
	mounts      []vmproto.Mount
	symlinks    map[string]string
	binds       []bind

	ctlL, hostL, proxyL net.Listener
	ctl                 *rpc.Client
	conns               []io.Closer
	qemu                *exec.Cmd
	exited              chan struct{} // closed when qemu has exited
	hello               chan vmproto.Hello
	ready               chan vmproto.Ready
	token               atomic.Uint64
	bootInfo            string

	mu     sync.Mutex
	closed bool
	kept   bool
}

// Start implements [sandbox.Driver]: it boots a VM for spec and returns
// once the guest's agent has built the sandbox.
func (d *Driver) Start(ctx context.Context, spec sandbox.Spec) (_ sandbox.Sandbox, err error) {
	if spec.User != nil {
		return nil, errRunAs(spec.User)
	}
	if !privileged() {
		return nil, sandbox.ErrPermission
	}
	a, err := d.prepare()
	if err != nil {
		return nil, err
	}
	rs, err := newRun(spec.ID)
	if err != nil {
		return nil, err
	}
	spec.ID = rs.id
	v := &vm{d: d, a: a, cfg: d.cfg.withDefaults(), rs: rs, spec: spec}
	defer func() {
		if err != nil {
			if cerr := v.Close(); cerr != nil {
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
	rs.meta.Upstream = spec.Upstream.NetNS
	if err := step("leasing addresses", rs.lease); err != nil {
		return nil, err
	}
	v.addrs = leaseAddrs(rs.meta.Lease)
	v.work = filepath.Join("/run/rgraph/runs", rs.id, "work")
	v.binds, v.mounts, v.symlinks = shareOf(spec.Env)
	v.unixSockets = unixSockets(spec.Rules)
	if err := step("creating namespaces", func() (err error) {
		v.ns, err = startRunNS(filepath.Join(rs.dir, "share"), v.binds)
		return err
	}); err != nil {
		return nil, err
	}
	if err := step("wiring the network", v.wire); err != nil {
		return nil, err
	}
	if err := step("booting the VM", func() error { return v.boot(ctx) }); err != nil {
		return nil, err
	}
	return v, nil
}

// wire builds the run's network and the unix socket proxy.
func (v *vm) wire() error {
	var err error
	plan := netPlan{id: v.rs.id, addrs: v.addrs, upstream: v.spec.Upstream.NetNS, routes: v.spec.Upstream.Routes}
	// The proxy listens on the tap's address, which exists once wired;
	// its port goes into the filter, so pick it first.
	port, err := freePort()
	if err != nil {
		return err
	}
	proxy := netip.AddrPortFrom(v.addrs.tap.Addr(), port)
	plan.filter = filterSpec{Rules: v.spec.Rules, Fault: v.spec.Fault, VM: tapName, Up: upName, Proxy: proxy}
	if v.tap, err = v.ns.wire(plan); err != nil {
		return err
	}
	if v.proxyL, err = v.ns.listen(proxy); err != nil {
		return fmt.Errorf("listening for unix socket relays: %w", err)
	}
	go v.serveProxy(v.proxyL)
	return nil
}

// freePort returns a port number for the proxy: the run's namespace is
// fresh, so any port of the dynamic range is free there.
func freePort() (uint16, error) {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	return 49152 + uint16(int(b[0])<<8|int(b[1]))%16000, nil
}

// boot starts qemu and waits for the agent to build the sandbox. A VM
// that does not come up (no agent before the boot deadline, qemu dying,
// a KVM internal error) is killed and booted once more.
func (v *vm) boot(ctx context.Context) error {
	var err error
	if v.ctlL, err = net.Listen("unix", filepath.Join(v.rs.dir, "ctl.sock")); err != nil {
		return err
	}
	if v.hostL, err = net.Listen("unix", filepath.Join(v.rs.dir, "host.sock")); err != nil {
		return err
	}
	snapshot := ""
	if !v.cfg.NoSnapshot {
		snapshot, err = v.d.snapshot(v.a, v.cfg)
		if err != nil && os.Getenv("RGRAPH_MICROVM_DEBUG") != "" {
			fmt.Fprintln(os.Stderr, "microvm: booting without a snapshot:", err)
		}
	}
	for attempt := 1; ; attempt++ {
		err = v.bootOnce(ctx, snapshot)
		// A second try boots cold, in case the snapshot is what failed.
		snapshot = ""
		var be *bootError
		if err == nil || !errors.As(err, &be) || attempt == 2 || ctx.Err() != nil {
			break
		}
		if os.Getenv("RGRAPH_MICROVM_DEBUG") != "" {
			fmt.Fprintln(os.Stderr, "microvm: booting again:", err)
		}
		v.stopQEMU()
	}
	if err == nil {
		// qemu holds the tap now; it disappears with qemu.
		v.tap.Close()
		v.tap = nil
	}
	return err
}

// bootError is a VM that did not come up: worth one more try.
type bootError struct{ msg string }

func (e *bootError) Error() string { return e.msg }

// vmConfigFor is the qemu configuration of a VM whose files are in dir.
func vmConfigFor(a *assets, cfg Config, dir string) vmConfig {
	return vmConfig{
		Accel: a.accel, Kernel: a.image, Initrd: a.initrd.Path, Firmware: a.firmware,
		MemoryMiB: cfg.MemoryMiB, TSCkHz: a.tsc, TapFD: 3, MAC: templateMAC,
		Share: filepath.Join(dir, "share"), ShareTag: shareTag,
		CtlSocket: filepath.Join(dir, "ctl.sock"), HostSocket: filepath.Join(dir, "host.sock"), ShellSocket: filepath.Join(dir, "shell.sock"),
		Console: filepath.Join(dir, "console.log"), Seccomp: true,
	}
}

// bootOnce starts qemu, from the snapshot when there is one, and waits
// for the sandbox.
func (v *vm) bootOnce(ctx context.Context, snapshot string) error {
	rd := v.rs.dir
	conf := vmConfigFor(v.a, v.cfg, rd)
	if snapshot != "" {
		conf.Template, conf.Incoming = true, snapshot
	}
	logf, err := os.OpenFile(filepath.Join(rd, "qemu.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(v.a.qemu, conf.args()...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{v.tap}
	v.hello = make(chan vmproto.Hello, 1)
	v.ready = make(chan vmproto.Ready, 1)
	if err := v.ns.t.Do(cmd.Start); err != nil {
		return fmt.Errorf("starting qemu: %w", err)
	}
	v.qemu = cmd
	v.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); close(done) }(cmd, v.exited)
	v.rs.meta.QEMU, v.rs.meta.QEMUStart = cmd.Process.Pid, processStart(cmd.Process.Pid)
	if err := v.rs.save(); err != nil {
		return err
	}

	hostC, ctlC := make(chan net.Conn, 1), make(chan net.Conn, 1)
	go acceptOne(v.hostL, hostC)
	go acceptOne(v.ctlL, ctlC)
	start := time.Now()
	bootTimer := time.NewTimer(v.cfg.BootTimeout)
	defer bootTimer.Stop()
	var hello vmproto.Hello
	var bootTook time.Duration
	booted := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case c := <-hostC:
			v.conns = append(v.conns, c)
			// The agent waits for this before it calls Hello.
			if _, err := c.Write([]byte(vmproto.Go + "\n")); err != nil {
				return &bootError{"writing to the agent: " + err.Error()}
			}
			srv := rpc.NewServer()
			if err := srv.RegisterName(vmproto.Host, &hostService{v}); err != nil {
				return err
			}
			go srv.ServeConn(c)
		case c := <-ctlC:
			v.conns = append(v.conns, c)
			v.ctl = rpc.NewClient(c)
		case hello = <-v.hello:
			booted = true
			bootTook = time.Since(start)
			bootTimer.Reset(v.cfg.SetupTimeout)
		case r := <-v.ready:
			if r.Err != "" {
				err := fmt.Errorf("the guest: %s", r.Err)
				switch {
				case r.Permission:
					return sandbox.PermissionErr(err)
				case r.Unsupported:
					return sandbox.UnsupportedErr(err)
				}
				return err
			}
			for v.ctl == nil {
				select {
				case c := <-ctlC:
					v.conns = append(v.conns, c)
					v.ctl = rpc.NewClient(c)
				case <-time.After(5 * time.Second):
					return &bootError{"qemu never connected the control port"}
				}
			}
			v.bootInfo = fmt.Sprintf("agent up %v after launch (guest uptime %v), sandbox built %v after launch (guest setup %v: %s)", bootTook, hello.Uptime, time.Since(start), r.Took, strings.Join(r.Steps, ", "))
			if os.Getenv("RGRAPH_MICROVM_DEBUG") != "" {
				fmt.Fprintln(os.Stderr, v.bootInfo)
			}
			return nil
		case <-v.exited:
			return &bootError{"qemu exited before the sandbox was up: " + v.diagnosis()}
		case <-bootTimer.C:
			if booted {
				return fmt.Errorf("the guest did not build the sandbox within %v: %s", v.cfg.SetupTimeout, v.diagnosis())
			}
			return &bootError{fmt.Sprintf("the guest's agent did not start within %v (%s accelerator): %s", v.cfg.BootTimeout, v.a.accel, v.diagnosis())}
		}
	}
}

func acceptOne(l net.Listener, c chan<- net.Conn) {
	conn, err := l.Accept()
	if err == nil {
		c <- conn
	}
}

// diagnosis is the end of qemu's log and the console's.
func (v *vm) diagnosis() string {
	var parts []string
	for _, f := range []string{"qemu.log", "console.log"} {
		b, _ := os.ReadFile(filepath.Join(v.rs.dir, f))
		s := strings.TrimSpace(string(b))
		if len(s) > 600 {
			s = "…" + s[len(s)-600:]
		}
		if s != "" {
			parts = append(parts, f+": "+s)
		}
	}
	if len(parts) == 0 {
		return "nothing logged"
	}
	return strings.Join(parts, "; ")
}

// stopQEMU kills qemu and forgets the connections of its boot.
func (v *vm) stopQEMU() {
	if v.ctl != nil {
		v.ctl.Close()
		v.ctl = nil
	}
	for _, c := range v.conns {
		c.Close()
	}
	v.conns = nil
	if v.qemu != nil && v.qemu.Process != nil {
		_ = v.qemu.Process.Kill()
		<-v.exited
	}
	v.qemu = nil
}

// shareTag is the 9p mount tag of the host's share.
const shareTag = "rgraph"

// setup is the host's answer to the guest's hello.
func (v *vm) setup() vmproto.Setup {
	seed := make([]byte, 64)
	_, _ = rand.Read(seed)
	files := make([]vmproto.File, len(v.spec.Files))
	for i, f := range v.spec.Files {
		files[i] = vmproto.File{Path: f.Path, Content: f.Content, Mode: uint32(f.Mode.Perm())}
	}
	hostResolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		hostResolv = []byte("# the host has no /etc/resolv.conf\n")
	}
	return vmproto.Setup{
		Version: vmproto.Version, ID: v.rs.id, Now: time.Now(), Seed: seed,
		Addr: v.addrs.guest, Gateway: v.addrs.tap.Addr(), Blackhole: BlackholeAddr,
		ProxyPort:   v.proxyPort(),
		UnixSockets: v.unixSockets,
		Share:       shareTag, Mounts: v.mounts, Symlinks: v.symlinks,
		Etc: map[string][]byte{
			"resolv.conf": v.spec.Resolver.ResolvConf(hostResolv),
			"hostname":    []byte("rgraph-" + v.rs.id + "\n"),
		},
		WorkDir: v.work, Files: files, Env: v.spec.Env,
		Rules: v.spec.Rules, Fault: v.spec.Fault,
		Unrecorded: v.d.unrecorded,
	}
}

func (v *vm) proxyPort() uint16 {
	if v.proxyL == nil {
		return 0
	}
	return uint16(v.proxyL.Addr().(*net.TCPAddr).Port)
}

// hostService is what the guest calls.
type hostService struct{ v *vm }

// Hello answers the agent's first call with the setup.
func (h *hostService) Hello(args vmproto.Hello, s *vmproto.Setup) error {
	if args.Version != vmproto.Version {
		return fmt.Errorf("the agent speaks protocol %d, rgraph %d: use the agent built with this rgraph", args.Version, vmproto.Version)
	}
	*s = h.v.setup()
	select {
	case h.v.hello <- args:
	default:
	}
	return nil
}

// Ready takes the agent's report that the sandbox is built (or not).
func (h *hostService) Ready(args vmproto.Ready, _ *vmproto.Empty) error {
	select {
	case h.v.ready <- args:
	default:
	}
	return nil
}

// DNS forwards a question the guest's stub allowed, once the host's
// rules allow it too, from the run's namespace.
func (h *hostService) DNS(args vmproto.DNS, ans *vmproto.Answer) error {
	if err := dnsstub.Judge(h.v.spec.Rules, args.Proto, args.Resolver, args.Query); err != nil {
		ans.Err = "refused by the host: " + err.Error()
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), dnsTimeout)
	defer cancel()
	msg, err := dnsstub.Forwarder{Dial: h.v.ns.dialContext}.Exchange(ctx, args.Proto, args.Resolver, args.Query)
	if err != nil {
		ans.Err = err.Error()
		return nil
	}
	ans.Msg = msg
	return nil
}

// dnsTimeout bounds each query the host forwards.
const dnsTimeout = 2 * time.Second

// serveProxy relays the guest's unix socket connections: each starts
// with the socket's path and a newline; paths the rules do not allow
// are refused.
func (v *vm) serveProxy(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			path, err := readLine(c, 4096)
			if err != nil || !v.spec.Rules.AllowsUnix(path) {
				return
			}
			_ = c.SetReadDeadline(time.Time{})
			up, err := net.DialTimeout("unix", path, 5*time.Second)
			if err != nil {
				return
			}
			defer up.Close()
			splice(c, up)
		}()
	}
}

func readLine(c net.Conn, max int) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for len(b) < max {
		if _, err := c.Read(one); err != nil {
			return "", err
		}
		if one[0] == '\n' {
			return string(b), nil
		}
		b = append(b, one[0])
	}
	return "", errors.New("line too long")
}

// splice copies both ways until both directions ended.
func splice(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}

func (v *vm) ID() string      { return v.rs.id }
func (v *vm) WorkDir() string { return v.work }

func (v *vm) client() (*rpc.Client, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed || v.kept || v.ctl == nil {
		return nil, errors.New("sandbox is closed")
	}
	return v.ctl, nil
}

// call makes an RPC to the agent, bounded by ctx; when ctx ends first,
// onCancel runs and the call gets grace more time to return.
func (v *vm) call(ctx context.Context, method string, args, reply any, onCancel func(), grace time.Duration) error {
	c, err := v.client()
	if err != nil {
		return err
	}
	call := c.Go(method, args, reply, nil)
	select {
	case <-call.Done:
	case <-v.exited:
		return fmt.Errorf("the VM is gone: %s", v.diagnosis())
	case <-ctx.Done():
		if onCancel != nil {
			onCancel()
		}
		select {
		case <-call.Done:
		case <-v.exited:
			return fmt.Errorf("the VM is gone: %s", v.diagnosis())
		case <-time.After(grace):
			return fmt.Errorf("the VM did not answer %s within %v of its end", method, grace)
		}
	}
	if call.Error != nil {
		return fmt.Errorf("the VM: %w", call.Error)
	}
	return nil
}

// Exec implements [sandbox.Sandbox]: the guest's agent runs the command.
func (v *vm) Exec(ctx context.Context, c sandbox.Command) (sandbox.ExecResult, error) {
	if c.User != nil {
		return sandbox.ExecResult{}, errRunAs(c.User)
	}
	args := vmproto.Exec{Token: v.token.Add(1), Name: c.Name, Shell: c.Shell, Validation: c.Where == sandbox.InValidation}
	if dl, ok := ctx.Deadline(); ok {
		args.Timeout = time.Until(dl)
		if args.Timeout <= 0 {
			return sandbox.ExecResult{ExitCode: -1, TimedOut: true}, nil
		}
	}
	var res vmproto.ExecResult
	cancel := func() {
		if c, err := v.client(); err == nil {
			c.Go(vmproto.AgentCancel, args.Token, &vmproto.Empty{}, nil)
		}
	}
	if err := v.call(ctx, vmproto.AgentExec, args, &res, cancel, 10*time.Second); err != nil {
		return sandbox.ExecResult{ExitCode: -1}, err
	}
	if res.Err != "" {
		return sandbox.ExecResult{ExitCode: -1}, errors.New(res.Err)
	}
	return sandbox.ExecResult{
		ExitCode: res.ExitCode,
		Output:   res.Output,
		TimedOut: res.TimedOut || errors.Is(ctx.Err(), context.DeadlineExceeded),
		Duration: res.Duration,
	}, nil
}

// Probe implements [sandbox.Sandbox]: the guest's agent makes the check
// in the guest's network, outside the recorder.
func (v *vm) Probe(ctx context.Context, p sandbox.Probe) error {
	args := vmproto.Probe{Kind: string(p.Kind), Target: p.Target, Status: p.Status, Body: p.Body}
	if dl, ok := ctx.Deadline(); ok {
		args.Timeout = time.Until(dl)
	}
	var res vmproto.ProbeResult
	if err := v.call(ctx, vmproto.AgentProbe, args, &res, nil, 2*time.Second); err != nil {
		return err
	}
	if res.Err != "" {
		return &guestErr{msg: res.Err, errno: unix.Errno(res.Errno)}
	}
	return nil
}

// guestErr is an error of the guest's: its message, and the system error
// it wraps, if any.
type guestErr struct {
	msg   string
	errno unix.Errno
}

func (e *guestErr) Error() string { return e.msg }

func (e *guestErr) Unwrap() error {
	if e.errno == 0 {
		return nil
	}
	return e.errno
}

// RunbookAlive implements [sandbox.Liveness]: whether the runbook's cgroup
// in the guest still holds a process.
func (v *vm) RunbookAlive() (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var alive bool
	if err := v.call(ctx, vmproto.AgentAlive, vmproto.Empty{}, &alive, nil, 0); err != nil {
		return false, err
	}
	return alive, nil
}

// ProbeUpstream implements [sandbox.UpstreamProber] as the netns driver
// does: addresses are connected to (and the connection closed at once)
// from the run's network namespace on the host, whose routes lead to the
// upstream and whose filter sees only what is forwarded for the VM;
// the guest's own addresses (loopback, its eth0), which are the sandbox's
// own under netns, by the guest's agent, outside the recorder. Socket
// paths are looked up on the host, whose sockets the guest's are relayed
// to. Abstract unix names are not looked up.
func (v *vm) ProbeUpstream(ctx context.Context, network, address string) error {
	if ap, err := netip.ParseAddrPort(address); err == nil && network == "tcp" {
		if a := ap.Addr().Unmap(); a.IsLoopback() || a == v.addrs.guest.Addr() {
			return v.Probe(ctx, sandbox.Probe{Kind: sandbox.ProbeTCP, Target: address})
		}
	}
	if network != "unix" {
		c, err := v.ns.dialContext(ctx, network, address)
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

// Recording implements [sandbox.Sandbox].
func (v *vm) Recording() (collector.Recording, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var res vmproto.Recording
	if err := v.call(ctx, vmproto.AgentRecording, vmproto.Empty{}, &res, nil, 0); err != nil {
		return collector.Recording{}, err
	}
	if res.Err != "" {
		return res.Recording, errors.New(res.Err)
	}
	return res.Recording, nil
}

// Keep implements [sandbox.Sandbox]: the VM keeps running, with its
// recorder, after rgraph ends; its shell is on a unix socket.
func (v *vm) Keep() (sandbox.Kept, error) {
	var res vmproto.Kept
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.call(ctx, vmproto.AgentKeep, vmproto.Empty{}, &res, nil, 0); err != nil {
		return sandbox.Kept{}, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed || v.kept {
		return sandbox.Kept{}, errors.New("sandbox is closed")
	}
	id := v.rs.id
	if err := netnspin.Pin(netnsName(id), fmt.Sprintf("/proc/%d/ns/net", v.qemu.Process.Pid)); err != nil {
		return sandbox.Kept{}, permErr(fmt.Errorf("pinning the run's network namespace: %w", err))
	}
	shell := filepath.Join(v.rs.dir, "shell.sock")
	enter := filepath.Join(v.rs.dir, "enter")
	script := fmt.Sprintf(`#!/bin/sh
# Enter the kept rgraph microVM %[1]s: a shell in its working directory
# and runbook cgroup (leave it with exit; the VM stays).
exec socat -,raw,echo=0 UNIX-CONNECT:%[2]s
`, id, shell)
	if err := os.WriteFile(enter, []byte(script), 0o755); err != nil {
		return sandbox.Kept{}, err
	}
	k := sandbox.Kept{ID: id, Enter: enter, Notes: append(res.Notes,
		"the host's side of the run: ip netns exec "+netnsName(id)+" sh",
		"console and qemu logs: "+v.rs.dir,
		"DNS forwarding and unix socket relays ended with rgraph: allowed names and sockets are no longer reachable",
		"remove it with: rgraph sandbox gc --kept",
	)}
	v.rs.meta.Kept = &k
	if err := v.rs.save(); err != nil {
		return sandbox.Kept{}, err
	}
	v.kept = true
	v.closeHost()
	v.rs.release()
	return k, nil
}

// closeHost ends rgraph's side of the VM: connections, listeners, the
// run's thread. qemu is left alone.
func (v *vm) closeHost() {
	if v.ctl != nil {
		v.ctl.Close()
	}
	for _, c := range v.conns {
		c.Close()
	}
	for _, l := range []net.Listener{v.ctlL, v.hostL, v.proxyL} {
		if l != nil {
			l.Close()
		}
	}
	if v.tap != nil {
		v.tap.Close()
		v.tap = nil
	}
	if v.ns != nil {
		v.ns.close()
	}
}

// Close implements [sandbox.Sandbox]: the guest powers off (or qemu is
// killed), then the veth pair, the lease and the run directory go; the
// run's namespaces and tap end with qemu.
func (v *vm) Close() error {
	v.mu.Lock()
	if v.closed || v.kept {
		v.mu.Unlock()
		return nil
	}
	ctl := v.ctl
	v.closed = true
	v.mu.Unlock()
	var errs []error
	if ctl != nil && v.exited != nil {
		call := ctl.Go(vmproto.AgentShutdown, vmproto.Empty{}, &vmproto.Empty{}, nil)
		select {
		case <-call.Done:
		case <-v.exited:
		case <-time.After(2 * time.Second):
		}
	}
	if v.exited != nil {
		select {
		case <-v.exited:
		case <-time.After(3 * time.Second):
			_ = v.qemu.Process.Kill()
			<-v.exited
		}
	}
	v.closeHost()
	if _, err := deleteVeth(v.spec.Upstream.NetNS, vethName(v.rs.id), false); err != nil {
		errs = append(errs, err)
	}
	if v.rs.meta.Lease >= 0 {
		errs = append(errs, ignoreNotExist(os.Remove(filepath.Join(leasesDir(), fmt.Sprint(v.rs.meta.Lease)))))
	}
	errs = append(errs, os.RemoveAll(v.rs.dir))
	v.rs.release()
	return errors.Join(errs...)
}

// dialContext connects from a fresh thread inside the run's network
// namespace.
func (r *runNS) dialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var c net.Conn
	err := nsthread.Do(func() error {
		if err := unix.Setns(r.nsFD, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("entering the run's network namespace: %w", err)
		}
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, address)
		return err
	})
	return c, err
}

var (
	_ sandbox.Liveness       = (*vm)(nil)
	_ sandbox.UpstreamProber = (*vm)(nil)
)

// errRunAs refuses a scenario's user: the guest has no passwd database of
// the host's and its agent runs every command as root.
func errRunAs(u *sandbox.User) error {
	return sandbox.UnsupportedErr(fmt.Errorf("the microvm driver runs commands as root only, not as user %s (uid %d); scenarios with a user need the netns driver", u.Name, u.UID))
}
