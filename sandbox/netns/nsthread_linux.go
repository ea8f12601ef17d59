package netns

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/netnspin"
	"github.com/rgraph/rgraph/internal/nsthread"
)

// A Linux thread, not a process, owns its network and mount namespace.
// The netns driver keeps one goroutine per sandbox locked to a thread
// that entered the sandbox's namespaces (the launcher): every command is
// forked from it, so children are born inside. The thread ends with its
// goroutine (internal/nsthread).

// launcher is a thread inside a sandbox's network and mount namespaces.
type launcher struct {
	reqs chan func()
	done chan struct{}
	tid  int
}

// launcherSetup describes what a new launcher thread creates.
type launcherSetup struct {
	// netns is the name the new network namespace is pinned as.
	netns string
	// resolvConf is bind-mounted over /etc/resolv.conf in the new mount
	// namespace.
	resolvConf string
}

// startLauncher starts a thread in a new network namespace (pinned as
// s.netns, so it outlives the thread) and a new mount namespace in
// which /etc/resolv.conf is s.resolvConf. It returns the launcher and a
// descriptor of the network namespace. CAP_NET_RAW is dropped from the
// thread (and so from every command), because no cgroup hook can refuse
// packet sockets.
func startLauncher(s launcherSetup) (*launcher, int, error) {
	l := &launcher{reqs: make(chan func()), done: make(chan struct{})}
	type result struct {
		fd  int
		err error
	}
	ready := make(chan result, 1)
	nsthread.Go(func() {
		defer close(l.done)
		fd, err := l.enter(s)
		ready <- result{fd, err}
		if err != nil {
			return
		}
		for f := range l.reqs {
			f()
		}
	})
	r := <-ready
	if r.err != nil {
		return nil, -1, r.err
	}
	return l, r.fd, nil
}

// enter runs on the locked thread and moves it into fresh namespaces.
func (l *launcher) enter(s launcherSetup) (int, error) {
	l.tid = unix.Gettid()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return -1, permErr(fmt.Errorf("creating a network namespace: %w", err))
	}
	self := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), l.tid)
	if err := netnspin.Pin(s.netns, self); err != nil {
		return -1, permErr(err)
	}
	fd, err := unix.Open(self, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening the network namespace: %w", err)
	}
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		unix.Close(fd)
		return -1, permErr(fmt.Errorf("creating a mount namespace: %w", err))
	}
	// Nothing mounted here may leak back to the host.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("making the sandbox's mounts private: %w", err)
	}
	// The copy of /run/netns would hold other runs' namespaces alive for as
	// long as this one lives; detach it.
	if err := unix.Unmount(netnspin.Dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		unix.Close(fd)
		return -1, fmt.Errorf("detaching %s in the sandbox: %w", netnspin.Dir, err)
	}
	if err := unix.Mount(s.resolvConf, "/etc/resolv.conf", "", unix.MS_BIND, ""); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("binding the sandbox's resolv.conf over /etc/resolv.conf: %w", err)
	}
	if err := dropCap(unix.CAP_NET_RAW); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// do runs f on the launcher thread and waits for it.
func (l *launcher) do(f func()) {
	done := make(chan struct{})
	l.reqs <- func() { f(); close(done) }
	<-done
}

// stop ends the launcher thread; it is safe to call more than once.
func (l *launcher) stop() {
	select {
	case <-l.done:
		return
	default:
	}
	close(l.reqs)
	<-l.done
}

// inNetNS runs f on a fresh thread that joined the network namespace fd,
// and ends that thread afterwards. Sockets f creates live in the
// namespace for good.
func inNetNS(fd int, f func() error) error {
	return nsthread.Do(func() error {
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("entering the sandbox's network namespace: %w", err)
		}
		return f()
	})
}

// bindFile bind-mounts src on a new empty file at dst.
func bindFile(src, dst string) error {
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		os.Remove(dst)
		return permErr(err)
	}
	return nil
}

// dropCap removes capability c from the calling thread's bounding,
// effective, permitted and inheritable sets, so processes it starts never
// regain it.
func dropCap(c uintptr) error {
	if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("reading capabilities: %w", err)
	}
	i, bit := c/32, uint32(1)<<(c%32)
	data[i].Effective &^= bit
	data[i].Permitted &^= bit
	data[i].Inheritable &^= bit
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("dropping capability %d: %w", c, err)
	}
	return nil
}
