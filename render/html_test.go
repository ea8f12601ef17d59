package render

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/internal/golden"
)

// realDiff diffs the two example releases with graph.Diff.
func realDiff() (old, new *graph.Graph, r DiffReport) {
	old, new = fleetGraphOld(), fleetGraph()
	return old, new, DiffReport{Old: "2024.05", New: "2024.06", Delta: graph.Diff(old, new, graph.DiffOptions{})}
}

func TestDiffDOT(t *testing.T) {
	old, new, r := realDiff()
	comps := graph.Cycles(new, graph.CycleOptions{})
	tests := []struct {
		name string
		opt  DOTOptions
	}{
		{"all-kinds", DOTOptions{Components: comps}},
		{"default-kinds", DOTOptions{Kinds: graph.DefaultKinds, Components: comps}},
		{"affected", DOTOptions{Large: 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := DiffDOT(&buf, old, new, r, tt.opt); err != nil {
				t.Fatal(err)
			}
			golden.CheckExt(t, ".dot", buf.Bytes())
		})
	}

	var buf bytes.Buffer
	if err := DiffDOT(&buf, old, new, r, DOTOptions{}); err != nil {
		t.Fatal(err)
	}
	edges, nodes := dotEdges(buf.String()), dotNodes(buf.String())
	for e, want := range map[string]string{
		"coord->ca":           colorAdded,
		"config->ntp":         colorRemoved,
		"discovery->config":   colorRemoved,
		"scheduler->pkgstore": "soft → hard",
		"api->config":         colorInk,
	} {
		if !strings.Contains(edges[e], want) {
			t.Errorf("edge %s = %s, want %s", e, edges[e], want)
		}
	}
	if !strings.Contains(nodes["logd"], colorAdded) || !strings.Contains(nodes["ntp"], colorRemoved) {
		t.Errorf("added logd = %s, removed ntp = %s", nodes["logd"], nodes["ntp"])
	}
	if !strings.Contains(edges["coord->ca"], "penwidth") {
		t.Errorf("new cycle edge coord->ca not thick: %s", edges["coord->ca"])
	}
}

func TestDiffHTML(t *testing.T) {
	old, new, r := realDiff()
	var buf bytes.Buffer
	if err := DiffHTML(context.Background(), &buf, old, new, r, DOTOptions{Components: graph.Cycles(new, graph.CycleOptions{})}); err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, buf.Bytes())
	text := svgText(t, extractSVG(t, buf.Bytes()))
	for _, name := range []string{"ntp", "logd", "coord", "ca"} {
		if !strings.Contains(text, name) {
			t.Errorf("the drawing lacks %s", name)
		}
	}
	if strings.Count(buf.String(), "<svg") != 1 {
		t.Errorf("want exactly one drawing, found %d", strings.Count(buf.String(), "<svg"))
	}
	golden.CheckExt(t, ".html", buf.Bytes())
	if dir := os.Getenv("RGRAPH_RENDER_OUT"); dir != "" {
		os.WriteFile(dir+"/diff.html", buf.Bytes(), 0o644)
	}
}

// checkSelfContained parses an HTML page and fails on anything that would
// need the network: scripts or styles from elsewhere, remote images or
// links to http(s) resources.
func checkSelfContained(t *testing.T, page []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("page does not parse: %v", err)
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				switch a.Key {
				case "src", "href", "xlink:href":
					if strings.Contains(a.Val, "://") || strings.HasPrefix(a.Val, "//") {
						t.Errorf("<%s %s=%q> needs the network", n.Data, a.Key, a.Val)
					}
				}
			}
			if n.Data == "link" || n.Data == "script" && hasAttr(n, "src") {
				t.Errorf("<%s> loads an external resource", n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return doc
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// extractSVG returns the inline <svg> element of a page.
func extractSVG(t *testing.T, page []byte) []byte {
	t.Helper()
	i, j := bytes.Index(page, []byte("<svg")), bytes.LastIndex(page, []byte("</svg>"))
	if i < 0 || j < i {
		t.Fatal("no inline SVG")
	}
	return page[i : j+len("</svg>")]
}
