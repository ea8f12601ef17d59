package netns

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/sandbox"
)

// cgroupRoot returns the mount point of the cgroup v2 hierarchy:
// /sys/fs/cgroup on a unified system, /sys/fs/cgroup/unified on a hybrid
// one.
var cgroupRoot = sync.OnceValues(func() (string, error) {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("finding the cgroup v2 hierarchy: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options - fstype source ...
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		if fields := strings.Fields(pre); len(fields) >= 5 {
			return unescapeMount(fields[4]), nil
		}
	}
	return "", fmt.Errorf("%w: no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup)", sandbox.ErrUnsupported)
})

// unescapeMount undoes the octal escapes of /proc/self/mountinfo.
func unescapeMount(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

// cgroupBase is the directory every run's cgroup is created under.
func cgroupBase() (string, error) {
	root, err := cgroupRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "rgraph"), nil
}

// mkCgroup creates a cgroup directory and returns an O_PATH descriptor of
// it for CLONE_INTO_CGROUP.
func mkCgroup(dir string) (int, error) {
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return -1, permErr(fmt.Errorf("creating cgroup %s: %w", dir, err))
	}
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening cgroup %s: %w", dir, err)
	}
	return fd, nil
}

// killCgroup kills every process in the cgroup tree at dir, waits until it
// is empty, and removes it (children first). A missing dir is not an
// error.
func killCgroup(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
		// Kernels before 5.14 have no cgroup.kill: signal each process.
		if err := killProcs(dir); err != nil {
			return err
		}
	}
	if err := waitEmpty(dir, 5*time.Second); err != nil {
		return err
	}
	return removeCgroupTree(dir)
}

// waitEmpty waits until the cgroup tree at dir has no process left. The
// kernel signals each change of cgroup.events to poll (POLLPRI), so the
// wait ends as soon as the last process is gone.
func waitEmpty(dir string, timeout time.Duration) error {
	f, err := os.Open(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return nil // gone already
	}
	defer f.Close()
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 256)
	for {
		n, err := f.ReadAt(buf, 0)
		if n == 0 && err != nil {
			return nil
		}
		if !bytes.Contains(buf[:n], []byte("populated 1")) {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("cgroup %s still has processes %v after cgroup.kill", dir, timeout)
		}
		// Wake at the next change, and every 10ms anyway.
		fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLPRI}}
		if _, err := unix.Poll(fds, int(min(left, 10*time.Millisecond)/time.Millisecond)+1); err != nil && !errors.Is(err, unix.EINTR) {
			time.Sleep(time.Millisecond)
		}
	}
}

// cgroupPopulated reports whether the cgroup tree at dir holds a process.
func cgroupPopulated(dir string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return false, err
	}
	return bytes.Contains(b, []byte("populated 1")), nil
}

func killProcs(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if err != nil {
			return nil
		}
		for _, f := range strings.Fields(string(b)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil && pid > 0 {
				_ = unix.Kill(pid, unix.SIGKILL)
			}
		}
		return nil
	})
}

// removeCgroupTree removes dir and its child cgroups, deepest first. A
// cgroup that just emptied may report EBUSY for a moment; that is retried.
func removeCgroupTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	for i := 0; ; i++ {
		err := unix.Rmdir(dir)
		switch {
		case err == nil, errors.Is(err, unix.ENOENT):
			return nil
		case errors.Is(err, unix.EBUSY) && i < 200:
			time.Sleep(5 * time.Millisecond)
			continue
		}
		return fmt.Errorf("removing cgroup %s: %w", dir, err)
	}
}

// permErr wraps err with [sandbox.ErrPermission] when it is a permission error.
func permErr(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, fs.ErrPermission) {
		return sandbox.PermissionErr(err)
	}
	return err
}
