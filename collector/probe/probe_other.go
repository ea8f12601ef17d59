//go:build !linux

package probe

import (
	"errors"
	"net/netip"

	"github.com/rgraph/rgraph/collector"
)

var errNotLinux = errors.Join(ErrUnsupported, errors.New("recording with eBPF needs Linux"))

// Probe is a loaded and attached recorder; on this OS none can be loaded.
type Probe struct{}

// Stats are the probe's loss counters, summed over CPUs.
type Stats struct {
	MapFull, RingbufFull, Lost uint64
}

// Check reports that eBPF recording needs Linux.
func Check() error { return errNotLinux }

// Load fails: eBPF recording needs Linux.
func Load(spec Spec) (*Probe, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return nil, errNotLinux
}

// Snapshot fails: eBPF recording needs Linux.
func (p *Probe) Snapshot() (collector.Recording, error) { return collector.Recording{}, errNotLinux }

// Stats fails: eBPF recording needs Linux.
func (p *Probe) Stats() (Stats, error) { return Stats{}, errNotLinux }

// DNSOrigin reports nothing: eBPF recording needs Linux.
func (p *Probe) DNSOrigin(proto collector.Protocol, client netip.AddrPort) (Origin, bool) {
	return Origin{}, false
}

// Close does nothing.
func (p *Probe) Close() error { return nil }
