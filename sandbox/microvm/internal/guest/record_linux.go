package guest

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
	"github.com/rgraph/rgraph/sandbox/microvm/internal/vmproto"
)

// Where the DNS stub listens in the guest; the probe redirects every
// port-53 attempt there. They are the netns driver's.
var (
	stubAddr  = netip.MustParseAddrPort("127.0.0.53:10053")
	stubAddr6 = netip.MustParseAddrPort("[::1]:10053")
)

// stubTimeout bounds each query the stub forwards.
const stubTimeout = 2 * time.Second

// recorder is collector/probe on the runbook cgroup and the DNS stub,
// as in the netns driver; the stub's allowed questions go to the host,
// which forwards them.
type recorder struct {
	p    *probe.Probe
	stub *dnsstub.Stub
	// shift corrects the probe's times when it was loaded before the
	// guest's clock was set (a VM restored from a snapshot).
	shift time.Duration
}

func startRecorder(a *agent) (*recorder, error) {
	var udp []net.PacketConn
	var tcp []net.Listener
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
	closeAll := func() {
		for _, c := range udp {
			c.Close()
		}
		for _, l := range tcp {
			l.Close()
		}
	}
	if err := listen(stubAddr); err != nil {
		return nil, fmt.Errorf("starting the DNS stub: %w", err)
	}
	spec := probe.Spec{
		Cgroup:    a.cgroup + "/runbook",
		Rules:     a.setup.Rules,
		Fault:     a.setup.Fault,
		DNS:       stubAddr,
		Blackhole: a.setup.Blackhole,
	}
	if listen(stubAddr6) == nil {
		spec.DNS6 = stubAddr6
	}
	p, err := probe.Load(spec)
	if err != nil {
		closeAll()
		return nil, err
	}
	stub, err := dnsstub.Serve(context.Background(), dnsstub.Config{
		Rules: a.setup.Rules,
		Fault: a.setup.Fault,
		Attribute: func(proto collector.Protocol, client netip.AddrPort) (dnsstub.Origin, bool) {
			o, ok := p.DNSOrigin(proto, client)
			return dnsstub.Origin(o), ok
		},
		Forward: a.forwardDNS,
		Timeout: stubTimeout,
	}, udp, tcp)
	if err != nil {
		closeAll()
		p.Close()
		return nil, fmt.Errorf("starting the DNS stub: %w", err)
	}
	r := &recorder{p: p, stub: stub}
	if a.template {
		r.shift = a.clockShift
	}
	return r, nil
}

// forwardDNS hands a query the stub allowed to the host.
func (a *agent) forwardDNS(ctx context.Context, proto collector.Protocol, resolver netip.AddrPort, query []byte) ([]byte, error) {
	var ans vmproto.Answer
	call := a.host.Go(vmproto.HostDNS, vmproto.DNS{Proto: proto, Resolver: resolver, Query: query}, &ans, nil)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-call.Done:
	}
	if call.Error != nil {
		return nil, call.Error
	}
	if ans.Err != "" {
		return nil, errors.New(ans.Err)
	}
	return ans.Msg, nil
}

// recording merges what the probe and the stub recorded.
func (r *recorder) recording() (collector.Recording, error) {
	pr, err := r.p.Snapshot()
	if err != nil {
		return pr, fmt.Errorf("reading the probe: %w", err)
	}
	for i := range pr.Attempts {
		if !pr.Attempts[i].FirstSeen.IsZero() {
			pr.Attempts[i].FirstSeen = pr.Attempts[i].FirstSeen.Add(r.shift)
		}
	}
	sr, err := r.stub.Snapshot()
	if err != nil {
		return pr, fmt.Errorf("reading the DNS stub: %w", err)
	}
	out := collector.Recording{Collection: collector.Collection{Complete: pr.Collection.Complete && sr.Collection.Complete}}
	out.Collection.Lost = pr.Collection.Lost + sr.Collection.Lost
	out.Collection.NotRecorded = append(append([]string(nil), pr.Collection.NotRecorded...), sr.Collection.NotRecorded...)
	out.Attempts = collector.SortAttempts(append(append([]collector.Attempt(nil), pr.Attempts...), sr.Attempts...))
	return out, nil
}
