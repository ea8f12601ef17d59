package render

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// InlineSVG returns Graphviz SVG output ready to embed in an HTML page:
// without the XML declaration, DOCTYPE and comments.
func InlineSVG(svg []byte) template.HTML {
	svg = svgProlog.ReplaceAll(svg, nil)
	return template.HTML(bytes.TrimSpace(svg)) // #nosec: Graphviz escapes every name it writes
}

var svgProlog = regexp.MustCompile(`(?s)<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->`)

// PageCSS is the style sheet of rgraph's HTML pages; it is inlined in
// every page so that pages work alone, from file:// and without network.
const PageCSS = `
:root { --ink: #24292f; --muted: #57606a; --line: #d0d7de; --bad: #cf222e; --good: #1a7f37; --warn: #bc4c00; --cycle: #d62728; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 4px; }
h1 code, h2 code, h3 code { font-size: inherit; background: none; padding: 0; }
p.sub, .muted { color: var(--muted); margin: 0; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code { background: var(--bg); padding: 1px 4px; border-radius: 4px; }
pre { background: var(--bg); padding: 12px; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; }
td.num, th.num { text-align: right; }
.bad { color: var(--bad); } .good { color: var(--good); } .warn { color: var(--warn); }
.tag { display: inline-block; font-size: 12px; padding: 0 6px; border-radius: 10px; border: 1px solid currentColor; }
.graph { border: 1px solid var(--line); border-radius: 6px; overflow: auto; max-height: 85vh; background: #fff; margin: 8px 0; }
.graph svg { display: block; margin: 0 auto; }
.legend { display: flex; flex-wrap: wrap; gap: 16px; font-size: 13px; color: var(--muted); margin: 8px 0; }
.legend span::before { content: ""; display: inline-block; width: 24px; height: 0; margin-right: 6px; vertical-align: middle; border-top: 3px solid var(--c); }
.legend span.dashed::before { border-top-style: dashed; }
ul { padding-left: 20px; } li { margin: 2px 0; }
nav { font-size: 14px; margin: 8px 0 0; }
footer { color: var(--muted); font-size: 12px; padding: 32px 24px; }
`

// diffPage is the data of the HTML diff page.
type diffPage struct {
	Title, Old, New string
	Worse           bool
	Headline        string
	Notes           string
	SVG             template.HTML
	CSS             template.CSS
	Failing         []graph.Finding
	NewCycles       []diffCycle
	Hard            []diffEdge
	Later           []graph.WaveShift
	Resolved        []string
	Other           []string
}

type diffCycle struct {
	ID    string
	Chain string
	Edges []diffEdge
}

type diffEdge struct {
	From, To, Kind, Evidence string
}

var diffTmpl = template.Must(template.New("diff").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<header>
<h1 class="{{if .Worse}}bad{{else}}good{{end}}">{{if .Worse}}✗{{else}}✓{{end}} {{.Headline}}</h1>
<p class="sub">rgraph diff <code>{{.Old}}</code> → <code>{{.New}}</code>{{with .Notes}} · {{.}}{{end}}</p>
</header>
<main>
<h2>What changed</h2>
<div class="legend">
<span style="--c:#1a7f37">added</span>
<span class="dashed" style="--c:#cf222e">removed</span>
<span style="--c:#bc4c00">kind changed</span>
<span style="--c:#d62728">in a bootstrap cycle</span>
<span style="--c:#8250df">new cycle</span>
<span class="dashed" style="--c:#8a8a8a">soft</span>
</div>
<div class="graph" id="graph">{{.SVG}}</div>
{{with .Failing}}<h2 class="bad">Failing the gate ({{len .}})</h2>
<ul>{{range .}}<li><span class="tag bad">{{.Category}}</span> {{.Message}}</li>{{end}}</ul>
{{end}}{{with .NewCycles}}<h2>New bootstrap cycles ({{len .}})</h2>
{{range .}}<h3><code>{{.Chain}}</code> <span class="muted">id {{.ID}}</span></h3>
<table><tr><th>Service</th><th>Needs</th><th>Kind</th><th>Evidence</th></tr>
{{range .Edges}}<tr><td><code>{{.From}}</code></td><td><code>{{.To}}</code></td><td>{{.Kind}}</td><td>{{.Evidence}}</td></tr>
{{end}}</table>
{{end}}{{end}}{{with .Hard}}<h2>New hard dependencies ({{len .}})</h2>
<table><tr><th>Service</th><th>Now needs</th><th>Evidence</th></tr>
{{range .}}<tr><td><code>{{.From}}</code></td><td><code>{{.To}}</code></td><td>{{.Evidence}}</td></tr>
{{end}}</table>
{{end}}{{with .Later}}<h2>Pushed to a later wave ({{len .}})</h2>
<table><tr><th>Service</th><th class="num">Was</th><th class="num">Now</th></tr>
{{range .}}<tr><td><code>{{.Service}}</code></td><td class="num">{{.Old}}</td><td class="num">{{.New}}</td></tr>
{{end}}</table>
{{end}}{{with .Resolved}}<h2 class="good">Resolved ({{len .}})</h2>
<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>
{{end}}{{with .Other}}<h2>Other changes ({{len .}})</h2>
<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>
{{end}}</main>
<footer>Generated by rgraph. This page is self-contained: it needs no network.</footer>
</body>
</html>
`))

// DiffHTML writes a self-contained HTML page for a diff between two
// releases: the verdict, one drawing of both graphs with the changes
// highlighted ([DiffDOT], laid out by [SVG] and inlined), and the new
// cycles, new hard dependencies, later waves, resolved items and other
// changes as tables. The page uses no script and loads nothing. Errors are
// those of [SVG].
func DiffHTML(ctx context.Context, w io.Writer, old, new *graph.Graph, r DiffReport, opt DOTOptions) error {
	if r.Graph == nil {
		r.Graph = new
	}
	var dot, svg bytes.Buffer
	if opt.Title == "" {
		opt.Title = r.Old + " → " + r.New
	}
	if err := DiffDOT(&dot, old, new, r, opt); err != nil {
		return err
	}
	if err := SVG(ctx, &svg, dot.Bytes()); err != nil {
		return err
	}
	d := normalizedDelta(r.Delta)
	v := r.verdict()
	page := diffPage{
		Title:    fmt.Sprintf("rgraph diff %s → %s", r.Old, r.New),
		Old:      r.Old,
		New:      r.New,
		Worse:    v.worse,
		Headline: firstUpper(v.headline()),
		SVG:      InlineSVG(svg.Bytes()),
		CSS:      template.CSS(PageCSS),
		Failing:  r.Failing,
		Later:    d.LaterWave,
	}
	if len(v.notes) > 0 {
		page.Notes = strings.Join(v.notes, ", ")
	}
	for _, c := range d.NewCycles {
		dc := diffCycle{ID: c.ID, Chain: cycleChain(c)}
		for _, e := range c.Edges {
			dc.Edges = append(dc.Edges, diffEdge{e.From, e.To, e.Kind.String(), evidenceAll(e.Evidence)})
		}
		page.NewCycles = append(page.NewCycles, dc)
	}
	for _, h := range newHard(d, r.Graph) {
		page.Hard = append(page.Hard, diffEdge{h.From, h.To, "hard", h.note()})
	}
	page.Resolved, page.Other = changeLists(d, func(s string) string { return s })
	return diffTmpl.Execute(w, page)
}
