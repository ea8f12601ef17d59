package sandbox

import (
	"context"
	"fmt"
)

// Requirement is one thing a driver needs from the machine, as its
// [Checker] found it.
type Requirement struct {
	// Name says what is needed, e.g. "cgroup v2".
	Name string
	// OK is true when the machine has it.
	OK bool
	// Optional requirements only limit what runs record or offer; runs go
	// ahead without them.
	Optional bool
	// Detail is what was found, or what is missing, in one sentence.
	Detail string
	// Fix says how to get what is missing.
	Fix string
	// Err, for a missing requirement, wraps [ErrPermission] or
	// [ErrUnsupported].
	Err error
}

// Checker is implemented by drivers that can say what they need from the
// machine. Check must not change the machine.
type Checker interface {
	Check(ctx context.Context) []Requirement
}

// Report is what [Check] found for one driver.
type Report struct {
	Driver       string
	Requirements []Requirement
}

// Err returns nil when every requirement that is not optional is met, or
// the error of the first one that is not: it wraps [ErrPermission] or
// [ErrUnsupported] and says in one sentence what is missing.
func (r Report) Err() error {
	for _, req := range r.Requirements {
		if req.OK || req.Optional {
			continue
		}
		if req.Err != nil {
			return req.Err
		}
		return UnsupportedErr(fmt.Errorf("the %s driver needs %s: %s", r.Driver, req.Name, req.Detail))
	}
	return nil
}

// Check asks each named driver (every registered one when no name is
// given; "" is [DefaultDriver]) what it needs and what this machine
// lacks. A driver that is not a [Checker] reports no requirements. The
// error is for an unknown name only; what the machine lacks is in the
// reports (see [Report.Err]).
func Check(ctx context.Context, names ...string) ([]Report, error) {
	if len(names) == 0 {
		names = List()
	}
	var out []Report
	for _, name := range names {
		d, err := Lookup(name)
		if err != nil {
			return nil, err
		}
		r := Report{Driver: d.Name()}
		if c, ok := d.(Checker); ok {
			r.Requirements = c.Check(ctx)
		}
		out = append(out, r)
	}
	return out, nil
}

// Ready returns nil when the driver called name ("" for [DefaultDriver])
// can run sandboxes here, or an error wrapping [ErrUnknownDriver],
// [ErrPermission] or [ErrUnsupported] that says what is missing.
func Ready(ctx context.Context, name string) error {
	reports, err := Check(ctx, name)
	if err != nil {
		return err
	}
	return reports[0].Err()
}
