//go:build linux

package probe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
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

	evInet        = 1
	evUnix        = 2
	evOutcome     = 3
	evUnixOutcome = 4

	evfOverflow = 1

	cMapFull     = 0
	cRingbufFull = 1
	cLost        = 2
	nCounters    = 3
)

// outcomeNames names the outcomes of allowed TCP and unix connects,
// indexed as enum outcome in probe.c; index 0 is success.
var outcomeNames = [...]string{"", "refused", "timeout", "unreachable", "reset", "abandoned", "error", "absent"}

// Probe is one run: a [Collector]'s programs attached to one cgroup, with
// that run's rules and recording. It implements [collector.Source]; all
// methods are safe for concurrent use. Runs of one collector never see
// each other's rules or attempts.
type Probe struct {
	c           *Collector
	spec        Spec
	id, slot    uint32
	cgroupID    uint64
	rules       ruleTables
	tables      *runTables // the slot's
	links       []link.Link
	notRecorded []string

	snapMu sync.Mutex // not closed while a snapshot reads the maps

	mu           sync.Mutex
	inetOverflow map[probeInetKey]*probeAttemptVal // attempts that did not fit in the maps
	unixOverflow map[probeUnixKey]*probeAttemptVal
	outcomes     map[probeInetKey][len(outcomeNames)]uint64 // outcomes of attempts not in the map
	unixOutcomes map[probeUnixKey][len(outcomeNames)]uint64
	closed       bool
}

// runTables are the inner maps of a slot: the rules and the recording of
// the run holding it.
type runTables struct {
	netRules, unixRules, inetAttempts, unixAttempts *ebpf.Map
}

func (t *runTables) all() []*ebpf.Map {
	return []*ebpf.Map{t.netRules, t.unixRules, t.inetAttempts, t.unixAttempts}
}

// clear empties every table (a run that detached cleanly left them empty).
func (t *runTables) clear() error {
	for _, m := range t.all() {
		if err := clearMap(m); err != nil {
			return err
		}
	}
	return nil
}

// clearMap deletes every entry of m.
func clearMap(m *ebpf.Map) error {
	for {
		k, err := m.NextKeyBytes(nil)
		if err != nil {
			return fmt.Errorf("emptying %v: %w", m, err)
		}
		if k == nil {
			return nil
		}
		if err := m.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("emptying %v: %w", m, err)
		}
	}
}

func (t *runTables) close() {
	for _, m := range t.all() {
		if m != nil {
			m.Close()
		}
	}
}

// Load attaches spec to the process-wide collector ([Shared]), loading it
// on first use. Errors wrap [ErrPermission] when the caller lacks
// privileges and [ErrUnsupported] when the kernel lacks a required
// feature. The returned Probe must be closed; closing it detaches the
// run, the collector stays loaded for the next.
func Load(spec Spec) (*Probe, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	c, err := Shared()
	if err != nil {
		return nil, err
	}
	return c.Attach(spec)
}

// Attach compiles spec's rules into tables of their own and attaches the
// collector's programs to spec.Cgroup. A cgroup inside (or containing)
// one that is attached already is refused: its processes would run the
// programs twice. The returned Probe must be closed; that detaches it.
func (c *Collector) Attach(spec Spec) (*Probe, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	rules, err := compileRules(spec.Rules)
	if err != nil {
		return nil, err
	}
	if len(rules.Nets) > maxNetRules || len(rules.Unix) > maxUnixRules {
		return nil, fmt.Errorf("probe: the rules need %d address and %d unix entries (at most %d and %d)",
			len(rules.Nets), len(rules.Unix), maxNetRules, maxUnixRules)
	}
	if err := checkCgroup(spec.Cgroup); err != nil {
		return nil, err
	}
	cg, err := os.Open(spec.Cgroup)
	if err != nil {
		return nil, fmt.Errorf("opening cgroup: %w", err)
	}
	defer cg.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(cg.Fd()), &st); err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", spec.Cgroup, err)
	}
	spec.Cgroup = filepath.Clean(spec.Cgroup)

	p := &Probe{
		c:            c,
		spec:         spec,
		rules:        rules,
		cgroupID:     st.Ino, // a cgroup's id is its directory's inode number
		notRecorded:  c.NotRecorded(),
		inetOverflow: map[probeInetKey]*probeAttemptVal{},
		unixOverflow: map[probeUnixKey]*probeAttemptVal{},
		unixOutcomes: map[probeUnixKey][len(outcomeNames)]uint64{},
		outcomes:     map[probeInetKey][len(outcomeNames)]uint64{},
	}
	if !spec.DNS.IsValid() {
		p.notRecorded = append(p.notRecorded, "DNS names asked over IPv4 (no IPv4 DNS stub configured)")
	}
	if !spec.DNS6.IsValid() {
		p.notRecorded = append(p.notRecorded, "DNS names asked over IPv6 (no IPv6 DNS stub configured)")
	}
	if err := c.register(p); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			p.release()
		}
	}()
	if err := p.fillTables(); err != nil {
		return nil, err
	}
	if err := p.install(); err != nil {
		return nil, err
	}
	progs := c.cgroupProgs
	if spec.DNS.IsValid() || spec.DNS6.IsValid() {
		progs = append(progs[:len(progs):len(progs)], cgroupProg{c.egress, ebpf.AttachCGroupInetEgress})
	}
	for _, a := range progs {
		l, err := link.AttachRawLink(link.RawLinkOptions{Target: int(cg.Fd()), Program: a.prog, Attach: a.typ})
		if err != nil {
			return nil, loadError(fmt.Sprintf("attaching %s to %s", a.prog, spec.Cgroup), err)
		}
		p.links = append(p.links, l)
	}
	ok = true
	return p, nil
}

// register gives p an id and a slot, unless its cgroup overlaps a run's.
func (c *Collector) register(p *Probe) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return errors.New("probe: attach to a closed collector")
	case len(c.freeSlots) == 0:
		return fmt.Errorf("probe: %d runs are attached already", maxRuns)
	}
	for _, o := range c.runs {
		if nested(o.spec.Cgroup, p.spec.Cgroup) || nested(p.spec.Cgroup, o.spec.Cgroup) || o.cgroupID == p.cgroupID {
			return fmt.Errorf("probe: cgroup %s overlaps %s, which is attached already", p.spec.Cgroup, o.spec.Cgroup)
		}
	}
	n := len(c.freeSlots) - 1
	p.slot, c.freeSlots = c.freeSlots[n], c.freeSlots[:n]
	p.id = c.nextID
	c.nextID++
	if c.nextID == 0 { // 0 marks a free slot
		c.nextID = 1
	}
	c.runs[p.id] = p
	return nil
}

// nested reports whether dir is inside (or is) parent.
func nested(parent, dir string) bool {
	return dir == parent || strings.HasPrefix(dir, parent+"/")
}

// fillTables takes the slot's tables, empty, and fills the rules.
func (p *Probe) fillTables() error {
	t, err := p.c.slotTables(p.slot)
	if err != nil {
		return err
	}
	if err := t.clear(); err != nil {
		return err
	}
	p.tables = t
	rules := p.rules
	for _, e := range rules.Nets {
		k := probeLpmNetKey{Prefixlen: e.Bits, Data: e.Key}
		var v probeNetRule
		v.N = uint32(len(e.Ranges))
		for i, r := range e.Ranges {
			v.R[i].Lo, v.R[i].Hi, v.R[i].Protos = r.Lo, r.Hi, r.Protos
		}
		if err := t.netRules.Put(&k, &v); err != nil {
			return fmt.Errorf("filling address rules: %w", err)
		}
	}
	for _, e := range rules.Unix {
		k := probeLpmUnixKey{Prefixlen: e.Bits}
		for i, b := range e.Path {
			k.Path[i] = int8(b)
		}
		if err := t.unixRules.Put(&k, uint8(1)); err != nil {
			return fmt.Errorf("filling unix socket rules: %w", err)
		}
	}
	return nil
}

// install zeroes the slot's counters and enters the run under its cgroup
// id, after which the programs serve it.
func (p *Probe) install() error {
	m := p.c.maps
	zeros := make([]uint64, p.c.nCPU)
	for i := range uint32(nCounters) {
		if err := m.Counters.Put(p.slot*nCounters+i, zeros); err != nil {
			return fmt.Errorf("resetting loss counters: %w", err)
		}
	}
	if err := m.SlotRuns.Put(p.slot, p.id); err != nil {
		return fmt.Errorf("installing a run: %w", err)
	}
	r := probeRun{Id: p.id, Slot: p.slot}
	r.Cfg = configOf(p.spec, p.rules)
	if err := m.Runs.Update(p.cgroupID, &r, ebpf.UpdateNoExist); err != nil {
		return fmt.Errorf("installing a run: %w", err)
	}
	return nil
}

// configOf is the C config struct for spec; addresses and ports are in
// network byte order, as the programs compare them.
func configOf(spec Spec, t ruleTables) (c probeConfig) {
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

// overflowInet folds an attempt (or an outcome) the kernel could not put
// in the run's map into the run's overflow tables.
func (p *Probe) overflowInet(e *probeInetEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Hdr.Kind == evOutcome {
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
}

func (p *Probe) overflowUnix(e *probeUnixEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Hdr.Kind == evUnixOutcome {
		if int(e.Hdr.Outcome) < len(outcomeNames) {
			o := p.unixOutcomes[e.Key]
			o[e.Hdr.Outcome]++
			p.unixOutcomes[e.Key] = o
		}
		return
	}
	if v, ok := p.unixOverflow[e.Key]; ok {
		v.Count++
		return
	}
	p.unixOverflow[e.Key] = &probeAttemptVal{Count: 1, FirstNs: e.Hdr.Ts, Cgroup: e.Hdr.Cgroup, Pid: e.Hdr.Pid}
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
	drainErr := p.c.drain()

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
	unixOutcomes := map[probeUnixKey][len(outcomeNames)]uint64{}
	for k, o := range p.unixOutcomes {
		unixOutcomes[k] = o
	}
	for k, v := range p.unixOverflow {
		vv := *v
		for i, n := range p.unixOutcomes[k] {
			vv.Outcome[i] += n
		}
		attempts = append(attempts, p.unixAttempt(k, vv))
	}
	p.mu.Unlock()
	p.c.mu.Lock()
	readerErr := p.c.readerErr
	p.c.mu.Unlock()

	var ik probeInetKey
	var v probeAttemptVal
	it := p.tables.inetAttempts.Iterate()
	for it.Next(&ik, &v) {
		if v.Run != p.id {
			continue // left by a run that did not detach cleanly
		}
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
	it = p.tables.unixAttempts.Iterate()
	for it.Next(&uk, &v) {
		if v.Run != p.id {
			continue
		}
		if o, ok := unixOutcomes[uk]; ok {
			for i := range o {
				v.Outcome[i] += o[i]
			}
		}
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
		Complete:    counts[cLost] == 0 && readerErr == nil && drainErr == nil,
		Lost:        counts[cLost],
		NotRecorded: append([]string(nil), p.notRecorded...),
	}
	switch {
	case readerErr != nil:
		col.NotRecorded = append(col.NotRecorded, "events after a ring buffer read error: "+oneLine(readerErr))
	case drainErr != nil:
		col.NotRecorded = append(col.NotRecorded, "events still in the ring buffer: "+oneLine(drainErr))
	}
	return collector.Recording{Attempts: collector.SortAttempts(attempts), Collection: col}, nil
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

// Stats returns the run's loss counters.
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
		n, err := p.c.counterSum(p.slot*nCounters + uint32(i))
		if err != nil {
			return out, err
		}
		out[i] = n
	}
	return out, nil
}

// DNSOrigin reports who sent the DNS query the stub received from client
// over proto (TCP or UDP), and which resolver it addressed. ok is false
// when the probe did not redirect that client in this run.
func (p *Probe) DNSOrigin(proto collector.Protocol, client netip.AddrPort) (o Origin, ok bool) {
	k := probeClientKey{Run: p.id}
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
	if err := p.c.maps.DnsClients.Lookup(&k, &v); err != nil {
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
		FirstSeen: p.c.wall(v.FirstNs),
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
		if a.Verdict == collector.Allowed && a.Protocol == collector.TCP && a.Failure == "refused" {
			a.Upstream = collector.UpstreamRefused
		}
	default:
		a.Protocol = collector.Raw
	}
	return a
}

func (p *Probe) unixAttempt(k probeUnixKey, v probeAttemptVal) collector.Attempt {
	path := unixPath(k.Path[:])
	if path == "" {
		path = "<unnamed>" // a connect without a name; the kernel refuses it
	}
	a := collector.Attempt{
		Process:   collector.Process{PID: v.Pid, Comm: cString(k.Comm[:])},
		CgroupID:  v.Cgroup,
		Protocol:  collector.Unix,
		Path:      path,
		Verdict:   verdictOf(k.Verdict),
		Failure:   failureOf(k.Failure),
		Count:     v.Count,
		FirstSeen: p.c.wall(v.FirstNs),
	}
	if a.Failure == "" {
		a.Failure = outcomeOf(v.Outcome)
		switch a.Failure {
		case "absent":
			a.Upstream = collector.UpstreamAbsent
		case "refused":
			a.Upstream = collector.UpstreamRefused
		}
	}
	return a
}

// outcomeOf is the failure of allowed TCP and unix connects: empty once
// one succeeded or when none ended yet, else the most frequent failure.
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

func (c *Collector) wall(mono uint64) time.Time {
	if mono == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(mono)+c.monoToWall).UTC()
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

// cString returns the NUL-terminated text in b as [printable] does.
func cString[T int8 | uint8](b []T) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return printable(out)
}

// unixPath returns the socket path in a unix key: an abstract name
// ("@name") with every byte of it (NULs too, but those that pad it), a
// path up to its NUL, cleaned of "." and ".." components and duplicate
// slashes when absolute (the probe denies a path with ".." that a rule
// would have allowed; the record names where it leads). Both as
// [printable] does.
func unixPath[T int8 | uint8](b []T) string {
	if len(b) > 0 && b[0] == '@' {
		n := len(b)
		for n > 1 && b[n-1] == 0 {
			n--
		}
		raw := make([]byte, n)
		for i := range n {
			raw[i] = byte(b[i])
		}
		return printable(raw)
	}
	s := cString(b)
	if strings.HasPrefix(s, "/") {
		s = path.Clean(s)
	}
	return s
}

// printable returns b as UTF-8 text without control characters, which
// records refuse (collector/decode.CheckName): any other byte is written
// \xNN, and a backslash is doubled. Process names and socket paths are
// chosen by the sandboxed processes, which must not be able to make a
// record ingest refuses.
func printable(b []byte) string {
	var out strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == '\\':
			out.WriteString(`\\`)
		case r == utf8.RuneError && size == 1, r < 0x20, r >= 0x7f && r < 0xa0:
			for _, c := range b[:size] {
				fmt.Fprintf(&out, `\x%02x`, c)
			}
		default:
			out.Write(b[:size])
		}
		b = b[size:]
	}
	return out.String()
}

// Close detaches the run: the cgroup is no longer recorded or enforced,
// and the run's tables are dropped. The collector stays loaded.
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

// release detaches the links first, so that no program runs for the
// cgroup any more, then removes the run's entries, empties its tables and
// frees its slot.
func (p *Probe) release() error {
	var errs []error
	for _, l := range p.links {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	p.links = nil
	m := p.c.maps
	notFound := func(err error) error {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return nil
		}
		return err
	}
	errs = append(errs, notFound(m.Runs.Delete(p.cgroupID)), m.SlotRuns.Put(p.slot, uint32(0)))
	if p.tables != nil {
		errs = append(errs, p.tables.clear())
	}
	errs = append(errs,
		deleteRun(m.DnsClients, func(k probeClientKey, _ probeOrigin) bool { return k.Run == p.id }),
		deleteRun(m.Peers, func(_ probePeerKey, run uint32) bool { return run == p.id }))
	p.c.mu.Lock()
	if p.c.runs[p.id] == p {
		delete(p.c.runs, p.id)
		p.c.freeSlots = append(p.c.freeSlots, p.slot)
	}
	p.c.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("detaching probe from %s: %w", p.spec.Cgroup, err)
	}
	return nil
}

// deleteRun deletes the entries of m that mine says belong to a run. It
// reads m in batches, so that a large table costs a few system calls.
func deleteRun[K, V any](m *ebpf.Map, mine func(K, V) bool) error {
	const batch = 512
	keys, vals := make([]K, batch), make([]V, batch)
	var del []K
	var cursor ebpf.MapBatchCursor
	for {
		n, err := m.BatchLookup(&cursor, keys, vals, nil)
		for i := range n {
			if mine(keys[i], vals[i]) {
				del = append(del, keys[i])
			}
		}
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %v: %w", m, err)
		}
	}
	if len(del) == 0 {
		return nil
	}
	// A batch delete stops at a key the table evicted meanwhile; delete
	// the rest one by one.
	n, err := m.BatchDelete(del, nil)
	if err == nil {
		return nil
	}
	for _, k := range del[n:] {
		if err := m.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("deleting from %v: %w", m, err)
		}
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
