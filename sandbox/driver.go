package sandbox

import (
	"context"
	"fmt"
	"time"

	"github.com/rgraph/rgraph/collector"
)

// Spec is everything a driver needs to build one sandbox: a plain value
// that can be printed and compared. [Driver.Start] turns it into a live
// [Sandbox].
type Spec struct {
	// ID names the run and every object created for it; empty lets the
	// driver choose one.
	ID string
	// Rules is what the sandbox lets through; everything else is denied,
	// loopback included.
	Rules collector.Rules
	// Fault is how denied attempts fail.
	Fault    collector.FaultMode
	Upstream Upstream
	Resolver Resolver
	// Env is the environment of every command, KEY=VALUE.
	Env []string
	// Files are written into the working directory before anything runs.
	Files []File
	// Sockets are unix socket paths of the host ("/dir/*" for a
	// directory) that a driver which hides the host's sockets makes
	// reachable besides those of Rules.Unix: under Rules.All, the
	// catalog's.
	Sockets []string
	// User owns the working directory and the files written into it; nil
	// means root.
	User *User
	// SharedWorkDir makes the working directory writable by every user
	// (mode 1777, as /tmp), for runbooks whose steps run as several users.
	SharedWorkDir bool
}

// User is a user of the host's passwd database, whom a command runs as:
// with its user and group IDs and its supplementary groups, and with
// HOME, USER and LOGNAME set to its own.
type User struct {
	Name     string
	UID, GID uint32
	// Groups are the user's supplementary groups, from the host's group
	// database.
	Groups []uint32
	Home   string
}

// Where says in which part of the sandbox a command runs.
type Where int

const (
	// InRunbook runs under the recorder and the allowlist: what the
	// command attempts is the service's first hops.
	InRunbook Where = iota
	// InValidation runs in the same network namespace but outside the
	// recorder, so health checks of the service under test are neither
	// denied nor counted as its dependencies.
	InValidation
)

// Command is a shell command to run in a sandbox with sh -c.
type Command struct {
	// Name labels the command's log.
	Name  string
	Shell string
	Where Where
	// User is whom the command runs as; nil means root.
	User *User
}

// ExecResult is how a command ended.
type ExecResult struct {
	// ExitCode is the exit status of sh, or -1 when it was killed.
	ExitCode int
	// Output is the tail of the combined stdout and stderr; drivers need
	// not return more than [OutputLimit] bytes.
	Output string
	// TimedOut is true when ctx's deadline passed before the command
	// ended; it was then killed with its process group (as it is when ctx
	// is cancelled).
	TimedOut bool
	Duration time.Duration
}

// Kept says how to enter a sandbox left behind with [Sandbox.Keep].
type Kept struct {
	ID string
	// Enter is a shell command that starts a shell inside the sandbox.
	Enter string
	// Notes describe what the kept sandbox no longer does.
	Notes []string
}

// Driver builds sandboxes. Drivers live in packages of their own (the
// default, [DefaultDriver], in sandbox/netns) and make themselves known
// with [Register]. A driver may also implement [Checker] and [Reaper].
type Driver interface {
	// Name is what --driver selects and records carry.
	Name() string
	// Start builds a sandbox for spec. Errors wrap [ErrPermission] or
	// [ErrUnsupported] when privileges or kernel features are missing.
	Start(ctx context.Context, spec Spec) (Sandbox, error)
}

// Sandbox is one live sealed environment. Close (or Keep) must be called.
type Sandbox interface {
	// ID is the run ID every object of the sandbox is named after.
	ID() string
	// WorkDir is the commands' working directory ($RGRAPH_WORKDIR).
	WorkDir() string
	// Exec runs cmd and waits for it. ctx bounds it: when ctx ends the
	// command's process group is killed. The error is non-nil only when
	// the command could not be run at all.
	Exec(ctx context.Context, cmd Command) (ExecResult, error)
	// Probe makes a health check from inside the sandbox's network, outside
	// the recorder; nil means healthy.
	Probe(ctx context.Context, p Probe) error
	// Recording returns what the recorder saw so far.
	Recording() (collector.Recording, error)
	// Keep stops recording and leaves the sandbox in place for debugging;
	// [GC] with Kept removes it later.
	Keep() (Kept, error)
	// Close kills every process and removes every object of the sandbox.
	// It is safe to call more than once and after Keep (then a no-op).
	Close() error
}

// Liveness is implemented by sandboxes that can tell whether any process
// the runbook started (its steps and every descendant, daemons included)
// is still running. [Run] uses it to end a run whose validation failed
// once nothing is left that could make it pass.
type Liveness interface {
	// RunbookAlive reports whether a process of the runbook still runs.
	RunbookAlive() (bool, error)
}

// UpstreamProber is implemented by sandboxes that can look at the
// upstream the way the sandbox leaks back to it, but outside the recorder:
// nothing is denied, rewritten or recorded. [Run] uses it to learn whether
// the targets of denied TCP and unix attempts exist upstream
// ([collector.Attempt.Upstream]).
type UpstreamProber interface {
	// ProbeUpstream checks whether a TCP address ("tcp") or a socket path
	// ("unix") exists upstream, without using it: a TCP connect that is
	// closed at once, a look at the path (no connect: a socket-activated
	// service would start). The error is the connect's or the lookup's
	// (ECONNREFUSED, ENOENT, ...); nil means it is there.
	ProbeUpstream(ctx context.Context, network, address string) error
}

// Reaper is implemented by drivers that can find and remove what killed
// runs left behind; [GC] calls every registered one, and [Run] its own
// driver's before it starts.
type Reaper interface {
	// Reap removes the leftovers opts selects and returns what it found.
	// Errors wrap [ErrPermission] when reaping needs privileges the
	// caller lacks.
	Reap(ctx context.Context, opts GCOptions) ([]Leftover, error)
}

// GCOptions select what [GC] removes.
type GCOptions struct {
	// Kept also removes sandboxes left on purpose with --keep.
	Kept bool
	// DryRun lists what would be removed without removing it.
	DryRun bool
}

// Leftover is one object of a dead or kept run that GC found.
type Leftover struct {
	// Driver names the driver whose run left it.
	Driver string
	RunID  string
	// Kind says what the object is, in the driver's terms ("run",
	// "cgroup", ...).
	Kind string
	// Name is the object's path or interface name.
	Name string
	// Kept is true for objects of a run left with --keep.
	Kept bool
	// Err is set when removing the object failed.
	Err error
}

func (l Leftover) String() string {
	s := fmt.Sprintf("%s\t%s\t%s", l.RunID, l.Kind, l.Name)
	if l.Err != nil {
		s += "\t" + l.Err.Error()
	}
	return s
}
