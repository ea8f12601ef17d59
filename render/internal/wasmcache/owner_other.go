//go:build !unix

package wasmcache

import "io/fs"

// ownedByMe reports true: outside Unix the user cache directory's
// permissions are the operating system's business.
func ownedByMe(fs.FileInfo) bool { return true }
