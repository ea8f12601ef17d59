//go:build !linux

package microvm

import (
	"context"
	"errors"

	"github.com/rgraph/rgraph/sandbox"
)

// Driver is the microVM driver. It needs Linux: on this system
// [Driver.Start] returns an error wrapping [sandbox.ErrUnsupported].
type Driver struct {
	cfg        Config
	unrecorded bool
}

// New returns the microVM driver.
func New(cfg Config) *Driver { return &Driver{cfg: cfg} }

// Name implements [sandbox.Driver].
func (*Driver) Name() string { return Name }

// Slowdown implements [sandbox.Slower]: [Config.Slowdown], else
// [TCGSlowdown], as under emulation (there is no KVM here).
func (d *Driver) Slowdown() float64 {
	if d.cfg.Slowdown > 0 {
		return d.cfg.Slowdown
	}
	return TCGSlowdown
}

// Start implements [sandbox.Driver]: it fails on this system.
func (*Driver) Start(context.Context, sandbox.Spec) (sandbox.Sandbox, error) {
	return nil, errNotLinux
}

// Check implements [sandbox.Checker]: Linux is missing.
func (*Driver) Check(context.Context) []sandbox.Requirement {
	return []sandbox.Requirement{{Name: "Linux", Detail: "this system is not Linux", Fix: "run rgraph's microVMs on Linux", Err: errNotLinux}}
}

var errNotLinux = sandbox.UnsupportedErr(errors.New("the microvm driver needs Linux (KVM or qemu's emulation, network namespaces)"))
