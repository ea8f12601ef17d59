package render

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/rgraph/rgraph/render/internal/gvwire"
)

// ErrGraphviz is wrapped by the errors [SVG] and [PNG] return when
// Graphviz cannot parse, lay out or render the DOT source.
var ErrGraphviz = gvwire.ErrGraphviz

// SVG lays out DOT source with Graphviz's dot engine and writes the
// drawing as SVG. Node and edge tooltips become SVG titles. It returns an
// error wrapping [ErrGraphviz] when the DOT cannot be parsed or laid out,
// ctx's error when ctx is done first, and [ErrNoGraphviz] when the
// program set up neither [UseWorker] nor [UseLayout]. Calls are
// serialized.
func SVG(ctx context.Context, w io.Writer, dot []byte) error {
	return renderDOT(ctx, w, dot, "svg")
}

// PNG lays out DOT source with Graphviz's dot engine and writes the
// drawing as a PNG image at 96 dpi, drawn with the Go fonts so the result
// does not depend on the fonts installed. Errors are as for [SVG].
func PNG(ctx context.Context, w io.Writer, dot []byte) error {
	return renderDOT(ctx, w, dot, "png")
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

func renderDOT(ctx context.Context, w io.Writer, dot []byte, format string) error {
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
