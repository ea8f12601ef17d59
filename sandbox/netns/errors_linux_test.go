package netns

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/rgraph/rgraph/collector/probe"
	"github.com/rgraph/rgraph/sandbox"
)

// Sentinels make errors match; they add no words to what the cause says.
func TestSentinelsAddNoWords(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		sentinel error
		also     error
	}{
		{"probe permission", probeErr(fmt.Errorf("loading the probe: %w", probe.ErrPermission)), sandbox.ErrPermission, probe.ErrPermission},
		{"probe unsupported", probeErr(fmt.Errorf("this kernel lacks ring buffers: %w", probe.ErrUnsupported)), sandbox.ErrUnsupported, probe.ErrUnsupported},
		{"cgroup permission", permErr(fmt.Errorf("creating cgroup /x: %w", fs.ErrPermission)), sandbox.ErrPermission, fs.ErrPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.sentinel) || !errors.Is(tt.err, tt.also) {
				t.Errorf("%v matches %v: %v, %v: %v; want both", tt.err, tt.sentinel, errors.Is(tt.err, tt.sentinel), tt.also, errors.Is(tt.err, tt.also))
			}
			var cause interface{ Unwrap() []error }
			if !errors.As(tt.err, &cause) {
				t.Fatalf("%v wraps no cause", tt.err)
			}
			if got, want := tt.err.Error(), cause.Unwrap()[1].Error(); got != want {
				t.Errorf("message = %q, want the cause's own %q", got, want)
			}
		})
	}
	if err := probeErr(errors.New("boom")); errors.Is(err, sandbox.ErrPermission) || errors.Is(err, sandbox.ErrUnsupported) {
		t.Errorf("probeErr(boom) = %v, matches a sentinel", err)
	}
}
