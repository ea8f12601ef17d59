package ingest

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is wrapped by errors for a release the store does not
	// hold; the message names the release.
	ErrNotFound = errors.New("no such release")
	// ErrNoReleases is returned by [Store.Latest] for an empty store;
	// errors.Is(ErrNoReleases, ErrNotFound) holds.
	ErrNoReleases error = noReleases{}
	// ErrReleaseExists is wrapped by the error [Store.Put] and
	// [Store.Ingest] return when the release name is taken and Replace was
	// not asked for; the message names the release.
	ErrReleaseExists = errors.New("release already exists")
	// ErrInvalidInput is wrapped by every error [Parse] returns for
	// malformed input; the message names the file and, where known, the
	// line and field.
	ErrInvalidInput = errors.New("ingest: invalid input")
	// ErrInvalidName is wrapped by the error for an unusable release name.
	ErrInvalidName = errors.New("ingest: invalid release name")
	// ErrLocked is wrapped by the error [Open] and [OpenReadOnly] return
	// when another process holds the store's directory lock; the error is
	// a [*LockedError] naming the processes.
	ErrLocked = errors.New("ingest: store is in use by another process")
	// ErrNoStore is wrapped by the error [OpenReadOnly] returns for a
	// directory that does not exist or holds no store; the message names
	// the directory.
	ErrNoStore = errors.New("no store")
	// ErrReadOnly is wrapped by the error a write returns on a store
	// opened with [OpenReadOnly].
	ErrReadOnly = errors.New("ingest: store is open read-only")
	// ErrCorrupt is wrapped by errors for stored data that fails its
	// checks (checksum, encoding, graph invariants).
	ErrCorrupt = errors.New("ingest: store data is corrupt")
	// ErrFormat is wrapped by the error [Open] returns for a store written
	// in a newer format than this rgraph reads.
	ErrFormat = errors.New("ingest: unsupported store format")
)

type noReleases struct{}

func (noReleases) Error() string        { return "the store has no releases" }
func (noReleases) Is(target error) bool { return target == ErrNotFound }

// inputError is malformed input: its message names file, line and field,
// and it matches both [ErrInvalidInput] and the error it wraps (for
// example a *decode.Error).
type inputError struct{ err error }

func (e *inputError) Error() string   { return e.err.Error() }
func (e *inputError) Unwrap() []error { return []error{ErrInvalidInput, e.err} }

// invalid marks err as malformed input.
func invalid(err error) error {
	if err == nil || errors.Is(err, ErrInvalidInput) {
		return err
	}
	return &inputError{err}
}

// invalidf formats a malformed-input error.
func invalidf(format string, args ...any) error {
	return invalid(fmt.Errorf(format, args...))
}
