package sitetest

import (
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// broken is a small site with every kind of problem Links must find.
var broken = map[string][]byte{
	"index.html": []byte(`<!doctype html><html><head><title>x</title></head><body>
<a href="services/a.html">ok</a> <a href="services/a.html#top">ok</a> <a href="#here">ok</a> <p id="here"></p>
<a href="services/missing.html">missing page</a>
<a href="services/a.html#nowhere">missing fragment</a>
<a href="https://example.com/">leaves</a> <a href="/etc/passwd">absolute</a>
<img src="logo.png">
<svg><a xlink:href="services/gone.html"><text>node</text></a></svg>
</body></html>`),
	"services/a.html": []byte(`<!doctype html><html><body><h1 id="top">a</h1><a href="../index.html">back</a></body></html>`),
}

var brokenWant = []string{
	"index.html: <img src=logo.png>: pages must load nothing",
	`index.html: link "services/missing.html" points at services/missing.html, which the site lacks`,
	`index.html: link "services/a.html#nowhere": services/a.html has no element #nowhere`,
	`index.html: link "https://example.com/" leaves the site`,
	`index.html: link "/etc/passwd" leaves the site`,
	`index.html: link "services/gone.html" points at services/gone.html, which the site lacks`,
}

func TestLinks(t *testing.T) {
	problems, checked := Links(broken)
	if !slices.Equal(problems, brokenWant) {
		t.Errorf("Links found\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(brokenWant, "\n"))
	}
	if checked != 4 {
		t.Errorf("Links checked %d good links, want 4", checked)
	}
}

// TestBrowserFindsProblems checks that the browser check fails for a
// broken site, so a passing check means something.
func TestBrowserFindsProblems(t *testing.T) {
	b := RequireBrowser(t)
	dir := t.TempDir()
	for p, data := range broken {
		f := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := b.Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.DOMs) != 2 {
		t.Errorf("the browser loaded %d pages, want 2", len(s.DOMs))
	}
	if !slices.Equal(s.Problems, brokenWant) {
		t.Errorf("Check found\n%s\nwant\n%s", strings.Join(s.Problems, "\n"), strings.Join(brokenWant, "\n"))
	}

	// A page that is not there is an error page, not a document.
	dom, err := b.DOM(FileURL(filepath.Join(dir, "nothing.html")))
	if err != nil {
		t.Fatal(err)
	}
	if notLoaded(dom) == "" {
		t.Errorf("DOM of a missing file counts as a page that loaded:\n%.500s", dom)
	}
	empty := filepath.Join(dir, "empty.html")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if dom, err = b.DOM(FileURL(empty)); err != nil {
		t.Fatal(err)
	}
	if notLoaded(dom) == "" {
		t.Errorf("DOM of an empty file counts as a page that loaded:\n%.500s", dom)
	}

	// And a screenshot shows what is painted.
	img, err := b.Screenshot(FileURL(filepath.Join(dir, "services", "a.html")), 400, 300)
	if err != nil {
		t.Fatal(err)
	}
	if white := CountColor(img, color.RGBA{255, 255, 255, 255}, 2); white < 400*300/2 {
		t.Errorf("screenshot of a nearly empty page has only %d white pixels", white)
	}
}
