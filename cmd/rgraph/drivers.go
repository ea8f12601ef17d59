package main

import (
	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/microvm"
	_ "github.com/rgraph/rgraph/sandbox/netns"
)

// The sandbox drivers rgraph ships: importing a driver's package
// registers it with the sandbox package (sandbox.Register).

// addAccelFlag defines --accel, the microvm driver's CPU accelerator.
func addAccelFlag(cmd *cobra.Command, p *string) {
	addEnumFlag(cmd, p, "accel", "", "CPU accelerator of --driver microvm (auto: KVM where the CPU virtualizes, else emulation)",
		string(microvm.AccelAuto), string(microvm.AccelKVM), string(microvm.AccelTCG))
}

// lookupDriver returns the driver --driver names, configured by the
// driver-specific flags.
func lookupDriver(name, accel string) (sandbox.Driver, error) {
	d, err := sandbox.Lookup(name)
	if err != nil {
		return nil, usageErrorf("--driver: %v", err)
	}
	if d.Name() == microvm.Name {
		a, err := microvm.ParseAccel(accel)
		if err != nil {
			return nil, usageErrorf("--accel: %v", err)
		}
		return microvm.New(microvm.Config{Accel: a}), nil
	}
	if accel != "" && accel != string(microvm.AccelAuto) {
		return nil, usageErrorf("--accel applies to --driver microvm only")
	}
	return d, nil
}
