//go:build linux

package probe

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// Limits matching probe.c: runs attached at once (MAX_RUNS), and the
// size of each run's rule tables.
const (
	maxRuns      = 256
	maxNetRules  = 4096
	maxUnixRules = 1024
)

// preparedSlots is how many slots [Open] readies tables for: as many
// runs as this machine runs in parallel with profit attach without
// waiting for them.
const preparedSlots = 4

// Collector is the probe's programs and kernel tables, loaded and
// verified once; [Collector.Attach] attaches the same programs to one
// cgroup per run, each run with its own rules and recording. Loading
// costs tens to hundreds of milliseconds, attaching and detaching a run
// about a millisecond: a process that runs many sandboxes keeps one
// Collector (see [Shared]). All methods are safe for concurrent use.
type Collector struct {
	opts  loadOptions
	maps  probeMaps
	progs []*ebpf.Program
	// cgroupProgs are attached to every run's cgroup; egress only to runs
	// with a DNS stub.
	cgroupProgs []cgroupProg
	egress      *ebpf.Program
	// inner are the templates of the per-run tables.
	inner       innerSpecs
	tpLinks     []link.Link
	reader      *ringbuf.Reader
	notRecorded []string
	monoToWall  int64 // add to CLOCK_MONOTONIC nanoseconds to get Unix nanoseconds
	nCPU        int

	flushMu sync.Mutex    // serializes flushes of the reader
	flushed chan struct{} // the reader drained the ring after a Flush
	done    chan struct{} // the reader goroutine ended

	// slots are the per-run tables of each slot, created on first use
	// and kept: plugging a table into its slot costs an RCU grace period.
	// A slot's tables belong to the run holding the slot.
	slots [maxRuns]*runTables

	mu        sync.Mutex
	runs      map[uint32]*Probe // attached runs by id
	freeSlots []uint32          // a stack, so that few slots ever get tables
	nextID    uint32
	readerErr error
	closed    bool
}

// cgroupProg is a program and where it attaches.
type cgroupProg struct {
	prog *ebpf.Program
	typ  ebpf.AttachType
}

// innerSpecs are the templates of a run's tables.
type innerSpecs struct {
	netRules, unixRules, inetAttempts, unixAttempts *ebpf.MapSpec
}

// loadOptions size the kernel tables; tests shrink them to provoke loss.
type loadOptions struct {
	inetEntries, unixEntries uint32 // per-run dedup map sizes
	ringBytes                uint32 // ring buffer size, a power of two pages
	noTracepoints            bool   // benchmarks: measure the cgroup hooks alone
}

var defaultLoadOptions = loadOptions{inetEntries: 16384, unixEntries: 4096, ringBytes: 4 << 20}

// coreObjects are the maps and the programs without which the probe
// cannot work; optional programs are loaded separately so that a missing
// feature degrades instead of failing.
type coreObjects struct {
	probeMaps
	Connect4     *ebpf.Program `ebpf:"connect4"`
	Connect6     *ebpf.Program `ebpf:"connect6"`
	Sendmsg4     *ebpf.Program `ebpf:"sendmsg4"`
	Sendmsg6     *ebpf.Program `ebpf:"sendmsg6"`
	Recvmsg4     *ebpf.Program `ebpf:"recvmsg4"`
	Recvmsg6     *ebpf.Program `ebpf:"recvmsg6"`
	Getpeername4 *ebpf.Program `ebpf:"getpeername4"`
	Getpeername6 *ebpf.Program `ebpf:"getpeername6"`
	SockCreate   *ebpf.Program `ebpf:"sock_create"`
	Egress       *ebpf.Program `ebpf:"egress"`
}

// Open loads and verifies the programs, creates the shared tables and
// attaches the tracepoints (which serve every run). Errors wrap
// [ErrPermission] when the caller lacks privileges and [ErrUnsupported]
// when the kernel lacks a required feature or its verifier rejects a
// program. Optional parts that fail are named by [Collector.NotRecorded].
// The Collector must be closed.
func Open() (*Collector, error) { return openCollector(defaultLoadOptions) }

func openCollector(opts loadOptions) (*Collector, error) {
	if os.Geteuid() != 0 {
		// Not fatal by itself (capabilities may suffice), but without
		// them the memlock rlimit may need raising on old kernels.
		_ = rlimit.RemoveMemlock()
	}
	cs, err := loadProbe()
	if err != nil {
		return nil, fmt.Errorf("reading embedded eBPF object: %w", err)
	}
	cs.Maps["events"].MaxEntries = opts.ringBytes
	c := &Collector{
		opts:    opts,
		flushed: make(chan struct{}, 1),
		done:    make(chan struct{}),
		runs:    map[uint32]*Probe{},
		nextID:  1,
		nCPU:    ebpf.MustPossibleCPU(),
	}
	for i := range uint32(maxRuns) {
		c.freeSlots = append(c.freeSlots, maxRuns-1-i)
	}
	c.inner = innerSpecs{
		netRules:     innerSpec(cs, "net_rules", maxNetRules),
		unixRules:    innerSpec(cs, "unix_rules", maxUnixRules),
		inetAttempts: innerSpec(cs, "inet_attempts", opts.inetEntries),
		unixAttempts: innerSpec(cs, "unix_attempts", opts.unixEntries),
	}
	ok := false
	defer func() {
		if !ok {
			c.release()
		}
	}()

	var core coreObjects
	if err := cs.LoadAndAssign(&core, nil); err != nil {
		return nil, loadError("loading probe programs", err)
	}
	c.maps = core.probeMaps
	c.progs = append(c.progs, core.Connect4, core.Connect6, core.Sendmsg4, core.Sendmsg6,
		core.Recvmsg4, core.Recvmsg6, core.Getpeername4, core.Getpeername6, core.SockCreate, core.Egress)
	c.cgroupProgs = []cgroupProg{
		{core.Connect4, ebpf.AttachCGroupInet4Connect},
		{core.Connect6, ebpf.AttachCGroupInet6Connect},
		{core.Sendmsg4, ebpf.AttachCGroupUDP4Sendmsg},
		{core.Sendmsg6, ebpf.AttachCGroupUDP6Sendmsg},
		{core.Recvmsg4, ebpf.AttachCGroupUDP4Recvmsg},
		{core.Recvmsg6, ebpf.AttachCGroupUDP6Recvmsg},
		{core.Getpeername4, ebpf.AttachCgroupInet4GetPeername},
		{core.Getpeername6, ebpf.AttachCgroupInet6GetPeername},
		{core.SockCreate, ebpf.AttachCGroupInetSockCreate},
	}
	c.egress = core.Egress

	replace := map[string]*ebpf.Map{}
	for name := range cs.Maps {
		if m := c.mapByName(name); m != nil {
			replace[name] = m
		}
	}
	c.loadUnix(cs, replace)
	if !opts.noTracepoints {
		c.attachTracepoints(cs, replace)
	}

	if err := c.prepareSlots(preparedSlots); err != nil {
		return nil, err
	}
	c.reader, err = ringbuf.NewReader(c.maps.Events)
	if err != nil {
		return nil, fmt.Errorf("opening ring buffer: %w", err)
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return nil, fmt.Errorf("reading monotonic clock: %w", err)
	}
	c.monoToWall = time.Now().UnixNano() - ts.Nano()
	go c.read()
	ok = true
	return c, nil
}

// innerSpec is the template of a per-run table, without BTF (which the
// kernel does not need), with entries entries.
func innerSpec(cs *ebpf.CollectionSpec, outer string, entries uint32) *ebpf.MapSpec {
	s := cs.Maps[outer].InnerMap.Copy()
	s.Key, s.Value = nil, nil
	s.MaxEntries = entries
	return s
}

// slotTables returns the tables of a slot the caller holds, creating them
// and plugging them into the slot on first use.
func (c *Collector) slotTables(slot uint32) (*runTables, error) {
	if t := c.slots[slot]; t != nil {
		return t, nil
	}
	t, err := c.newTables(slot)
	if err != nil {
		return nil, err
	}
	c.slots[slot] = t
	return t, nil
}

// newTables creates a slot's tables and plugs them into it. Each update
// of a map of maps waits for an RCU grace period (about 10 ms here): the
// four run at once.
func (c *Collector) newTables(slot uint32) (*runTables, error) {
	t := &runTables{}
	x := []struct {
		m     **ebpf.Map
		spec  *ebpf.MapSpec
		outer *ebpf.Map
	}{
		{&t.netRules, c.inner.netRules, c.maps.NetRules},
		{&t.unixRules, c.inner.unixRules, c.maps.UnixRules},
		{&t.inetAttempts, c.inner.inetAttempts, c.maps.InetAttempts},
		{&t.unixAttempts, c.inner.unixAttempts, c.maps.UnixAttempts},
	}
	errs := make([]error, len(x))
	var wg sync.WaitGroup
	for i, x := range x {
		m, err := ebpf.NewMap(x.spec)
		if err != nil {
			errs[i] = loadError("creating a run's tables", err)
			break
		}
		*x.m = m
		wg.Go(func() {
			if err := x.outer.Put(slot, m); err != nil {
				errs[i] = fmt.Errorf("installing a run's tables: %w", err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// prepareSlots creates the tables of the first n slots at once, so that
// the first n runs attached in parallel do not wait for them.
func (c *Collector) prepareSlots(n int) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		slot := c.freeSlots[len(c.freeSlots)-1-i]
		wg.Go(func() {
			t, err := c.newTables(slot)
			c.slots[slot], errs[i] = t, err
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// mapByName returns the loaded map the C source calls name.
func (c *Collector) mapByName(name string) *ebpf.Map {
	m := map[string]*ebpf.Map{
		"connecting": c.maps.Connecting, "counters": c.maps.Counters, "dns_clients": c.maps.DnsClients,
		"events": c.maps.Events, "inet_attempts": c.maps.InetAttempts, "net_rules": c.maps.NetRules,
		"origins": c.maps.Origins, "peers": c.maps.Peers, "pending": c.maps.Pending, "runs": c.maps.Runs,
		"scratch": c.maps.Scratch, "slot_runs": c.maps.SlotRuns, "socket_calls": c.maps.SocketCalls,
		"unix_attempts": c.maps.UnixAttempts, "unix_pending": c.maps.UnixPending, "unix_rules": c.maps.UnixRules,
	}
	return m[name]
}

// loadUnix loads the unix socket hooks, which need Linux 6.7 and kernel
// BTF; without them unix sockets are neither recorded nor denied, and
// every recording says so.
func (c *Collector) loadUnix(cs *ebpf.CollectionSpec, replace map[string]*ebpf.Map) {
	var objs struct {
		ConnectUnix *ebpf.Program `ebpf:"connect_unix"`
		SendmsgUnix *ebpf.Program `ebpf:"sendmsg_unix"`
	}
	if err := cs.LoadAndAssign(&objs, &ebpf.CollectionOptions{MapReplacements: replace}); err != nil {
		c.notRecorded = append(c.notRecorded, "unix socket connects, neither recorded nor denied (needs Linux 6.7 with BTF: "+oneLine(loadError("loading unix socket hooks", err))+")")
		return
	}
	c.progs = append(c.progs, objs.ConnectUnix, objs.SendmsgUnix)
	c.cgroupProgs = append(c.cgroupProgs,
		cgroupProg{objs.ConnectUnix, ebpf.AttachCgroupUnixConnect},
		cgroupProg{objs.SendmsgUnix, ebpf.AttachCgroupUnixSendmsg})
}

// attachTracepoints attaches the optional tracepoint programs: outcomes of
// allowed TCP connects and creation of packet sockets. They run for the
// whole machine and look the caller's run up themselves.
func (c *Collector) attachTracepoints(cs *ebpf.CollectionSpec, replace map[string]*ebpf.Map) {
	const (
		outcomes = "allowed-connect outcome (needs tracepoints"
		packet   = "packet socket creation (needs tracepoints"
	)
	if err := mountTracefs(); err != nil {
		c.notRecorded = append(c.notRecorded, outcomes+": "+oneLine(err)+")", packet+": "+oneLine(err)+")")
		return
	}
	var objs struct {
		SetState    *ebpf.Program `ebpf:"set_state"`
		ExitConnect *ebpf.Program `ebpf:"exit_connect"`
		EnterSocket *ebpf.Program `ebpf:"enter_socket"`
		ExitSocket  *ebpf.Program `ebpf:"exit_socket"`
	}
	if err := cs.LoadAndAssign(&objs, &ebpf.CollectionOptions{MapReplacements: replace}); err != nil {
		why := oneLine(loadError("loading tracepoint programs", err))
		c.notRecorded = append(c.notRecorded, outcomes+": "+why+")", packet+": "+why+")")
		return
	}
	c.progs = append(c.progs, objs.SetState, objs.ExitConnect, objs.EnterSocket, objs.ExitSocket)
	groups := []struct {
		what  string
		progs []*ebpf.Program
		tps   [][2]string
	}{
		{outcomes, []*ebpf.Program{objs.SetState, objs.ExitConnect}, [][2]string{{"sock", "inet_sock_set_state"}, {"syscalls", "sys_exit_connect"}}},
		{packet, []*ebpf.Program{objs.EnterSocket, objs.ExitSocket}, [][2]string{{"syscalls", "sys_enter_socket"}, {"syscalls", "sys_exit_socket"}}},
	}
	for _, g := range groups {
		var ls []link.Link
		var err error
		for i, tp := range g.tps {
			var l link.Link
			if l, err = link.Tracepoint(tp[0], tp[1], g.progs[i], nil); err != nil {
				err = fmt.Errorf("%s/%s: %w", tp[0], tp[1], err)
				break
			}
			ls = append(ls, l)
		}
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			c.notRecorded = append(c.notRecorded, g.what+": "+oneLine(err)+")")
			continue
		}
		c.tpLinks = append(c.tpLinks, ls...)
	}
}

// NotRecorded names what this kernel does not let the collector observe;
// every run's recording lists it in Collection.NotRecorded.
func (c *Collector) NotRecorded() []string { return append([]string(nil), c.notRecorded...) }

// Unattributed counts calls the hooks refused because the caller's cgroup
// belonged to no attached run: a process that moved out of its run's
// cgroup but kept using a socket it created there. It only increases.
func (c *Collector) Unattributed() (uint64, error) {
	return c.counterSum(maxRuns * nCounters)
}

// counterSum sums one per-CPU counter.
func (c *Collector) counterSum(i uint32) (uint64, error) {
	var perCPU []uint64
	if err := c.maps.Counters.Lookup(i, &perCPU); err != nil {
		return 0, fmt.Errorf("reading loss counters: %w", err)
	}
	var n uint64
	for _, v := range perCPU {
		n += v
	}
	return n, nil
}

// read consumes the ring buffer until the reader is closed.
func (c *Collector) read() {
	defer close(c.done)
	var rec ringbuf.Record
	for {
		err := c.reader.ReadInto(&rec)
		switch {
		case errors.Is(err, ringbuf.ErrFlushed):
			select {
			case c.flushed <- struct{}{}:
			default:
			}
			continue
		case errors.Is(err, ringbuf.ErrClosed), errors.Is(err, os.ErrClosed):
			return
		case err != nil:
			c.mu.Lock()
			c.readerErr = err
			c.mu.Unlock()
			return
		}
		c.handle(rec.RawSample)
	}
}

// handle passes one ring buffer event to its run. Events for attempts
// that are in the dedup maps carry nothing new; events of runs that are
// gone are dropped. It runs for every event the kernel could not put in
// a map, so it decodes in place.
func (c *Collector) handle(b []byte) {
	if len(b) < int(unsafe.Sizeof(probeInetEvent{}.Hdr)) {
		return
	}
	hdr := &(*probeInetEvent)(unsafe.Pointer(&b[0])).Hdr // ring records are 8-byte aligned
	if hdr.Flags&evfOverflow == 0 {
		return
	}
	c.mu.Lock()
	p := c.runs[hdr.Run]
	c.mu.Unlock()
	if p == nil {
		return
	}
	switch hdr.Kind {
	case evInet, evOutcome:
		if len(b) >= int(unsafe.Sizeof(probeInetEvent{})) {
			p.overflowInet((*probeInetEvent)(unsafe.Pointer(&b[0])))
		}
	case evUnix, evUnixOutcome:
		if len(b) >= int(unsafe.Sizeof(probeUnixEvent{})) {
			p.overflowUnix((*probeUnixEvent)(unsafe.Pointer(&b[0])))
		}
	}
}

// drainTimeout bounds how long a snapshot waits for the reader goroutine
// to consume what the kernel submitted.
const drainTimeout = 5 * time.Second

// drain makes the reader goroutine consume everything submitted so far.
// It returns an error when it cannot be sure it did (the flush failed,
// the reader stopped first, or it did not catch up within drainTimeout):
// events still in the ring buffer are then missing from a snapshot.
func (c *Collector) drain() error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	select {
	case <-c.flushed: // a stale signal
	default:
	}
	return awaitFlush(c.reader.Flush, c.flushed, c.done, drainTimeout)
}

// awaitFlush calls flush and waits until the reader signals on flushed
// that it consumed everything before the flush; done closes when the
// reader has stopped.
func awaitFlush(flush func() error, flushed, done <-chan struct{}, timeout time.Duration) error {
	if err := flush(); err != nil {
		return fmt.Errorf("flushing the ring buffer: %w", err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-flushed:
		return nil
	case <-done:
		return errors.New("the ring buffer reader stopped before it caught up")
	case <-t.C:
		return fmt.Errorf("the ring buffer reader did not catch up within %v", timeout)
	}
}

// Close detaches every run still attached and unloads everything.
func (c *Collector) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	var runs []*Probe
	for _, p := range c.runs {
		runs = append(runs, p)
	}
	c.mu.Unlock()
	var errs []error
	for _, p := range runs {
		errs = append(errs, p.Close())
	}
	errs = append(errs, c.release())
	return errors.Join(errs...)
}

func (c *Collector) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *Collector) release() error {
	var errs []error
	for _, l := range c.tpLinks {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	c.tpLinks = nil
	if c.reader != nil {
		if err := c.reader.Close(); err != nil {
			errs = append(errs, err)
		}
		<-c.done
		c.reader = nil
	}
	for _, prog := range c.progs {
		if prog != nil {
			prog.Close()
		}
	}
	c.progs, c.cgroupProgs = nil, nil
	for i, t := range c.slots {
		if t != nil {
			t.close()
			c.slots[i] = nil
		}
	}
	if err := c.maps.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing probe collector: %w", err)
	}
	return nil
}

// shared is the process-wide collector [Shared] returns.
var shared struct {
	sync.Mutex
	c *Collector
}

// Shared returns the process-wide collector, opening it on first use (and
// again after someone closed it). It stays loaded until the process
// exits, when the kernel releases it with the process's descriptors;
// [Load] attaches to it. A failure is not remembered: the next call tries
// again.
func Shared() (*Collector, error) {
	shared.Lock()
	defer shared.Unlock()
	if shared.c != nil && !shared.c.isClosed() {
		return shared.c, nil
	}
	c, err := Open()
	if err != nil {
		return nil, err
	}
	shared.c = c
	return c, nil
}
