// Package sealinit mounts /proc from inside a sandbox's PID namespace, on
// kernels whose proc file system has no pidns option to do it from
// outside (internal/seal). The helper that does it is rgraph's own binary
// executed again, with [ProcEnv] set, which this package's init function
// turns into the helper. The package imports nothing but syscall, so that
// the Go runtime initializes it before almost every other package of the
// binary: the helper does not pay for the packages it does not use.
//
// It is Linux-only.
package sealinit
