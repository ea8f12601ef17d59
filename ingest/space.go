package ingest

import (
	"errors"
	"fmt"
	"strings"
)

// Badger writes its files through memory maps of sparse files, where a
// full file system cannot fail a write with ENOSPC: the kernel kills the
// process with SIGBUS instead. So the store sizes Badger's files for what
// it holds (see badgerOptions) and checks the free space before it lets
// Badger write (see Store.ensureSpace): a write that would not fit is
// refused with a [SpaceError] before anything is written.
//
// headroom is the space a write needs beside its own data: Badger's
// write-ahead log and the table a memtable is flushed into (one memtable
// each), the value log's header and discard statistics, the manifest.
// A write to an open store adds the LSM tree's size, which a compaction
// may rewrite (see Store.headroom).
const headroom = 2*memTableSize + 1<<20

// reclaimSpace is the free space value-log garbage collection needs on
// top of headroom: it rewrites what is still live in a value-log file
// that is at least half garbage, at most about half a file.
const reclaimSpace = valueLogFileSize

// ErrNoSpace is wrapped by the error a write returns when the store's
// file system has too little free space for it; the error is a
// [*SpaceError] that says how much.
var ErrNoSpace = errors.New("ingest: not enough free space")

// SpaceError is a write refused for lack of space: how much the file
// system holding the store has free, and roughly how much the write needs.
// The error wrapping it says what was being written.
type SpaceError struct {
	// Dir is the store's directory.
	Dir string
	// Free is the space available to this process, in bytes.
	Free int64
	// Data is the size of what was being written, 0 when unknown.
	Data int64
	// Need is the space the write needs: Data plus the headroom Badger
	// needs to write and close its files.
	Need int64
}

func (e *SpaceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "not enough free space in %s: %s free, about %s needed", e.Dir, formatBytes(e.Free), formatBytes(e.Need))
	if e.Data > 0 {
		fmt.Fprintf(&b, " (%s of data, %s for the store's own files)", formatBytes(e.Data), formatBytes(e.Need-e.Data))
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNoSpace) hold.
func (e *SpaceError) Is(target error) bool { return target == ErrNoSpace }

// freeSpace returns the bytes the file system holding a directory has
// available; tests replace it.
var freeSpace = statfsFree

// checkSpace returns a [*SpaceError] when the file system holding dir
// has less than data+extra bytes free for writing data bytes, and nil
// when it has them or cannot say.
func checkSpace(dir string, data, extra int64) error {
	free, err := freeSpace(dir)
	if err != nil || free >= data+extra {
		return nil
	}
	return &SpaceError{Dir: dir, Free: free, Data: data, Need: data + extra}
}

// outOfSpace is the [*SpaceError] for a write of data bytes the file
// system refused with ENOSPC.
func outOfSpace(dir string, data, extra int64) *SpaceError {
	free, _ := freeSpace(dir)
	return &SpaceError{Dir: dir, Free: free, Data: data, Need: data + extra}
}

// isNoSpace reports whether err from Badger (whose errors carry their
// causes only as text) is a file system that ran out of space.
func isNoSpace(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no space left on device")
}

// formatBytes formats n bytes for people: "512 B", "3.2 MiB".
func formatBytes(n int64) string {
	const unit = 1 << 10
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
