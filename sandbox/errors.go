package sandbox

import "errors"

// ErrPermission is wrapped by errors that mean the caller lacks the
// privileges a driver needs (for the default driver: root, or
// CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_BPF). Its text is short; saying how
// to get the privileges is the command line's job.
var ErrPermission = errors.New("sandbox: permission denied")

// ErrUnsupported is wrapped by errors that mean this OS or kernel lacks
// something a driver needs (network namespaces, a cgroup v2 hierarchy, an
// eBPF feature).
var ErrUnsupported = errors.New("sandbox: unsupported")

// ErrUnknownDriver is returned by [Lookup] for a name no registered driver has.
var ErrUnknownDriver = errors.New("sandbox: unknown driver")

// ErrInvalidScenario is matched by every error about the content of a
// scenario file: a *decode.Error (package collector/decode) naming the
// file, line and field.
var ErrInvalidScenario = errors.New("sandbox: invalid scenario")

// PermissionErr returns err made to match [ErrPermission] as well, with
// err's message unchanged: drivers wrap their privilege failures with it.
func PermissionErr(err error) error { return &sentinelError{ErrPermission, err} }

// UnsupportedErr returns err made to match [ErrUnsupported] as well, with
// err's message unchanged: drivers wrap what the system lacks with it.
func UnsupportedErr(err error) error { return &sentinelError{ErrUnsupported, err} }

// sentinelError makes err match a sentinel without adding the sentinel's
// words to err's message, which already says what went wrong.
type sentinelError struct{ sentinel, err error }

func (e *sentinelError) Error() string   { return e.err.Error() }
func (e *sentinelError) Unwrap() []error { return []error{e.sentinel, e.err} }
