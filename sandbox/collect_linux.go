package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/dnsstub"
	"github.com/rgraph/rgraph/collector/probe"
)

// stubTimeout bounds each query the DNS stub forwards.
const stubTimeout = 2 * time.Second

// probeRecorder is the recorder of the netns driver: collector/probe on
// the runbook cgroup, and the DNS stub inside the network namespace that
// the probe redirects every port-53 attempt to.
type probeRecorder struct {
	p    *probe.Probe
	stub *dnsstub.Stub
}

// startRecorder loads the probe for one sandbox.
func startRecorder(s recorderSetup) (recorder, error) {
	spec := probe.Spec{
		Cgroup: s.cgroup,
		Rules:  s.spec.Rules,
		Fault:  s.spec.Fault,
		DNS:    StubAddr,
		// DNS6 (StubAddr6) is left out: this probe build fails to load
		// with it set, so IPv6 port-53 attempts are judged by Rules.
		Blackhole:  BlackholeAddr,
		Blackhole6: BlackholeAddr6,
	}
	p, err := probe.Load(spec)
	if err != nil {
		return nil, probeErr(err)
	}
	r := &probeRecorder{p: p}
	if r.stub, err = startStub(s, p); err != nil {
		p.Close()
		return nil, err
	}
	return r, nil
}

// startStub starts the DNS stub on sockets created inside the sandbox's
// network namespace: [StubAddr] always, [StubAddr6] when the namespace
// has IPv6. Queries it forwards leave from the namespace too.
func startStub(s recorderSetup, p *probe.Probe) (*dnsstub.Stub, error) {
	var (
		udp []net.PacketConn
		tcp []net.Listener
	)
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
		udp, tcp = append(udp, pc), append(tcp, l)
		return nil
	}
	err := s.inNetNS(func() error {
		if err := listen(StubAddr); err != nil {
			return fmt.Errorf("listening on %v: %w", StubAddr, err)
		}
		_ = listen(StubAddr6) // no IPv6 in the namespace: the probe rejects IPv6 DNS
		return nil
	})
	if err != nil {
		for _, c := range udp {
			c.Close()
		}
		for _, l := range tcp {
			l.Close()
		}
		return nil, fmt.Errorf("starting the DNS stub: %w", err)
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
	return dnsstub.Serve(context.Background(), dnsstub.Config{
		Rules: s.spec.Rules,
		Fault: s.spec.Fault,
		Attribute: func(proto collector.Protocol, client netip.AddrPort) (dnsstub.Origin, bool) {
			o, ok := p.DNSOrigin(proto, client)
			return dnsstub.Origin(o), ok
		},
		Forward: dnsstub.Forwarder{Dial: dial}.Exchange,
		Timeout: stubTimeout,
	}, udp, tcp)
}

// probeErr makes the probe's sentinels match the sandbox's.
func probeErr(err error) error {
	switch {
	case errors.Is(err, probe.ErrPermission):
		return fmt.Errorf("%w: %w", ErrPermission, err)
	case errors.Is(err, probe.ErrUnsupported):
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return err
}

// Recording merges what the probe and the DNS stub recorded.
func (r *probeRecorder) Recording() (collector.Recording, error) {
	pr, err := r.p.Snapshot()
	if err != nil {
		return pr, fmt.Errorf("reading the probe: %w", err)
	}
	sr, err := r.stub.Snapshot()
	if err != nil {
		return pr, fmt.Errorf("reading the DNS stub: %w", err)
	}
	return mergeRecordings(pr, sr), nil
}

func (r *probeRecorder) Close() error {
	return errors.Join(r.stub.Close(), r.p.Close())
}
