package site

import (
	"context"
	"image/color"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/render/site/sitetest"
)

// trickySteps only survive when shown byte for byte: command substitution
// across lines, a backslash continuation, a heredoc indented with tabs,
// HTML's special characters and trailing spaces.
var trickySteps = []string{
	"PGBIN=$(pg_config --bindir)\nmkdir -p /var/lib/pg && \"$PGBIN/initdb\" -D /var/lib/pg \\\n  --auth=trust",
	"cat <<-EOF > /etc/pg.conf\n\tlisten_addresses = '*'\n\tport = 5432\nEOF\n",
	"echo '<b>' && echo \"&amp;\"   ",
}

// planSite is a fleet whose drawing shows soft edges the waves do not come
// from, one of them from wave 0 ("boot", which needs itself, so it is a
// jumpstart group drawn red) to the last wave ("front", asked about, so
// drawn in the focus blue); "standby" needs any one of "mid" and "ns2";
// "mid" reaches an endpoint no catalog owns and, only softly, the nscd
// socket.
func planSite(t testing.TB) Site {
	var b graph.Builder
	for _, n := range []string{"boot", "low", "mid", "front", "standby", "ns2"} {
		b.AddNode(n, graph.NodeInfo{RecoveryTime: 364904882 * time.Nanosecond})
	}
	b.AddNode("dns:junk.example.internal", graph.NodeInfo{Type: graph.Endpoint})
	b.AddNode("unix:/var/run/nscd/socket", graph.NodeInfo{Type: graph.Endpoint})
	b.AddEdge("boot", "boot", graph.Hard)
	b.AddEdge("low", "boot", graph.Hard)
	b.AddEdge("mid", "low", graph.Hard)
	b.AddEdge("front", "mid", graph.Hard)
	b.AddEdge("boot", "front", graph.Soft) // wave 0 tries the last wave
	b.AddEdge("low", "front", graph.Soft)
	b.AddEdge("mid", "dns:junk.example.internal", graph.Hard, graph.Evidence{Source: "run-0042"})
	b.AddEdge("mid", "unix:/var/run/nscd/socket", graph.Soft, graph.Evidence{Source: "run-0042"})
	b.AddGroup("standby", "mid", "ns2")
	b.AddEdge("ns2", "low", graph.Hard)
	g := b.Build()
	order, err := graph.RecoveryOrder(g, graph.OrderOptions{DefaultDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var steps []Step
	for _, c := range trickySteps {
		steps = append(steps, Step{Command: c})
	}
	return Site{
		Release: "2026.12", Generated: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		Graph: g, Order: order, Cycles: graph.Cycles(g, graph.CycleOptions{}),
		Kinds:    graph.DefaultKinds | graph.Kinds(graph.Soft),
		Services: []Service{{Name: "mid", Scenario: "mid-boot", Steps: steps}},
		Drawing:  render.DOTOptions{Kinds: graph.DefaultKinds | graph.Kinds(graph.Soft), Focus: []string{"front"}},
	}
}

func buildPlanSite(t *testing.T) map[string]string {
	t.Helper()
	files, err := Build(context.Background(), planSite(t))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		out[f.Path] = string(f.Data)
	}
	return out
}

func TestPlanSections(t *testing.T) {
	pages := buildPlanSite(t)
	index := pages["index.html"]
	for _, want := range []string{
		// The critical path follows edges; a jumpstart group is one step.
		`<p><a href="services/boot.html"><code>boot</code></a> → <a href="services/low.html"><code>low</code></a> → <a href="services/mid.html"><code>mid</code></a> → <a href="services/front.html"><code>front</code></a></p>`,
		"about 1.5s", // four times 365ms, rounded as every report rounds
		`<a href="#alternatives">Alternatives</a>`,
		`<tr><td><a href="services/standby.html"><code>standby</code></a></td><td><a href="services/mid.html"><code>mid</code></a></td><td><a href="services/mid.html"><code>mid</code></a>, <a href="services/ns2.html"><code>ns2</code></a></td><td>earliest wave, then name</td></tr>`,
		`<a href="#unowned">Unowned endpoints</a>`,
		`<tr><td><code>dns:junk.example.internal</code></td><td><a href="services/mid.html"><code>mid</code></a></td><td><code>run-0042</code></td></tr>`,
	} {
		if !strings.Contains(index, want) {
			t.Errorf("fleet page lacks %q", want)
		}
	}
	for _, bad := range []string{"364.904882ms", "nscd"} {
		if strings.Contains(strings.Split(index, `<div class="graph">`)[0], bad) {
			t.Errorf("fleet page text shows %q", bad)
		}
	}
	if !strings.Contains(pages["services/mid.html"], "recovers in 365ms") {
		t.Errorf("mid's page does not round its recovery time")
	}
	standby := pages["services/standby.html"]
	for _, want := range []string{"any one of", "recovery waits for it (earliest wave, then name)", "recovery waits for another member"} {
		if !strings.Contains(standby, want) {
			t.Errorf("standby's page lacks %q", want)
		}
	}

	// Steps byte for byte: the text of each <pre><code> is the step.
	doc, err := html.Parse(strings.NewReader(pages["services/mid.html"]))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var walk func(n *html.Node, inPre bool)
	walk = func(n *html.Node, inPre bool) {
		if n.Type == html.ElementNode && n.Data == "code" && inPre {
			var b strings.Builder
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				b.WriteString(c.Data)
			}
			got = append(got, b.String())
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inPre || (n.Type == html.ElementNode && n.Data == "pre"))
		}
	}
	walk(doc, false)
	if len(got) < len(trickySteps) {
		t.Fatalf("mid's page has %d code blocks, want %d", len(got), len(trickySteps))
	}
	for i, st := range trickySteps {
		if got[i] != st {
			t.Errorf("step %d shown as %q, want %q", i+1, got[i], st)
		}
	}

	// Waves top to bottom in the drawing's own coordinates.
	svg := index[strings.Index(index, "<svg"):]
	re := regexp.MustCompile(`<text[^>]* y="(-?[0-9.]+)"[^>]*>wave ([0-9]+)</text>`)
	last := -1e9
	for i, m := range re.FindAllStringSubmatch(svg, -1) {
		y, _ := strconv.ParseFloat(m[1], 64)
		if w, _ := strconv.Atoi(m[2]); w != i || y <= last {
			t.Errorf("wave %s drawn at y=%v after wave %d at y=%v", m[2], y, i-1, last)
		}
		last = y
	}
}

// The fills of a bootstrap cycle's members and of services asked about
// in drawings (render's colorCycleBg and colorFocusBg); the page around
// the drawing uses neither.
var (
	cycleFill = color.RGBA{R: 0xfd, G: 0xec, B: 0xea, A: 0xff}
	focusFill = color.RGBA{R: 0xe3, G: 0xec, B: 0xfa, A: 0xff}
)

// TestBrowserWaveOrder loads the fleet page in headless Chromium and
// checks on the screenshot that the drawing keeps waves in order: the
// red jumpstart group of wave 0 is painted above the blue service of the
// last wave, although a soft edge goes from the first to the last.
func TestBrowserWaveOrder(t *testing.T) {
	br := sitetest.RequireBrowser(t)
	dir := t.TempDir()
	s := planSite(t)
	if err := Write(context.Background(), dir, s); err != nil {
		t.Fatal(err)
	}
	img, err := br.Screenshot(sitetest.FileURL(filepath.Join(dir, "index.html")), 1200, 3000)
	if err != nil {
		t.Fatal(err)
	}
	red, blue := sitetest.TopRow(img, cycleFill, 3, 30), sitetest.TopRow(img, focusFill, 3, 30)
	t.Logf("wave 0 (red) from row %d, last wave (blue) from row %d", red, blue)
	switch {
	case red < 0 || blue < 0:
		t.Fatalf("the drawing is not painted: red row %d, blue row %d", red, blue)
	case red >= blue:
		t.Errorf("wave 0 (red, row %d) is not above the last wave (blue, row %d)", red, blue)
	}
}
