package nsthread

import (
	"runtime"
	"syscall"
)

// Go runs f in a new goroutine locked to an OS thread that is not the
// process's main thread and that ends when f returns. (The Go runtime
// never ends the main thread: a namespace it entered would live as long
// as the process, and /proc/self/ns and /proc/self/mountinfo would name
// it.)
func Go(f func()) {
	go func() {
		runtime.LockOSThread()
		if syscall.Gettid() != syscall.Getpid() {
			f()
			return // without unlocking: the thread ends here
		}
		// On the main thread: hold it until another goroutine has locked a
		// different thread, then give the main thread back unharmed.
		locked := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(locked)
			f()
		}()
		<-locked
		runtime.UnlockOSThread()
	}()
}

// Do runs f as [Go] does and waits for its result.
func Do(f func() error) error {
	errc := make(chan error, 1)
	Go(func() { errc <- f() })
	return <-errc
}
