package render

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-graphviz"
)

// Graphviz runs as WebAssembly that wazero compiles to machine code. When
// that code goes wrong (wazero before v1.9.0 on Go 1.24 and later, see
// go.mod), the Go runtime ends the whole process with a fatal error: no
// recover catches it, and its exit status (2, or 4 when even the stack
// trace fails) says "usage error" or "missing privilege" to a script
// reading rgraph's exit codes. [UseWorker] therefore lets a program lay
// out in a child process of itself, where a crash becomes a [*CrashError].

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
// process. The child must call [ServeWorker]; command must not set the
// Cmd's Stdin, Stdout, Stderr or ExtraFiles. The child is started on first
// use, kept for later calls, and replaced after a crash or a cancelled
// call. stop ends it and makes SVG and PNG lay out in-process again.
func UseWorker(command func() *exec.Cmd) (stop func()) {
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

// ServeWorker is the child's side of [UseWorker]: it answers requests
// read from standard input on file descriptor 3, one at a time, until
// standard input ends. Standard output is left to whatever Graphviz prints.
func ServeWorker() error {
	replies := os.NewFile(3, "graphviz-replies")
	if replies == nil {
		return errWorkerFD
	}
	if _, err := replies.Stat(); err != nil {
		return errWorkerFD
	}
	defer replies.Close()
	return serve(os.Stdin, replies)
}

var errWorkerFD = errors.New("render: the graphviz worker is started by rgraph itself, with replies on file descriptor 3")

// The protocol between the two sides. A request is an operation byte and
// the DOT source; a reply is a status byte and the drawing or an error
// message. Both are framed by a big-endian uint32 length.
const (
	opSVG byte = 's'
	opPNG byte = 'p'

	replyOK       byte = 0
	replyGraphviz byte = 1 // the message of an error wrapping ErrGraphviz, without its prefix
	replyError    byte = 2

	maxFrame = 1 << 30
)

var formatOps = map[graphviz.Format]byte{graphviz.SVG: opSVG, graphviz.PNG: opPNG}

func writeFrame(w io.Writer, kind byte, body []byte) error {
	if len(body) > maxFrame {
		return fmt.Errorf("render: %d bytes are too many for the graphviz worker", len(body))
	}
	var hdr [5]byte
	hdr[0] = kind
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(body)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// readFrame returns io.EOF only when r ends before a frame begins.
func readFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, io.ErrUnexpectedEOF
	}
	return hdr[0], body, nil
}

// serve is ServeWorker on any reader and writer.
func serve(r io.Reader, w io.Writer) error {
	br := bufio.NewReader(r)
	for {
		op, dot, err := readFrame(br)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("render: reading a graphviz request: %w", err)
		}
		var format graphviz.Format
		for f, o := range formatOps {
			if o == op {
				format = f
			}
		}
		var out []byte
		if format == "" {
			err = fmt.Errorf("render: unknown graphviz request %q", op)
		} else {
			out, err = layout(context.Background(), dot, format)
		}
		kind := replyOK
		if err != nil {
			kind, out = replyError, []byte(err.Error())
			if errors.Is(err, ErrGraphviz) {
				kind, out = replyGraphviz, []byte(strings.TrimPrefix(err.Error(), ErrGraphviz.Error()+": "))
			}
		}
		if err := writeFrame(w, kind, out); err != nil {
			return fmt.Errorf("render: writing a graphviz reply: %w", err)
		}
	}
}

// worker is the process-wide choice of where Graphviz runs, and the
// running child when it runs in one.
var worker workerPool

type workerPool struct {
	mu      sync.Mutex
	command func() *exec.Cmd
	proc    *workerProc
}

// layout lays out dot in the worker when [UseWorker] asked for one, else
// in this process.
func (p *workerPool) layout(ctx context.Context, dot []byte, format graphviz.Format) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.command == nil {
		return layout(ctx, dot, format)
	}
	if p.proc == nil {
		proc, err := startWorker(p.command())
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
func (p *workerProc) layout(ctx context.Context, dot []byte, format graphviz.Format) ([]byte, error) {
	op, ok := formatOps[format]
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
		if err := writeFrame(p.in, op, dot); err != nil {
			replied <- reply{err: err}
			return
		}
		kind, body, err := readFrame(p.replies)
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
	case r.kind == replyOK:
		return r.body, nil
	case r.kind == replyGraphviz:
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
