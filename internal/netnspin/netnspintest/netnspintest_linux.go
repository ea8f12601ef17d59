package netnspintest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/netnspin"
	"github.com/rgraph/rgraph/internal/privtest"
)

const childEnv = "RGRAPH_NETNSPINTEST_CHILD"

// Fresh reports whether the caller runs in the fresh state. Called from
// the top-level test t, it re-runs t in a child process with a private
// mount namespace in which every mount on /run/netns has been taken away,
// reports the child's output, fails t when the child failed, and returns
// false; in that child it returns true and the test goes on there:
//
//	if !netnspintest.Fresh(t) {
//		return
//	}
//
// Nothing the child mounts reaches the host, but the namespaces, cgroups,
// links and files it creates do: the test must remove them. It needs
// root (see [privtest.Require]).
func Fresh(t *testing.T) bool {
	t.Helper()
	privtest.Require(t)
	if os.Getenv(childEnv) == "" {
		runChild(t)
		return false
	}
	if err := UnmountDir(); err != nil {
		t.Fatal(err)
	}
	if m := MountsAt(t, netnspin.Dir); len(m) > 0 {
		t.Fatalf("%s is still a mount point: %q", netnspin.Dir, m)
	}
	return true
}

func runChild(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	// Go makes / private (recursively) in the child's new mount namespace.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	t.Logf("in a fresh mount namespace:\n%s", strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("the test failed in a fresh mount namespace: %v", err)
	}
}

// UnmountDir takes every mount on /run/netns away in this process's
// mount namespace, so that it is a plain directory again. Call it only in
// a private mount namespace (as [Fresh] does): on the host it would hide
// every pinned namespace.
func UnmountDir() error {
	for range 64 {
		err := unix.Unmount(netnspin.Dir, unix.MNT_DETACH)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unmounting %s: %w", netnspin.Dir, err)
		}
	}
	return fmt.Errorf("unmounting %s: still a mount point after 64 unmounts", netnspin.Dir)
}

// MountsAt returns the lines of /proc/thread-self/mountinfo whose mount
// point is path, hidden mounts included.
func MountsAt(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == path {
			out = append(out, l)
		}
	}
	return out
}
