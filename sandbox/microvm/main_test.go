package microvm_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/rgraph/rgraph/internal/privtest"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/microvm"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// TestMain makes this test binary the guest agent of the VMs its tests
// boot: as PID 1 of a VM it is nothing else.
func TestMain(m *testing.M) {
	if os.Getpid() == 1 {
		microvm.AgentMain()
	}
	os.Exit(sandboxtest.Main(m))
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
