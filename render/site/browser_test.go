package site

import (
	"context"
	"image/color"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/render/site/sitetest"
)

// cycleRed is the colour of the drawing's bootstrap-cycle strokes;
// nothing else on the fleet page has it.
var cycleRed = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}

// TestBrowser loads the site in a real headless Chromium from file://,
// offline: every page loads, every link in the documents the browser
// built resolves to a page that loaded (fragments to elements), the fleet
// page's drawing is in the DOM and actually painted (its cycle-red
// strokes show in a screenshot), and runbook steps survive as typed. It
// skips without Chromium, and fails then under RGRAPH_REQUIRE_PRIVILEGED=1.
func TestBrowser(t *testing.T) {
	b := sitetest.RequireBrowser(t)
	dir := t.TempDir()
	if err := Write(context.Background(), dir, exampleSite(t)); err != nil {
		t.Fatal(err)
	}
	s, err := b.Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Problems {
		t.Error(p)
	}
	if len(s.DOMs) != 6 || s.Links < 20 {
		t.Errorf("the browser loaded %d pages and checked %d links, want 6 pages and at least 20 links", len(s.DOMs), s.Links)
	}
	index := string(s.DOMs["index.html"])
	for _, want := range []string{"<svg", `class="node"`, "Recovery runbook · release 2024.06", `href="services/ca.html"`} {
		if !strings.Contains(index, want) {
			t.Errorf("fleet page DOM lacks %q", want)
		}
	}
	api := string(s.DOMs["services/kube_api.html"])
	if !strings.Contains(api, `href="../index.html"`) || !strings.Contains(api, "kubectl apply -f &lt;manifests&gt;") {
		t.Errorf("service page DOM lacks its back link or its runbook step:\n%.2000s", api)
	}

	img, err := b.Screenshot(sitetest.FileURL(filepath.Join(dir, "index.html")), 1200, 2400)
	if err != nil {
		t.Fatal(err)
	}
	red := sitetest.CountColor(img, cycleRed, 12)
	t.Logf("%d pixels of cycle red in the screenshot", red)
	if red < 50 {
		t.Errorf("screenshot has %d pixels of cycle red; the drawing did not render", red)
	}
}
