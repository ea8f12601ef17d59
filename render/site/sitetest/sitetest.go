package sitetest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/rgraph/rgraph/internal/privtest"
)

// Page is what a page offers to links: the links it holds and the IDs of
// its elements.
type Page struct {
	Links []string
	IDs   map[string]bool
	// Loads lists the resources the page would load by itself (<link>,
	// <script>, <img src>, ...); a self-contained page has none.
	Loads []string
}

// Parse extracts the links, element IDs and loaded resources of an HTML
// document.
func Parse(doc []byte) (Page, error) {
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		return Page{}, err
	}
	p := Page{IDs: map[string]bool{}}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "link", "iframe", "object", "embed":
				p.Loads = append(p.Loads, "<"+n.Data+">")
			}
			for _, a := range n.Attr {
				switch {
				case a.Key == "id":
					p.IDs[a.Val] = true
				case a.Key == "href" && n.Data == "a":
					p.Links = append(p.Links, a.Val) // HTML and SVG (xlink:href) anchors
				case a.Key == "href" || a.Key == "src" || a.Key == "srcset" || a.Key == "data":
					p.Loads = append(p.Loads, "<"+n.Data+" "+a.Key+"="+a.Val+">")
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return p, nil
}

// Resolve checks every link of every page: a link must stay inside the
// site (relative, no scheme or host), name one of its pages, and, with a
// fragment, an element of that page; pages must load nothing. pages are
// keyed by slash-separated paths relative to the site's root. It returns
// the problems found and how many links it checked.
func Resolve(pages map[string]Page) (problems []string, checked int) {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range pages {
			if !yield(k) {
				return
			}
		}
	})
	for _, p := range keys {
		pg := pages[p]
		for _, l := range pg.Loads {
			problems = append(problems, fmt.Sprintf("%s: %s: pages must load nothing", p, l))
		}
		for _, l := range pg.Links {
			u, err := url.Parse(l)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: bad link %q: %v", p, l, err))
				continue
			}
			if u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/") {
				problems = append(problems, fmt.Sprintf("%s: link %q leaves the site", p, l))
				continue
			}
			target := p
			if u.Path != "" {
				target = path.Clean(path.Join(path.Dir(p), u.Path))
			}
			tp, ok := pages[target]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("%s: link %q points at %s, which the site lacks", p, l, target))
				continue
			case u.Fragment != "" && !tp.IDs[u.Fragment]:
				problems = append(problems, fmt.Sprintf("%s: link %q: %s has no element #%s", p, l, target, u.Fragment))
				continue
			}
			checked++
		}
	}
	return problems, checked
}

// Links parses pages given as path -> HTML and resolves their links (see
// [Resolve]).
func Links(files map[string][]byte) (problems []string, checked int) {
	pages := map[string]Page{}
	for p, b := range files {
		pg, err := Parse(b)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		pages[p] = pg
	}
	more, checked := Resolve(pages)
	return append(problems, more...), checked
}

// Browser runs a headless Chromium.
type Browser struct {
	// Bin is the Chromium binary.
	Bin string
	// Profile is the user data directory, fresh for the test.
	Profile string
	// Timeout bounds one browser run; default 90 seconds.
	Timeout time.Duration
}

// Flags are the flags of every run: headless, no sandbox (Chromium
// refuses to run as root with one), no GPU, and nothing that reaches the
// network: no QUIC, no background, component or sync traffic, every host
// name unresolvable and every request sent to a dead local proxy.
var Flags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
}

// Chromium returns a Chromium or Chrome binary on PATH, or "".
func Chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// RequireBrowser returns a Browser with a fresh profile, or skips t when
// no Chromium is installed; with RGRAPH_REQUIRE_PRIVILEGED=1 a missing
// Chromium fails t instead.
func RequireBrowser(t testing.TB) *Browser {
	t.Helper()
	bin := Chromium()
	if bin == "" {
		privtest.Skip(t, "no chromium on PATH; install Debian's chromium (apt-get install chromium) to check the pages in a real browser")
	}
	return &Browser{Bin: bin, Profile: t.TempDir()}
}

// run runs the browser with Flags and args and returns its standard
// output.
func (b *Browser) run(args ...string) ([]byte, error) {
	timeout := b.Timeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.Bin, append(append(slices.Clone(Flags), "--user-data-dir="+b.Profile), args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", filepath.Base(b.Bin), strings.Join(args, " "), err, lastLines(stderr.String(), 20))
	}
	return out, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// FileURL returns the file:// URL of a local path.
func FileURL(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

// DOM loads url and returns the document as the browser built it.
func (b *Browser) DOM(url string) ([]byte, error) {
	return b.run("--dump-dom", url)
}

// Screenshot loads url in a window of the given size and returns what
// the browser painted.
func (b *Browser) Screenshot(url string, width, height int) (image.Image, error) {
	dir, err := os.MkdirTemp("", "rgraph-shot-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	shot := filepath.Join(dir, "shot.png")
	if _, err := b.run(fmt.Sprintf("--window-size=%d,%d", width, height), "--screenshot="+shot, url); err != nil {
		return nil, err
	}
	f, err := os.Open(shot)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}

// CountColor counts the pixels of img within tolerance (per channel, out
// of 255) of c.
func CountColor(img image.Image, c color.RGBA, tolerance int) int {
	near := func(v uint32, want uint8) bool { d := int(v>>8) - int(want); return d >= -tolerance && d <= tolerance }
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, c.R) && near(g, c.G) && near(bl, c.B) {
				n++
			}
		}
	}
	return n
}

// TopRow returns the first row of img, from the top, with at least min
// pixels within tolerance of c, or -1 when none has: with min large
// enough, a filled shape's first row and not a stray pixel of anti-aliased
// text.
func TopRow(img image.Image, c color.RGBA, tolerance, min int) int {
	near := func(v uint32, want uint8) bool { d := int(v>>8) - int(want); return d >= -tolerance && d <= tolerance }
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		n := 0
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, c.R) && near(g, c.G) && near(bl, c.B) {
				n++
			}
		}
		if n >= min {
			return y
		}
	}
	return -1
}

// notLoaded says why a dumped DOM is not a page that loaded, or "": the
// browser prints nothing for a file it cannot read and an error page for
// some failures, and an empty file gives an empty document.
func notLoaded(dom []byte) string {
	switch {
	case bytes.Contains(dom, []byte("chrome-error://")), bytes.Contains(dom, []byte("ERR_FILE_NOT_FOUND")):
		return "the browser shows an error page"
	case !bytes.Contains(dom, []byte("<body")) || len(bytes.TrimSpace(dom)) < 100:
		return "the browser built no document"
	}
	return ""
}

// Site is a site as the browser loaded it.
type Site struct {
	// DOMs holds each page's document as the browser built it, by path.
	DOMs map[string][]byte
	// Problems lists pages that did not load and links that do not
	// resolve; empty for a good site.
	Problems []string
	// Links counts the links checked.
	Links int
}

// Check loads every .html page under dir from file:// and checks, on the
// documents the browser built: each page loaded (it is not an error page
// and has a body), each link resolves to a page of the site, each
// fragment to an element of the target page, and no page loads anything.
// Pages whose name starts with '.' are skipped.
func (b *Browser) Check(dir string) (Site, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && strings.HasSuffix(p, ".html") {
			rel, _ := filepath.Rel(dir, p)
			paths = append(paths, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return Site{}, err
	}
	slices.Sort(paths)
	s := Site{DOMs: map[string][]byte{}}
	pages := map[string]Page{}
	for _, p := range paths {
		dom, err := b.DOM(FileURL(filepath.Join(dir, filepath.FromSlash(p))))
		if err != nil {
			return Site{}, err
		}
		s.DOMs[p] = dom
		if why := notLoaded(dom); why != "" {
			s.Problems = append(s.Problems, p+": "+why)
			continue
		}
		pg, err := Parse(dom)
		if err != nil {
			s.Problems = append(s.Problems, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		pages[p] = pg
	}
	more, n := Resolve(pages)
	s.Problems, s.Links = append(s.Problems, more...), n
	return s, nil
}
