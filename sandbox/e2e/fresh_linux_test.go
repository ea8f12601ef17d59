package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/netnspin"
	"github.com/rgraph/rgraph/internal/netnspin/netnspintest"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// fleetDir is where fleet prod keeps its state.
const fleetDir = "/run/rgraph-fleet"

// TestFreshMachine is `sudo make demo` twice in a row on a machine where
// /run/netns is not a mount point yet: the production fleet comes up, a
// sandbox runs against it, the fleet goes down, and nothing is left. Then
// fleet prod up and down recover from what crashes and older fleets left.
func TestFreshMachine(t *testing.T) {
	if !netnspintest.Fresh(t) {
		return
	}
	sandboxtest.RequireSandbox(t)
	bin := filepath.Join(t.TempDir(), "bin")
	if err := sandboxtest.BuildFleet(bin); err != nil {
		t.Fatal(err)
	}
	netns := fmt.Sprintf("rgtest-fresh-%d", os.Getpid())
	sc, err := sandbox.LoadScenario(sandboxtest.ScenarioPath("dns"))
	if err != nil {
		t.Fatal(err)
	}
	// up brings the fleet up and makes sure the test takes it down.
	up := func(t *testing.T) (*sandboxtest.FleetEnv, func() error) {
		t.Helper()
		f, err := sandboxtest.StartFleet(bin, netns)
		if err != nil {
			t.Fatal(err)
		}
		down := sync.OnceValue(f.Down)
		t.Cleanup(func() { down() })
		return f, down
	}

	for round := 1; round <= 2; round++ {
		f, down := up(t)
		rec, err := sandbox.Run(context.Background(), sc, f.Options())
		if err != nil {
			t.Fatalf("round %d: Run: %v", round, err)
		}
		if !rec.Outcome.Recovered {
			t.Errorf("round %d: run %s did not recover: %s", round, rec.ID, rec.Outcome.Error)
		}
		sandboxtest.AssertClean(t, netns, rec.ID)
		if err := down(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		assertFleetGone(t, netns)
		assertNoPin(t, "rgraph-"+rec.ID)
	}

	t.Run("shadowed pin", func(t *testing.T) {
		// What older fleets left when a sandbox ran while they were up:
		// a pin on the plain directory, hidden by the first mount of it,
		// whose visible copy went while the file stayed (EBUSY).
		if err := netnspintest.UnmountDir(); err != nil {
			t.Fatal(err)
		}
		p := netnspin.Path(netns)
		if err := os.WriteFile(p, nil, 0o444); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount("/proc/self/ns/net", p, "", unix.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
		if err := netnspin.EnsureDir(); err != nil {
			t.Fatal(err)
		}
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
			t.Fatal(err)
		}
		f, down := up(t)
		if !strings.Contains(f.Started, "removing the stale pin "+p) {
			t.Errorf("fleet prod up did not say it removed the stale pin:\n%s", f.Started)
		}
		if err := down(); err != nil {
			t.Fatal(err)
		}
		assertFleetGone(t, netns)
	})

	t.Run("crash", func(t *testing.T) {
		f, down := up(t)
		// Every process of the fleet dies; its state, pin and cgroup stay.
		var st struct{ Cgroup string }
		b, err := os.ReadFile(filepath.Join(fleetDir, "prod.json"))
		if err == nil {
			err = json.Unmarshal(b, &st)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(st.Cgroup, "cgroup.kill"), []byte("1"), 0); err != nil {
			t.Fatal(err)
		}
		// cgroup.kill only sends the signals: wait until they are dead.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			b, err := os.ReadFile(filepath.Join(st.Cgroup, "cgroup.events"))
			if err != nil || !strings.Contains(string(b), "populated 1") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the fleet's processes outlived cgroup.kill by 5s")
			}
		}
		if out, err := f.Prod("status"); err == nil || !strings.Contains(out, "its processes are gone") {
			t.Errorf("fleet prod status after a crash = %v:\n%s", err, out)
		}
		again, _ := up(t)
		if !strings.Contains(again.Started, "its processes are gone") {
			t.Errorf("fleet prod up after a crash did not say it cleaned up:\n%s", again.Started)
		}
		if err := down(); err != nil {
			t.Fatal(err)
		}
		assertFleetGone(t, netns)
	})

	t.Run("owner gone", func(t *testing.T) {
		// A fleet up for a process that died without taking it down, as a
		// test binary that crashed does.
		owner := exec.Command("sleep", "60")
		if err := owner.Start(); err != nil {
			t.Fatal(err)
		}
		f := &sandboxtest.FleetEnv{Bin: bin, NetNS: netns}
		if out, err := f.Prod("up", "--netns", netns, "--owner", strconv.Itoa(owner.Process.Pid)); err != nil {
			owner.Process.Kill()
			owner.Wait()
			t.Fatalf("fleet prod up --owner: %v\n%s", err, out)
		}
		owner.Process.Kill()
		owner.Wait()
		again, down := up(t)
		if want := fmt.Sprintf("its owner, process %d, is gone", owner.Process.Pid); !strings.Contains(again.Started, want) {
			t.Errorf("fleet prod up after its owner died did not say %q:\n%s", want, again.Started)
		}
		if err := down(); err != nil {
			t.Fatal(err)
		}
		assertFleetGone(t, netns)
	})

	t.Run("down when not up", func(t *testing.T) {
		f := &sandboxtest.FleetEnv{Bin: bin, NetNS: netns}
		// A pin whose owner died before mounting the namespace on it.
		if err := os.WriteFile(netnspin.Path(netns), nil, 0o444); err != nil {
			t.Fatal(err)
		}
		out, err := f.Prod("down", "--netns", netns)
		if err != nil || !strings.Contains(out, "removing the stale pin") {
			t.Errorf("fleet prod down with a stale pin = %v:\n%s", err, out)
		}
		assertNoPin(t, netns)
		if out, err := f.Prod("down", "--netns", netns); err == nil || !strings.Contains(out, "not up") {
			t.Errorf("fleet prod down with nothing up = %v:\n%s", err, out)
		}
	})
}

// assertNoPin fails t when anything is left of the pin called name.
func assertNoPin(t *testing.T, name string) {
	t.Helper()
	if st, err := netnspin.Inspect(name); err != nil || st != netnspin.Absent {
		t.Errorf("pin %s: %v %v, want absent", name, st, err)
	}
	if m := netnspintest.MountsAt(t, netnspin.Path(name)); len(m) > 0 {
		t.Errorf("mounts left on %s: %q", netnspin.Path(name), m)
	}
}

// assertFleetGone fails t when anything is left of the fleet in netns.
func assertFleetGone(t *testing.T, netns string) {
	t.Helper()
	assertNoPin(t, netns)
	for _, p := range []string{filepath.Join(fleetDir, "prod.json"), filepath.Join(fleetDir, "logd.sock")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("the fleet left %s", p)
		}
	}
	for _, pattern := range []string{"/sys/fs/cgroup/rgraph-fleet/", "/sys/fs/cgroup/*/rgraph-fleet/"} {
		if left, _ := filepath.Glob(pattern + netns); len(left) > 0 {
			t.Errorf("the fleet left its cgroup %s", left)
		}
	}
}
