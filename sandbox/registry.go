package sandbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// DefaultDriver is the name of the driver [Lookup] returns for "" and
// [Run] uses when [Options] names none: the network-namespace driver of
// sandbox/netns.
const DefaultDriver = "netns"

var registry struct {
	sync.RWMutex
	drivers map[string]Driver
}

// Register makes d known by its name to [Lookup], [List], [Check] and
// [GC]. Driver packages call it from their init function, so that a blank
// import of the package is enough (as database/sql drivers do). It panics
// when the name is empty or taken: that is a programming error.
func Register(d Driver) {
	name := d.Name()
	registry.Lock()
	defer registry.Unlock()
	if name == "" {
		panic("sandbox: Register of a driver without a name")
	}
	if _, dup := registry.drivers[name]; dup {
		panic("sandbox: Register called twice for driver " + name)
	}
	if registry.drivers == nil {
		registry.drivers = map[string]Driver{}
	}
	registry.drivers[name] = d
}

// Lookup returns the registered driver called name; "" means
// [DefaultDriver]. An unknown name wraps [ErrUnknownDriver] and lists the
// known ones.
func Lookup(name string) (Driver, error) {
	if name == "" {
		name = DefaultDriver
	}
	registry.RLock()
	d, ok := registry.drivers[name]
	registry.RUnlock()
	if !ok {
		known := List()
		if len(known) == 0 {
			return nil, fmt.Errorf("%w %q (no driver is registered: import github.com/rgraph/rgraph/sandbox/netns)", ErrUnknownDriver, name)
		}
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownDriver, name, strings.Join(known, ", "))
	}
	return d, nil
}

// List returns the names of the registered drivers: [DefaultDriver]
// first when it is registered, then the others sorted.
func List() []string {
	registry.RLock()
	defer registry.RUnlock()
	var names []string
	for name := range registry.drivers {
		if name != DefaultDriver {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if _, ok := registry.drivers[DefaultDriver]; ok {
		names = append([]string{DefaultDriver}, names...)
	}
	return names
}

// drivers returns the registered drivers in [List] order.
func drivers() []Driver {
	names := List()
	registry.RLock()
	defer registry.RUnlock()
	out := make([]Driver, len(names))
	for i, name := range names {
		out[i] = registry.drivers[name]
	}
	return out
}

// GC removes what killed runs of every registered [Reaper] left behind
// and, with opts.Kept, sandboxes kept on purpose. Runs whose
// owner is alive are never touched. It returns what it found, each
// leftover with its driver's name, and the errors of every driver joined.
func GC(ctx context.Context, opts GCOptions) ([]Leftover, error) {
	var out []Leftover
	var errs []error
	for _, d := range drivers() {
		r, ok := d.(Reaper)
		if !ok {
			continue
		}
		left, err := r.Reap(ctx, opts)
		for i := range left {
			left[i].Driver = d.Name()
		}
		out = append(out, left...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s driver: %w", d.Name(), err))
		}
	}
	return out, errors.Join(errs...)
}
