// Package sandboxtest helps tests that run real sandboxes: it gates them
// on privileges and kernel support, builds the example fleet
// (testdata/fleet), brings its production environment up in a network
// namespace the test process owns, and checks that a run left nothing
// behind.
//
// Tests that use [Fleet] must call [Main] from TestMain, which removes
// the fleet binary (and a fleet left up) when the test binary ends.
package sandboxtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"

	"github.com/rgraph/rgraph/internal/privtest"
	"github.com/rgraph/rgraph/sandbox"
	_ "github.com/rgraph/rgraph/sandbox/netns" // the default driver
)

// RequireSandbox skips t (or fails it under RGRAPH_REQUIRE_PRIVILEGED=1)
// unless this machine can run sandboxes of the default driver (netns,
// with the eBPF recorder), which importing this package registers.
func RequireSandbox(t testing.TB) {
	t.Helper()
	privtest.Require(t)
	privtest.SkipIfUnsupported(t, sandbox.Ready(context.Background(), ""), func(err error) bool {
		return errors.Is(err, sandbox.ErrPermission) || errors.Is(err, sandbox.ErrUnsupported)
	})
}

// ModuleRoot returns the repository's root directory.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// FleetDir is testdata/fleet: catalog.yaml, ground-truth.yaml, scenarios/.
func FleetDir() string { return filepath.Join(ModuleRoot(), "testdata", "fleet") }

// ScenarioPath returns the path of the fleet scenario of service.
func ScenarioPath(service string) string {
	return filepath.Join(FleetDir(), "scenarios", service+".yaml")
}

// FleetEnv is a running production fleet.
type FleetEnv struct {
	// Bin is the directory holding the fleet binary; put it on PATH.
	Bin string
	// NetNS is the production namespace, the sandboxes' upstream.
	NetNS string
	// Started is what fleet prod up printed.
	Started string
}

// Options returns sandbox options that find the fleet binary and leak
// back to this production fleet.
func (f *FleetEnv) Options() sandbox.Options {
	return sandbox.Options{
		UpstreamNetNS: f.NetNS,
		Env:           map[string]string{"PATH": f.Bin + ":" + os.Getenv("PATH")},
	}
}

var shared struct {
	sync.Mutex
	fleet *FleetEnv
	users int    // tests (and benchmarks) using fleet
	bin   string // the fleet binary's directory, built once per process
	tmp   string
}

// Fleet brings the production fleet up in a namespace owned by this test
// process, building the fleet binary once per process, and shares it
// among the tests that use it at the same time: it goes down when the
// last of them ends, so that other packages' tests can have it in
// between. One production fleet can be up per machine (logd's socket has
// a fixed path), so Fleet waits for another one to go (see [StartFleet]).
// A test fails when the fleet cannot come up or go down. Tests that use
// Fleet must call [Main] from TestMain.
func Fleet(t testing.TB) *FleetEnv {
	t.Helper()
	RequireSandbox(t)
	shared.Lock()
	defer shared.Unlock()
	if shared.fleet == nil {
		f, err := startFleet()
		if err != nil {
			t.Fatalf("bringing the production fleet up: %v", err)
		}
		shared.fleet = f
	}
	shared.users++
	t.Cleanup(func() {
		shared.Lock()
		defer shared.Unlock()
		if shared.users--; shared.users > 0 {
			return
		}
		if err := shared.fleet.Down(); err != nil {
			t.Error(err)
		}
		shared.fleet = nil
	})
	return shared.fleet
}

func startFleet() (*FleetEnv, error) {
	if shared.bin == "" {
		tmp, err := os.MkdirTemp("", "rgraph-fleet-")
		if err != nil {
			return nil, err
		}
		shared.tmp = tmp
		if err := BuildFleet(filepath.Join(tmp, "bin")); err != nil {
			return nil, err
		}
		shared.bin = filepath.Join(tmp, "bin")
	}
	return StartFleet(shared.bin, fmt.Sprintf("rgtest-fleet-%d", os.Getpid()))
}

// BuildFleet builds the fleet binary into directory bin.
func BuildFleet(bin string) error {
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "fleet"), "./testdata/fleet")
	build.Dir = ModuleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the fleet: %v\n%s", err, out)
	}
	return nil
}

// FleetWait is how long [StartFleet] waits for another production fleet
// to go: longer than the longest test binary that holds one (cmd/rgraph's
// runs for about three minutes under make test).
const FleetWait = 6 * time.Minute

// StartFleet brings the production fleet up in namespace netns with the
// fleet binary in directory bin, for this process: should it die without
// [FleetEnv.Down], the next fleet prod command takes the fleet down. One
// production fleet can be up per machine (logd's socket has a fixed
// path), so it waits up to [FleetWait] for another one to go.
func StartFleet(bin, netns string) (*FleetEnv, error) {
	f := &FleetEnv{Bin: bin, NetNS: netns}
	deadline := time.Now().Add(FleetWait)
	for {
		out, err := f.Prod("up", "--netns", f.NetNS, "--owner", strconv.Itoa(os.Getpid()))
		if err == nil {
			f.Started = out
			return f, nil
		}
		if !strings.Contains(out, "already up") || time.Now().After(deadline) {
			return nil, fmt.Errorf("fleet prod up: %v\n%s", err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Prod runs `fleet prod ARGS...` and returns its combined output.
func (f *FleetEnv) Prod(args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(f.Bin, "fleet"), append([]string{"prod"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Down takes the production fleet down; the error carries fleet's output.
func (f *FleetEnv) Down() error {
	if out, err := f.Prod("down"); err != nil {
		return fmt.Errorf("fleet prod down: %v\n%s", err, out)
	}
	return nil
}

// Main runs the tests, then takes down the production fleet if a test
// left it up (a test that called [Fleet] and never ended, as after
// t.FailNow in another goroutine) and removes the fleet binary. Call it
// from TestMain: os.Exit(sandboxtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.fleet != nil {
		if err := shared.fleet.Down(); err != nil {
			fmt.Fprintf(os.Stderr, "sandboxtest: %v", err)
			code = 1
		}
	}
	if shared.tmp != "" {
		os.RemoveAll(shared.tmp)
	}
	return code
}

// Leftovers lists what is left of run id: its run directory, network
// namespace, cgroup, address lease and the upstream end of its veth.
func Leftovers(id string) []string {
	var out []string
	for _, p := range []string{
		"/run/rgraph/runs/" + id,
		"/run/netns/rgraph-" + id,
		"/sys/fs/cgroup/unified/rgraph/" + id,
		"/sys/fs/cgroup/rgraph/" + id,
	} {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, p)
		}
	}
	leases, _ := filepath.Glob("/run/rgraph/subnets/*")
	for _, l := range leases {
		if target, err := os.Readlink(l); err == nil && target == id {
			out = append(out, l+" -> "+id)
		}
	}
	return out
}

// VethExists reports whether the upstream end of run id's veth pair is
// still in namespace netns.
func VethExists(netns, id string) bool {
	ns, err := vnetns.GetFromName(netns)
	if err != nil {
		return false
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return false
	}
	defer h.Close()
	_, err = h.LinkByName("rg" + id)
	return err == nil
}

// AssertClean fails t when anything of run id is left.
func AssertClean(t testing.TB, netns, id string) {
	t.Helper()
	if left := Leftovers(id); len(left) > 0 {
		t.Errorf("run %s left %s", id, strings.Join(left, ", "))
	}
	if netns != "" && VethExists(netns, id) {
		t.Errorf("run %s left its veth rg%s in %s", id, id, netns)
	}
}
