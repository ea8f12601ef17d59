package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/internal/privtest"
)

// TestFullDisk runs rgraph on a store on a small file system (tmpfs, and
// ext4 on a loop device) that fills up. Badger writes through memory maps
// of sparse files, where a full disk is SIGBUS, not an error: a write that
// does not fit must be refused cleanly (exit 1, saying how much is free
// and needed), earlier releases must stay readable, reads must need no
// space, and a read-only mount of the store must be readable.
//
// The scenario runs in a child (this test binary, TestFullDiskChild) in a
// mount namespace of its own, so that its mounts vanish with it; every
// rgraph command runs in a grandchild (this binary as "rgraph", see
// TestMain), so that a crash shows as an exit status.
func TestFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts file systems and starts child processes")
	}
	privtest.Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Every rgraph process initializes go-graphviz, which caches compiled
	// code under the user's cache directory; a private one keeps other
	// processes' use of it out of this test.
	cache := t.TempDir()
	for _, fstype := range []string{"tmpfs", "ext4"} {
		t.Run(fstype, func(t *testing.T) {
			if _, err := exec.LookPath("mkfs.ext4"); fstype == "ext4" && err != nil {
				privtest.Skip(t, "needs mkfs.ext4 (Debian's e2fsprogs)")
			}
			cmd := exec.Command(exe, "-test.run=^TestFullDiskChild$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), fullDiskEnv+"="+fstype, fullDiskDirEnv+"="+t.TempDir(), "XDG_CACHE_HOME="+cache)
			cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS} // and / made private
			out, err := cmd.CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("--- PASS: TestFullDiskChild")) {
				t.Fatalf("the full-disk scenario on %s failed (%v):\n%s", fstype, err, out)
			}
		})
	}
}

const (
	fullDiskEnv    = "RGRAPH_TEST_FULL_DISK"     // the file system to mount
	fullDiskDirEnv = "RGRAPH_TEST_FULL_DISK_DIR" // where, with the inputs beside it
)

// TestFullDiskChild is TestFullDisk's scenario; it does nothing in a
// normal run.
func TestFullDiskChild(t *testing.T) {
	fstype := os.Getenv(fullDiskEnv)
	if fstype == "" {
		t.Skip("only runs as the child of TestFullDisk")
	}
	dir := os.Getenv(fullDiskDirEnv)
	mnt := filepath.Join(dir, "mnt")
	mountSmall(t, fstype, dir, mnt)
	store := filepath.Join(mnt, "store")
	small := writeEdgeList(t, filepath.Join(dir, "small.tsv"), 2_000)
	big := writeEdgeList(t, filepath.Join(dir, "big.tsv"), 160_000) // about 18 MiB stored: more than the disk

	must := func(want int, args ...string) (stdout, stderr string) {
		t.Helper()
		code, stdout, stderr := rgraphChild(t, store, args...)
		if code != want {
			t.Fatalf("rgraph %s = exit %d, want %d; stderr:\n%s", strings.Join(args, " "), code, want, stderr)
		}
		return stdout, stderr
	}
	noSpace := func(stderr string) {
		t.Helper()
		if !strings.Contains(stderr, "not enough free space in "+store+": ") || !strings.Contains(stderr, " free, about ") {
			t.Errorf("stderr = %q, want it to say how much space is free and needed", stderr)
		}
	}

	must(exitOK, "ingest", "--release", "r1", small)
	before, _ := must(exitOK, "export")

	// A release that does not fit is refused before Badger writes it.
	_, stderr := must(exitError, "ingest", "--release", "r2", big)
	noSpace(stderr)
	if !strings.HasPrefix(stderr, `rgraph: ingesting release "r2": writing release "r2": `) {
		t.Errorf("stderr = %q, want it to say what was being written", stderr)
	}
	if out, _ := must(exitOK, "releases"); !strings.HasPrefix(out, "r1\t") || strings.Contains(out, "r2") {
		t.Errorf("releases after a refused ingest = %q, want r1 alone", out)
	}

	// Reads need no space at all; writes are refused.
	fill(t, filepath.Join(mnt, "filler"))
	if got, _ := must(exitOK, "export"); got != before {
		t.Error("export of r1 on the full disk differs from before")
	}
	must(exitOK, "cycles")
	must(exitOK, "releases")
	_, stderr = must(exitError, "ingest", "--release", "r3", small)
	noSpace(stderr)
	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}

	// A read-only mount of the store can be read, not written.
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(store, ro, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(ro, 0)
	if err := unix.Mount("", ro, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := rgraphChild(t, ro, "export")
	if code != exitOK || out != before {
		t.Errorf("export from a read-only mount = exit %d, stderr %q; want r1's edges", code, stderr)
	}
	code, _, stderr = rgraphChild(t, ro, "ingest", "--release", "r3", small)
	if code != exitError || !strings.Contains(stderr, fmt.Sprintf("opening store %q for writing: read-only file system", ro)) {
		t.Errorf("ingest into a read-only mount = exit %d, stderr %q; want 1 saying it is read-only", code, stderr)
	}
	// A writer on the writable side holds the store for readers on the
	// read-only side too, and they are told who it is.
	w, err := ingest.Open(store, ingest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr = rgraphChild(t, ro, "releases")
	w.Close()
	if want := fmt.Sprintf("in use by pid %d (", os.Getpid()); code != exitError || !strings.Contains(stderr, want) {
		t.Errorf("releases from a read-only mount beside a writer = exit %d, stderr %q; want 1 naming the writer", code, stderr)
	}

	// With space again, the store takes new releases.
	must(exitOK, "ingest", "--release", "r3", small)
	if out, _ := must(exitOK, "releases"); strings.Count(out, "\n") != 2 {
		t.Errorf("releases = %q, want r1 and r3", out)
	}
}

// mountSmall mounts a 16 MiB file system of type fstype at mnt, with its
// image (for ext4) in dir.
func mountSmall(t *testing.T, fstype, dir, mnt string) {
	t.Helper()
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	const size = 16 << 20
	switch fstype {
	case "tmpfs":
		if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
			t.Fatal(err)
		}
	case "ext4":
		img := filepath.Join(dir, "ext4.img")
		if err := os.WriteFile(img, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(img, size); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"mkfs.ext4", "-q", "-F", img}, {"mount", "-o", "loop", img, mnt}} {
			if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	default:
		t.Fatalf("unknown file system %q", fstype)
	}
	// The loop device of a loop mount is freed when it is unmounted.
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			t.Errorf("unmounting %s: %v", mnt, err)
		}
	})
}

// rgraphChild runs rgraph args on store in a child process and returns
// its exit status and output; a crash (a signal, a Go runtime fault) fails
// the test.
func rgraphChild(t *testing.T, store string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Args = append([]string{"rgraph", "--store", store}, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if code < 0 || strings.Contains(errOut.String(), "fatal error") || strings.Contains(errOut.String(), "SIGBUS") {
		t.Fatalf("rgraph %s crashed (%v):\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return code, out.String(), errOut.String()
}

// writeEdgeList writes an edge list of n edges between n services with
// long names (about 110 bytes a service stored) to path.
func writeEdgeList(t *testing.T, path string, n int) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	pad := "service-with-a-name-as-long-as-those-some-companies-generate-from-team-region-and-role-" // 88 bytes
	for i := range n {
		fmt.Fprintf(w, "%s-%07d\t%[1]s-%07d\thard\n", pad, i, (i*7919+1)%n)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// fill writes path until its file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Write(buf); errors.Is(err, syscall.ENOSPC) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// Blocks the file system keeps for its metadata can leave a few
	// bytes; take them too.
	for _, n := range []int{4096, 1024, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err == nil && st.Bavail > 0 {
		t.Logf("%d blocks still free after filling", st.Bavail)
	}
}
