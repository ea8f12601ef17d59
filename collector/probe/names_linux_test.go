package probe

import (
	"testing"

	"github.com/rgraph/rgraph/collector/decode"
)

// TestNamesArePrintable checks that whatever bytes a sandboxed process
// chooses for its name or a socket path, the record holds text that
// records accept, and different bytes stay different.
func TestNamesArePrintable(t *testing.T) {
	key := func(s string) []int8 {
		b := make([]int8, 108)
		for i := range len(s) {
			b[i] = int8(s[i])
		}
		return b
	}
	tests := []struct {
		name, in, comm, path string
	}{
		{"plain", "/run/logd.sock", "/run/logd.sock", "/run/logd.sock"},
		{"escape sequence", "/tmp/\x1b[2Jx", `/tmp/\x1b[2Jx`, `/tmp/\x1b[2Jx`},
		{"invalid UTF-8", "caf\xe9", `caf\xe9`, `caf\xe9`},
		{"C1 control", "a\u0085b", `a\xc2\x85b`, `a\xc2\x85b`},
		{"backslash", `/tmp/a\x1b`, `/tmp/a\\x1b`, `/tmp/a\\x1b`},
		{"UTF-8", "/tmp/héllo", "/tmp/héllo", "/tmp/héllo"},
		{"dot-dot", "/run/dir/../secret.sock", "/run/dir/../secret.sock", "/run/secret.sock"},
		{"duplicate slashes and dots", "/run//./dir/x.sock", "/run//./dir/x.sock", "/run/dir/x.sock"},
		{"relative", "./x.sock", "./x.sock", "./x.sock"},
		{"abstract with NULs", "@name\x00with\x00nuls", "@name", `@name\x00with\x00nuls`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cString(key(tt.in)); got != tt.comm {
				t.Errorf("cString(%q) = %q, want %q", tt.in, got, tt.comm)
			}
			got := unixPath(key(tt.in))
			if got != tt.path {
				t.Errorf("unixPath(%q) = %q, want %q", tt.in, got, tt.path)
			}
			if err := decode.CheckName(got); err != nil {
				t.Errorf("unixPath(%q) = %q, which records refuse: %v", tt.in, got, err)
			}
		})
	}
}
