// Package wasmcache moves go-graphviz's compilation cache into a private
// directory named after the exact code that fills it.
//
// go-graphviz compiles its WebAssembly Graphviz to machine code with
// wazero in a package init function and caches that code under
// $TMPDIR/go-graphviz. Two things are wrong with that directory. It is
// shared and world-known, so another local user could plant code there
// for root's rgraph to run, and a root run breaks every other user's
// startup. And its key is too weak: wazero names its subdirectory after
// its own version, which is "dev" in test binaries, so code compiled by
// one wazero is executed by another (a warm cache from wazero v1.8.1 kept
// crashing rgraph after the upgrade that fixed the crash).
//
// Importing this package from render fixes both. Its init, which runs
// before go-graphviz's (Go initializes packages in import-path order where
// dependencies allow, and this package depends only on a few standard
// packages; cmd/rgraph's TestGraphvizCache checks the order in a real
// binary), points TMPDIR at the directory [Dir] chooses; render's init
// calls [Restore] once go-graphviz is initialized, so the rest of the
// program sees TMPDIR unchanged.
package wasmcache

import (
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Module paths whose versions decide what the cached code is.
const (
	graphvizModule = "github.com/goccy/go-graphviz"
	wazeroModule   = "github.com/tetratelabs/wazero"
)

// How long a cache directory of another key may go unused before it is
// removed: a binary's own cache (test binaries) is short-lived, a
// release's may be used again after a downgrade.
const (
	binaryCacheTTL  = time.Hour
	versionCacheTTL = 30 * 24 * time.Hour
)

// noCache is a TMPDIR under which go-graphviz cannot create its cache
// directory, so it compiles in memory and caches nothing.
var noCache = filepath.Join(os.DevNull, "rgraph-no-cache")

var (
	redirected bool
	saved      string
	hadSaved   bool
	chosen     string
)

func init() {
	chosen = Dir()
	tmp := chosen
	if tmp == "" {
		tmp = noCache
	}
	saved, hadSaved = os.LookupEnv("TMPDIR")
	if os.Setenv("TMPDIR", tmp) == nil {
		redirected = true
	}
}

// Chosen returns the directory this program's init gave go-graphviz, ""
// when it gave none and go-graphviz caches nothing.
func Chosen() string { return chosen }

// Dir returns the private directory go-graphviz's cache is kept under,
// creating it, or "" when there is none to use (go-graphviz then compiles
// without a cache). When the program's build information records the
// go-graphviz and wazero versions, the directory is
// <user cache dir>/rgraph/graphviz/<[Key]>, kept across runs, and the
// unkeyed rgraph/go-graphviz of earlier rgraph versions is removed.
// Otherwise (test binaries record no dependencies) it is a directory of
// this one executable under $TMPDIR/rgraph-graphviz-<uid>, shared with the
// processes it re-executes and removed an hour after its last use. Other
// keys' directories are removed when they have not been used for a while.
func Dir() string {
	bi, ok := debug.ReadBuildInfo()
	if key, known := Key(bi, ok); known {
		base, err := os.UserCacheDir()
		if err != nil || base == "" {
			return ""
		}
		return versionDir(base, key)
	}
	key, known := binaryKey()
	if !known {
		return ""
	}
	parent := filepath.Join(os.TempDir(), "rgraph-graphviz-"+strconv.Itoa(os.Geteuid()))
	return keyed(parent, key, binaryCacheTTL)
}

// Key names the cache of a program built with bi: the go-graphviz and
// wazero versions (and a hash of their checksums and replacements), the
// Go version and the platform, e.g.
// "go-graphviz-v0.2.9-wazero-v1.12.0-go1.26.8-linux-amd64-1a2b3c4d".
// It reports false when bi lacks either module or names no version for
// it, as in test binaries and for a module replaced by a directory.
func Key(bi *debug.BuildInfo, ok bool) (string, bool) {
	if !ok || bi == nil {
		return "", false
	}
	version := map[string]string{}
	h := fnv.New32a()
	for _, dep := range bi.Deps {
		if dep.Path != graphvizModule && dep.Path != wazeroModule {
			continue
		}
		m := dep
		if m.Replace != nil {
			h.Write([]byte(m.Path + "=>" + m.Replace.Path + "\x00"))
			m = m.Replace
		}
		if m.Version == "" || m.Version == "(devel)" {
			return "", false
		}
		version[dep.Path] = m.Version
		h.Write([]byte(m.Version + " " + m.Sum + "\x00"))
	}
	gv, wz := version[graphvizModule], version[wazeroModule]
	if gv == "" || wz == "" {
		return "", false
	}
	key := strings.Join([]string{"go-graphviz", gv, "wazero", wz, runtime.Version(), runtime.GOOS, runtime.GOARCH,
		strconv.FormatUint(uint64(h.Sum32()), 16)}, "-")
	return sanitize(key), true
}

// versionDir returns the directory of key under the user cache directory
// base, after removing the unkeyed cache of earlier rgraph versions.
func versionDir(base, key string) string {
	os.RemoveAll(filepath.Join(base, "rgraph", "go-graphviz"))
	return keyed(filepath.Join(base, "rgraph", "graphviz"), key, versionCacheTTL)
}

// binaryKey names the cache of this one executable: its path, size and
// modification time, the Go version and the platform.
func binaryKey() (string, bool) {
	exe, err := os.Executable()
	if err != nil {
		return "", false
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return "", false
	}
	h := fnv.New64a()
	h.Write([]byte(exe + "\x00" + strconv.FormatInt(fi.Size(), 10) + "\x00" + strconv.FormatInt(fi.ModTime().UnixNano(), 10)))
	key := strings.Join([]string{"binary", runtime.Version(), runtime.GOOS, runtime.GOARCH,
		strconv.FormatUint(h.Sum64(), 16)}, "-")
	return sanitize(key), true
}

// sanitize keeps key usable as one file name.
func sanitize(key string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '+':
			return r
		}
		return '_'
	}, key)
}

// keyed returns parent/key, both made private to this user, after
// removing parent's other entries unused for longer than ttl. It returns
// "" when either directory cannot be made private.
func keyed(parent, key string, ttl time.Duration) string {
	if !private(parent) {
		return ""
	}
	dir := filepath.Join(parent, key)
	if !private(dir) {
		return ""
	}
	now := time.Now()
	os.Chtimes(dir, now, now) // mark it used
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if e.Name() == key {
			continue
		}
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > ttl {
			os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
	return dir
}

// private creates dir with mode 0700 if needed and reports whether it is
// a directory (not a symbolic link) owned by this user that no one else
// can enter, tightening its mode when only that is wrong.
func private(dir string) bool {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false
	}
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || !ownedByMe(fi) {
		return false
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return os.Chmod(dir, 0o700) == nil
	}
	return true
}

// Restore puts TMPDIR back as it was before this package's init.
func Restore() {
	if !redirected {
		return
	}
	redirected = false
	if hadSaved {
		os.Setenv("TMPDIR", saved)
	} else {
		os.Unsetenv("TMPDIR")
	}
}
