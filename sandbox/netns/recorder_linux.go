package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/probe"
	"github.com/rgraph/rgraph/internal/dnsstub"
	"github.com/rgraph/rgraph/sandbox"
)

// stubTimeout bounds each query the DNS stub forwards.
const stubTimeout = 2 * time.Second

// probeRecorder is the recorder of the netns driver: collector/probe on
// the runbook cgroup, and the DNS stub inside the network namespace that
// the probe redirects every port-53 attempt to.
type probeRecorder struct {
	c    *probe.Collector
	p    *probe.Probe
	stub *dnsstub.Stub
	// unattributed is the collector's count of refused calls no run could
	// be found for, when the run started.
	unattributed uint64
}

// startRecorder opens the DNS stub's sockets inside the sandbox's network
// namespace, attaches the probe to the runbook cgroup, and starts the
// stub.
func startRecorder(s recorderSetup) (recorder, error) {
	ss, err := listenStub(s)
	if err != nil {
		return nil, err
	}
	spec := probe.Spec{
		Cgroup:     s.cgroup,
		Rules:      s.spec.Rules,
		Fault:      s.spec.Fault,
		DNS:        StubAddr,
		Blackhole:  BlackholeAddr,
		Blackhole6: BlackholeAddr6,
	}
	if ss.has6 {
		spec.DNS6 = StubAddr6
	}
	// One collector serves every run of the process: the first run loads
	// it, each run only attaches it to its own cgroup.
	c, err := probe.Shared()
	if err != nil {
		ss.close()
		return nil, probeErr(err)
	}
	unattributed, err := c.Unattributed()
	if err != nil {
		ss.close()
		return nil, err
	}
	p, err := c.Attach(spec)
	if err != nil {
		ss.close()
		return nil, probeErr(err)
	}
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		var c net.Conn
		err := s.inNetNS(func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network, address)
			return err
		})
		return c, err
	}
	stub, err := dnsstub.Serve(context.Background(), dnsstub.Config{
		Rules: s.spec.Rules,
		Fault: s.spec.Fault,
		Attribute: func(proto collector.Protocol, client netip.AddrPort) (dnsstub.Origin, bool) {
			o, ok := p.DNSOrigin(proto, client)
			return dnsstub.Origin(o), ok
		},
		Forward: dnsstub.Forwarder{Dial: dial}.Exchange,
		Timeout: stubTimeout,
		// Whether a denied name exists upstream decides whether it is a
		// dependency at all (docs/records.md, "Absent is not a dependency").
		AskDenied: true,
	}, ss.udp, ss.tcp)
	if err != nil {
		ss.close()
		p.Close()
		return nil, fmt.Errorf("starting the DNS stub: %w", err)
	}
	return &probeRecorder{c: c, p: p, stub: stub, unattributed: unattributed}, nil
}

// stubSockets are the DNS stub's listening sockets.
type stubSockets struct {
	udp  []net.PacketConn
	tcp  []net.Listener
	has6 bool
}

func (ss stubSockets) close() {
	for _, c := range ss.udp {
		c.Close()
	}
	for _, l := range ss.tcp {
		l.Close()
	}
}

// listenStub opens UDP and TCP sockets on [StubAddr], and on [StubAddr6]
// when the namespace has IPv6, from a thread inside the sandbox's network
// namespace. Queries the stub forwards leave from the namespace too.
func listenStub(s recorderSetup) (stubSockets, error) {
	var ss stubSockets
	listen := func(ap netip.AddrPort) error {
		pc, err := net.ListenPacket("udp", ap.String())
		if err != nil {
			return err
		}
		l, err := net.Listen("tcp", ap.String())
		if err != nil {
			pc.Close()
			return err
		}
		ss.udp, ss.tcp = append(ss.udp, pc), append(ss.tcp, l)
		return nil
	}
	err := s.inNetNS(func() error {
		if err := listen(StubAddr); err != nil {
			return fmt.Errorf("listening on %v: %w", StubAddr, err)
		}
		// Without IPv6 in the namespace the probe judges IPv6 port-53
		// attempts by the rules, and the record says so.
		ss.has6 = listen(StubAddr6) == nil
		return nil
	})
	if err != nil {
		ss.close()
		return ss, fmt.Errorf("starting the DNS stub: %w", err)
	}
	return ss, nil
}

// probeErr makes the probe's sentinels match the sandbox's; the message
// stays the probe's one sentence.
func probeErr(err error) error {
	switch {
	case errors.Is(err, probe.ErrPermission):
		return sandbox.PermissionErr(err)
	case errors.Is(err, probe.ErrUnsupported):
		return sandbox.UnsupportedErr(err)
	}
	return err
}

// Snapshot merges what the probe and the DNS stub recorded.
func (r *probeRecorder) Snapshot() (collector.Recording, error) {
	pr, err := r.p.Snapshot()
	if err != nil {
		return pr, fmt.Errorf("reading the probe: %w", err)
	}
	sr, err := r.stub.Snapshot()
	if err != nil {
		return pr, fmt.Errorf("reading the DNS stub: %w", err)
	}
	rec := mergeRecordings(pr, sr)
	// A call the hooks refuse for a socket of some run's cgroup, made by
	// a process in no run's cgroup, is counted once for the whole
	// machine: while that count grows, no run can say it saw everything.
	// (Processes of a sealed run cannot leave its cgroup; a socket passed
	// to a process outside can.)
	n, err := r.c.Unattributed()
	if err != nil {
		return rec, err
	}
	if n > r.unattributed {
		rec.Collection.Complete = false
		rec.Collection.NotRecorded = append(rec.Collection.NotRecorded, fmt.Sprintf(
			"%d socket calls were refused during this run but could not be attributed to any run: a process outside every run's cgroup used a socket created inside one (perhaps this run's)", n-r.unattributed))
	}
	return rec, nil
}

func (r *probeRecorder) Close() error {
	return errors.Join(r.stub.Close(), r.p.Close())
}

// mergeRecordings combines the recordings of several recorders of one
// run: attempts concatenated and merged, losses added up, complete only
// when all are.
func mergeRecordings(rs ...collector.Recording) collector.Recording {
	out := collector.Recording{Collection: collector.Collection{Complete: true}}
	var attempts []collector.Attempt
	for _, r := range rs {
		attempts = append(attempts, r.Attempts...)
		out.Collection.Complete = out.Collection.Complete && r.Collection.Complete
		out.Collection.Lost += r.Collection.Lost
		out.Collection.NotRecorded = append(out.Collection.NotRecorded, r.Collection.NotRecorded...)
	}
	out.Attempts = collector.SortAttempts(attempts)
	return out
}
