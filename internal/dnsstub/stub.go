package dnsstub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/rgraph/rgraph/collector"
)

// Defaults of [Config].
const (
	DefaultTimeout     = 5 * time.Second
	DefaultMaxAttempts = 1 << 16
	// DefaultAskTimeout bounds a question asked upstream for a denied one
	// (Config.AskDenied).
	DefaultAskTimeout = 2 * time.Second
	tcpIdle           = 2 * time.Minute
	maxInFlight       = 256 // concurrent forwards of UDP queries
)

// Origin says who sent a query and which resolver it addressed.
// probe.Origin has the same fields and converts with Origin(o).
type Origin struct {
	Process  collector.Process
	CgroupID uint64
	// Resolver is the address the caller sent the query to, before the
	// probe redirected it to the stub.
	Resolver netip.AddrPort
}

// Config configures a [Stub].
type Config struct {
	// Rules decide which questions are forwarded.
	Rules collector.Rules
	// Fault is how denied questions fail: REFUSED (reject, the default)
	// or no answer (blackhole).
	Fault collector.FaultMode
	// Attribute maps the source address of a received query to its
	// origin (see probe.Probe.DNSOrigin). When it is nil or reports
	// false, the process is unknown and the resolver is the stub's own
	// listening address.
	Attribute func(proto collector.Protocol, client netip.AddrPort) (Origin, bool)
	// Forward sends an allowed query to a resolver and returns the
	// response. resolver is the zero AddrPort when the caller addressed
	// the stub itself. Default: Forwarder{}.Exchange.
	Forward func(ctx context.Context, proto collector.Protocol, resolver netip.AddrPort, query []byte) ([]byte, error)
	// Timeout bounds each forward. Default [DefaultTimeout].
	Timeout time.Duration
	// MaxAttempts bounds the distinct attempts kept; questions beyond it
	// are counted as lost. Default [DefaultMaxAttempts].
	MaxAttempts int
	// AskDenied makes the stub ask upstream (through Forward, to the
	// resolver the caller addressed) each denied question once, to learn
	// whether the name exists there: an NXDOMAIN answer marks the attempt
	// [collector.UpstreamAbsent]. The answer is never relayed to the
	// caller, who still gets REFUSED or nothing. Off by default.
	AskDenied bool
	// AskTimeout bounds one such question and how long [Stub.Snapshot]
	// waits for those still under way. Default [DefaultAskTimeout].
	AskTimeout time.Duration
}

// Stub is a running DNS stub resolver. It implements [collector.Source];
// its methods are safe for concurrent use.
type Stub struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	udp    []net.PacketConn
	tcp    []net.Listener
	self   map[netip.AddrPort]bool
	sem    chan struct{}
	asks   sync.WaitGroup // questions asked upstream for denied ones

	mu        sync.Mutex
	attempts  map[attemptKey]*record
	lost      uint64
	malformed uint64
	conns     map[net.Conn]struct{}
	closed    bool
}

// attemptKey identifies one recorded attempt.
type attemptKey struct {
	q        question
	verdict  collector.Verdict
	failure  string
	comm     string
	cgroup   uint64
	resolver netip.AddrPort
}

// record is an attempt with the results of its forwards: answers that
// were NXDOMAIN (nx), other answers (ok) and forwards that got none
// (failed). For a denied question, asked says it was asked upstream
// (Config.AskDenied) and upstream holds what that showed.
type record struct {
	a              collector.Attempt
	ok, nx, failed uint64
	asked          bool
	upstream       collector.Upstream
}

// Serve starts answering queries on the given sockets until ctx is done
// or [Stub.Close] is called. The sockets belong to the stub from now on.
func Serve(ctx context.Context, cfg Config, udp []net.PacketConn, tcp []net.Listener) (*Stub, error) {
	switch cfg.Fault {
	case "":
		cfg.Fault = collector.FaultReject
	case collector.FaultReject, collector.FaultBlackhole:
	default:
		return nil, fmt.Errorf("dnsstub: unknown fault mode %q", cfg.Fault)
	}
	if len(udp) == 0 && len(tcp) == 0 {
		return nil, errors.New("dnsstub: no sockets to serve")
	}
	if cfg.Forward == nil {
		cfg.Forward = Forwarder{}.Exchange
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.AskTimeout <= 0 {
		cfg.AskTimeout = DefaultAskTimeout
	}
	s := &Stub{
		cfg:      cfg,
		udp:      udp,
		tcp:      tcp,
		self:     map[netip.AddrPort]bool{},
		sem:      make(chan struct{}, maxInFlight),
		attempts: map[attemptKey]*record{},
		conns:    map[net.Conn]struct{}{},
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	for _, pc := range udp {
		s.self[addrPortOf(pc.LocalAddr())] = true
	}
	for _, l := range tcp {
		s.self[addrPortOf(l.Addr())] = true
	}
	for _, pc := range udp {
		s.wg.Add(1)
		go s.serveUDP(pc)
	}
	for _, l := range tcp {
		s.wg.Add(1)
		go s.serveTCP(l)
	}
	context.AfterFunc(s.ctx, s.closeSockets)
	return s, nil
}

// action is what to do with a received message.
type action struct {
	reply    []byte         // send this now
	forward  bool           // forward the message and relay the answer
	resolver netip.AddrPort // where to forward; zero: the caller addressed the stub
	recs     []*record      // attempts to credit with the forward's result
}

// judge records the questions of msg and decides what to do with it.
func (s *Stub) judge(proto collector.Protocol, client, local netip.AddrPort, msg []byte) action {
	q, err := parseQuery(msg)
	switch {
	case errors.Is(err, errShort):
		s.countMalformed()
		return action{}
	case errors.Is(err, errNotQuery):
		if q.Header.Response {
			return action{}
		}
		q.raw = nil
		b, _ := reply(q, dnsmessage.RCodeNotImplemented)
		return action{reply: b}
	case err != nil:
		s.countMalformed()
		q.raw = nil
		b, _ := reply(q, dnsmessage.RCodeFormatError)
		return action{reply: b}
	}

	var o Origin
	attributed := false
	if s.cfg.Attribute != nil {
		o, attributed = s.cfg.Attribute(proto, client)
	}
	if !attributed || !o.Resolver.IsValid() {
		o.Resolver = local
	}
	resolverAllowed := s.cfg.Rules.AllowsAddr(proto, o.Resolver.Addr(), o.Resolver.Port())
	allowed := true
	verdicts := make([]bool, len(q.Questions))
	for i, qq := range q.Questions {
		verdicts[i] = s.cfg.Rules.AllowsQuestion(qq.Name, resolverAllowed)
		allowed = allowed && verdicts[i]
	}

	failure := "refused"
	if s.cfg.Fault == collector.FaultBlackhole {
		failure = "dropped"
	}
	upstream := o.Resolver
	if s.self[o.Resolver] || o.Resolver == local {
		upstream = netip.AddrPort{}
	}
	var recs []*record
	for i, qq := range q.Questions {
		k := attemptKey{q: qq, verdict: collector.Allowed, comm: o.Process.Comm, cgroup: o.CgroupID, resolver: o.Resolver}
		if !verdicts[i] {
			k.verdict, k.failure = collector.Denied, failure
		} else if !allowed {
			// Allowed, but asked together with a denied question: the
			// message as a whole was not forwarded.
			k.failure = failure
		}
		r := s.record(k, o)
		if r != nil && allowed {
			recs = append(recs, r)
		}
		if r != nil && !allowed {
			s.askUpstream(proto, upstream, q.raw[i], r)
		}
	}

	if !allowed {
		if s.cfg.Fault == collector.FaultBlackhole {
			return action{}
		}
		b, _ := reply(q, dnsmessage.RCodeRefused)
		return action{reply: b}
	}
	return action{forward: true, resolver: upstream, recs: recs}
}

// askUpstream asks the upstream resolver the question of a denied
// attempt, once per attempt, in the background, and keeps whether the
// name exists there. The answer goes nowhere else.
func (s *Stub) askUpstream(proto collector.Protocol, resolver netip.AddrPort, rq dnsmessage.Question, r *record) {
	if !s.cfg.AskDenied {
		return
	}
	s.mu.Lock()
	if r.asked || s.closed {
		s.mu.Unlock()
		return
	}
	r.asked = true
	s.asks.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.asks.Done()
		msg, err := newQuery(rq)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.AskTimeout)
		defer cancel()
		resp, err := s.cfg.Forward(ctx, proto, resolver, msg)
		if err != nil {
			return
		}
		if rcode, ok := responseCode(resp, msg); ok && rcode == dnsmessage.RCodeNameError {
			s.mu.Lock()
			r.upstream = collector.UpstreamAbsent
			s.mu.Unlock()
		}
	}()
}

// record counts one question; it returns nil when the table is full.
func (s *Stub) record(k attemptKey, o Origin) *record {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.attempts[k]; ok {
		r.a.Count++
		return r
	}
	if len(s.attempts) >= s.cfg.MaxAttempts {
		s.lost++
		return nil
	}
	r := &record{a: collector.Attempt{
		Process:   o.Process,
		CgroupID:  o.CgroupID,
		Protocol:  collector.DNS,
		Address:   k.resolver.Addr().Unmap(),
		Port:      k.resolver.Port(),
		DNSName:   k.q.Name,
		DNSType:   k.q.Type,
		Verdict:   k.verdict,
		Failure:   k.failure,
		Count:     1,
		FirstSeen: time.Now().UTC(),
	}}
	s.attempts[k] = r
	return r
}

func (s *Stub) countMalformed() {
	s.mu.Lock()
	s.malformed++
	s.mu.Unlock()
}

// forward runs a's forward and returns the response to relay: the
// resolver's answer, or SERVFAIL.
func (s *Stub) forward(proto collector.Protocol, a action, msg []byte) []byte {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	defer cancel()
	resp, err := s.cfg.Forward(ctx, proto, a.resolver, msg)
	rcode, _ := responseCode(resp, msg)
	s.mu.Lock()
	for _, r := range a.recs {
		switch {
		case err != nil:
			r.failed++
		case rcode == dnsmessage.RCodeNameError:
			r.nx++
		default:
			r.ok++
		}
	}
	s.mu.Unlock()
	if err == nil {
		return resp
	}
	q, perr := parseQuery(msg)
	if perr != nil {
		return nil
	}
	b, _ := reply(q, dnsmessage.RCodeServerFailure)
	return b
}

func (s *Stub) serveUDP(pc net.PacketConn) {
	defer s.wg.Done()
	local := addrPortOf(pc.LocalAddr())
	buf := make([]byte, 65535)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		msg := append([]byte(nil), buf[:n]...)
		client := addrPortOf(from)
		a := s.judge(collector.UDP, client, local, msg)
		switch {
		case a.reply != nil:
			pc.WriteTo(a.reply, from)
		case a.forward:
			select {
			case s.sem <- struct{}{}:
			default:
				// Too many forwards in flight: fail this one at once.
				if q, err := parseQuery(msg); err == nil {
					b, _ := reply(q, dnsmessage.RCodeServerFailure)
					pc.WriteTo(b, from)
				}
				continue
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() { <-s.sem }()
				if resp := s.forward(collector.UDP, a, msg); resp != nil {
					pc.WriteTo(resp, from)
				}
			}()
		}
	}
}

func (s *Stub) serveTCP(l net.Listener) {
	defer s.wg.Done()
	local := addrPortOf(l.Addr())
	for {
		c, err := l.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveConn(c, local)
	}
}

// serveConn answers the queries of one TCP connection in order.
func (s *Stub) serveConn(c net.Conn, local netip.AddrPort) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	client := addrPortOf(c.RemoteAddr())
	for {
		c.SetReadDeadline(time.Now().Add(tcpIdle))
		msg, err := readTCP(c)
		if err != nil {
			return
		}
		a := s.judge(collector.TCP, client, local, msg)
		resp := a.reply
		if a.forward {
			resp = s.forward(collector.TCP, a, msg)
		}
		if resp != nil {
			c.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
			if err := writeTCP(c, resp); err != nil {
				return
			}
		}
	}
}

// Snapshot returns the questions recorded so far. It first waits, up to
// Config.AskTimeout, for denied questions still being asked upstream.
func (s *Stub) Snapshot() (collector.Recording, error) {
	done := make(chan struct{})
	go func() { s.asks.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.cfg.AskTimeout):
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]collector.Attempt, 0, len(s.attempts))
	for _, r := range s.attempts {
		a := r.a
		switch {
		case a.Verdict != collector.Allowed:
			a.Upstream = r.upstream
		case a.Failure == "" && r.failed > 0 && r.ok == 0 && r.nx == 0:
			a.Failure = "servfail"
		case r.nx > 0 && r.ok == 0:
			a.Failure = "nxdomain"
			a.Upstream = collector.UpstreamAbsent
		}
		out = append(out, a)
	}
	col := collector.Collection{Complete: s.lost == 0, Lost: s.lost}
	if s.cfg.Attribute == nil {
		col.NotRecorded = append(col.NotRecorded, "which process asked a DNS question (no attribution)")
	}
	if s.malformed > 0 {
		col.NotRecorded = append(col.NotRecorded, fmt.Sprintf("names in %d malformed DNS messages", s.malformed))
	}
	return collector.Recording{Attempts: collector.SortAttempts(out), Collection: col}, nil
}

// Close stops serving, closes the sockets and waits for in-flight
// queries (and questions asked upstream) to finish.
func (s *Stub) Close() error {
	s.cancel()
	s.closeSockets()
	s.wg.Wait()
	s.asks.Wait()
	return nil
}

func (s *Stub) closeSockets() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, pc := range s.udp {
		pc.Close()
	}
	for _, l := range s.tcp {
		l.Close()
	}
	for _, c := range conns {
		c.Close()
	}
}

// addrPortOf converts a socket address to a netip.AddrPort, with IPv4
// addresses unmapped.
func addrPortOf(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.UDPAddr:
		ap = a.AddrPort()
	case *net.TCPAddr:
		ap = a.AddrPort()
	case nil:
		return ap
	default:
		ap, _ = netip.ParseAddrPort(a.String())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
