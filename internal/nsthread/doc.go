// Package nsthread runs code on an OS thread of its own that ends with it,
// for code that moves its thread into other Linux namespaces.
//
// A Linux thread, not a process, owns its network and mount namespace. A
// goroutine that entered a namespace must therefore keep its thread
// locked and never unlock it: when it returns, the Go runtime ends the
// thread instead of handing a thread in a foreign namespace to other
// goroutines. Threads the runtime creates meanwhile are cloned from its
// template thread, so they do not inherit the namespaces either.
//
// It is Linux-only.
package nsthread
