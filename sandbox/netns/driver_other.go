//go:build !linux

package netns

import (
	"context"
	"errors"

	"github.com/rgraph/rgraph/sandbox"
)

// Driver is the network-namespace driver. It needs Linux: on this system
// [Driver.Start] returns an error wrapping [sandbox.ErrUnsupported].
type Driver struct{}

// New returns the network-namespace driver.
func New() *Driver { return &Driver{} }

// Name implements [sandbox.Driver].
func (*Driver) Name() string { return Name }

// Start implements [sandbox.Driver]: it fails on this system.
func (*Driver) Start(context.Context, sandbox.Spec) (sandbox.Sandbox, error) {
	return nil, errNotLinux
}

// Check implements [sandbox.Checker]: Linux is missing.
func (*Driver) Check(context.Context) []sandbox.Requirement {
	return []sandbox.Requirement{{Name: "Linux", Detail: "this system is not Linux", Fix: "run rgraph's sandboxes on Linux", Err: errNotLinux}}
}

var errNotLinux = sandbox.UnsupportedErr(errors.New("the netns driver needs Linux network namespaces and cgroups"))
