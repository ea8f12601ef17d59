package microvm_test

import (
	"os"
	"testing"

	"github.com/rgraph/rgraph/sandbox/microvm"
)

// TestMain makes this test binary the guest agent of the VMs its tests
// boot: as PID 1 of a VM it is nothing else.
func TestMain(m *testing.M) {
	if os.Getpid() == 1 {
		microvm.AgentMain()
	}
	os.Exit(m.Run())
}
