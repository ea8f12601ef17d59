package netns

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
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/atomicfile"
	"github.com/rgraph/rgraph/internal/netnspin"
	"github.com/rgraph/rgraph/sandbox"
)

// Every object of a run is named after its run ID (8 hex digits), with an
// rgraph prefix, so that GC can find what a killed run left:
//
//	/run/rgraph/runs/ID/            run directory: lock, meta.json, resolv.conf, work/, logs/
//	/run/rgraph/subnets/N -> ID     lease of the N-th /30 of RunNet
//	/run/netns/rgraph-ID            the network namespace (ip netns exec works; internal/netnspin)
//	CGROUP2/rgraph/ID/{runbook,validate}
//	rgID                            the upstream end of the veth pair
//
// The run directory is made first and removed last, and its lock file is
// held (flock) by the owning process for as long as the run lives, so an
// unlocked run directory means a dead owner.
const (
	stateDir   = "/run/rgraph"
	netnsPrefx = "rgraph-"
	vethPrefix = "rg"
)

var runIDRE = regexp.MustCompile(`^[0-9a-f]{8}$`)

func runsDir() string            { return filepath.Join(stateDir, "runs") }
func subnetsDir() string         { return filepath.Join(stateDir, "subnets") }
func runDir(id string) string    { return filepath.Join(runsDir(), id) }
func netnsName(id string) string { return netnsPrefx + id }
func netnsPath(id string) string { return netnspin.Path(netnsName(id)) }
func vethName(id string) string  { return vethPrefix + id }

// runMeta is written to meta.json so GC knows where the run's objects are.
type runMeta struct {
	ID       string        `json:"id"`
	PID      int           `json:"pid"`
	Created  time.Time     `json:"created"`
	Upstream string        `json:"upstream"` // upstream netns name, "" for host
	Subnet   int           `json:"subnet"`   // index into RunNet's /30s, -1 when none
	Cgroup   string        `json:"cgroup"`
	Init     int           `json:"init,omitempty"` // PID of the sandbox's init (PID 1 of its namespace)
	Kept     *sandbox.Kept `json:"kept,omitempty"`
}

// runState is a run's directory with its lock held.
type runState struct {
	id   string
	dir  string
	lock *os.File
	meta runMeta
}

// newRun creates a run directory under a fresh ID and locks it. The GC
// lock is held shared meanwhile so that GC never sees a directory
// without its lock.
func newRun(id string) (*runState, error) {
	for _, d := range []string{runsDir(), subnetsDir()} {
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
		rs := &runState{id: id, dir: dir, lock: f, meta: runMeta{ID: id, PID: os.Getpid(), Created: time.Now().UTC(), Subnet: -1}}
		return rs, rs.save()
	}
	return nil, fmt.Errorf("no free run ID")
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
	if err := atomicfile.Write(filepath.Join(rs.dir, "meta.json"), b, 0o644); err != nil {
		return fmt.Errorf("writing run metadata: %w", err)
	}
	return nil
}

// release drops the run's lock; the directory stays (for a kept run).
func (rs *runState) release() {
	if rs.lock != nil {
		rs.lock.Close()
		rs.lock = nil
	}
}

// lockGC takes the GC lock in mode (LOCK_SH for creating runs, LOCK_EX
// for GC) and returns its release.
func lockGC(mode int) (func(), error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, permErr(fmt.Errorf("creating %s: %w", stateDir, err))
	}
	f, err := os.OpenFile(filepath.Join(stateDir, "gc.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, permErr(fmt.Errorf("opening the GC lock: %w", err))
	}
	if err := unix.Flock(int(f.Fd()), mode); err != nil {
		f.Close()
		return nil, fmt.Errorf("taking the GC lock: %w", err)
	}
	return func() { f.Close() }, nil
}

// subnetCount is how many /30s RunNet holds, less the last one, which
// holds BlackholeAddr.
func subnetCount() int { return 1<<(32-RunNet.Bits()-2) - 1 }

// leaseSubnet takes the first free /30 of RunNet after a random start and
// records it in the run's metadata.
func (rs *runState) leaseSubnet() error {
	n := subnetCount()
	var b [4]byte
	_, _ = rand.Read(b[:])
	start := int(binary.BigEndian.Uint32(b[:]) % uint32(n))
	for i := range n {
		idx := (start + i) % n
		err := os.Symlink(rs.id, filepath.Join(subnetsDir(), strconv.Itoa(idx)))
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return permErr(fmt.Errorf("leasing a subnet: %w", err))
		}
		rs.meta.Subnet = idx
		return rs.save()
	}
	return fmt.Errorf("all %d subnets of %s are leased; run rgraph sandbox gc", n, RunNet)
}

// subnetAddrs returns the upstream and sandbox addresses of /30 number idx.
func subnetAddrs(idx int) (upstream, inside netip.Prefix) {
	base := RunNet.Addr().As4()
	v := binary.BigEndian.Uint32(base[:]) + uint32(idx)*4
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], v+1)
	upstream = netip.PrefixFrom(netip.AddrFrom4(a), 30)
	binary.BigEndian.PutUint32(a[:], v+2)
	inside = netip.PrefixFrom(netip.AddrFrom4(a), 30)
	return upstream, inside
}

// Reap implements [sandbox.Reaper].
func (d *Driver) Reap(ctx context.Context, opts sandbox.GCOptions) ([]sandbox.Leftover, error) {
	if _, err := os.Stat(stateDir); errors.Is(err, fs.ErrNotExist) {
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
		switch {
		case state == runLive:
			live[id] = true
			continue
		case state == runKept && !opts.Kept:
			live[id] = true
			continue
		}
		out = append(out, reapRun(id, meta, state == runKept, opts.DryRun)...)
	}
	// Objects whose run directory is gone.
	if ents, err := os.ReadDir(netnspin.Dir); err == nil {
		for _, e := range ents {
			id, ok := cutPrefix(e.Name(), netnsPrefx)
			if ok && !live[id] && !exists(runDir(id)) {
				out = append(out, reapNetns(id, opts.DryRun))
			}
		}
	}
	if base, err := cgroupBase(); err == nil {
		if ents, err := os.ReadDir(base); err == nil {
			for _, e := range ents {
				id := e.Name()
				if e.IsDir() && runIDRE.MatchString(id) && !live[id] && !exists(runDir(id)) {
					out = append(out, reapCgroup(id, filepath.Join(base, id), opts.DryRun))
				}
			}
		}
	}
	if ents, err := os.ReadDir(subnetsDir()); err == nil {
		for _, e := range ents {
			p := filepath.Join(subnetsDir(), e.Name())
			id, err := os.Readlink(p)
			if err == nil && !live[id] && !exists(runDir(id)) {
				l := sandbox.Leftover{RunID: id, Kind: "subnet", Name: p}
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

// inspectRun reads a run's metadata and says whether its owner is alive
// (its lock is held) or it was kept.
func inspectRun(id string) (runMeta, runStatus) {
	meta := runMeta{ID: id, Subnet: -1}
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
	cg := meta.Cgroup
	if cg == "" {
		if base, err := cgroupBase(); err == nil {
			cg = filepath.Join(base, id)
		}
	}
	if cg != "" && exists(cg) {
		l := reapCgroup(id, cg, dryRun)
		l.Kept = kept
		out = append(out, l)
	}
	if mnt := filepath.Join(runDir(id), "mnt"); exists(mnt) {
		var err error
		if !dryRun {
			err = unmountFile(mnt)
		}
		add("mount", mnt, err)
	}
	if found, err := deleteVeth(meta.Upstream, vethName(id), dryRun); found || err != nil {
		add("veth", vethName(id), err)
	}
	if exists(netnsPath(id)) {
		l := reapNetns(id, dryRun)
		l.Kept = kept
		out = append(out, l)
	}
	if meta.Subnet >= 0 {
		p := filepath.Join(subnetsDir(), strconv.Itoa(meta.Subnet))
		if owner, err := os.Readlink(p); err == nil && owner == id {
			var err error
			if !dryRun {
				err = ignoreNotExist(os.Remove(p))
			}
			add("subnet", p, err)
		}
	}
	var err error
	if !dryRun {
		err = os.RemoveAll(runDir(id))
	}
	add("run", runDir(id), err)
	return out
}

func reapNetns(id string, dryRun bool) sandbox.Leftover {
	l := sandbox.Leftover{RunID: id, Kind: "netns", Name: netnsPath(id)}
	if !dryRun {
		l.Err = permErr(netnspin.Unpin(netnsName(id)))
	}
	return l
}

func reapCgroup(id, dir string, dryRun bool) sandbox.Leftover {
	l := sandbox.Leftover{RunID: id, Kind: "cgroup", Name: dir}
	if !dryRun {
		l.Err = killCgroup(dir)
	}
	return l
}

// unmountFile detaches the mount on path, if any, and removes the file.
func unmountFile(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return permErr(fmt.Errorf("unmounting %s: %w", path, err))
	}
	return ignoreNotExist(os.Remove(path))
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

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) > len(prefix) && s[:len(prefix)] == prefix && runIDRE.MatchString(s[len(prefix):]) {
		return s[len(prefix):], true
	}
	return "", false
}
