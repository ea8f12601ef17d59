package sandbox

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// regDriver is a registrable driver that reports fixed requirements and
// leftovers.
type regDriver struct {
	name string
	reqs []Requirement
	left []Leftover
	err  error
}

func (d *regDriver) Name() string { return d.name }
func (d *regDriver) Start(context.Context, Spec) (Sandbox, error) {
	return nil, errors.New("not for running")
}
func (d *regDriver) Check(context.Context) []Requirement                 { return d.reqs }
func (d *regDriver) Reap(context.Context, GCOptions) ([]Leftover, error) { return d.left, d.err }

// plainDriver implements neither Checker nor Reaper.
type plainDriver struct{ name string }

func (d plainDriver) Name() string { return d.name }
func (d plainDriver) Start(context.Context, Spec) (Sandbox, error) {
	return nil, errors.New("not for running")
}

// withRegistry runs the test with only drivers registered, and restores
// the process's registry afterwards.
func withRegistry(t *testing.T, drivers ...Driver) {
	t.Helper()
	registry.Lock()
	saved := registry.drivers
	registry.drivers = nil
	registry.Unlock()
	t.Cleanup(func() {
		registry.Lock()
		registry.drivers = saved
		registry.Unlock()
	})
	for _, d := range drivers {
		Register(d)
	}
}

func TestRegistry(t *testing.T) {
	def := &regDriver{name: DefaultDriver}
	withRegistry(t, &regDriver{name: "zz"}, plainDriver{"aa"}, def)

	if got, want := List(), []string{DefaultDriver, "aa", "zz"}; !slices.Equal(got, want) {
		t.Errorf("List() = %v, want %v (the default first)", got, want)
	}
	for _, name := range []string{"", DefaultDriver} {
		if d, err := Lookup(name); err != nil || d != Driver(def) {
			t.Errorf("Lookup(%q) = %v, %v; want the default driver", name, d, err)
		}
	}
	_, err := Lookup("kvm")
	if !errors.Is(err, ErrUnknownDriver) || !strings.Contains(err.Error(), "known: netns, aa, zz") {
		t.Errorf("Lookup(kvm) = %v, want ErrUnknownDriver listing the known drivers", err)
	}
	for _, d := range []Driver{&regDriver{name: "zz"}, plainDriver{""}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", d.Name())
				}
			}()
			Register(d)
		}()
	}
}

func TestLookupNoDrivers(t *testing.T) {
	withRegistry(t)
	if _, err := Lookup(""); !errors.Is(err, ErrUnknownDriver) || !strings.Contains(err.Error(), "sandbox/netns") {
		t.Errorf("Lookup with nothing registered = %v, want a hint to import the default driver", err)
	}
	if _, err := Run(context.Background(), &Scenario{Name: "x"}, Options{}); !errors.Is(err, ErrUnknownDriver) {
		t.Errorf("Run without a driver = %v, want ErrUnknownDriver", err)
	}
}

func TestGCEveryDriver(t *testing.T) {
	withRegistry(t,
		&regDriver{name: DefaultDriver, left: []Leftover{{RunID: "1", Kind: "run"}}},
		&regDriver{name: "vm", left: []Leftover{{RunID: "2", Kind: "vm"}}, err: ErrPermission},
		plainDriver{"plain"},
	)
	left, err := GC(context.Background(), GCOptions{})
	var got []string
	for _, l := range left {
		got = append(got, l.Driver+"/"+l.RunID+"/"+l.Kind)
	}
	if want := []string{"netns/1/run", "vm/2/vm"}; !slices.Equal(got, want) {
		t.Errorf("GC found %v, want %v", got, want)
	}
	if !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "vm driver") {
		t.Errorf("GC error = %v, want the vm driver's ErrPermission", err)
	}
}

func TestCheck(t *testing.T) {
	missing := Requirement{Name: "kvm", Detail: "no /dev/kvm", Fix: "load kvm"}
	withRegistry(t,
		&regDriver{name: DefaultDriver, reqs: []Requirement{{Name: "a", OK: true}, {Name: "opt", Optional: true}}},
		&regDriver{name: "vm", reqs: []Requirement{{Name: "a", OK: true}, missing, {Name: "root", Err: ErrPermission}}},
		plainDriver{"plain"},
	)
	reports, err := Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range reports {
		names = append(names, r.Driver)
	}
	if want := []string{DefaultDriver, "plain", "vm"}; !slices.Equal(names, want) {
		t.Errorf("Check() reported %v, want %v", names, want)
	}
	tests := []struct {
		name    string
		wantErr error
		wantMsg string
	}{
		{"", nil, ""},
		{"plain", nil, ""},
		{"vm", ErrUnsupported, "the vm driver needs kvm: no /dev/kvm"},
		{"kvm", ErrUnknownDriver, `unknown driver "kvm"`},
	}
	for _, tt := range tests {
		err := Ready(context.Background(), tt.name)
		if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.wantMsg)) {
			t.Errorf("Ready(%q) = %v, want %v containing %q", tt.name, err, tt.wantErr, tt.wantMsg)
		}
	}
}
