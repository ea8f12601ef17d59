package probe

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/rgraph/rgraph/internal/privtest"
)

// TestVerifierRejectionIsUnsupported checks that a program the kernel's
// verifier rejects is reported as a kernel problem with the verifier's
// reason, not as missing privileges (the verifier answers EACCES).
func TestVerifierRejectionIsUnsupported(t *testing.T) {
	privtest.Require(t)
	_, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "broken", Type: ebpf.CGroupSockAddr, AttachType: ebpf.AttachCGroupInet4Connect, License: "GPL",
		Instructions: asm.Instructions{asm.LoadMem(asm.R0, asm.R2, 0, asm.Word), asm.Return()}, // R2 is not initialized
	})
	if err == nil {
		t.Fatal("the verifier accepted a program reading an uninitialized register")
	}
	le := loadError("loading probe programs", fmt.Errorf("program broken: %w", err))
	if !errors.Is(le, ErrUnsupported) || errors.Is(le, ErrPermission) {
		t.Errorf("error %q: unsupported %v, permission %v; want unsupported only", le, errors.Is(le, ErrUnsupported), errors.Is(le, ErrPermission))
	}
	if msg := le.Error(); !strings.Contains(msg, "verifier rejected program broken") || !strings.Contains(msg, "R2 !read_ok") || strings.Contains(msg, "permission denied") {
		t.Errorf("message %q does not name the program and the verifier's reason, or speaks of permissions", msg)
	}
	log := VerifierLog(le)
	if len(log) == 0 {
		t.Fatal("VerifierLog is empty")
	}
	if full := fmt.Sprintf("%+v", le); !strings.Contains(full, log[len(log)-1]) {
		t.Errorf("%%+v does not print the verifier log:\n%s", full)
	}
	if VerifierLog(errors.New("other")) != nil {
		t.Error("VerifierLog of another error is not nil")
	}
}
