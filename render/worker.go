package render

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/rgraph/rgraph/render/internal/gvwire"
)

// Graphviz runs as WebAssembly that wazero compiles to machine code
// (render/graphviz). Instantiating it costs every process that links it
// 0.15 s or more at startup, and when the compiled code goes wrong (wazero
// before v1.9.0 on Go 1.24 and later, see go.mod) the Go runtime ends the
// whole process with a fatal error: no recover catches it, and its exit
// status (2, or 4 when even the stack trace fails) says "usage error" or
// "missing privilege" to a script reading rgraph's exit codes. render
// therefore does not link Graphviz: [UseWorker] lays out in a child
// process (cmd/rgraph-graphviz), where a crash becomes a [*CrashError],
// and [UseLayout] in this process for programs that link render/graphviz.

// ErrNoGraphviz is returned by [SVG] and [PNG] when the program set up
// neither [UseWorker] nor [UseLayout].
var ErrNoGraphviz = errors.New("render: no Graphviz to lay out with")

// CrashError is returned by [SVG] and [PNG] when the Graphviz worker
// process of [UseWorker] ended before answering. It is a bug, in rgraph or
// below it, not a problem with the input.
type CrashError struct {
	// State is how the worker ended, as the operating system reports it:
	// "exit status 4", "signal: segmentation fault".
	State string
	// Output is the end of what the worker wrote to stdout and stderr: the
	// Go runtime's report of the crash.
	Output []byte
}

func (e *CrashError) Error() string {
	return "render: the graphviz worker process crashed (" + e.State + ")"
}

// UseWorker makes [SVG] and [PNG], and everything built on them, lay out
// DOT in a child process that command creates, instead of in this
// process. The child must call render/graphviz's Serve; command must not
// set the Cmd's Stdin, Stdout, Stderr or ExtraFiles, and its error (no
// worker to run, say) is returned by the SVG or PNG call that needed it.
// The child is started on first use, kept for later calls, and replaced
// after a crash or a cancelled call. stop ends it and makes SVG and PNG
// lay out as before.
func UseWorker(command func() (*exec.Cmd, error)) (stop func()) {
	worker.mu.Lock()
	defer worker.mu.Unlock()
	worker.command = command
	return func() {
		worker.mu.Lock()
		defer worker.mu.Unlock()
		worker.command = nil
		if worker.proc != nil {
			worker.proc.stop()
			worker.proc = nil
		}
	}
}

// Layouter lays out DOT source as format ("svg" or "png") in this process:
// render/graphviz's Layout. Errors about the DOT wrap [ErrGraphviz].
type Layouter func(ctx context.Context, dot []byte, format string) ([]byte, error)

// UseLayout makes [SVG] and [PNG] lay out with l in this process when
// [UseWorker] has not set up a worker; stop undoes it.
func UseLayout(l Layouter) (stop func()) {
	worker.mu.Lock()
	defer worker.mu.Unlock()
	prev := worker.inProcess
	worker.inProcess = l
	return func() {
		worker.mu.Lock()
		defer worker.mu.Unlock()
		worker.inProcess = prev
	}
}

// worker is the process-wide choice of where Graphviz runs, and the
// running child when it runs in one.
var worker workerPool

type workerPool struct {
	mu        sync.Mutex
	command   func() (*exec.Cmd, error)
	inProcess Layouter
	proc      *workerProc
}

// layout lays out dot in the worker when [UseWorker] asked for one, else
// in this process with [UseLayout]'s Layouter.
func (p *workerPool) layout(ctx context.Context, dot []byte, format string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.command == nil {
		if p.inProcess == nil {
			return nil, ErrNoGraphviz
		}
		return p.inProcess(ctx, dot, format)
	}
	if p.proc == nil {
		cmd, err := p.command()
		if err != nil {
			return nil, err
		}
		proc, err := startWorker(cmd)
		if err != nil {
			return nil, err
		}
		p.proc = proc
	}
	out, err := p.proc.layout(ctx, dot, format)
	var crash *CrashError
	if errors.As(err, &crash) || ctx.Err() != nil {
		p.proc.stop()
		p.proc = nil
	}
	return out, err
}

// workerProc is one running worker.
type workerProc struct {
	cmd     *exec.Cmd
	in      *os.File // requests
	out     *os.File // replies
	replies *bufio.Reader
	output  *tail
	done    chan struct{} // closed when the process has been waited for
}

func startWorker(cmd *exec.Cmd) (*workerProc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("render: starting the graphviz worker: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("render: starting the graphviz worker: %w", err)
	}
	output := &tail{max: 64 << 10}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, output, output
	cmd.ExtraFiles = []*os.File{outW}
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("render: starting the graphviz worker: %w", err)
	}
	p := &workerProc{cmd: cmd, in: inW, out: outR, replies: bufio.NewReader(outR), output: output, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// layout sends one request and waits for its reply, for the worker to
// end, or for ctx to be done (then the worker is killed).
func (p *workerProc) layout(ctx context.Context, dot []byte, format string) ([]byte, error) {
	op, ok := gvwire.Op(format)
	if !ok {
		return nil, fmt.Errorf("render: format %s cannot be laid out", format)
	}
	type reply struct {
		kind byte
		body []byte
		err  error
	}
	replied := make(chan reply, 1)
	go func() {
		if err := gvwire.WriteFrame(p.in, op, dot); err != nil {
			replied <- reply{err: err}
			return
		}
		kind, body, err := gvwire.ReadFrame(p.replies)
		replied <- reply{kind, body, err}
	}()
	var r reply
	select {
	case r = <-replied:
	case <-ctx.Done():
		p.cmd.Process.Kill()
		<-replied
		return nil, ctx.Err()
	}
	switch {
	case r.err != nil:
		return nil, p.crash()
	case r.kind == gvwire.ReplyOK:
		return r.body, nil
	case r.kind == gvwire.ReplyGraphviz:
		return nil, fmt.Errorf("%w: %s", ErrGraphviz, r.body)
	}
	return nil, errors.New(string(r.body))
}

// crash waits briefly for a worker that broke the protocol to end, and
// describes how it ended.
func (p *workerProc) crash() error {
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	state := "no exit status"
	if ps := p.cmd.ProcessState; ps != nil {
		state = ps.String()
	}
	return &CrashError{State: state, Output: p.output.bytes()}
}

// stop ends the worker: closing its input asks it to exit; it is killed
// if it has not within a few seconds.
func (p *workerProc) stop() {
	p.in.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	p.out.Close()
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tail) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.buf...)
}
