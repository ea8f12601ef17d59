package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/goccy/go-graphviz"
	"github.com/goccy/go-graphviz/gvc"

	"github.com/rgraph/rgraph/render/internal/wasmcache"
)

// go-graphviz is initialized by now, with its compilation cache in the
// private directory wasmcache chose; give the program its TMPDIR back.
func init() { wasmcache.Restore() }

// ErrGraphviz is wrapped by the errors [SVG] and [PNG] return when
// Graphviz cannot parse, lay out or render the DOT source.
var ErrGraphviz = errors.New("render: graphviz")

// graphviz holds the one Graphviz instance of the process: go-graphviz
// runs a single WebAssembly module and registers plugins globally, so
// instances are created once and calls are serialized.
var gv struct {
	sync.Mutex
	once sync.Once
	g    *graphviz.Graphviz
	err  error
}

func instance() (*graphviz.Graphviz, error) {
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
		gv.g, gv.err = graphviz.NewWithPlugins(ctx, rp, dp)
	})
	return gv.g, gv.err
}

// SVG lays out DOT source with Graphviz's dot engine and writes the
// drawing as SVG. Node and edge tooltips become SVG titles. It returns an
// error wrapping [ErrGraphviz] when the DOT cannot be parsed or laid out,
// and ctx's error when ctx is done first. Calls are serialized.
func SVG(ctx context.Context, w io.Writer, dot []byte) error {
	return renderDOT(ctx, w, dot, graphviz.SVG)
}

// PNG lays out DOT source with Graphviz's dot engine and writes the
// drawing as a PNG image at 96 dpi, drawn with the Go fonts so the result
// does not depend on the fonts installed. Errors are as for [SVG].
func PNG(ctx context.Context, w io.Writer, dot []byte) error {
	return renderDOT(ctx, w, dot, graphviz.PNG)
}

// DefaultPNGDPI is the resolution [PNG] draws at, Graphviz's default for
// bitmaps.
const DefaultPNGDPI = 96

// PNGScaled is [PNG] at scale times the default resolution: 2 doubles the
// width and height in pixels, fonts and lines included. It sets the
// drawing's dpi, after the first "{" of the DOT source (the start of the
// graph's body in every DOT rgraph writes). Scale must be positive.
func PNGScaled(ctx context.Context, w io.Writer, dot []byte, scale float64) error {
	if scale <= 0 {
		return fmt.Errorf("render: PNG scale %v is not positive", scale)
	}
	if scale != 1 {
		i := bytes.IndexByte(dot, '{')
		if i < 0 {
			return fmt.Errorf("%w: parsing DOT: no graph body", ErrGraphviz)
		}
		attr := fmt.Sprintf("\n\tgraph [dpi=%s];", strconv.FormatFloat(DefaultPNGDPI*scale, 'f', -1, 64))
		dot = append(append(append([]byte{}, dot[:i+1]...), attr...), dot[i+1:]...)
	}
	return PNG(ctx, w, dot)
}

func renderDOT(ctx context.Context, w io.Writer, dot []byte, format graphviz.Format) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	out, err := worker.layout(ctx, dot, format)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// layout lays out and renders DOT in this process.
func layout(ctx context.Context, dot []byte, format graphviz.Format) ([]byte, error) {
	g, err := instance()
	if err != nil {
		return nil, fmt.Errorf("%w: starting: %v", ErrGraphviz, err)
	}
	gv.Lock()
	defer gv.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	parsed, err := graphviz.ParseBytes(dot)
	if err != nil {
		return nil, fmt.Errorf("%w: parsing DOT: %v", ErrGraphviz, err)
	}
	defer parsed.Close()
	var buf bytes.Buffer
	if err := g.Render(ctx, parsed, format, &buf); err != nil {
		return nil, fmt.Errorf("%w: rendering %s: %v", ErrGraphviz, format, err)
	}
	if buf.Len() == 0 {
		return nil, fmt.Errorf("%w: rendering %s: empty output", ErrGraphviz, format)
	}
	return buf.Bytes(), nil
}
