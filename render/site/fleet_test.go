package site

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
	"github.com/rgraph/rgraph/render/site/sitetest"
)

// TestLargeFleetSite documents a synthetic 1,000-service fleet: the fleet
// page must stay readable (the drawing collapses services into groups and
// large cycles into single nodes instead of drawing a thousand boxes),
// reasonably small, and quick to build; every link must resolve. With
// Chromium installed, the browser must build the page too. Sizes and
// times are logged (go test -v -run LargeFleet).
func TestLargeFleetSite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 1,001 pages")
	}
	g := graphtest.Fleet(1000, 4000, 1)
	order, err := graph.RecoveryOrder(g, graph.OrderOptions{DefaultDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s := Site{Release: "synthetic-1000", Generated: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), Graph: g,
		Order: order, Cycles: graph.Cycles(g, graph.CycleOptions{})}
	start := time.Now()
	files, err := Build(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	var total, largest int
	var index []byte
	all := map[string][]byte{}
	for _, f := range files {
		all[f.Path] = f.Data
		total += len(f.Data)
		if f.Path == "index.html" {
			index = f.Data
		} else {
			largest = max(largest, len(f.Data))
		}
	}
	svg := index[bytes.Index(index, []byte("<svg")):]
	nodes := len(regexp.MustCompile(`<g id="node\d+" class="node"`).FindAll(svg, -1))
	t.Logf("1,000 services, %d edges, %d cycles: %d pages built in %v; index.html %d KB (drawing %d KB, %d nodes drawn), largest service page %d KB, %.1f MB in all",
		g.EdgeCount(), len(s.Cycles), len(files), took.Round(time.Millisecond), len(index)>>10, (bytes.Index(svg, []byte("</svg>"))+6)>>10, nodes, largest>>10, float64(total)/(1<<20))
	if len(files) != 1001 {
		t.Errorf("%d pages, want the fleet page and 1,000 service pages", len(files))
	}
	if nodes == 0 || nodes > 250 {
		t.Errorf("the fleet drawing has %d nodes; it should collapse a 1,000-service fleet to a readable few hundred at most", nodes)
	}
	if !bytes.Contains(index, []byte("collapsed")) && !bytes.Contains(index, []byte("grouped")) {
		t.Error("the fleet page does not say how the drawing was simplified")
	}
	if !bytes.Contains(index, []byte("<details><summary>")) {
		t.Error("the fleet page lists every service of large waves openly; fold them")
	}
	if len(index) > 2<<20 {
		t.Errorf("index.html is %d KB; keep it under 2 MB", len(index)>>10)
	}
	if took > time.Minute {
		t.Errorf("building took %v", took)
	}
	problems, checked := sitetest.Links(all)
	for i, p := range problems {
		if i == 10 {
			t.Errorf("... and %d more", len(problems)-10)
			break
		}
		t.Error(p)
	}
	t.Logf("%d links resolve", checked)

	if sitetest.Chromium() == "" {
		return
	}
	b := &sitetest.Browser{Bin: sitetest.Chromium(), Profile: t.TempDir()}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), index, 0o644); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	dom, err := b.DOM(sitetest.FileURL(filepath.Join(dir, "index.html")))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Chromium built the fleet page in %v (DOM %d KB)", time.Since(start).Round(time.Millisecond), len(dom)>>10)
	if !bytes.Contains(dom, []byte(`class="node"`)) {
		t.Error("the browser's DOM of the fleet page has no drawing")
	}
}
