package wasmcache

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/rgraph/rgraph/internal/privtest"
)

// TestMain undoes this package's own init, which no go-graphviz follows
// here, so that tests see the real TMPDIR.
func TestMain(m *testing.M) {
	Restore()
	os.Exit(m.Run())
}

func TestDirIsPrivate(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	d := Dir()
	if d == "" {
		t.Fatal("Dir() = \"\" with a writable XDG_CACHE_HOME")
	}
	fi, err := os.Stat(d)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("Dir() mode = %v, want 0700", fi.Mode().Perm())
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if Dir() != d {
		t.Fatal("Dir() gave up on a directory it could make private")
	}
	if fi, _ := os.Stat(d); fi.Mode().Perm() != 0o700 {
		t.Errorf("Dir() left mode %v, want 0700", fi.Mode().Perm())
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

	_ "github.com/rgraph/rgraph/render"
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
	if _, err := os.Stat(filepath.Join(home, ".cache", "rgraph", "go-graphviz")); err != nil {
		t.Errorf("no private cache under the user's home: %v", err)
	}
}
