//go:build !linux

package sandbox

import (
	"context"
	"fmt"
)

type netnsDriver struct{}

// NetNS returns the network-namespace driver; it needs Linux, so on this
// system [Driver.Start] returns an error wrapping [ErrUnsupported].
func NetNS() Driver { return netnsDriver{} }

func (netnsDriver) Name() string { return "netns" }

func (netnsDriver) Start(context.Context, Spec) (Sandbox, error) {
	return nil, fmt.Errorf("%w: the netns driver needs Linux network namespaces and cgroups", ErrUnsupported)
}
