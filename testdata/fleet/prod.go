//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/netnspin"
)

// The production fleet runs in its own network namespace, each service
// on its 10.99.0.x address (on a dummy device, or on loopback where the
// kernel has no dummy driver), and in its own cgroup so that `prod down`
// can stop everything at once. logd's socket is at a fixed path on the
// host file system, so one production fleet can be up per machine.
const (
	defaultNetNS = "fleet-prod"
	defaultDir   = "/run/rgraph-fleet"
)

// prodOrder is the order prod up starts the services in: each one's
// hard dependencies are up before it. The ca is started with the
// break-glass --bootstrap, which cuts the ca -> scheduler -> coord -> ca
// cycle.
var prodOrder = []string{"dns", "logd", "ca", "coord", "config", "pkgstore", "scheduler", "discovery", "web"}

// prodState is written to DIR/prod.json while the fleet is up.
type prodState struct {
	NetNS  string    `json:"netns"`
	Dir    string    `json:"dir"`
	Cgroup string    `json:"cgroup"`
	Up     time.Time `json:"up"`
	// Owner, when set, is the process the fleet is up for (prod up
	// --owner): once it is gone, so is the fleet.
	Owner *process `json:"owner,omitempty"`
}

// process names a process for as long as it lives: a PID and its start
// time, so that a reused PID is not taken for it.
type process struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"` // clock ticks after boot, /proc/PID/stat field 22
}

// processStart returns the start time of process pid, or false when there
// is no such process.
func processStart(pid int) (uint64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// pid (comm) state ppid ...: field 22 is the 20th after the comm.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, false
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	return start, err == nil
}

// gone says why the fleet st is no longer running, or "" while it is.
func (st prodState) gone() string {
	b, err := os.ReadFile(filepath.Join(st.Cgroup, "cgroup.events"))
	if err != nil || !strings.Contains(string(b), "populated 1") {
		return "its processes are gone"
	}
	if o := st.Owner; o != nil {
		if start, ok := processStart(o.PID); !ok || start != o.Start {
			return fmt.Sprintf("its owner, process %d, is gone", o.PID)
		}
	}
	return ""
}

func prod(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("want up, down or status")
	}
	fs := flag.NewFlagSet("prod "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	netns := fs.String("netns", defaultNetNS, "network namespace of the production fleet")
	owner := fs.Int("owner", 0, "up: the `PID` of the process the fleet is up for; once it is gone, the next prod command takes the fleet down")
	dir := fs.String("dir", defaultDir, "state directory (logd's socket lives here)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dir != defaultDir {
		return fmt.Errorf("--dir must be %s: the catalog names logd's socket there", defaultDir)
	}
	switch args[0] {
	case "up":
		var o *process
		if *owner != 0 {
			start, ok := processStart(*owner)
			if !ok {
				return fmt.Errorf("--owner %d: no such process", *owner)
			}
			o = &process{*owner, start}
		}
		return prodUp(ctx, *netns, *dir, o, stdout)
	case "down":
		return prodDown(*netns, *dir, stdout)
	case "status":
		st, err := readProdState(*dir)
		if err != nil {
			return err
		}
		if why := st.gone(); why != "" {
			return fmt.Errorf("the production fleet of netns %s is not running: %s (fleet prod up or down cleans up)", st.NetNS, why)
		}
		fmt.Fprintf(stdout, "up since %s in netns %s\n", st.Up.Format(time.RFC3339), st.NetNS)
		return nil
	}
	return fmt.Errorf("unknown prod command %q (want up, down or status)", args[0])
}

func readProdState(dir string) (prodState, error) {
	var st prodState
	b, err := os.ReadFile(filepath.Join(dir, "prod.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return st, errors.New("the production fleet is not up")
	}
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

// lockDir takes dir/prod.lock, so two prod commands never interleave.
func lockDir(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "prod.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

func prodUp(ctx context.Context, netns, dir string, owner *process, stdout io.Writer) (err error) {
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	if st, err := readProdState(dir); err == nil {
		why := st.gone()
		if why == "" {
			return fmt.Errorf("the production fleet is already up in netns %s since %s (fleet prod down first)", st.NetNS, st.Up.Format(time.RFC3339))
		}
		fmt.Fprintf(stdout, "cleaning up the production fleet of netns %s: %s\n", st.NetNS, why)
		if err := teardown(st, stdout); err != nil {
			return fmt.Errorf("cleaning up after the crashed fleet: %w", err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cg, err := cgroupDir(netns)
	if err != nil {
		return err
	}
	if _, err := cleanStale(netns, cg, stdout); err != nil {
		return err
	}
	st := prodState{NetNS: netns, Dir: dir, Cgroup: cg, Up: time.Now().UTC(), Owner: owner}
	defer func() {
		if err != nil {
			if terr := teardown(st, io.Discard); terr != nil {
				err = fmt.Errorf("%w (and tearing down: %v)", err, terr)
			}
		}
	}()
	if err := os.MkdirAll(cg, 0o755); err != nil {
		return fmt.Errorf("creating cgroup: %w", err)
	}
	cgfd, err := unix.Open(cg, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(cgfd)

	// One thread enters the new namespace and starts every service from
	// there, so they are born inside it. It is never unlocked: it ends
	// with its goroutine.
	type job struct {
		cmd  *exec.Cmd
		done chan error
	}
	jobs := make(chan job)
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		ready <- enterProdNetNS(netns)
		for j := range jobs {
			j.done <- j.cmd.Start()
		}
	}()
	defer close(jobs)
	if err := <-ready; err != nil {
		return err
	}
	for _, name := range prodOrder {
		args := []string{"serve", name, "--listen", roles[name].prod, "--state", filepath.Join(dir, "state", name)}
		switch name {
		case "ca":
			args = append(args, "--bootstrap")
		case "discovery":
			args = append(args, "--dns-listen", discoveryDNSAddr)
		case "web":
			args = append(args, "--resolver", dnsAddr)
		}
		if err := os.MkdirAll(filepath.Join(dir, "state", name), 0o755); err != nil {
			return err
		}
		logf, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			return err
		}
		cmd := exec.Command(exe, args...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Dir = filepath.Join(dir, "state", name)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, UseCgroupFD: true, CgroupFD: cgfd}
		j := job{cmd, make(chan error)}
		jobs <- j
		err = <-j.done
		logf.Close()
		if err != nil {
			return fmt.Errorf("starting %s: %w", name, err)
		}
		go cmd.Wait()
		if err := waitHealthy(ctx, netns, name, dir); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-9s up on %s\n", name, roles[name].prod)
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	return os.WriteFile(filepath.Join(dir, "prod.json"), b, 0o644)
}

// enterProdNetNS creates the named network namespace on the calling
// (locked) thread, pins it under /run/netns, and gives it the fleet's
// addresses.
func enterProdNetNS(name string) error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("creating netns %s: %w", name, err)
	}
	if err := netnspin.Pin(name, "/proc/thread-self/ns/net"); err != nil {
		return err
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	if err := h.LinkSetUp(lo); err != nil {
		return err
	}
	dev := netlink.Link(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "fleet0"}})
	if err := h.LinkAdd(dev); err != nil {
		dev = lo // no dummy driver in this kernel
	} else if err := h.LinkSetUp(dev); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, name := range prodOrder {
		host, _, err := net.SplitHostPort(roles[name].prod)
		if err != nil || seen[host] {
			continue
		}
		seen[host] = true
		a, err := netlink.ParseAddr(host + "/32")
		if err != nil {
			return err
		}
		if err := h.AddrAdd(dev, a); err != nil {
			return fmt.Errorf("adding %s: %w", host, err)
		}
	}
	return nil
}

// waitHealthy polls a production service from inside its namespace.
func waitHealthy(ctx context.Context, netns, name, dir string) error {
	deadline := time.Now().Add(10 * time.Second)
	var last error
	// Every connection of the check is made from inside the namespace.
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := inNetNS(netns, func() error {
			var err error
			c, err = dialer.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	for time.Now().Before(deadline) {
		last = inNetNS(netns, func() error {
			_, err := checkRole(ctx, dial, name, roles[name].prod, logdSocket)
			return err
		})
		if last == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s did not become healthy: %v (see %s)\n%s", name, last, filepath.Join(dir, name+".log"), tailFile(filepath.Join(dir, name+".log")))
}

func tailFile(p string) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

// inNetNS runs f on a thread in the named namespace; the thread ends
// afterwards.
func inNetNS(name string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(netnspin.Path(name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

// prodDown takes the fleet down. When none is up, it removes what a
// crashed fleet in netns left, and says so.
func prodDown(netns, dir string, stdout io.Writer) error {
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := readProdState(dir)
	if err != nil {
		cg, cerr := cgroupDir(netns)
		if cerr != nil {
			return cerr
		}
		found, cerr := cleanStale(netns, cg, stdout)
		if cerr != nil || !found {
			return errors.Join(err, cerr)
		}
		fmt.Fprintf(stdout, "the production fleet was not up; what it left in netns %s is removed\n", netns)
		return nil
	}
	if err := teardown(st, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "production fleet in netns %s is down\n", st.NetNS)
	return nil
}

// teardown kills the fleet's processes and removes its namespace, cgroup,
// socket and state file, saying on w what it found stale. The state file
// stays when something could not be removed, so that prod up and down
// try again.
func teardown(st prodState, w io.Writer) error {
	var errs []error
	if st.Cgroup != "" {
		errs = append(errs, removeCgroup(st.Cgroup))
	}
	if st.NetNS != "" {
		errs = append(errs, unpin(st.NetNS, w, netnspin.Pinned))
	}
	os.Remove(logdSocket)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if st.Dir != "" {
		os.Remove(filepath.Join(st.Dir, "prod.json"))
		os.RemoveAll(filepath.Join(st.Dir, "state"))
	}
	return nil
}

// cleanStale removes what a fleet in netns that is not up left behind (a
// pin, a cgroup with or without processes) and says so on w. It reports
// whether it found anything.
func cleanStale(netns, cg string, w io.Writer) (bool, error) {
	state, err := netnspin.Inspect(netns)
	if err != nil {
		return false, err
	}
	found := state != netnspin.Absent
	if err := unpin(netns, w, netnspin.Absent); err != nil {
		return found, err
	}
	if _, err := os.Stat(cg); err == nil {
		found = true
		fmt.Fprintf(w, "removing the stale cgroup %s\n", cg)
		if err := removeCgroup(cg); err != nil {
			return found, err
		}
	}
	return found, nil
}

// unpin removes the pin of netns and says so on w unless it was in the
// expected state.
func unpin(netns string, w io.Writer, expected netnspin.State) error {
	state, err := netnspin.Inspect(netns)
	if err != nil {
		return err
	}
	if state == netnspin.Absent {
		return nil
	}
	if state != expected {
		why := map[netnspin.State]string{
			netnspin.Pinned:   "no fleet runs in it",
			netnspin.Empty:    "an empty file, left by a crash",
			netnspin.Shadowed: "pinned before /run/netns was a mount point and hidden since; older fleets did that",
		}[state]
		fmt.Fprintf(w, "removing the stale pin %s (%s)\n", netnspin.Path(netns), why)
	}
	return netnspin.Unpin(netns)
}

// removeCgroup kills every process in the cgroup cg and removes it, and
// its rgraph-fleet parent once no fleet is left in it.
func removeCgroup(cg string) error {
	if err := os.WriteFile(filepath.Join(cg, "cgroup.kill"), []byte("1"), 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("killing the fleet: %w", err)
	}
	var err error
	for range 500 {
		err = unix.Rmdir(cg)
		if err == nil || errors.Is(err, unix.ENOENT) {
			os.Remove(filepath.Dir(cg))
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("removing cgroup %s: %w", cg, err)
}

// cgroupDir is the fleet's cgroup: rgraph-fleet/NETNS under the cgroup
// v2 mount.
func cgroupDir(netns string) (string, error) {
	b, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if ok && strings.HasPrefix(post, "cgroup2 ") {
			if f := strings.Fields(pre); len(f) >= 5 {
				return filepath.Join(f[4], "rgraph-fleet", netns), nil
			}
		}
	}
	return "", errors.New("no cgroup v2 hierarchy is mounted")
}
