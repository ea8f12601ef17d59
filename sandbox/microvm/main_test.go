//go:build linux

package microvm_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/privtest"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/microvm"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// helperEnv makes this test binary a helper that runbooks inside a VM
// call: the binary's directory is on their PATH, shared read-only.
const helperEnv = "RGRAPH_MICROVM_HELPER"

// TestMain makes this test binary the guest agent of the VMs its tests
// boot (as PID 1 of a VM it is nothing else) and the helper their
// runbooks call.
func TestMain(m *testing.M) {
	if os.Getpid() == 1 {
		microvm.AgentMain()
	}
	if os.Getenv(helperEnv) != "" {
		os.Exit(helper(os.Args[1:]))
	}
	os.Exit(sandboxtest.Main(m))
}

// helper runs inside a VM: "connect ADDR" connects and reports,
// "escape" tries what a runbook must not be able to do, each try on a
// line with its error.
func helper(args []string) int {
	switch {
	case len(args) == 2 && args[0] == "connect":
		c, err := net.DialTimeout("tcp", args[1], 3*time.Second)
		if err != nil {
			fmt.Println("connect:", err)
			return 1
		}
		c.Close()
		fmt.Println("connect: ok")
		return 0
	case len(args) == 2 && args[0] == "listen":
		// A daemon of the runbook's: listen on args[1] for a minute.
		l, err := net.Listen("tcp", args[1])
		if err != nil {
			fmt.Println("listen:", err)
			return 1
		}
		defer l.Close()
		time.Sleep(time.Minute)
		return 0
	case len(args) == 1 && args[0] == "escape":
		pid := []byte(fmt.Sprint(os.Getpid()))
		try := func(what string, err error) {
			if err == nil {
				fmt.Printf("ESCAPED %s\n", what)
				return
			}
			fmt.Printf("refused %s: %v\n", what, err)
		}
		try("leaving the runbook cgroup", os.WriteFile("/sys/fs/cgroup/cgroup.procs", pid, 0))
		try("moving to the validate cgroup", writeGlob("/sys/fs/cgroup/rgraph/*/validate/cgroup.procs", pid))
		try("a mount namespace", unix.Unshare(unix.CLONE_NEWNS))
		_, _, errno := unix.Syscall(unix.SYS_BPF, 11 /* BPF_PROG_GET_NEXT_ID */, 0, 0)
		try("listing eBPF programs", errnoErr(errno))
		try("remounting /sys/fs/cgroup read-write", unix.Mount("", "/sys/fs/cgroup", "", unix.MS_REMOUNT, ""))
		try("loading a kernel module", unix.InitModule(nil, ""))
		try("writing the agent's memory", os.WriteFile("/proc/1/mem", []byte{0}, 0))
		return 0
	case len(args) == 2 && args[0] == "hold":
		// Boot a VM with upstream args[1], say its run ID, and wait to be
		// killed.
		exe, _ := os.Executable()
		sb, err := microvm.New(microvm.Config{Agent: exe}).Start(context.Background(), sandbox.Spec{
			Upstream: sandbox.Upstream{NetNS: args[1]},
			Env:      []string{"PATH=/usr/bin:/bin"},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "hold:", err)
			return 1
		}
		fmt.Println(sb.ID())
		time.Sleep(10 * time.Minute)
		return 0
	}
	fmt.Fprintln(os.Stderr, "helper: unknown command", args)
	return 2
}

func writeGlob(pattern string, b []byte) error {
	err := fmt.Errorf("no %s", pattern)
	if ms, _ := filepath.Glob(pattern); len(ms) > 0 {
		err = os.WriteFile(ms[0], b, 0)
	}
	return err
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// newDriver returns a microVM driver whose guest agent is this test
// binary, or skips t (fails it under RGRAPH_REQUIRE_PRIVILEGED=1) when
// this machine cannot run VMs.
func newDriver(t testing.TB) *microvm.Driver {
	t.Helper()
	privtest.Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	d := microvm.New(microvm.Config{Agent: exe})
	r := sandbox.Report{Driver: d.Name(), Requirements: d.Check(context.Background())}
	privtest.SkipIfUnsupported(t, r.Err(), func(err error) bool {
		return errors.Is(err, sandbox.ErrPermission) || errors.Is(err, sandbox.ErrUnsupported)
	})
	return d
}
