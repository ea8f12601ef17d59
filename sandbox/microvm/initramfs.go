package microvm

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Paths inside the guest's initramfs.
const (
	guestDir     = "/.rgraph"
	guestAgent   = guestDir + "/rgraph"
	guestModules = guestDir + "/modules"
)

// guestModuleNames are the modules the guest loads, with what they need:
// the virtio-mmio transport of qemu's microvm machine, its network card
// and 9p, over which the host shares its programs.
var guestModuleNames = []string{"virtio_mmio", "virtio_net", "9pnet_virtio", "9p"}

// initramfsLayout changes when the initramfs's content changes for the
// same agent and kernel, so that caches of older layouts are not used.
const initramfsLayout = "2"

// initramfs is the cached base initramfs of a guest: the agent (rgraph
// itself, with the dynamic loader and libraries it needs), /dev/console
// and the kernel modules in load order.
type initramfs struct {
	Path string
	Key  string
}

// fileHash returns the SHA-256 of the file at p, computed once per path
// for the life of the process (the agent is the running executable,
// which does not change under it).
var fileHash = func() func(p string) (string, error) {
	var mu sync.Mutex
	seen := map[string]string{}
	return func(p string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if h, ok := seen[p]; ok {
			return h, nil
		}
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return "", err
		}
		sum := hex.EncodeToString(h.Sum(nil))
		seen[p] = sum
		return sum, nil
	}
}()

// buildInitramfs returns the base initramfs for agent and k, from
// cacheDir when it was built before. The cache key is the agent's hash,
// the kernel version and the layout, so a new rgraph binary or kernel
// gets a new initramfs; others unused for a day are removed.
func buildInitramfs(cacheDir, agent string, k kernel) (initramfs, error) {
	sum, err := fileHash(agent)
	if err != nil {
		return initramfs{}, fmt.Errorf("hashing the guest agent %s: %w", agent, err)
	}
	kh := sha256.Sum256([]byte(sum + "\x00" + k.Version + "\x00" + initramfsLayout + "\x00" + strings.Join(guestModuleNames, ",")))
	key := hex.EncodeToString(kh[:8])
	dst := filepath.Join(cacheDir, "initramfs-"+key+".cpio")
	if _, err := os.Stat(dst); err == nil {
		now := time.Now()
		_ = os.Chtimes(dst, now, now)
		return initramfs{Path: dst, Key: key}, nil
	}
	mods, err := moduleClosure(k, guestModuleNames)
	if err != nil {
		return initramfs{}, err
	}
	err = writeAtomic(dst, 0o644, func(w io.Writer) error {
		c := newCPIOWriter(w)
		c.Dir("dev", 0o755)
		c.CharDev("dev/console", 0o600, 5, 1)
		c.CharDev("dev/null", 0o666, 1, 3)
		for _, d := range []string{"proc", "sys", "run", "etc", "root"} {
			c.Dir(d, 0o755)
		}
		c.Dir("tmp", 0o1777)
		if err := addExecutable(c, agent, guestAgent); err != nil {
			return err
		}
		for i, m := range mods {
			b, err := readModule(m.Path)
			if err != nil {
				return err
			}
			c.File(fmt.Sprintf("%s/%02d-%s.ko", guestModules, i, m.Name), 0o644, b)
		}
		return c.Close()
	})
	if err != nil {
		return initramfs{}, fmt.Errorf("building the initramfs: %w", err)
	}
	removeStale(cacheDir, "initramfs-", dst, 24*time.Hour)
	return initramfs{Path: dst, Key: key}, nil
}

// removeStale removes the files of dir whose names start with prefix,
// other than keep and the keepNewest most recently used ones, that were
// not used for age: every agent binary (each test binary is one) has its
// own initramfs and snapshot, and they are large.
func removeStale(dir, prefix, keep string, age time.Duration) {
	const keepNewest = 2
	type file struct {
		path string
		used time.Time
	}
	var files []file
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if !strings.HasPrefix(e.Name(), prefix) || p == keep {
			continue
		}
		if info, err := e.Info(); err == nil {
			files = append(files, file{p, info.ModTime()})
		}
	}
	slices.SortFunc(files, func(a, b file) int { return b.used.Compare(a.used) })
	for i, f := range files {
		if i >= keepNewest || time.Since(f.used) > age {
			os.Remove(f.path)
		}
	}
}

// addExecutable adds the program at hostPath as guestPath, and its ELF
// interpreter and the shared libraries it needs at their host paths
// (with the symbolic links on the way, such as Debian's /lib64 ->
// usr/lib64), so that it runs before anything of the host is mounted.
func addExecutable(c *cpioWriter, hostPath, guestPath string) error {
	f, err := os.Open(hostPath)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	c.FileFrom(guestPath, 0o755, st.Size(), f)
	deps, err := elfDeps(hostPath)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, d := range deps {
		if err := addHostPath(c, d, seen); err != nil {
			return err
		}
	}
	return nil
}

// libDirs are where shared libraries are looked for, in the dynamic
// loader's default order on Debian.
var libDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}

// elfDeps returns the interpreter and the shared libraries (and theirs)
// of the ELF program at p; none for a static program.
func elfDeps(p string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var walk func(p string, needInterp bool) error
	walk = func(p string, needInterp bool) error {
		f, err := elf.Open(p)
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		defer f.Close()
		if needInterp {
			for _, prog := range f.Progs {
				if prog.Type != elf.PT_INTERP {
					continue
				}
				b, err := io.ReadAll(prog.Open())
				if err != nil {
					return fmt.Errorf("reading the interpreter of %s: %w", p, err)
				}
				interp := strings.TrimRight(string(b), "\x00")
				if !seen[interp] {
					seen[interp] = true
					out = append(out, interp)
				}
			}
		}
		libs, err := f.ImportedLibraries()
		if err != nil {
			return nil // a static program
		}
		for _, lib := range libs {
			found := ""
			for _, d := range libDirs {
				if _, err := os.Stat(filepath.Join(d, lib)); err == nil {
					found = filepath.Join(d, lib)
					break
				}
			}
			if found == "" {
				return fmt.Errorf("%s needs %s, which is in none of %s", p, lib, strings.Join(libDirs, ", "))
			}
			if seen[found] {
				continue
			}
			seen[found] = true
			out = append(out, found)
			if err := walk(found, false); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk(p, true)
}

// addHostPath adds the host file p to the archive at the same path,
// with every symbolic link met on the way, so that the path resolves in
// the guest as it does on the host.
func addHostPath(c *cpioWriter, p string, seen map[string]bool) error {
	for hops := 0; hops < 40; hops++ {
		parts := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
		cur := "/"
		resolved := false
		for i, part := range parts {
			next := path.Join(cur, part)
			st, err := os.Lstat(next)
			if err != nil {
				return err
			}
			switch {
			case st.Mode()&fs.ModeSymlink != 0:
				target, err := os.Readlink(next)
				if err != nil {
					return err
				}
				if !seen[next] {
					seen[next] = true
					c.Symlink(next, target)
				}
				if !path.IsAbs(target) {
					target = path.Join(cur, target)
				}
				p = path.Join(append([]string{target}, parts[i+1:]...)...)
				resolved = true
			case st.IsDir():
				if !seen[next] {
					seen[next] = true
					c.Dir(next, st.Mode().Perm())
				}
				cur = next
				continue
			default:
				if i != len(parts)-1 {
					return fmt.Errorf("%s: not a directory", next)
				}
				if !seen[next] {
					seen[next] = true
					b, err := os.ReadFile(next)
					if err != nil {
						return err
					}
					c.File(next, st.Mode().Perm(), b)
				}
				return nil
			}
			if resolved {
				break
			}
		}
		if !resolved {
			return nil
		}
	}
	return errors.New("too many symbolic links in " + p)
}
