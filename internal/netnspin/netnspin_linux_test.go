package netnspin_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/netnspin"
	"github.com/rgraph/rgraph/internal/netnspin/netnspintest"
)

// The namespace pinned in these tests is the test's own: pinning it
// creates nothing that could outlive the test but the name.
const self = "/proc/self/ns/net"

func inspect(t *testing.T, name string) netnspin.State {
	t.Helper()
	st, err := netnspin.Inspect(name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestFresh pins and unpins on a machine where /run/netns is not a mount
// point yet, and removes the pins another tool left on the plain
// directory, which the first EnsureDir shadows.
func TestFresh(t *testing.T) {
	if !netnspintest.Fresh(t) {
		return
	}
	name := fmt.Sprintf("rgtest-pin-%d", os.Getpid())
	p := netnspin.Path(name)
	t.Cleanup(func() { netnspin.Unpin(name) })

	t.Run("pin", func(t *testing.T) {
		if err := netnspin.Pin(name, self); err != nil {
			t.Fatal(err)
		}
		dir := netnspintest.MountsAt(t, netnspin.Dir)
		if len(dir) != 1 || !strings.Contains(dir[0], " shared:") {
			t.Errorf("after Pin, mounts on %s = %q, want one shared mount", netnspin.Dir, dir)
		}
		if st := inspect(t, name); st != netnspin.Pinned {
			t.Errorf("Inspect after Pin = %v, want pinned", st)
		}
		if err := netnspin.Pin(name, self); !errors.Is(err, fs.ErrExist) {
			t.Errorf("Pin of a taken name = %v, want an error wrapping fs.ErrExist", err)
		}
		if err := netnspin.Unpin(name); err != nil {
			t.Fatal(err)
		}
		if st := inspect(t, name); st != netnspin.Absent {
			t.Errorf("Inspect after Unpin = %v, want absent", st)
		}
		if m := netnspintest.MountsAt(t, p); len(m) > 0 {
			t.Errorf("Unpin left mounts on %s: %q", p, m)
		}
	})

	t.Run("empty", func(t *testing.T) {
		// What an owner that died between creating the file and mounting
		// on it leaves.
		if err := os.WriteFile(p, nil, 0o444); err != nil {
			t.Fatal(err)
		}
		if st := inspect(t, name); st != netnspin.Empty {
			t.Errorf("Inspect of an empty file = %v, want empty", st)
		}
		if err := netnspin.Unpin(name); err != nil {
			t.Fatal(err)
		}
		if st := inspect(t, name); st != netnspin.Absent {
			t.Errorf("Inspect after Unpin = %v, want absent", st)
		}
	})

	tests := []struct {
		name string
		// teardown is what happened to the pin after /run/netns became a
		// mount point, before Unpin.
		teardown func(t *testing.T)
		want     netnspin.State
	}{
		{"still reachable", func(*testing.T) {}, netnspin.Pinned},
		{"after a failed removal", func(t *testing.T) {
			// What `fleet prod down` did before every pin went through
			// this package: the visible copy goes, the file stays.
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(p); !errors.Is(err, unix.EBUSY) {
				t.Fatalf("removing a shadowed pin = %v, want EBUSY", err)
			}
		}, netnspin.Shadowed},
	}
	for _, tt := range tests {
		t.Run("shadowed "+tt.name, func(t *testing.T) {
			if err := netnspintest.UnmountDir(); err != nil {
				t.Fatal(err)
			}
			// A pin on the plain directory, then the first tool that makes
			// the directory a mount point.
			if err := os.WriteFile(p, nil, 0o444); err != nil {
				t.Fatal(err)
			}
			if err := unix.Mount(self, p, "", unix.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
			if err := netnspin.EnsureDir(); err != nil {
				t.Fatal(err)
			}
			tt.teardown(t)
			if st := inspect(t, name); st != tt.want {
				t.Errorf("Inspect = %v, want %v", st, tt.want)
			}
			if err := netnspin.Unpin(name); err != nil {
				t.Fatalf("Unpin: %v", err)
			}
			if st := inspect(t, name); st != netnspin.Absent {
				t.Errorf("Inspect after Unpin = %v, want absent", st)
			}
			if m := netnspintest.MountsAt(t, p); len(m) > 0 {
				t.Errorf("Unpin left mounts on %s: %q", p, m)
			}
			// The name is free again.
			if err := netnspin.Pin(name, self); err != nil {
				t.Fatalf("Pin after Unpin: %v", err)
			}
			if err := netnspin.Unpin(name); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestState(t *testing.T) {
	for st, want := range map[netnspin.State]string{
		netnspin.Absent: "absent", netnspin.Pinned: "pinned", netnspin.Empty: "empty",
		netnspin.Shadowed: "shadowed", netnspin.State(9): "State(9)",
	} {
		if got := st.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(st), got, want)
		}
	}
}
