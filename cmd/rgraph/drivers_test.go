package main

import (
	"errors"
	"testing"

	"github.com/rgraph/rgraph/sandbox/microvm"
)

func TestLookupDriver(t *testing.T) {
	for _, tt := range []struct {
		driver, accel string
		want          string // the driver's name; "" for a usage error
	}{
		{"netns", "auto", "netns"},
		{"", "", "netns"},
		{"microvm", "tcg", "microvm"},
		{"microvm", "auto", "microvm"},
		{"netns", "kvm", ""},
		{"microvm", "hvf", ""},
		{"firecracker", "", ""},
	} {
		d, err := lookupDriver(tt.driver, tt.accel)
		var ue *usageError
		switch {
		case tt.want == "" && !errors.As(err, &ue):
			t.Errorf("lookupDriver(%q, %q) = %v, want a usage error", tt.driver, tt.accel, err)
		case tt.want != "" && (err != nil || d.Name() != tt.want):
			t.Errorf("lookupDriver(%q, %q) = %v, %v, want %s", tt.driver, tt.accel, d, err, tt.want)
		}
	}
	if d, _ := lookupDriver("microvm", "tcg"); d.(*microvm.Driver).Slowdown() != microvm.TCGSlowdown {
		t.Errorf("--accel tcg: the driver's slowdown is not the emulation's")
	}
}
