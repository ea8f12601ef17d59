package netnspin

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/nsthread"
)

// dirMu serializes EnsureDir within the process; a lock on Dir itself
// serializes it with other rgraph processes.
var dirMu sync.Mutex

// EnsureDir creates [Dir] and makes it a shared mount point, as `ip netns
// add` does: when it is not a mount point yet, it is bind-mounted on
// itself first. It is cheap when Dir already is one, and [Pin] calls it
// every time, so that no pin is ever made on the plain directory.
func EnsureDir() error {
	dirMu.Lock()
	defer dirMu.Unlock()
	if err := os.MkdirAll(Dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", Dir, err)
	}
	fd, err := unix.Open(Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", Dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", Dir, err)
	}
	err = unix.Mount("", Dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) { // not a mount point yet
		if err = unix.Mount(Dir, Dir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
			err = unix.Mount("", Dir, "none", unix.MS_SHARED|unix.MS_REC, "")
		}
	}
	if err != nil {
		return fmt.Errorf("making %s a shared mount point: %w", Dir, err)
	}
	return nil
}

// Pin pins the network namespace ns (a namespace file such as
// /proc/thread-self/ns/net) as name, after [EnsureDir]. A name that is
// taken is an error wrapping [fs.ErrExist]; [Inspect] says whether it is
// live.
func Pin(name, ns string) error {
	if err := EnsureDir(); err != nil {
		return err
	}
	p := Path(name)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return fmt.Errorf("pinning network namespace %s: %w", name, err)
	}
	f.Close()
	if err := unix.Mount(ns, p, "", unix.MS_BIND, ""); err != nil {
		os.Remove(p)
		return fmt.Errorf("pinning network namespace %s: %w", name, err)
	}
	return nil
}

// State is what [Inspect] found under a name.
type State int

const (
	// Absent: there is no such name.
	Absent State = iota
	// Pinned: the name holds a network namespace.
	Pinned
	// Empty: the file exists but holds nothing, as when a pin's owner
	// died between creating the file and mounting the namespace on it.
	Empty
	// Shadowed: the file holds nothing here, but a pin made on the plain
	// directory before Dir became a mount point hides under it.
	Shadowed
)

func (s State) String() string {
	switch s {
	case Absent:
		return "absent"
	case Pinned:
		return "pinned"
	case Empty:
		return "empty"
	case Shadowed:
		return "shadowed"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Inspect says what is under name.
func Inspect(name string) (State, error) {
	p := Path(name)
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); errors.Is(err, unix.ENOENT) {
		return Absent, nil
	} else if err != nil {
		return Absent, fmt.Errorf("inspecting %s: %w", p, err)
	}
	if st.Type == unix.NSFS_MAGIC {
		return Pinned, nil
	}
	n, err := mountsAt(p)
	if err != nil {
		return Absent, err
	}
	if n > 0 {
		return Shadowed, nil
	}
	return Empty, nil
}

// Unpin removes the pin called name: its mount and its file. A shadowed
// pin (see [Shadowed]) is removed too. A name that does not exist is not
// an error. The namespace itself lives on while processes are in it.
func Unpin(name string) error {
	p := Path(name)
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting %s: %w", p, err)
	}
	err := os.Remove(p)
	if errors.Is(err, unix.EBUSY) {
		err = removeShadowed(p)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", p, err)
	}
	return nil
}

// removeShadowed removes the file p on which a mount this namespace
// cannot reach sits. The kernel refuses to unlink a mount point of the
// caller's own mount namespace but unlinks one of another namespace,
// detaching the mounts there; so a throwaway thread unlinks it from a
// private copy of the mount namespace in which every mount on Dir and on
// p has been taken away.
func removeShadowed(p string) error {
	return nsthread.Do(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			return fmt.Errorf("creating a mount namespace: %w", err)
		}
		if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("making the mount namespace private: %w", err)
		}
		for _, q := range []string{Dir, p} {
			if err := unmountAll(q); err != nil {
				return err
			}
		}
		if err := unix.Unlink(p); err != nil {
			return fmt.Errorf("unlinking a shadowed pin: %w", err)
		}
		return nil
	})
}

// unmountAll takes every mount stacked on path away.
func unmountAll(path string) error {
	for range 64 {
		err := unix.Unmount(path, unix.MNT_DETACH)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unmounting %s: %w", path, err)
		}
	}
	return fmt.Errorf("unmounting %s: still a mount point after 64 unmounts", path)
}

// mountsAt counts the mounts of the calling thread's mount namespace
// whose mount point is path, visible or not.
func mountsAt(path string) (int, error) {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT ...
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && unescape(fields[4]) == path {
			n++
		}
	}
	return n, sc.Err()
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
