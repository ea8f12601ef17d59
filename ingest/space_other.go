//go:build !(linux || darwin || freebsd)

package ingest

import "errors"

// statfsFree cannot tell the free space here; writes are not checked.
func statfsFree(string) (int64, error) { return 0, errors.ErrUnsupported }
