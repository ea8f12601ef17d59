package netns

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/netnspin"
	"github.com/rgraph/rgraph/internal/nsthread"
	"github.com/rgraph/rgraph/internal/seal"
)

// A Linux thread, not a process, owns its namespaces. The netns driver
// keeps one goroutine per sandbox locked to a thread that entered the
// sandbox's namespaces (the launcher): every command is forked from it,
// so children are born inside. The thread ends with its goroutine
// (internal/nsthread).

// launcher is a thread inside a sandbox's network, mount, IPC and PID
// namespaces.
type launcher struct {
	reqs chan func()
	done chan struct{}
	tid  int
	// built is closed when the launcher has built the sandbox (or failed
	// to: buildErr); see sealed.
	built    chan struct{}
	buildErr error
	// init is PID 1 of the sandbox's PID namespace.
	init *seal.Init
	// mntFD is a descriptor of the sandbox's mount namespace.
	mntFD int
}

// launcherSetup describes what a new launcher thread creates.
type launcherSetup struct {
	// netns is the name the new network namespace is pinned as.
	netns string
	// view is the sandbox's file system view.
	view viewSetup
	// cgroup is a descriptor of the init's cgroup, where it is born (in
	// a cgroup namespace rooted there).
	cgroup int
}

// warmPidfd makes os/exec decide once, before any launcher exists,
// whether pidfds work: it decides by starting a child, which in a fresh
// PID namespace would be its init, and end the namespace when it exits.
var warmPidfd = sync.OnceFunc(func() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Release()
	}
})

// startLauncher starts a thread in new network (pinned as s.netns, so it
// outlives the thread), mount, IPC and PID namespaces, and returns the
// launcher and a descriptor of the network namespace as soon as that
// exists. The thread goes on to build the sandbox's view
// (view_linux.go), start the init and mount /proc for its PID namespace,
// and seal itself (internal/seal), so that what it starts holds only
// seal.Kept; [launcher.sealed] waits for that.
func startLauncher(s launcherSetup) (*launcher, int, error) {
	warmPidfd()
	l := &launcher{reqs: make(chan func()), done: make(chan struct{}), built: make(chan struct{}), mntFD: -1}
	type result struct {
		fd  int
		err error
	}
	ready := make(chan result, 1)
	nsthread.Go(func() {
		defer close(l.done)
		fd, err := l.enterNet(s)
		ready <- result{fd, err}
		if err == nil {
			err = l.build(s)
		}
		l.buildErr = err
		close(l.built)
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

// sealed waits until the launcher has built the sandbox's view, started
// its init and sealed itself, which it does while its caller wires the
// network, and returns what went wrong. Nothing may run in the sandbox
// before.
func (l *launcher) sealed() error {
	<-l.built
	return l.buildErr
}

// enterNet runs on the locked thread and moves it into a fresh network
// namespace, pinned.
func (l *launcher) enterNet(s launcherSetup) (int, error) {
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
	return fd, nil
}

// build runs on the locked thread, in the sandbox's network namespace:
// it moves the thread into fresh mount, IPC and PID namespaces, builds
// the view, starts the init, mounts /proc and seals the thread.
func (l *launcher) build(s launcherSetup) (err error) {
	defer func() {
		if err != nil {
			if l.mntFD >= 0 {
				unix.Close(l.mntFD)
				l.mntFD = -1
			}
			if l.init != nil {
				l.init.Close(time.Second)
			}
		}
	}()
	if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_NEWIPC | unix.CLONE_NEWPID); err != nil {
		return permErr(fmt.Errorf("creating mount, IPC and PID namespaces: %w", err))
	}
	if err := buildView(s.view); err != nil {
		return fmt.Errorf("building the sandbox's file system: %w", err)
	}
	if l.mntFD, err = unix.Open("/proc/thread-self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		return fmt.Errorf("opening the mount namespace: %w", err)
	}
	if l.init, err = seal.StartInit(&syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: s.cgroup, Cloneflags: syscall.CLONE_NEWCGROUP}); err != nil {
		return err
	}
	if err := l.init.MountProc(); err != nil {
		return fmt.Errorf("mounting the sandbox's /proc: %w", err)
	}
	if err := seal.Thread(); err != nil {
		return fmt.Errorf("sealing the sandbox: %w", err)
	}
	return nil
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
	// The thread holds the mount namespace too: its exit, not this
	// goroutine, frees it with its mounts.
	if l.mntFD >= 0 {
		unix.Close(l.mntFD)
		l.mntFD = -1
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

// inView runs f on a fresh thread that joined the mount namespace mntFD
// and the network namespace netFD, and ends that thread afterwards.
func inView(mntFD, netFD int, f func() error) error {
	return nsthread.Do(func() error {
		// A thread that shares its file system attributes with others
		// cannot change its mount namespace.
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return fmt.Errorf("entering the sandbox's mount namespace: %w", err)
		}
		if err := unix.Setns(mntFD, unix.CLONE_NEWNS); err != nil {
			return fmt.Errorf("entering the sandbox's mount namespace: %w", err)
		}
		if err := unix.Setns(netFD, unix.CLONE_NEWNET); err != nil {
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
