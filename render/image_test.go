package render

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"strings"
	"testing"
)

// svgText returns the text content and titles of an SVG, checking that
// it parses as XML.
func svgText(t *testing.T, svg []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	dec.Strict = true
	var b strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func TestSVG(t *testing.T) {
	order := fleetOrder()
	var dot, svg bytes.Buffer
	if err := DOT(&dot, fleetGraph(), DOTOptions{Order: &order, Components: fleetComponents()}); err != nil {
		t.Fatal(err)
	}
	if err := SVG(context.Background(), &svg, dot.Bytes()); err != nil {
		t.Fatal(err)
	}
	text := svgText(t, svg.Bytes())
	for _, name := range fleetGraph().Names() {
		if !strings.Contains(text, name) {
			t.Errorf("SVG lacks node %q", name)
		}
	}
	if dir := os.Getenv("RGRAPH_RENDER_OUT"); dir != "" {
		os.WriteFile(dir+"/fleet.svg", svg.Bytes(), 0o644)
	}
}

func TestPNG(t *testing.T) {
	order := fleetOrder()
	var dot, out bytes.Buffer
	if err := DOT(&dot, fleetGraph(), DOTOptions{Order: &order, Components: fleetComponents()}); err != nil {
		t.Fatal(err)
	}
	if err := PNG(context.Background(), &out, dot.Bytes()); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("PNG is %v, too small for 10 nodes", b)
	}
	if dir := os.Getenv("RGRAPH_RENDER_OUT"); dir != "" {
		os.WriteFile(dir+"/fleet.png", out.Bytes(), 0o644)
	}
}

func TestPNGScaled(t *testing.T) {
	dot := []byte(`digraph rgraph { graph [label="title"]; a -> b -> c; }`)
	size := func(scale float64) image.Point {
		t.Helper()
		var out bytes.Buffer
		if err := PNGScaled(context.Background(), &out, dot, scale); err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(&out)
		if err != nil {
			t.Fatal(err)
		}
		return image.Pt(cfg.Width, cfg.Height)
	}
	one, two := size(1), size(2)
	for _, r := range []float64{float64(two.X) / float64(one.X), float64(two.Y) / float64(one.Y)} {
		if r < 1.8 || r > 2.2 {
			t.Errorf("PNG at scale 2 is %v, at scale 1 %v: want twice the size", two, one)
		}
	}
	if err := PNGScaled(context.Background(), &bytes.Buffer{}, dot, 0); err == nil {
		t.Error("PNGScaled(scale 0) = nil, want an error")
	}
}

func TestImageErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := SVG(context.Background(), &buf, []byte("digraph { a -> ")); !errors.Is(err, ErrGraphviz) {
		t.Errorf("SVG(bad DOT) = %v, want ErrGraphviz", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := PNG(ctx, &buf, []byte("digraph { a -> b }")); !errors.Is(err, context.Canceled) {
		t.Errorf("PNG(canceled) = %v, want context.Canceled", err)
	}
}
