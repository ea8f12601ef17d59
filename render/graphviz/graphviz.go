// Package graphviz lays out DOT with Graphviz, compiled to WebAssembly and
// run by go-graphviz, and serves render's worker protocol. It is the only
// rgraph package that imports go-graphviz.
//
// Importing it instantiates go-graphviz's Graphviz while the program
// starts: 0.15 s of CPU once its compilation cache is warm, seconds cold.
// rgraph itself therefore does not link it: render lays drawings out in a
// child process, cmd/rgraph-graphviz, whose main calls [Serve]. Programs
// that lay out in-process (tests) pass [Layout] to render.UseLayout.
//
// The compilation cache lives in a private directory keyed by the
// go-graphviz, wazero and Go versions (render/internal/wasmcache, which
// this package imports so that it is initialized before go-graphviz).
package graphviz

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	gographviz "github.com/goccy/go-graphviz"
	"github.com/goccy/go-graphviz/gvc"

	"github.com/rgraph/rgraph/render/internal/gvwire"
	"github.com/rgraph/rgraph/render/internal/wasmcache"
)

// go-graphviz is initialized by now, with its compilation cache in the
// private directory wasmcache chose; give the program its TMPDIR back.
func init() { wasmcache.Restore() }

// gv holds the one Graphviz instance of the process: go-graphviz runs a
// single WebAssembly module and registers plugins globally, so the
// instance is created once and calls are serialized.
var gv struct {
	sync.Mutex
	once sync.Once
	g    *gographviz.Graphviz
	err  error
}

func instance() (*gographviz.Graphviz, error) {
	gv.once.Do(func() {
		ctx := context.Background()
		rp, err := gvc.NewRenderPlugin(ctx, "png", &pngEngine{DefaultRenderEngine: new(gvc.DefaultRenderEngine)},
			gvc.WithRenderFeatures(gvc.RenderYGoesDown, gvc.RenderDoesTransform),
			gvc.WithRenderColorType(gvc.RGBAByte),
			gvc.WithRenderPAD(4))
		if err != nil {
			gv.err = err
			return
		}
		dp, err := gvc.PNGDevicePlugin(ctx)
		if err != nil {
			gv.err = err
			return
		}
		gv.g, gv.err = gographviz.NewWithPlugins(ctx, rp, dp)
	})
	return gv.g, gv.err
}

// Layout lays out DOT source with Graphviz's dot engine and renders it as
// format, "svg" or "png" (drawn with the Go fonts, see render.PNG). DOT
// that Graphviz cannot parse, lay out or render gives an error wrapping
// render.ErrGraphviz; ctx's error is returned when ctx is done before the
// layout starts. Calls are serialized.
func Layout(ctx context.Context, dot []byte, format string) ([]byte, error) {
	var f gographviz.Format
	switch format {
	case "svg":
		f = gographviz.SVG
	case "png":
		f = gographviz.PNG
	default:
		return nil, fmt.Errorf("render: format %s cannot be laid out", format)
	}
	g, err := instance()
	if err != nil {
		return nil, fmt.Errorf("%w: starting: %v", gvwire.ErrGraphviz, err)
	}
	gv.Lock()
	defer gv.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	parsed, err := gographviz.ParseBytes(dot)
	if err != nil {
		return nil, fmt.Errorf("%w: parsing DOT: %v", gvwire.ErrGraphviz, err)
	}
	defer parsed.Close()
	var buf bytes.Buffer
	if err := g.Render(ctx, parsed, f, &buf); err != nil {
		return nil, fmt.Errorf("%w: rendering %s: %v", gvwire.ErrGraphviz, f, err)
	}
	if buf.Len() == 0 {
		return nil, fmt.Errorf("%w: rendering %s: empty output", gvwire.ErrGraphviz, f)
	}
	return buf.Bytes(), nil
}

// Serve is the worker's side of render.UseWorker: it answers requests
// read from standard input with replies on file descriptor 3, one at a
// time, until standard input ends. Standard output is left to whatever
// Graphviz prints.
func Serve() error {
	replies := os.NewFile(3, "graphviz-replies")
	if replies == nil {
		return ErrNotWorker
	}
	if _, err := replies.Stat(); err != nil {
		return ErrNotWorker
	}
	defer replies.Close()
	return serve(os.Stdin, replies)
}

// ErrNotWorker is returned by [Serve] in a process that rgraph did not
// start as its worker.
var ErrNotWorker = errors.New("render: the graphviz worker is started by rgraph itself, with replies on file descriptor 3")

// serve is Serve on any reader and writer.
func serve(r io.Reader, w io.Writer) error {
	br := bufio.NewReader(r)
	for {
		op, dot, err := gvwire.ReadFrame(br)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("render: reading a graphviz request: %w", err)
		}
		var out []byte
		if format := gvwire.Format(op); format == "" {
			err = fmt.Errorf("render: unknown graphviz request %q", op)
		} else {
			out, err = Layout(context.Background(), dot, format)
		}
		kind := gvwire.ReplyOK
		if err != nil {
			kind, out = gvwire.ReplyError, []byte(err.Error())
			if errors.Is(err, gvwire.ErrGraphviz) {
				kind, out = gvwire.ReplyGraphviz, []byte(strings.TrimPrefix(err.Error(), gvwire.ErrGraphviz.Error()+": "))
			}
		}
		if err := gvwire.WriteFrame(w, kind, out); err != nil {
			return fmt.Errorf("render: writing a graphviz reply: %w", err)
		}
	}
}
