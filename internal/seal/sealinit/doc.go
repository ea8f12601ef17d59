// Package sealinit is the body of a sandbox's init (internal/seal): PID 1
// of the sandbox's PID namespace, which is rgraph's own binary executed
// again. Its init function turns such a process into the init. It
// imports nothing but syscall and unsafe, so that the Go runtime
// initializes it before almost every other package of the binary: the
// init does not pay for the packages it does not use.
//
// The init reaps orphans, reads its control pipe (descriptor 3) and ends
// at its end of file, taking every process of its namespace with it,
// unless told "keep" first; told "proc" it mounts /proc for its namespace
// (internal/seal.MountProc does the same from outside on kernels whose
// proc has the pidns option) and reports "ok" or what went wrong on its
// ready pipe (descriptor 4). It ignores the signals processes of its
// namespace could send it.
//
// It is Linux-only.
package sealinit
