package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rgraph/rgraph/collector/probe"
	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/sandbox"
)

// Exit codes of rgraph. They are documented in docs/exit-codes.md. Verbs
// return errors; exitCode, the only place that chooses a code, maps them.
const (
	exitOK           = 0   // success
	exitError        = 1   // runtime error: bad input, store failure, ...
	exitUsage        = 2   // usage error: unknown flag, bad argument
	exitFindings     = 3   // findings asked for with --fail-on / --exit-code
	exitPrivilege    = 4   // missing privilege or unsupported kernel
	exitNotRecovered = 5   // rgraph run: the scenario did not recover
	exitCreep        = 6   // rgraph run --check: attempts outside the committed allowlist
	exitNoPath       = 7   // rgraph why: an answer, the first service does not need the second
	exitInternal     = 70  // a bug: a panic, or a crash of the Graphviz worker (sysexits' EX_SOFTWARE)
	exitInterrupted  = 130 // interrupted (SIGINT/SIGTERM)
)

// usageError is a problem with the command line (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf reports a usage error (exit 2).
func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// findingsError says findings the caller asked to fail on were found
// (exit 3): --fail-on, --exit-code.
type findingsError struct {
	n    int
	what string // e.g. "bootstrap cycle(s) in release r1"
}

func (e *findingsError) Error() string { return fmt.Sprintf("%d %s", e.n, e.what) }

// notRecoveredError says a scenario never passed its validation (exit 5).
// Without a cause it prints nothing: the run's summary already said so.
type notRecoveredError struct{ cause error }

func (e *notRecoveredError) Error() string {
	if e.cause == nil {
		return ""
	}
	return e.cause.Error()
}

func (e *notRecoveredError) Unwrap() error { return e.cause }

// creepError says a run --check attempted something outside the committed
// allowlist (exit 6). It prints nothing: the summary lists the attempts.
type creepError struct{}

func (e *creepError) Error() string { return "" }

// noPathError says that rgraph why found no chain of needs (exit 7): an
// answer, not a failure. It prints nothing: the answer went to stdout.
type noPathError struct{}

func (e *noPathError) Error() string { return "" }

// interruptedError says a command was interrupted after writing what it
// had (exit 130).
type interruptedError struct{ what string }

func (e *interruptedError) Error() string { return "interrupted: " + e.what }

// internalError is a bug in rgraph: a panic recovered by run (exit 70).
// A crash of the Graphviz worker, a [*render.CrashError], is one too.
type internalError struct {
	what   string
	detail []byte // the stack, printed only under RGRAPH_DEBUG
}

func (e *internalError) Error() string { return e.what }

// exitCode maps an error returned by a command to the process exit code.
func exitCode(ctx context.Context, err error) int {
	var (
		internal     *internalError
		crash        *render.CrashError
		usage        *usageError
		interrupted  *interruptedError
		findings     *findingsError
		notRecovered *notRecoveredError
		creep        *creepError
		noPath       *noPathError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &internal), errors.As(err, &crash):
		return exitInternal
	case errors.As(err, &usage):
		return exitUsage
	case errors.As(err, &interrupted), errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &findings):
		return exitFindings
	case errors.As(err, &notRecovered):
		return exitNotRecovered
	case errors.As(err, &creep):
		return exitCreep
	case errors.As(err, &noPath):
		return exitNoPath
	case errors.Is(err, sandbox.ErrPermission), errors.Is(err, sandbox.ErrUnsupported):
		// The sandbox wraps collector/probe's own sentinels.
		return exitPrivilege
	}
	return exitError
}

// bugReport is how an internal error asks for a report.
const bugReport = "this is a bug in rgraph: please report it (RGRAPH_DEBUG=1 shows the details)"

// report prints err, the one hint its exit code has, and with debug the
// details behind an internal error, to w.
func report(w io.Writer, code int, err error, debug bool) {
	if code == exitInternal {
		fmt.Fprintf(w, "rgraph: internal error: %v; %s\n", err, bugReport)
		if debug {
			if d := internalDetail(err); len(d) > 0 {
				fmt.Fprintf(w, "%s\n", strings.TrimRight(string(d), "\n"))
			}
		}
		return
	}
	if err.Error() == "" {
		return
	}
	fmt.Fprintf(w, "rgraph: %v\n", err)
	if h := hint(code, err, debug); h != "" {
		fmt.Fprintln(w, h)
	}
}

// hint is the one line that follows an error with the given exit code.
func hint(code int, err error, debug bool) string {
	switch code {
	case exitUsage:
		return "Run 'rgraph --help' for usage."
	case exitPrivilege:
		if log := probe.VerifierLog(err); len(log) > 0 {
			if !debug {
				return "Set RGRAPH_DEBUG=1 to see the kernel verifier's log."
			}
			return fmt.Sprintf("verifier log (last %d lines):\n  %s", len(log), strings.Join(log, "\n  "))
		}
		if errors.Is(err, sandbox.ErrPermission) {
			return "Run rgraph as root, or with CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_BPF."
		}
		return "Sandboxes need Linux with network namespaces, a cgroup v2 hierarchy and eBPF."
	}
	return ""
}

// internalDetail is what RGRAPH_DEBUG shows of an internal error.
func internalDetail(err error) []byte {
	var (
		internal *internalError
		crash    *render.CrashError
	)
	switch {
	case errors.As(err, &internal):
		return internal.detail
	case errors.As(err, &crash):
		return crash.Output
	}
	return nil
}
