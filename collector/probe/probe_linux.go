//go:build linux

package probe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/collector"
)

// Values shared with probe.c.
const (
	pTCP = 1
	pUDP = 2
	pRaw = 3

	vAllowed    = 1
	vDenied     = 2
	vRedirected = 3

	fEPERM   = 1
	fDropped = 2

	evInet    = 1
	evUnix    = 2
	evOutcome = 3

	evfOverflow = 1

	cMapFull     = 0
	cRingbufFull = 1
	cLost        = 2
	nCounters    = 3
)

// outcomeNames names the outcomes of allowed TCP connects, indexed as
// enum outcome in probe.c; index 0 is success.
var outcomeNames = [...]string{"", "refused", "timeout", "unreachable", "reset", "abandoned", "error"}

// Probe is a loaded and attached recorder. It implements
// [collector.Source]; all methods are safe for concurrent use.
type Probe struct {
	spec        Spec
	maps        probeMaps
	progs       []*ebpf.Program
	links       []link.Link
	reader      *ringbuf.Reader
	notRecorded []string
	monoToWall  int64 // add to CLOCK_MONOTONIC nanoseconds to get Unix nanoseconds

	snapMu  sync.Mutex    // serializes flushes of the reader
	flushed chan struct{} // the reader drained the ring after a Flush
	done    chan struct{} // the reader goroutine ended

	mu           sync.Mutex
	inetOverflow map[probeInetKey]*probeAttemptVal // attempts that did not fit in the maps
	unixOverflow map[probeUnixKey]*probeAttemptVal
	outcomes     map[probeInetKey][len(outcomeNames)]uint64 // outcomes of attempts not in the map
	readerErr    error
	closed       bool
}

// loadOptions size the kernel tables; tests shrink them to provoke loss.
type loadOptions struct {
	inetEntries, unixEntries uint32 // dedup map sizes
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
}

// optional is a group of programs that is loaded and attached together,
// and what is not recorded when that fails.
type optional struct {
	what  string // for Collection.NotRecorded
	progs []string
}

// Load compiles spec's rules into kernel maps, loads the programs and
// attaches them to spec.Cgroup. Errors wrap [ErrPermission] when the
// caller lacks privileges and [ErrUnsupported] when the kernel lacks a
// required feature. The returned Probe must be closed.
func Load(spec Spec) (*Probe, error) { return load(spec, defaultLoadOptions) }

func load(spec Spec, opts loadOptions) (*Probe, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	tables, err := compileRules(spec.Rules)
	if err != nil {
		return nil, err
	}
	if err := checkCgroup(spec.Cgroup); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		// Not fatal by itself (capabilities may suffice), but without
		// them the memlock rlimit may need raising on old kernels.
		_ = rlimit.RemoveMemlock()
	}
	cs, err := loadProbe()
	if err != nil {
		return nil, fmt.Errorf("reading embedded eBPF object: %w", err)
	}
	cs.Maps["net_rules"].MaxEntries = uint32(max(1, len(tables.Nets)))
	cs.Maps["unix_rules"].MaxEntries = uint32(max(1, len(tables.Unix)))
	cs.Maps["inet_attempts"].MaxEntries = opts.inetEntries
	cs.Maps["unix_attempts"].MaxEntries = opts.unixEntries
	cs.Maps["events"].MaxEntries = opts.ringBytes
	if err := cs.Variables["cfg"].Set(configOf(spec, tables)); err != nil {
		return nil, fmt.Errorf("configuring probe: %w", err)
	}

	p := &Probe{
		spec:         spec,
		flushed:      make(chan struct{}, 1),
		done:         make(chan struct{}),
		inetOverflow: map[probeInetKey]*probeAttemptVal{},
		unixOverflow: map[probeUnixKey]*probeAttemptVal{},
		outcomes:     map[probeInetKey][len(outcomeNames)]uint64{},
	}
	ok := false
	defer func() {
		if !ok {
			p.release()
		}
	}()

	var core coreObjects
	if err := cs.LoadAndAssign(&core, nil); err != nil {
		return nil, loadError("loading probe programs", err)
	}
	p.maps = core.probeMaps
	p.progs = append(p.progs, core.Connect4, core.Connect6, core.Sendmsg4, core.Sendmsg6,
		core.Recvmsg4, core.Recvmsg6, core.Getpeername4, core.Getpeername6, core.SockCreate)
	if err := p.fillRules(tables); err != nil {
		return nil, err
	}
	cg, err := os.Open(spec.Cgroup)
	if err != nil {
		return nil, fmt.Errorf("opening cgroup: %w", err)
	}
	err = p.maps.Cgroups.Put(uint32(0), uint32(cg.Fd()))
	cg.Close()
	if err != nil {
		return nil, fmt.Errorf("filling cgroup map: %w", err)
	}

	attach := []struct {
		prog *ebpf.Program
		typ  ebpf.AttachType
	}{
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
	for _, a := range attach {
		l, err := link.AttachCgroup(link.CgroupOptions{Path: spec.Cgroup, Attach: a.typ, Program: a.prog})
		if err != nil {
			return nil, loadError(fmt.Sprintf("attaching %s to %s", a.prog, spec.Cgroup), err)
		}
		p.links = append(p.links, l)
	}

	replace := map[string]*ebpf.Map{}
	for name := range cs.Maps {
		if m := p.mapByName(name); m != nil {
			replace[name] = m
		}
	}
	p.attachUnix(cs, replace)
	if spec.DNS.IsValid() || spec.DNS6.IsValid() {
		if err := p.attachEgress(cs, replace); err != nil {
			return nil, err
		}
	}
	if !spec.DNS.IsValid() {
		p.notRecorded = append(p.notRecorded, "DNS names asked over IPv4 (no IPv4 DNS stub configured)")
	}
	if !spec.DNS6.IsValid() {
		p.notRecorded = append(p.notRecorded, "DNS names asked over IPv6 (no IPv6 DNS stub configured)")
	}
	if !opts.noTracepoints {
		p.attachTracepoints(cs, replace)
	}

	p.reader, err = ringbuf.NewReader(p.maps.Events)
	if err != nil {
		return nil, fmt.Errorf("opening ring buffer: %w", err)
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return nil, fmt.Errorf("reading monotonic clock: %w", err)
	}
	p.monoToWall = time.Now().UnixNano() - ts.Nano()
	go p.read()
	ok = true
	return p, nil
}

// mapByName returns the loaded map the C source calls name.
func (p *Probe) mapByName(name string) *ebpf.Map {
	m := map[string]*ebpf.Map{
		"cgroups": p.maps.Cgroups, "connecting": p.maps.Connecting, "counters": p.maps.Counters,
		"dns_clients": p.maps.DnsClients, "events": p.maps.Events, "inet_attempts": p.maps.InetAttempts,
		"net_rules": p.maps.NetRules, "origins": p.maps.Origins, "pending": p.maps.Pending,
		"scratch": p.maps.Scratch, "socket_calls": p.maps.SocketCalls, "unix_attempts": p.maps.UnixAttempts,
		"unix_rules": p.maps.UnixRules,
	}
	return m[name]
}

// attachUnix loads and attaches the unix socket hooks, which need Linux
// 6.7 and kernel BTF; without them unix sockets are neither recorded nor
// denied, and the recording says so.
func (p *Probe) attachUnix(cs *ebpf.CollectionSpec, replace map[string]*ebpf.Map) {
	var objs struct {
		ConnectUnix *ebpf.Program `ebpf:"connect_unix"`
		SendmsgUnix *ebpf.Program `ebpf:"sendmsg_unix"`
	}
	if err := cs.LoadAndAssign(&objs, &ebpf.CollectionOptions{MapReplacements: replace}); err != nil {
		p.notRecorded = append(p.notRecorded, "unix socket connects, neither recorded nor denied (needs Linux 6.7 with BTF: "+oneLine(err)+")")
		return
	}
	p.progs = append(p.progs, objs.ConnectUnix, objs.SendmsgUnix)
	l, err := link.AttachCgroup(link.CgroupOptions{Path: p.spec.Cgroup, Attach: ebpf.AttachCgroupUnixConnect, Program: objs.ConnectUnix})
	if err != nil {
		p.notRecorded = append(p.notRecorded, "unix socket connects, neither recorded nor denied (needs Linux 6.7 cgroup/connect_unix)")
		return
	}
	p.links = append(p.links, l)
	l, err = link.AttachCgroup(link.CgroupOptions{Path: p.spec.Cgroup, Attach: ebpf.AttachCgroupUnixSendmsg, Program: objs.SendmsgUnix})
	if err != nil {
		p.notRecorded = append(p.notRecorded, "unix datagram sends, neither recorded nor denied (needs cgroup/sendmsg_unix)")
		return
	}
	p.links = append(p.links, l)
}

// attachEgress attaches the program that tells the stub who sent a query.
func (p *Probe) attachEgress(cs *ebpf.CollectionSpec, replace map[string]*ebpf.Map) error {
	var objs struct {
		Egress *ebpf.Program `ebpf:"egress"`
	}
	if err := cs.LoadAndAssign(&objs, &ebpf.CollectionOptions{MapReplacements: replace}); err != nil {
		return loadError("loading DNS attribution program", err)
	}
	p.progs = append(p.progs, objs.Egress)
	l, err := link.AttachCgroup(link.CgroupOptions{Path: p.spec.Cgroup, Attach: ebpf.AttachCGroupInetEgress, Program: objs.Egress})
	if err != nil {
		return loadError("attaching DNS attribution program", err)
	}
	p.links = append(p.links, l)
	return nil
}

// attachTracepoints attaches the optional tracepoint programs: outcomes of
// allowed TCP connects and creation of packet sockets.
func (p *Probe) attachTracepoints(cs *ebpf.CollectionSpec, replace map[string]*ebpf.Map) {
	const (
		outcomes = "allowed-connect outcome (needs tracepoints"
		packet   = "packet socket creation (needs tracepoints"
	)
	if err := mountTracefs(); err != nil {
		p.notRecorded = append(p.notRecorded, outcomes+": "+oneLine(err)+")", packet+": "+oneLine(err)+")")
		return
	}
	var objs struct {
		SetState    *ebpf.Program `ebpf:"set_state"`
		ExitConnect *ebpf.Program `ebpf:"exit_connect"`
		EnterSocket *ebpf.Program `ebpf:"enter_socket"`
		ExitSocket  *ebpf.Program `ebpf:"exit_socket"`
	}
	if err := cs.LoadAndAssign(&objs, &ebpf.CollectionOptions{MapReplacements: replace}); err != nil {
		p.notRecorded = append(p.notRecorded, outcomes+": "+oneLine(err)+")", packet+": "+oneLine(err)+")")
		return
	}
	p.progs = append(p.progs, objs.SetState, objs.ExitConnect, objs.EnterSocket, objs.ExitSocket)
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
			p.notRecorded = append(p.notRecorded, g.what+": "+oneLine(err)+")")
			continue
		}
		p.links = append(p.links, ls...)
	}
}

// fillRules writes the compiled allowlist into the rule tries.
func (p *Probe) fillRules(t ruleTables) error {
	for _, e := range t.Nets {
		k := probeLpmNetKey{Prefixlen: e.Bits, Data: e.Key}
		var v probeNetRule
		v.N = uint32(len(e.Ranges))
		for i, r := range e.Ranges {
			v.R[i].Lo, v.R[i].Hi, v.R[i].Protos = r.Lo, r.Hi, r.Protos
		}
		if err := p.maps.NetRules.Put(&k, &v); err != nil {
			return fmt.Errorf("filling address rules: %w", err)
		}
	}
	for _, e := range t.Unix {
		k := probeLpmUnixKey{Prefixlen: e.Bits}
		for i, b := range e.Path {
			k.Path[i] = int8(b)
		}
		if err := p.maps.UnixRules.Put(&k, uint8(1)); err != nil {
			return fmt.Errorf("filling unix socket rules: %w", err)
		}
	}
	return nil
}

// configOf is the C config struct for spec; addresses and ports are in
// network byte order, as the programs compare them.
func configOf(spec Spec, t ruleTables) probeConfig {
	var c probeConfig
	if t.All {
		c.AllowAll = 1
	}
	if spec.Fault == collector.FaultBlackhole {
		c.Blackhole = 1
	}
	if spec.DNS.IsValid() {
		c.Dns4On = 1
		c.Dns4Ip = be32(spec.DNS.Addr().Unmap().As4())
		c.Dns4Port = htons(spec.DNS.Port())
	}
	if spec.DNS6.IsValid() {
		c.Dns6On = 1
		c.Dns6Ip = be128(spec.DNS6.Addr().As16())
		c.Dns6Port = htons(spec.DNS6.Port())
	}
	if spec.Blackhole.IsValid() {
		c.Bh4On = 1
		c.Bh4Ip = be32(spec.Blackhole.Unmap().As4())
	}
	if spec.Blackhole6.IsValid() {
		c.Bh6On = 1
		c.Bh6Ip = be128(spec.Blackhole6.As16())
	}
	return c
}

// be32 returns the native-endian integer whose memory holds b, so that the
// kernel sees the bytes in network order.
func be32(b [4]byte) uint32 { return binary.NativeEndian.Uint32(b[:]) }

func be128(b [16]byte) [4]uint32 {
	return [4]uint32{be32([4]byte(b[0:4])), be32([4]byte(b[4:8])), be32([4]byte(b[8:12])), be32([4]byte(b[12:16]))}
}

func htons(p uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], p)
	return binary.NativeEndian.Uint16(b[:])
}

// read consumes the ring buffer until the reader is closed.
func (p *Probe) read() {
	defer close(p.done)
	var rec ringbuf.Record
	for {
		err := p.reader.ReadInto(&rec)
		switch {
		case errors.Is(err, ringbuf.ErrFlushed):
			select {
			case p.flushed <- struct{}{}:
			default:
			}
			continue
		case errors.Is(err, ringbuf.ErrClosed), errors.Is(err, os.ErrClosed):
			return
		case err != nil:
			p.mu.Lock()
			p.readerErr = err
			p.mu.Unlock()
			return
		}
		p.handle(rec.RawSample)
	}
}

// handle folds one ring buffer event into the overflow tables. Events
// for attempts that are in the dedup maps carry nothing new. It runs for
// every event the kernel could not put in a map, so it decodes in place.
func (p *Probe) handle(b []byte) {
	if len(b) < 1 {
		return
	}
	switch b[0] {
	case evInet, evOutcome:
		if len(b) < int(unsafe.Sizeof(probeInetEvent{})) {
			return
		}
		e := (*probeInetEvent)(unsafe.Pointer(&b[0])) // ring records are 8-byte aligned
		if e.Hdr.Flags&evfOverflow == 0 {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if b[0] == evOutcome {
			if int(e.Hdr.Outcome) < len(outcomeNames) {
				o := p.outcomes[e.Key]
				o[e.Hdr.Outcome]++
				p.outcomes[e.Key] = o
			}
			return
		}
		if v, ok := p.inetOverflow[e.Key]; ok {
			v.Count++
			return
		}
		p.inetOverflow[e.Key] = &probeAttemptVal{Count: 1, FirstNs: e.Hdr.Ts, Cgroup: e.Hdr.Cgroup, Pid: e.Hdr.Pid}
	case evUnix:
		if len(b) < int(unsafe.Sizeof(probeUnixEvent{})) {
			return
		}
		e := (*probeUnixEvent)(unsafe.Pointer(&b[0]))
		if e.Hdr.Flags&evfOverflow == 0 {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if v, ok := p.unixOverflow[e.Key]; ok {
			v.Count++
			return
		}
		p.unixOverflow[e.Key] = &probeAttemptVal{Count: 1, FirstNs: e.Hdr.Ts, Cgroup: e.Hdr.Cgroup, Pid: e.Hdr.Pid}
	}
}

// Snapshot returns the attempts recorded so far, merged and sorted, with
// the loss counters. It may be called any number of times.
func (p *Probe) Snapshot() (collector.Recording, error) {
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return collector.Recording{}, errors.New("probe: snapshot of a closed probe")
	}
	p.drain()

	var attempts []collector.Attempt
	outcomes := map[probeInetKey][len(outcomeNames)]uint64{}
	p.mu.Lock()
	for k, o := range p.outcomes {
		outcomes[k] = o
	}
	for k, v := range p.inetOverflow {
		vv := *v
		for i, n := range p.outcomes[k] {
			vv.Outcome[i] += n
		}
		attempts = append(attempts, p.inetAttempt(k, vv))
	}
	for k, v := range p.unixOverflow {
		attempts = append(attempts, p.unixAttempt(k, *v))
	}
	readerErr := p.readerErr
	p.mu.Unlock()

	var ik probeInetKey
	var v probeAttemptVal
	it := p.maps.InetAttempts.Iterate()
	for it.Next(&ik, &v) {
		if o, ok := outcomes[ik]; ok {
			for i := range o {
				v.Outcome[i] += o[i]
			}
		}
		attempts = append(attempts, p.inetAttempt(ik, v))
	}
	if err := it.Err(); err != nil {
		return collector.Recording{}, fmt.Errorf("reading recorded attempts: %w", err)
	}
	var uk probeUnixKey
	it = p.maps.UnixAttempts.Iterate()
	for it.Next(&uk, &v) {
		attempts = append(attempts, p.unixAttempt(uk, v))
	}
	if err := it.Err(); err != nil {
		return collector.Recording{}, fmt.Errorf("reading recorded unix attempts: %w", err)
	}

	counts, err := p.counters()
	if err != nil {
		return collector.Recording{}, err
	}
	col := collector.Collection{
		Complete:    counts[cLost] == 0 && readerErr == nil,
		Lost:        counts[cLost],
		NotRecorded: append([]string(nil), p.notRecorded...),
	}
	if readerErr != nil {
		col.NotRecorded = append(col.NotRecorded, "events after a ring buffer read error: "+oneLine(readerErr))
	}
	return collector.Recording{Attempts: collector.SortAttempts(attempts), Collection: col}, nil
}

// drain makes the reader goroutine consume everything submitted so far.
func (p *Probe) drain() {
	select {
	case <-p.flushed: // a stale signal
	default:
	}
	if err := p.reader.Flush(); err != nil {
		return
	}
	select {
	case <-p.flushed:
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// Stats are the probe's loss counters, summed over CPUs. They only ever
// increase.
type Stats struct {
	// MapFull counts attempts that did not fit in a dedup map and went to
	// the ring buffer instead.
	MapFull uint64
	// RingbufFull counts failed ring buffer reservations.
	RingbufFull uint64
	// Lost counts attempts recorded nowhere: the map was full and so was
	// the ring buffer.
	Lost uint64
}

// Stats returns the loss counters.
func (p *Probe) Stats() (Stats, error) {
	c, err := p.counters()
	if err != nil {
		return Stats{}, err
	}
	return Stats{MapFull: c[cMapFull], RingbufFull: c[cRingbufFull], Lost: c[cLost]}, nil
}

func (p *Probe) counters() ([nCounters]uint64, error) {
	var out [nCounters]uint64
	for i := range out {
		var perCPU []uint64
		if err := p.maps.Counters.Lookup(uint32(i), &perCPU); err != nil {
			return out, fmt.Errorf("reading loss counters: %w", err)
		}
		for _, n := range perCPU {
			out[i] += n
		}
	}
	return out, nil
}

// DNSOrigin reports who sent the DNS query the stub received from client
// over proto (TCP or UDP), and which resolver it addressed. ok is false
// when the probe did not redirect that client.
func (p *Probe) DNSOrigin(proto collector.Protocol, client netip.AddrPort) (o Origin, ok bool) {
	var k probeClientKey
	switch proto {
	case collector.TCP:
		k.Proto = pTCP
	case collector.UDP:
		k.Proto = pUDP
	default:
		return o, false
	}
	a := client.Addr().Unmap()
	if a.Is4() {
		k.Family = 4
		b := a.As4()
		copy(k.Addr[:], b[:])
	} else {
		k.Family = 6
		k.Addr = a.As16()
	}
	k.Port = client.Port()
	var v probeOrigin
	if err := p.maps.DnsClients.Lookup(&k, &v); err != nil {
		return o, false
	}
	return Origin{
		Process:  collector.Process{PID: v.Pid, Comm: cString(v.Comm[:])},
		CgroupID: v.Cgroup,
		Resolver: netip.AddrPortFrom(addrOf(v.Family, v.Addr), v.Port),
	}, true
}

// inetAttempt turns a map entry into an attempt.
func (p *Probe) inetAttempt(k probeInetKey, v probeAttemptVal) collector.Attempt {
	a := collector.Attempt{
		Process:   collector.Process{PID: v.Pid, Comm: cString(k.Comm[:])},
		CgroupID:  v.Cgroup,
		Verdict:   verdictOf(k.Verdict),
		Failure:   failureOf(k.Failure),
		Count:     v.Count,
		FirstSeen: p.wall(v.FirstNs),
	}
	switch k.Proto {
	case pTCP, pUDP:
		a.Protocol = collector.TCP
		if k.Proto == pUDP {
			a.Protocol = collector.UDP
		}
		a.Address = addrOf(k.Family, k.Addr)
		a.Port = k.Port
		if a.Failure == "" {
			a.Failure = outcomeOf(v.Outcome)
		}
	default:
		a.Protocol = collector.Raw
	}
	return a
}

func (p *Probe) unixAttempt(k probeUnixKey, v probeAttemptVal) collector.Attempt {
	path := cString(k.Path[:])
	if path == "" {
		path = "<unnamed>" // a connect without a name; the kernel refuses it
	}
	return collector.Attempt{
		Process:   collector.Process{PID: v.Pid, Comm: cString(k.Comm[:])},
		CgroupID:  v.Cgroup,
		Protocol:  collector.Unix,
		Path:      path,
		Verdict:   verdictOf(k.Verdict),
		Failure:   failureOf(k.Failure),
		Count:     v.Count,
		FirstSeen: p.wall(v.FirstNs),
	}
}

// outcomeOf is the failure of allowed TCP connects: empty once one
// succeeded or when none ended yet, else the most frequent failure.
func outcomeOf(o [len(outcomeNames)]uint64) string {
	if o[0] > 0 {
		return ""
	}
	best := 0
	for i := 1; i < len(o); i++ {
		if o[i] > 0 && (best == 0 || o[i] > o[best]) {
			best = i
		}
	}
	return outcomeNames[best]
}

func (p *Probe) wall(mono uint64) time.Time {
	if mono == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(mono)+p.monoToWall).UTC()
}

func verdictOf(v uint8) collector.Verdict {
	switch v {
	case vAllowed:
		return collector.Allowed
	case vRedirected:
		return collector.Redirected
	}
	return collector.Denied
}

func failureOf(f uint8) string {
	switch f {
	case fEPERM:
		return "eperm"
	case fDropped:
		return "dropped"
	}
	return ""
}

func addrOf(family uint8, b [16]byte) netip.Addr {
	if family == 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

func cString[T int8 | uint8](b []T) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}

// Close detaches and unloads everything; the cgroup is no longer
// recorded or enforced afterwards.
func (p *Probe) Close() error {
	p.snapMu.Lock() // not while a snapshot reads the maps
	defer p.snapMu.Unlock()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	return p.release()
}

func (p *Probe) release() error {
	var errs []error
	for _, l := range p.links {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	p.links = nil
	if p.reader != nil {
		if err := p.reader.Close(); err != nil {
			errs = append(errs, err)
		}
		<-p.done
		p.reader = nil
	}
	for _, prog := range p.progs {
		if prog != nil {
			prog.Close()
		}
	}
	p.progs = nil
	if err := p.maps.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing probe: %w", err)
	}
	return nil
}

// oneLine shortens an error (verifier logs can be long) to its first line.
func oneLine(err error) string {
	s := err.Error()
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
