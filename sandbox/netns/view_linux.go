package netns

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/netnspin"
)

// A sandbox's file system view is built in its mount namespace, on the
// launcher thread, before anything runs there. The host's file system
// stays where it is, but nothing the runbook does reaches it, and nothing
// a run writes is seen by the next:
//
//   - Every directory of / (but /proc, /sys and /dev), and every file
//     system mounted below one, is an overlay: the host's directory is the
//     lower layer, read as it is; writes go to an upper layer in a tmpfs
//     of the run (fs/ in the run directory), which is gone with the run.
//     A unix socket of the host is not reachable through an overlay's
//     lower layer (the kernel looks sockets up by inode), so the host's
//     daemons are out of reach. Renaming a host directory fails (EXDEV).
//   - Everything else inherited from the host, / itself included, is
//     read-only.
//   - /dev is a tmpfs with null, zero, full, random, urandom and tty, a
//     private devpts, /dev/shm and the IPC namespace's mqueue; /sys is a
//     fresh, read-only sysfs of the sandbox's network namespace (no
//     cgroup, bpf, tracing or debug file systems); /proc is mounted by the
//     sandbox's init for its PID namespace (internal/seal).
//   - The working directory is the host's, bound at the same path, the
//     rest of rgraph's state directory is hidden, /run/netns is empty, and
//     /etc/resolv.conf is the run's.
//   - The unix sockets the allowlist names are bound in, read-only, at
//     their real paths: a path (for a unix:/dir/* rule, the directory).
//     Every directory on the way to them is a mount point, and a symbolic
//     link on the way (/var/run -> /run) is replaced by a bind of its
//     target, so that no name on the way can be renamed, removed or
//     replaced: a path that names an allowed socket reaches that socket
//     and nothing else.

// viewSetup is what a sandbox's view is built from (host paths).
type viewSetup struct {
	// runDir holds fs/, the mount point of the run's scratch tmpfs.
	runDir string
	// work is the working directory, bound at the same path.
	work string
	// resolvConf is bound over /etc/resolv.conf.
	resolvConf string
	// unix are the allowed unix socket rules: paths and "/dir/*".
	unix []string
}

// scratchDir is the mount point of a run's scratch tmpfs in its run
// directory.
func scratchDir(runDir string) string { return filepath.Join(runDir, "fs") }

// mountEntry is one line of /proc/thread-self/mountinfo.
type mountEntry struct {
	point, fstype string
}

// specialFS are file systems below the overlaid directories that the view
// leaves out (they show as the empty directory they are mounted on):
// namespaces, kernel interfaces and automounters.
var specialFS = map[string]bool{
	"nsfs": true, "proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "cgroup": true,
	"cgroup2": true, "bpf": true, "tracefs": true, "debugfs": true, "securityfs": true, "pstore": true,
	"efivarfs": true, "configfs": true, "fusectl": true, "mqueue": true, "hugetlbfs": true,
	"binfmt_misc": true, "autofs": true, "rpc_pipefs": true, "nfsd": true, "selinuxfs": true,
}

// replaced are the directories of / the view replaces wholesale.
var replaced = map[string]bool{"proc": true, "sys": true, "dev": true, "lost+found": true}

// buildView turns the calling thread's fresh mount namespace into the
// sandbox's view; see the comment above.
func buildView(v viewSetup) error {
	if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making the sandbox's mounts private: %w", err)
	}
	mounts, err := readMountinfo()
	if err != nil {
		return err
	}
	// Namespace pins (/run/netns/*) would keep other runs' namespaces
	// alive for as long as this one lives.
	for _, m := range mounts {
		if m.fstype == "nsfs" {
			_ = unix.Unmount(m.point, unix.MNT_DETACH)
		}
	}
	tops, nested, err := planOverlays(mounts)
	if err != nil {
		return err
	}

	// What the view takes from the host, taken before anything covers it.
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	clone := func(path string, recursive, readOnly bool) (int, error) {
		fd, err := cloneTree(path, recursive, readOnly)
		if err == nil {
			fds = append(fds, fd)
		}
		return fd, err
	}
	resolv, err := clone(v.resolvConf, false, true)
	if err != nil {
		return err
	}
	work, err := clone(v.work, false, false)
	if err != nil {
		return err
	}
	for i := range nested {
		if nested[i].fd, err = clone(nested[i].point, false, true); err != nil {
			return err
		}
	}
	socks, err := cloneSockets(v.unix)
	for _, s := range socks {
		fds = append(fds, s.fd)
	}
	if err != nil {
		return err
	}

	// Everything inherited is read-only from here on; the view's own
	// mounts are writable.
	if err := unix.MountSetattr(-1, "/", unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return fmt.Errorf("making the host's mounts read-only in the sandbox: %w", err)
	}
	scratch := scratchDir(v.runDir)
	if err := unix.Mount("tmpfs", scratch, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0700"); err != nil {
		return fmt.Errorf("mounting the sandbox's scratch space: %w", err)
	}
	sfd, err := unix.Open(scratch, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the sandbox's scratch space: %w", err)
	}
	fds = append(fds, sfd)
	if err := overlayAll(sfd, tops, nested); err != nil {
		return err
	}
	if err := mountDev(); err != nil {
		return err
	}
	if err := unix.Mount("sysfs", "/sys", "sysfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting the sandbox's /sys: %w", err)
	}
	if err := hideState(v.work, work); err != nil {
		return err
	}
	if err := placeFile(resolv, "/etc/resolv.conf"); err != nil {
		return fmt.Errorf("binding the sandbox's resolv.conf over /etc/resolv.conf: %w", err)
	}
	return placeSockets(socks)
}

// nestedMount is a file system mounted below a directory of /, cloned
// before the view covers it.
type nestedMount struct {
	point string
	dir   bool
	fd    int
}

// planOverlays lists the directories of / the view overlays, and the file
// systems mounted below them it overlays too (directories) or binds
// read-only (files); namespaces, kernel interfaces and rgraph's own state
// are left out.
func planOverlays(mounts []mountEntry) (tops []string, nested []nestedMount, err error) {
	ents, err := os.ReadDir("/")
	if err != nil {
		return nil, nil, fmt.Errorf("listing /: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() && !replaced[e.Name()] {
			tops = append(tops, "/"+e.Name())
		}
	}
	slices.SortFunc(mounts, func(a, b mountEntry) int { return strings.Compare(a.point, b.point) })
	skipped := []string{netnspin.Dir, stateDir}
	for _, m := range mounts {
		top := "/" + strings.SplitN(strings.TrimPrefix(m.point, "/"), "/", 2)[0]
		under := func(dir string) bool { return m.point == dir || strings.HasPrefix(m.point, dir+"/") }
		switch {
		case m.point == "/" || m.point == top: // the root, or a directory of /
			continue
		case !slices.Contains(tops, top), slices.ContainsFunc(skipped, under):
			continue
		case specialFS[m.fstype]:
			skipped = append(skipped, m.point)
			continue
		}
		st, err := os.Lstat(m.point)
		if err != nil {
			continue // gone meanwhile, or under a mount that hides it
		}
		nested = append(nested, nestedMount{point: m.point, dir: st.IsDir(), fd: -1})
	}
	return tops, nested, nil
}

// readMountinfo lists the mounts of the calling thread's namespace.
func readMountinfo() ([]mountEntry, error) {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// id parent major:minor root mountpoint options ... - fstype source ...
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, rest := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(rest) < 1 {
			continue
		}
		out = append(out, mountEntry{point: unescapeMount(fields[4]), fstype: rest[0]})
	}
	return out, sc.Err()
}

// cloneTree returns a detached copy of the mount at path (with the
// mounts below it when recursive), read-only if asked.
func cloneTree(path string, recursive, readOnly bool) (int, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, flags)
	if err != nil {
		return -1, fmt.Errorf("cloning %s: %w", path, err)
	}
	if readOnly {
		setFlags := uint(unix.AT_EMPTY_PATH)
		if recursive {
			setFlags |= unix.AT_RECURSIVE
		}
		if err := unix.MountSetattr(fd, "", setFlags, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("making the copy of %s read-only: %w", path, err)
		}
	}
	return fd, nil
}

// overlayEscaper escapes the characters overlayfs's options give a
// meaning to.
var overlayEscaper = strings.NewReplacer(`\`, `\\`, `,`, `\,`, `:`, `\:`)

// overlayAll mounts an overlay on each directory of / in tops, with the
// host's directory as its lower layer, then one on each nested file
// system that is a directory, with the detached copy of it as its lower
// layer; nested files are bound read-only. The upper layers, and the
// copies, go to the scratch space (sfd).
func overlayAll(sfd int, tops []string, nested []nestedMount) error {
	n := 0
	overlay := func(point, lower string) error {
		n++
		var st unix.Stat_t
		if err := unix.Stat(lower, &st); err != nil {
			return fmt.Errorf("reading %s: %w", point, err)
		}
		up, wk := fmt.Sprintf("%d.u", n), fmt.Sprintf("%d.w", n)
		for _, d := range []string{up, wk} {
			if err := unix.Mkdirat(sfd, d, 0o755); err != nil {
				return err
			}
		}
		// The overlay's root takes its owner and mode from the upper
		// layer's: /tmp stays 1777.
		if err := unix.Fchownat(sfd, up, int(st.Uid), int(st.Gid), 0); err != nil {
			return err
		}
		if err := unix.Fchmodat(sfd, up, st.Mode&0o7777, 0); err != nil {
			return err
		}
		opts := fmt.Sprintf("lowerdir=%s,upperdir=/proc/self/fd/%d/%s,workdir=/proc/self/fd/%d/%s,redirect_dir=off,index=off,metacopy=off",
			overlayEscaper.Replace(lower), sfd, up, sfd, wk)
		if err := unix.Mount("overlay", point, "overlay", unix.MS_NOSUID, opts); err != nil {
			return fmt.Errorf("mounting an overlay of the host's %s: %w", point, err)
		}
		return nil
	}
	// Each directory of / is its own lower layer: it is read before the
	// overlay covers it.
	for _, top := range tops {
		if err := overlay(top, top); err != nil {
			return err
		}
	}
	for i, m := range nested {
		if !m.dir {
			if err := placeFile(m.fd, m.point); err != nil {
				return fmt.Errorf("binding the host's %s: %w", m.point, err)
			}
			continue
		}
		low := fmt.Sprintf("l%d", i)
		if err := unix.Mkdirat(sfd, low, 0o700); err != nil {
			return err
		}
		if err := unix.MoveMount(m.fd, "", sfd, low, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("attaching the host's %s: %w", m.point, err)
		}
		if err := overlay(m.point, fmt.Sprintf("/proc/self/fd/%d/%s", sfd, low)); err != nil {
			return err
		}
	}
	return nil
}

// devNodes are the devices of the sandbox's /dev.
var devNodes = []struct {
	name         string
	major, minor uint32
}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}}

// mountDev mounts the sandbox's /dev: a few devices, a private devpts,
// /dev/shm and the IPC namespace's message queues.
func mountDev() error {
	if err := unix.Mount("tmpfs", "/dev", "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=64k"); err != nil {
		return fmt.Errorf("mounting the sandbox's /dev: %w", err)
	}
	for _, d := range devNodes {
		p := "/dev/" + d.name
		if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return fmt.Errorf("creating %s: %w", p, err)
		}
		if err := unix.Chmod(p, 0o666); err != nil {
			return err
		}
	}
	for link, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"} {
		if err := unix.Symlink(target, "/dev/"+link); err != nil {
			return err
		}
	}
	for _, m := range []struct {
		dir, fstype, opts string
		flags             uintptr
	}{
		{"pts", "devpts", "newinstance,ptmxmode=0666,mode=0620", unix.MS_NOSUID | unix.MS_NOEXEC},
		{"shm", "tmpfs", "mode=1777", unix.MS_NOSUID | unix.MS_NODEV},
		{"mqueue", "mqueue", "", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
	} {
		p := "/dev/" + m.dir
		if err := unix.Mkdir(p, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.fstype, p, m.fstype, m.flags, m.opts); err != nil {
			return fmt.Errorf("mounting %s: %w", p, err)
		}
	}
	return nil
}

// hideState covers rgraph's state directory with an empty read-only tmpfs
// that holds only the run's working directory (the detached copy work),
// at its host path, and empties /run/netns.
func hideState(workPath string, work int) error {
	if err := unix.Mount("tmpfs", stateDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755"); err != nil {
		return fmt.Errorf("hiding %s: %w", stateDir, err)
	}
	if err := os.MkdirAll(workPath, 0o755); err != nil {
		return err
	}
	if err := unix.MoveMount(work, "", unix.AT_FDCWD, workPath, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("binding the working directory: %w", err)
	}
	if err := unix.MountSetattr(-1, stateDir, 0, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return err
	}
	if st, err := os.Lstat("/run/netns"); err == nil && st.IsDir() {
		if err := unix.Mount("tmpfs", "/run/netns", "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0"); err != nil {
			return fmt.Errorf("hiding /run/netns: %w", err)
		}
	}
	return nil
}

// placeFile moves the detached mount fd (a file) onto path, following
// symbolic links, creating an empty file there first if needed.
func placeFile(fd int, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o644)
		if err != nil {
			return err
		}
		f.Close()
	}
	return unix.MoveMount(fd, "", unix.AT_FDCWD, path, unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_SYMLINKS)
}

// sockBind is an allowed unix socket (or directory of sockets) of the
// host, cloned before the view covers it.
type sockBind struct {
	// path is the allowed path as written (the directory of a dir rule),
	// real the host's path to it without symbolic links.
	path, real string
	dir        bool
	fd         int
}

// cloneSockets clones the host's sockets (and socket directories) the
// unix rules name. Rules for abstract sockets (their namespace is the
// sandbox's network namespace), for relative paths and for paths that do
// not exist on the host are skipped: there is nothing to reach.
func cloneSockets(rules []string) ([]sockBind, error) {
	var out []sockBind
	seen := map[string]bool{}
	for _, r := range rules {
		p, dir := strings.CutSuffix(r, "/*")
		if !filepath.IsAbs(p) || seen[r] {
			continue
		}
		seen[r] = true
		p = filepath.Clean(p)
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			continue
		}
		st, err := os.Stat(real)
		if err != nil || dir != st.IsDir() || !dir && st.Mode()&fs.ModeSocket == 0 {
			continue
		}
		fd, err := cloneTree(real, dir, true)
		if err != nil {
			return out, err
		}
		out = append(out, sockBind{path: p, real: real, dir: dir, fd: fd})
	}
	return out, nil
}

// placeSockets binds the cloned sockets at their real paths, then makes
// every name on the way to them, as written and as real, impossible to
// rename, remove or replace.
func placeSockets(socks []sockBind) error {
	pinned := map[string]bool{}
	for _, s := range socks {
		if err := pinDirs(s.real, pinned); err != nil {
			return fmt.Errorf("binding %s: %w", s.real, err)
		}
		if err := replaceLeaf(s.real, s.dir); err != nil {
			return fmt.Errorf("binding %s: %w", s.real, err)
		}
		if err := unix.MoveMount(s.fd, "", unix.AT_FDCWD, s.real, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("binding %s: %w", s.real, err)
		}
		pinned[s.real] = true
	}
	for _, s := range socks {
		if s.path == s.real {
			continue
		}
		if err := pinDirs(s.path, pinned); err != nil {
			return fmt.Errorf("binding %s: %w", s.path, err)
		}
		if pinned[s.path] {
			continue
		}
		if err := replaceLeaf(s.path, s.dir); err != nil {
			return fmt.Errorf("binding %s: %w", s.path, err)
		}
		if err := unix.Mount(s.real, s.path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("binding %s at %s: %w", s.real, s.path, err)
		}
		pinned[s.path] = true
	}
	return nil
}

// pinDirs makes each directory on the way to path (below the directory
// of / it is in, which is an overlay's mount point) a mount point of
// itself, so that it cannot be renamed or removed, and replaces each
// symbolic link on the way by a bind of its target.
func pinDirs(path string, pinned map[string]bool) error {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	cur := "/" + parts[0]
	for _, part := range parts[1 : len(parts)-1] {
		cur = filepath.Join(cur, part)
		if pinned[cur] {
			continue
		}
		st, err := os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(cur, 0o755); err != nil {
				return err
			}
		case err != nil:
			return err
		case st.Mode()&fs.ModeSymlink != 0:
			target, err := filepath.EvalSymlinks(cur)
			if err != nil {
				return err
			}
			if err := replaceLeaf(cur, true); err != nil {
				return err
			}
			if err := unix.Mount(target, cur, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
				return fmt.Errorf("binding %s at %s: %w", target, cur, err)
			}
			pinned[cur] = true
			continue
		}
		if err := unix.Mount(cur, cur, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("pinning %s: %w", cur, err)
		}
		pinned[cur] = true
	}
	return nil
}

// replaceLeaf makes path an empty directory (dir) or file to mount on,
// replacing a symbolic link there (in the overlay's upper layer; the
// host's link stays).
func replaceLeaf(path string, dir bool) error {
	st, err := os.Lstat(path)
	switch {
	case err == nil && st.Mode()&fs.ModeSymlink == 0:
		return nil
	case err == nil:
		if err := os.Remove(path); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if dir {
		return os.Mkdir(path, 0o755)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}
