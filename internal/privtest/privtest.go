// Package privtest gates tests that need what CI provides and a developer's
// machine may lack: root, eBPF and network namespaces, but also the tools
// .ci/run installs (apt-cache's package lists, Chromium, Slurm, real
// daemons from Debian packages).
//
// Such tests are compiled always and skip with a reason where they cannot
// run; with RGRAPH_REQUIRE_PRIVILEGED=1 (set by .ci/run and make
// test-privileged) a skip becomes a failure, so CI cannot pass without
// running them.
package privtest

import (
	"fmt"
	"os"
	"testing"
)

// Required reports whether privileged tests must run rather than skip.
func Required() bool { return os.Getenv("RGRAPH_REQUIRE_PRIVILEGED") == "1" }

// Skip skips t with reason, or fails it when privileged tests are required.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("RGRAPH_REQUIRE_PRIVILEGED=1 but this test cannot run: %s", reason)
	}
	t.Skip(reason)
}

// Require skips (or, when required, fails) t unless running as root.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root (or CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN); run as root or with make test-privileged")
	}
}

// SkipIfUnsupported skips (or, when required, fails) t when err says a
// kernel feature or privilege is missing, as decided by isUnsupported;
// any other non-nil err fails the test.
func SkipIfUnsupported(t testing.TB, err error, isUnsupported func(error) bool) {
	t.Helper()
	if err == nil {
		return
	}
	if isUnsupported(err) {
		Skip(t, "%v", err)
	}
	t.Fatal(err)
}
