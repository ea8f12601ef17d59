//go:build linux || darwin || freebsd

package ingest

import "golang.org/x/sys/unix"

// statfsFree returns the bytes the file system holding dir has available
// to an unprivileged process.
func statfsFree(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
