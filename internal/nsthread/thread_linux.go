package nsthread

// Thread is a locked OS thread that runs functions one at a time for as
// long as it lives: a thread moved into namespaces of its own once, from
// which processes are started (they are born in its namespaces) and to
// which sockets are opened. Processes started from it with a parent-death
// signal get it when the thread ends.
type Thread struct {
	reqs chan func()
	done chan struct{}
}

// Start starts a thread, runs setup on it and returns the thread once
// setup has returned nil. When setup fails, the thread ends and Start
// returns the error.
func Start(setup func() error) (*Thread, error) {
	t := &Thread{reqs: make(chan func()), done: make(chan struct{})}
	ready := make(chan error, 1)
	Go(func() {
		defer close(t.done)
		err := setup()
		ready <- err
		if err != nil {
			return
		}
		for f := range t.reqs {
			f()
		}
	})
	if err := <-ready; err != nil {
		return nil, err
	}
	return t, nil
}

// Do runs f on the thread and returns its error. After Stop it returns
// ErrStopped.
func (t *Thread) Do(f func() error) error {
	errc := make(chan error, 1)
	select {
	case <-t.done:
		return ErrStopped
	case t.reqs <- func() { errc <- f() }:
	}
	return <-errc
}

// Stop ends the thread after the function it runs, if any, returns. It
// is safe to call more than once, but not concurrently with Do.
func (t *Thread) Stop() {
	select {
	case <-t.done:
		return
	default:
	}
	close(t.reqs)
	<-t.done
}

// ErrStopped is returned by [Thread.Do] once the thread has ended.
var ErrStopped = errStopped{}

type errStopped struct{}

func (errStopped) Error() string { return "nsthread: the thread has ended" }
