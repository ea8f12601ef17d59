package netns

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOpenNetNSGone checks that a pin whose namespace is gone (an empty
// file, as a deleted namespace leaves when its bind mount goes first) is
// named as gone instead of failing later with "invalid argument".
func TestOpenNetNSGone(t *testing.T) {
	dir := t.TempDir()
	gone := filepath.Join(dir, "prod")
	if err := os.WriteFile(gone, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"gone", gone, `upstream network namespace "prod" is gone: ` + gone + ` is no longer a network namespace`},
		{"missing", filepath.Join(dir, "nope"), `upstream network namespace "prod" does not exist`},
		{"not a network namespace", "/proc/self/ns/uts", "is no longer a network namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd, err := openNetNS("prod", tt.path)
			if err == nil {
				unix.Close(fd)
				t.Fatalf("openNetNS(%s) succeeded", tt.path)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("openNetNS(%s) = %v, want %q", tt.path, err, tt.want)
			}
		})
	}
	fd, err := openNetNS("host", "/proc/self/ns/net")
	if err != nil {
		t.Fatalf("openNetNS(this process's namespace) = %v", err)
	}
	unix.Close(fd)
}
