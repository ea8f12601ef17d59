package wasmcache

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rgraph/rgraph/internal/privtest"
)

// TestMain undoes this package's own init, which no go-graphviz follows
// here, so that tests see the real TMPDIR.
func TestMain(m *testing.M) {
	Restore()
	os.Exit(m.Run())
}

func TestKey(t *testing.T) {
	gv := &debug.Module{Path: graphvizModule, Version: "v0.2.9", Sum: "h1:gv"}
	wz := &debug.Module{Path: wazeroModule, Version: "v1.12.0", Sum: "h1:wz"}
	other := &debug.Module{Path: "example.com/other", Version: "v1.0.0"}
	info := func(deps ...*debug.Module) *debug.BuildInfo { return &debug.BuildInfo{Deps: deps} }
	replaced := func(m *debug.Module, path, version string) *debug.Module {
		r := *m
		r.Replace = &debug.Module{Path: path, Version: version, Sum: "h1:fork"}
		return &r
	}
	want := "go-graphviz-v0.2.9-wazero-v1.12.0-" + sanitize(runtime.Version()) + "-" + runtime.GOOS + "-" + runtime.GOARCH + "-"
	tests := []struct {
		name   string
		bi     *debug.BuildInfo
		ok     bool
		prefix string // "" when the key must be unknown
	}{
		{"both modules", info(other, gv, wz), true, want},
		{"no build info", nil, false, ""},
		{"test binary: no dependencies", info(), true, ""},
		{"no wazero", info(gv, other), true, ""},
		{"no go-graphviz", info(wz), true, ""},
		{"devel version", info(gv, &debug.Module{Path: wazeroModule, Version: "(devel)"}), true, ""},
		{"replaced by a directory", info(gv, replaced(wz, "../wazero", "")), true, ""},
		{"replaced by a fork", info(gv, replaced(wz, "example.com/fork", "v1.12.1")), true, "go-graphviz-v0.2.9-wazero-v1.12.1-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, known := Key(tt.bi, tt.ok)
			if known != (tt.prefix != "") || !strings.HasPrefix(key, tt.prefix) {
				t.Fatalf("Key() = %q, %v, want prefix %q, %v", key, known, tt.prefix, tt.prefix != "")
			}
			if known && (strings.ContainsAny(key, "/ ") || filepath.Base(key) != key) {
				t.Errorf("Key() = %q is not one file name", key)
			}
		})
	}
	// Every input is part of the key: a change of any gives another.
	base, _ := Key(info(gv, wz), true)
	for _, bi := range []*debug.BuildInfo{
		info(&debug.Module{Path: graphvizModule, Version: "v0.2.10", Sum: "h1:gv"}, wz),
		info(gv, &debug.Module{Path: wazeroModule, Version: "v1.8.1", Sum: "h1:wz"}),
		info(gv, &debug.Module{Path: wazeroModule, Version: "v1.12.0", Sum: "h1:other"}),
		info(gv, replaced(wz, "example.com/fork", "v1.12.0")),
	} {
		if k, _ := Key(bi, true); k == base {
			t.Errorf("Key(%v) = %q, the same as for the unchanged modules", bi.Deps, k)
		}
	}
}

// A test binary records no dependencies, so its cache is its own and
// temporary, under TMPDIR.
func TestDirOfATestBinary(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	d := Dir()
	if d == "" {
		t.Fatal("Dir() = \"\" with a writable TMPDIR")
	}
	if want := filepath.Join(tmp, "rgraph-graphviz-"+strconv.Itoa(os.Geteuid())); filepath.Dir(d) != want ||
		!strings.HasPrefix(filepath.Base(d), "binary-") {
		t.Errorf("Dir() = %q, want a binary-... directory in %s", d, want)
	}
	for _, p := range []string{d, filepath.Dir(d)} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, mode %v, want 0700", p, err, fi.Mode().Perm())
		}
	}
	if again := Dir(); again != d {
		t.Errorf("second Dir() = %q, want the same %q", again, d)
	}
}

func TestVersionDir(t *testing.T) {
	base := t.TempDir()
	legacy := filepath.Join(base, "rgraph", "go-graphviz", "wazero-dev-amd64-linux")
	stale := filepath.Join(base, "rgraph", "graphviz", "go-graphviz-v0.2.9-wazero-v1.8.1-old")
	recent := filepath.Join(base, "rgraph", "graphviz", "go-graphviz-v0.2.9-wazero-v1.11.0-recent")
	for _, d := range []string{legacy, stale, recent} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "compiled"), []byte("machine code"), 0o600)
	}
	old := time.Now().Add(-versionCacheTTL - time.Hour)
	os.Chtimes(stale, old, old)
	if err := os.Chmod(filepath.Join(base, "rgraph"), 0o755); err != nil {
		t.Fatal(err)
	}

	d := versionDir(base, "go-graphviz-v0.2.9-wazero-v1.12.0-new")
	if want := filepath.Join(base, "rgraph", "graphviz", "go-graphviz-v0.2.9-wazero-v1.12.0-new"); d != want {
		t.Fatalf("versionDir() = %q, want %q", d, want)
	}
	if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v, want a 0700 directory", d, err)
	}
	for _, tt := range []struct {
		dir  string
		kept bool
	}{{legacy, false}, {filepath.Dir(legacy), false}, {stale, false}, {recent, true}} {
		if _, err := os.Stat(tt.dir); (err == nil) != tt.kept {
			t.Errorf("after versionDir: %s exists = %v, want %v", tt.dir, err == nil, tt.kept)
		}
	}
}

func TestPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if !private(dir) {
		t.Fatalf("private(%s) = false for a new directory", dir)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if !private(dir) {
		t.Fatal("private() gave up on a directory it could make private")
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("private() left mode %v, want 0700", fi.Mode().Perm())
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if private(link) {
		t.Error("private() accepted a symbolic link")
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if private(filepath.Join(file, "x")) {
		t.Error("private() accepted a path under a file")
	}
}

func TestRestore(t *testing.T) {
	t.Setenv("TMPDIR", "/before")
	redirected, saved, hadSaved = true, "/before", true
	os.Setenv("TMPDIR", "/private")
	Restore()
	if got := os.Getenv("TMPDIR"); got != "/before" {
		t.Errorf("TMPDIR after Restore = %q, want /before", got)
	}
	os.Setenv("TMPDIR", "/other")
	Restore() // second call must do nothing
	if got := os.Getenv("TMPDIR"); got != "/other" {
		t.Errorf("second Restore changed TMPDIR to %q", got)
	}
}

// TestOtherUsersCacheDoesNotBreakStartup builds a program that imports
// render and runs it as an unprivileged user while the shared
// $TMPDIR/go-graphviz belongs to root with private subdirectories, as a
// root run leaves it. Without this package go-graphviz's init panics.
func TestOtherUsersCacheDoesNotBreakStartup(t *testing.T) {
	privtest.Require(t) // to create a cache owned by another user
	nobody, err := user.Lookup("nobody")
	if err != nil {
		privtest.Skip(t, "no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)

	tmp, err := os.MkdirTemp("", "wasmcache")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	os.Chmod(tmp, 0o777)
	if err := os.MkdirAll(filepath.Join(tmp, "go-graphviz", "wazero-v1.8.1-amd64-linux"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(tmp, "go-graphviz"), 0o755)
	bin := filepath.Join(tmp, "prog")
	src := filepath.Join(t.TempDir(), "main.go")
	os.WriteFile(src, []byte(`package main

import (
	"fmt"
	"os"

	_ "github.com/rgraph/rgraph/render/graphviz"
)

func main() { fmt.Println("TMPDIR=" + os.Getenv("TMPDIR")) }
`), 0o644)
	build := exec.Command("go", "build", "-o", bin, src)
	build.Dir = "."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	os.Chmod(bin, 0o755)
	home := filepath.Join(tmp, "home")
	os.Mkdir(home, 0o755)
	os.Chown(home, uid, gid)
	cmd := exec.Command(bin)
	cmd.Env = []string{"TMPDIR=" + tmp, "HOME=" + home, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("program as nobody: %v\n%s", err, out)
	}
	if want := "TMPDIR=" + tmp + "\n"; string(out) != want {
		t.Errorf("program printed %q, want %q (TMPDIR not restored)", out, want)
	}
	if m, _ := filepath.Glob(filepath.Join(home, ".cache", "rgraph", "graphviz", "go-graphviz-*", "go-graphviz", "wazero-*")); len(m) != 1 {
		t.Errorf("private caches under the user's home: %q, want one", m)
	}
}
