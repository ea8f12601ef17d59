package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/rgraph/rgraph/sandbox"
)

// Exit codes of rgraph. They are documented in docs/exit-codes.md and
// mapped from errors in exitCode, the only place that chooses one.
const (
	exitOK           = 0   // success
	exitError        = 1   // runtime error: bad input, store failure, ...
	exitUsage        = 2   // usage error: unknown flag, bad argument
	exitFindings     = 3   // findings asked for with --fail-on / --exit-code
	exitPrivilege    = 4   // missing privilege or unsupported kernel
	exitNotRecovered = 5   // rgraph run: the scenario did not recover
	exitCreep        = 6   // rgraph run --check: attempts outside the committed allowlist
	exitInterrupted  = 130 // interrupted (SIGINT/SIGTERM)
)

// exitErr carries an exit code chosen by a command together with the
// message to print (empty for none).
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitErr) Unwrap() error { return e.err }

// usageErrorf reports a usage error (exit 2).
func usageErrorf(format string, args ...any) error {
	return &exitErr{exitUsage, fmt.Errorf(format, args...)}
}

// withCode attaches an exit code to err; a nil err gives a silent exit.
func withCode(code int, err error) error { return &exitErr{code, err} }

// privilegeSentinels are the errors that mean "needs root or a kernel
// feature": exit 4. (The sandbox wraps collector/probe's own sentinels.)
var privilegeSentinels = []error{sandbox.ErrPermission, sandbox.ErrUnsupported}

// exitCode maps an error returned by a command to the process exit code.
func exitCode(ctx context.Context, err error) int {
	var ee *exitErr
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return exitInterrupted
	}
	for _, s := range privilegeSentinels {
		if errors.Is(err, s) {
			return exitPrivilege
		}
	}
	return exitError
}
