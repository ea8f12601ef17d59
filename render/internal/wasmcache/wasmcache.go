// Package wasmcache moves go-graphviz's compilation cache into a private,
// per-user directory.
//
// go-graphviz compiles its WebAssembly Graphviz in a package init function
// and caches the compiled machine code under $TMPDIR/go-graphviz. That
// shared, world-known directory is unsafe (another local user could plant
// code there for root's rgraph to run) and breaks every command with a
// panic when another user created it first.
//
// Importing this package from render fixes both: its init, which runs
// before go-graphviz's (Go initializes packages in import-path order where
// dependencies allow, and this package depends only on os and
// path/filepath), points TMPDIR at a private directory under the user's
// cache directory; render's init calls [Restore] once go-graphviz is
// initialized, so the rest of the program sees TMPDIR unchanged.
package wasmcache

import (
	"os"
	"path/filepath"
)

var (
	redirected bool
	saved      string
	hadSaved   bool
)

func init() {
	dir := Dir()
	if dir == "" {
		return
	}
	saved, hadSaved = os.LookupEnv("TMPDIR")
	if os.Setenv("TMPDIR", dir) == nil {
		redirected = true
	}
}

// Dir returns the private directory go-graphviz's cache is kept under,
// creating it with mode 0700, or "" when the user has no cache directory
// (the cache then stays where go-graphviz puts it).
func Dir() string {
	base, err := os.UserCacheDir()
	if err != nil || base == "" {
		return ""
	}
	dir := filepath.Join(base, "rgraph")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	fi, err := os.Stat(dir)
	if err == nil && fi.Mode().Perm()&0o077 != 0 {
		err = os.Chmod(dir, 0o700)
	}
	if err != nil {
		return "" // cannot make it private: do not use it
	}
	return dir
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
