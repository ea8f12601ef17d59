package microvm

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/netnspin"
	"github.com/rgraph/rgraph/sandbox"
)

// Every object of a VM run is named after its run ID (8 hex digits), so
// that Reap finds what a killed run left:
//
//	/run/rgraph/vms/ID/          run directory: lock, meta.json, sockets, console.log, qemu.log
//	/run/rgraph/vm-subnets/N     lease of the N-th /29 of RunNet (-> ID)
//	rvID                         the upstream end of the run's veth pair
//	/run/netns/rgvm-ID           the run's network namespace, pinned only when kept
//
// The network namespace, the tap and the mount namespace that holds the
// share live only as long as qemu (and rgraph's thread in them), so a
// dead qemu leaves none of them. The run directory's lock is held by the
// owning rgraph for as long as the run lives.
const (
	stateDir    = "/run/rgraph"
	vethPrefix  = "rv"
	netnsPrefix = "rgvm-"
)

var runIDRE = regexp.MustCompile(`^[0-9a-f]{8}$`)

func runsDir() string            { return filepath.Join(stateDir, "vms") }
func leasesDir() string          { return filepath.Join(stateDir, "vm-subnets") }
func runDir(id string) string    { return filepath.Join(runsDir(), id) }
func vethName(id string) string  { return vethPrefix + id }
func netnsName(id string) string { return netnsPrefix + id }

// runMeta is meta.json: what Reap needs to find a run's objects.
type runMeta struct {
	ID       string    `json:"id"`
	PID      int       `json:"pid"`
	Created  time.Time `json:"created"`
	Upstream string    `json:"upstream"`
	Lease    int       `json:"lease"` // index into RunNet's /29s, -1 when none
	// QEMU is qemu's process ID and QEMUStart its start time (field 22
	// of /proc/PID/stat), so that a reused PID is never killed.
	QEMU      int           `json:"qemu,omitempty"`
	QEMUStart uint64        `json:"qemuStart,omitempty"`
	Kept      *sandbox.Kept `json:"kept,omitempty"`
}

// runState is a run directory with its lock held.
type runState struct {
	id   string
	dir  string
	lock *os.File
	meta runMeta
}

// newRun creates and locks a run directory under a fresh ID.
func newRun(id string) (*runState, error) {
	for _, d := range []string{runsDir(), leasesDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, permErr(fmt.Errorf("creating %s: %w", d, err))
		}
	}
	unlock, err := lockGC(unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for range 16 {
		if id == "" {
			id = newID()
		}
		dir := runDir(id)
		err := os.Mkdir(dir, 0o755)
		if errors.Is(err, fs.ErrExist) {
			id = ""
			continue
		}
		if err != nil {
			return nil, permErr(fmt.Errorf("creating run directory: %w", err))
		}
		f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
		if err == nil {
			err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		}
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("locking run directory: %w", err)
		}
		rs := &runState{id: id, dir: dir, lock: f, meta: runMeta{ID: id, PID: os.Getpid(), Created: time.Now().UTC(), Lease: -1}}
		return rs, rs.save()
	}
	return nil, errors.New("no free run ID")
}

func newID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (rs *runState) save() error {
	b, err := json.MarshalIndent(rs.meta, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(rs.dir, "meta.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("writing run metadata: %w", err)
	}
	return os.Rename(tmp, filepath.Join(rs.dir, "meta.json"))
}

func (rs *runState) release() {
	if rs.lock != nil {
		rs.lock.Close()
		rs.lock = nil
	}
}

// lockGC takes the GC lock in mode: shared to create runs, exclusive to
// reap them.
func lockGC(mode int) (func(), error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, permErr(fmt.Errorf("creating %s: %w", stateDir, err))
	}
	f, err := os.OpenFile(filepath.Join(stateDir, "vm-gc.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, permErr(fmt.Errorf("opening the GC lock: %w", err))
	}
	if err := unix.Flock(int(f.Fd()), mode); err != nil {
		f.Close()
		return nil, fmt.Errorf("taking the GC lock: %w", err)
	}
	return func() { f.Close() }, nil
}

// RunNet is where each VM run's /29 comes from: the first /30 links the
// run's namespace to the upstream, the second the VM to the run's
// namespace. The last /29 is reserved for [BlackholeAddr].
var RunNet = netip.MustParsePrefix("10.97.0.0/16")

// BlackholeAddr is where the guest's recorder sends denied destinations
// in blackhole mode; the host's filter drops what reaches it.
var BlackholeAddr = netip.MustParseAddr("10.97.255.254")

func leaseCount() int { return 1<<(32-RunNet.Bits()-3) - 1 }

// runAddrs are the addresses of lease idx.
type runAddrs struct {
	upstream netip.Prefix // the upstream end of the veth pair, .1/30
	outer    netip.Prefix // the run namespace's end, .2/30
	vmNet    netip.Prefix // the VM link, .4/30
	tap      netip.Prefix // the run namespace's end of the VM link, .5/30
	guest    netip.Prefix // the guest's eth0, .6/30
}

func leaseAddrs(idx int) runAddrs {
	base := RunNet.Addr().As4()
	v := binary.BigEndian.Uint32(base[:]) + uint32(idx)*8
	at := func(off uint32, bits int) netip.Prefix {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], v+off)
		return netip.PrefixFrom(netip.AddrFrom4(a), bits)
	}
	return runAddrs{upstream: at(1, 30), outer: at(2, 30), vmNet: at(4, 30), tap: at(5, 30), guest: at(6, 30)}
}

// lease takes the first free /29 after a random start.
func (rs *runState) lease() error {
	n := leaseCount()
	var b [4]byte
	_, _ = rand.Read(b[:])
	start := int(binary.BigEndian.Uint32(b[:]) % uint32(n))
	for i := range n {
		idx := (start + i) % n
		err := os.Symlink(rs.id, filepath.Join(leasesDir(), strconv.Itoa(idx)))
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return permErr(fmt.Errorf("leasing addresses: %w", err))
		}
		rs.meta.Lease = idx
		return rs.save()
	}
	return fmt.Errorf("all %d subnets of %s are leased; run rgraph sandbox gc", n, RunNet)
}

// processStart returns field 22 of /proc/pid/stat, the process's start
// time, or 0 when there is no such process.
func processStart(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields count from its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// killQEMU kills the run's qemu, if it is still the process meta names,
// and waits up to 5 s for it to be gone.
func killQEMU(meta runMeta) (bool, error) {
	if meta.QEMU <= 0 || meta.QEMUStart == 0 || processStart(meta.QEMU) != meta.QEMUStart {
		return false, nil
	}
	if err := unix.Kill(meta.QEMU, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return true, permErr(fmt.Errorf("killing qemu %d: %w", meta.QEMU, err))
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if processStart(meta.QEMU) != meta.QEMUStart {
			return true, nil
		}
		// A child of this process (a run of ours killed meanwhile) must
		// be reaped to disappear.
		var ws unix.WaitStatus
		_, _ = unix.Wait4(meta.QEMU, &ws, unix.WNOHANG, nil)
	}
	return true, fmt.Errorf("qemu %d still runs 5s after SIGKILL", meta.QEMU)
}

// Reap implements [sandbox.Reaper]: it kills the qemu of every run
// whose rgraph is gone (and of kept runs with opts.Kept), and removes
// its veth pair, namespace pin, lease and run directory.
func (d *Driver) Reap(ctx context.Context, opts sandbox.GCOptions) ([]sandbox.Leftover, error) {
	if _, err := os.Stat(runsDir()); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if !privileged() {
		return nil, sandbox.ErrPermission
	}
	unlock, err := lockGC(unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []sandbox.Leftover
	live := map[string]bool{}
	entries, _ := os.ReadDir(runsDir())
	for _, e := range entries {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		id := e.Name()
		if !runIDRE.MatchString(id) {
			continue
		}
		meta, state := inspectRun(id)
		if state == runLive || state == runKept && !opts.Kept {
			live[id] = true
			continue
		}
		out = append(out, reapRun(id, meta, state == runKept, opts.DryRun)...)
	}
	if ents, err := os.ReadDir(leasesDir()); err == nil {
		for _, e := range ents {
			p := filepath.Join(leasesDir(), e.Name())
			id, err := os.Readlink(p)
			if err == nil && !live[id] && !exists(runDir(id)) {
				l := sandbox.Leftover{RunID: id, Kind: "lease", Name: p}
				if !opts.DryRun {
					l.Err = ignoreNotExist(os.Remove(p))
				}
				out = append(out, l)
			}
		}
	}
	var errs []error
	for _, l := range out {
		if l.Err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", l.Kind, l.Name, l.Err))
		}
	}
	return out, errors.Join(errs...)
}

type runStatus int

const (
	runDead runStatus = iota
	runLive
	runKept
)

func inspectRun(id string) (runMeta, runStatus) {
	meta := runMeta{ID: id, Lease: -1}
	if b, err := os.ReadFile(filepath.Join(runDir(id), "meta.json")); err == nil {
		_ = json.Unmarshal(b, &meta)
	}
	f, err := os.OpenFile(filepath.Join(runDir(id), "lock"), os.O_RDWR, 0)
	if err == nil {
		defer f.Close()
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); errors.Is(err, unix.EWOULDBLOCK) {
			return meta, runLive
		}
	}
	if meta.Kept != nil {
		return meta, runKept
	}
	return meta, runDead
}

// reapRun removes every object of a run that is not live.
func reapRun(id string, meta runMeta, kept, dryRun bool) []sandbox.Leftover {
	var out []sandbox.Leftover
	add := func(kind, name string, err error) {
		out = append(out, sandbox.Leftover{RunID: id, Kind: kind, Name: name, Kept: kept, Err: err})
	}
	if meta.QEMU > 0 && processStart(meta.QEMU) == meta.QEMUStart && meta.QEMUStart != 0 {
		var err error
		if !dryRun {
			_, err = killQEMU(meta)
		}
		add("vm", fmt.Sprintf("qemu pid %d", meta.QEMU), err)
	}
	if found, err := deleteVeth(meta.Upstream, vethName(id), dryRun); found || err != nil {
		add("veth", vethName(id), err)
	}
	if pin := netnspin.Path(netnsName(id)); exists(pin) {
		var err error
		if !dryRun {
			err = permErr(netnspin.Unpin(netnsName(id)))
		}
		add("netns", pin, err)
	}
	if meta.Lease >= 0 {
		p := filepath.Join(leasesDir(), strconv.Itoa(meta.Lease))
		if owner, err := os.Readlink(p); err == nil && owner == id {
			var err error
			if !dryRun {
				err = ignoreNotExist(os.Remove(p))
			}
			add("lease", p, err)
		}
	}
	var err error
	if !dryRun {
		err = os.RemoveAll(runDir(id))
	}
	add("run", runDir(id), err)
	return out
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func ignoreNotExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// permErr wraps err with [sandbox.ErrPermission] when it is a permission
// error.
func permErr(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, fs.ErrPermission) {
		return sandbox.PermissionErr(err)
	}
	return err
}

// privileged reports whether the process is root or has CAP_SYS_ADMIN
// and CAP_NET_ADMIN.
func privileged() bool {
	return unix.Geteuid() == 0 || hasCap(unix.CAP_SYS_ADMIN) && hasCap(unix.CAP_NET_ADMIN)
}

func hasCap(c uintptr) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}
