//go:build !linux

package probe

import (
	"errors"
	"net/netip"

	"github.com/rgraph/rgraph/collector"
)

var errNotLinux = errors.Join(ErrUnsupported, errors.New("recording with eBPF needs Linux"))

// Collector is the probe's loaded programs; on this OS none can be
// loaded.
type Collector struct{}

// Probe is one attached run; on this OS none can be attached.
type Probe struct{}

// Stats are the probe's loss counters, summed over CPUs.
type Stats struct {
	MapFull, RingbufFull, Lost uint64
}

// Check reports that eBPF recording needs Linux.
func Check() error { return errNotLinux }

// Feature is one kernel eBPF feature the probe needs.
type Feature struct {
	Name string
	Err  error
}

// Features reports that eBPF recording needs Linux.
func Features() []Feature { return []Feature{{Name: "eBPF", Err: errNotLinux}} }

// Open fails: eBPF recording needs Linux.
func Open() (*Collector, error) { return nil, errNotLinux }

// Shared fails: eBPF recording needs Linux.
func Shared() (*Collector, error) { return nil, errNotLinux }

// Attach fails: eBPF recording needs Linux.
func (c *Collector) Attach(spec Spec) (*Probe, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return nil, errNotLinux
}

// NotRecorded says that nothing is recorded on this OS.
func (c *Collector) NotRecorded() []string {
	return []string{"everything (eBPF recording needs Linux)"}
}

// Unattributed fails: eBPF recording needs Linux.
func (c *Collector) Unattributed() (uint64, error) { return 0, errNotLinux }

// Close does nothing.
func (c *Collector) Close() error { return nil }

// Load fails: eBPF recording needs Linux.
func Load(spec Spec) (*Probe, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return nil, errNotLinux
}

// VerifierLog returns nil: no verifier runs on this OS.
func VerifierLog(err error) []string { return nil }

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
