package guest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/sandbox/microvm/internal/vmproto"
)

// build turns the host's setup into the sandbox: clock, network, the
// host's programs, /etc, the working directory, the cgroups, the
// launcher of commands and the recorder.
func (a *agent) build() error {
	s := &a.setup
	if s.Version != vmproto.Version {
		return fmt.Errorf("the host speaks protocol %d, this agent %d: rebuild rgraph's agent", s.Version, vmproto.Version)
	}
	a.clockShift = time.Until(s.Now)
	tv := unix.NsecToTimeval(s.Now.UnixNano())
	if err := unix.Settimeofday(&tv); err != nil {
		return fmt.Errorf("setting the clock: %w", err)
	}
	addEntropy(s.Seed)
	steps := []struct {
		what string
		f    func() error
	}{
		{"configuring the network", a.network},
		{"mounting the host's programs", a.mountHost},
		{"writing /etc", a.writeEtc},
		{"preparing the working directory", a.workDir},
		{"creating cgroups", a.cgroups},
		{"starting the launcher", func() (err error) { a.launcher, err = startLauncher(); return err }},
		{"attaching the recorder", func() (err error) {
			if s.Unrecorded {
				return nil
			}
			a.rec, err = startRecorder(a)
			return err
		}},
		{"relaying unix sockets", a.relayUnix},
	}
	for _, st := range steps {
		t := time.Now()
		if err := st.f(); err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
		a.timings = append(a.timings, fmt.Sprintf("%s %v", st.what, time.Since(t).Round(time.Millisecond)))
	}
	return nil
}

// addEntropy credits the host's random bytes to the guest's pool.
func addEntropy(seed []byte) {
	if len(seed) == 0 {
		return
	}
	f, err := os.OpenFile("/dev/urandom", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer f.Close()
	// struct rand_pool_info { int entropy_count; int buf_size; __u32 buf[]; }
	b := make([]byte, 8+len(seed))
	binary.NativeEndian.PutUint32(b[0:], uint32(len(seed)*8))
	binary.NativeEndian.PutUint32(b[4:], uint32(len(seed)))
	copy(b[8:], seed)
	_, _, _ = unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.RNDADDENTROPY, uintptr(unsafe.Pointer(&b[0])))
}

// network brings up loopback and eth0, with a default route to the
// host: the host's filter decides what goes further.
func (a *agent) network() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return err
	}
	var eth netlink.Link
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if eth, err = netlink.LinkByName("eth0"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no eth0: %w", err)
		}
	}
	p := a.setup.Addr
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	if err := netlink.AddrAdd(eth, addr); err != nil {
		return fmt.Errorf("addressing eth0: %w", err)
	}
	if err := netlink.LinkSetUp(eth); err != nil {
		return err
	}
	if err := netlink.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: a.setup.Gateway.AsSlice()}); err != nil {
		return fmt.Errorf("routing to the host: %w", err)
	}
	return nil
}

// mountHost mounts the host's share and binds the parts the setup names
// into place, read-only; then the share itself is detached.
func (a *agent) mountHost() error {
	s := &a.setup
	if err := mount(s.Share, hostMount, "9p", unix.MS_RDONLY|unix.MS_NODEV,
		"trans=virtio,version=9p2000.L,cache=loose,msize=512000"); err != nil {
		return err
	}
	for link, target := range s.Symlinks {
		if _, err := os.Lstat(link); err == nil {
			continue // the initramfs has it
		}
		if err := os.Symlink(target, link); err != nil {
			return err
		}
	}
	for _, m := range s.Mounts {
		src := filepath.Join(hostMount, m.Source)
		st, err := os.Stat(src)
		if err != nil {
			return err
		}
		if err := makeTarget(m.Target, st.IsDir()); err != nil {
			return err
		}
		if err := unix.Mount(src, m.Target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("binding %s: %w", m.Target, err)
		}
		if err := unix.Mount("", m.Target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NODEV, ""); err != nil {
			return fmt.Errorf("making %s read-only: %w", m.Target, err)
		}
	}
	return unix.Unmount(hostMount, unix.MNT_DETACH)
}

// makeTarget creates an empty directory or file to bind onto. A path
// that already exists as a symbolic link (Debian's /lib64 -> usr/lib64
// from the initramfs) is left alone.
func makeTarget(p string, dir bool) error {
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	if dir {
		return os.MkdirAll(p, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// writeEtc writes the files the host generated for /etc.
func (a *agent) writeEtc() error {
	for name, b := range a.setup.Etc {
		p := filepath.Join("/etc", name)
		if !strings.HasPrefix(p, "/etc/") {
			return fmt.Errorf("/etc file %q", name)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		// A file bound from the host is replaced by a fresh one.
		_ = unix.Unmount(p, unix.MNT_DETACH)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// workDir makes the working directory and the logs' directory, and
// seeds the scenario's files.
func (a *agent) workDir() error {
	dir := a.setup.WorkDir
	a.logs = filepath.Join(filepath.Dir(dir), "logs")
	if err := os.MkdirAll(a.logs, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range a.setup.Files {
		p := filepath.Join(dir, f.Path)
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return fmt.Errorf("file %q is outside the working directory", f.Path)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Content, fs.FileMode(f.Mode)); err != nil {
			return err
		}
	}
	return nil
}

// cgroups creates rgraph/ID with its runbook and validate leaves.
func (a *agent) cgroups() error {
	a.cgroup = filepath.Join("/sys/fs/cgroup/rgraph", a.setup.ID)
	var err error
	for _, leaf := range []struct {
		name string
		fd   *int
	}{{"runbook", &a.cgRun}, {"validate", &a.cgVal}} {
		dir := filepath.Join(a.cgroup, leaf.name)
		if err = os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if *leaf.fd, err = unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return err
		}
	}
	return nil
}

// relayUnix listens on every unix socket path the allowlist allows and
// relays each connection to the host, which connects to its own socket
// at that path when it allows it too.
func (a *agent) relayUnix() error {
	for _, p := range a.setup.UnixSockets {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		l, err := net.Listen("unix", p)
		if err != nil {
			return err
		}
		_ = os.Chmod(p, 0o777)
		go a.relay(l, p)
	}
	return nil
}

func (a *agent) relay(l net.Listener, path string) {
	to := net.JoinHostPort(a.setup.Gateway.String(), fmt.Sprint(a.setup.ProxyPort))
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := net.DialTimeout("tcp", to, 5*time.Second)
			if err != nil {
				return
			}
			defer up.Close()
			if _, err := up.Write([]byte(path + "\n")); err != nil {
				return
			}
			splice(c, up)
		}()
	}
}

// splice copies both ways until both directions ended.
func splice(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
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
