package graphviz

import (
	"bytes"
	"context"
	"image/color"
	"sync"

	"github.com/fogleman/gg"
	"github.com/goccy/go-graphviz/gvc"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
)

// pngEngine draws Graphviz's layout into a PNG with gg. It replaces
// go-graphviz's own PNG renderer, which in v0.2.9 receives every shape as
// filled and so draws no outlines: here a shape is filled when Graphviz's
// fill state says so, or when its fill and pen colors agree (arrowheads),
// and outlined whenever its pen is visible. The page is cleared to white;
// edges are stroked only.
//
// Every getter on a Job or its object is a call into WebAssembly, which
// allocates; the page scale is therefore read once per page.
type pngEngine struct {
	*gvc.DefaultRenderEngine
	dc     *gg.Context
	sx, sy float64 // page scale
}

func (r *pngEngine) x(_ *gvc.Job, x float64) float64 { return r.sx * x }
func (r *pngEngine) y(_ *gvc.Job, y float64) float64 { return r.sy * -y }

func (r *pngEngine) BeginPage(ctx context.Context, job *gvc.Job) error {
	dc := gg.NewContext(int(job.Width()), int(job.Height()))
	dc.SetColor(color.White)
	dc.Clear()
	scale := job.Scale()
	r.sx, r.sy = scale.X(), scale.Y()
	t := job.Translation()
	dc.Translate(r.sx*t.X(), r.sy*-t.Y())
	r.dc = dc
	return nil
}

func (r *pngEngine) EndPage(ctx context.Context, job *gvc.Job) error {
	var buf bytes.Buffer
	if err := r.dc.EncodePNG(&buf); err != nil {
		return err
	}
	job.SetOutputData(buf.Bytes())
	job.SetOutputDataPosition(uint(buf.Len()))
	r.dc = nil
	return nil
}

func rgba(c *gvc.Color) (color.NRGBA, bool) {
	v := c.RGBAUint()
	return color.NRGBA{R: uint8(v[0]), G: uint8(v[1]), B: uint8(v[2]), A: uint8(v[3])}, v[3] > 0
}

// paint fills the current path when the shape is filled and strokes it
// when its pen is visible; stroke is false for edges' beziers filling.
func (r *pngEngine) paint(job *gvc.Job, fillable bool) {
	o := job.Object()
	pen, penOK := rgba(o.PenColor())
	penType := o.Pen()
	doStroke := penOK && penType != gvc.PenNone
	doFill := false
	if fillable {
		fill, fillOK := rgba(o.FillColor())
		doFill = fillOK && (o.Fill() != gvc.FillNone || (penOK && pen == fill))
		if doFill {
			r.dc.SetColor(fill)
		}
	}
	if doFill {
		if doStroke {
			r.dc.FillPreserve()
		} else {
			r.dc.Fill()
		}
	}
	if doStroke {
		r.setPen(o.PenWidth(), penType)
		r.dc.SetColor(pen)
		r.dc.Stroke()
	}
	r.dc.ClearPath()
}

func (r *pngEngine) setPen(w float64, pen gvc.PenType) {
	s := r.sx
	if w <= 0 {
		w = 1
	}
	r.dc.SetLineWidth(w * s)
	switch pen {
	case gvc.PenDashed:
		r.dc.SetDash(5*s, 2*s)
	case gvc.PenDotted:
		r.dc.SetDash(1*s, 4*s)
	default:
		r.dc.SetDash()
	}
}

func (r *pngEngine) Ellipse(ctx context.Context, job *gvc.Job, p []*gvc.PointFloat, filled bool) error {
	cx, cy := r.x(job, p[0].X()), r.y(job, p[0].Y())
	rx, ry := r.x(job, p[1].X()-p[0].X()), r.y(job, p[0].Y()-p[1].Y())
	r.dc.NewSubPath()
	r.dc.DrawEllipse(cx, cy, abs(rx), abs(ry))
	r.paint(job, true)
	return nil
}

func (r *pngEngine) Polygon(ctx context.Context, job *gvc.Job, p []*gvc.PointFloat, filled bool) error {
	r.path(job, p)
	r.dc.ClosePath()
	r.paint(job, true)
	return nil
}

func (r *pngEngine) Polyline(ctx context.Context, job *gvc.Job, p []*gvc.PointFloat) error {
	r.path(job, p)
	r.paint(job, false)
	return nil
}

func (r *pngEngine) BezierCurve(ctx context.Context, job *gvc.Job, p []*gvc.PointFloat, filled bool) error {
	if len(p) == 0 {
		return nil
	}
	r.dc.NewSubPath()
	r.dc.MoveTo(r.x(job, p[0].X()), r.y(job, p[0].Y()))
	for i := 1; i+2 < len(p); i += 3 {
		r.dc.CubicTo(r.x(job, p[i].X()), r.y(job, p[i].Y()),
			r.x(job, p[i+1].X()), r.y(job, p[i+1].Y()),
			r.x(job, p[i+2].X()), r.y(job, p[i+2].Y()))
	}
	r.paint(job, false)
	return nil
}

func (r *pngEngine) path(job *gvc.Job, p []*gvc.PointFloat) {
	r.dc.NewSubPath()
	for i, pt := range p {
		if i == 0 {
			r.dc.MoveTo(r.x(job, pt.X()), r.y(job, pt.Y()))
		} else {
			r.dc.LineTo(r.x(job, pt.X()), r.y(job, pt.Y()))
		}
	}
}

func (r *pngEngine) TextSpan(ctx context.Context, job *gvc.Job, p *gvc.PointFloat, span *gvc.TextSpan) error {
	c, ok := rgba(job.Object().PenColor())
	if !ok {
		return nil
	}
	f := span.Font()
	face, err := goFace(f.Name(), f.Size()*r.sx)
	if err != nil {
		return err
	}
	r.dc.SetFontFace(face)
	r.dc.SetColor(c)
	ax := 0.5
	switch span.Just() {
	case 'l':
		ax = 0
	case 'r':
		ax = 1
	}
	x := r.x(job, p.X())
	y := r.y(job, p.Y()+span.YOffsetCenterLine()+span.YOffsetLayout())
	r.dc.DrawStringAnchored(span.Text(), x, y, ax, 0)
	return nil
}

var faces struct {
	sync.Mutex
	regular, bold *opentype.Font
	cache         map[[2]any]font.Face
}

// goFace returns a Go font face of the size in pixels: bold when the
// font name says so, regular otherwise.
func goFace(name string, size float64) (font.Face, error) {
	faces.Lock()
	defer faces.Unlock()
	bold := containsFold(name, "bold")
	key := [2]any{bold, size}
	if f, ok := faces.cache[key]; ok {
		return f, nil
	}
	if faces.regular == nil {
		reg, err := opentype.Parse(goregular.TTF)
		if err != nil {
			return nil, err
		}
		b, err := opentype.Parse(gobold.TTF)
		if err != nil {
			return nil, err
		}
		faces.regular, faces.bold, faces.cache = reg, b, map[[2]any]font.Face{}
	}
	ft := faces.regular
	if bold {
		ft = faces.bold
	}
	face, err := opentype.NewFace(ft, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, err
	}
	faces.cache[key] = face
	return face, nil
}

func containsFold(s, sub string) bool {
	return bytes.Contains(bytes.ToLower([]byte(s)), []byte(sub))
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
