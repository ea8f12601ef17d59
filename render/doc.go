// Package render shows rgraph's results to people and to programs: text
// for terminals and pipes ([Cycles], [Order], [Why], [Diff], [Table]),
// versioned JSON ([JSON] and its typed helpers), DOT drawings ([DOT],
// [DiffDOT]) laid out as SVG or PNG ([SVG], [PNG]), Markdown for
// pull-request comments ([DiffMarkdown]) and a self-contained HTML diff
// page ([DiffHTML]). Package render/site builds the static recovery
// documentation.
//
// Render never looks at the process environment. The caller decides
// whether output goes to a terminal, whether colour is allowed and how wide
// the terminal is, and passes that as a [Terminal] value. On a terminal,
// text is laid out in styled tables truncated to the width; otherwise it is
// plain: one tab-separated record per line, no truncation, RFC 3339 times
// and never an escape code. JSON, DOT, SVG, PNG, Markdown and HTML never
// depend on the terminal at all.
//
// All output is deterministic: the same input gives the same bytes, so
// golden files and diffs of the output are meaningful. Inputs are the
// result types of package graph ([graph.Component], [graph.Order],
// [graph.Path], [graph.Delta]) and [graph.Graph] itself; render sorts what
// it is given where order carries no meaning and keeps it where it does
// (witness cycles, chains, ranked cuts, waves).
//
// Drawings stay legible at fleet scale: above [DefaultLarge] nodes,
// unmapped endpoints are folded into the services that need them, edges
// implied by longer chains are left out, services are collapsed into one
// node per owner, tier or wave, and large bootstrap cycles into one node
// each, while small cycles and focused services stay visible; the caption
// says what was simplified. See [DOTOptions].
//
// Render is the only rgraph package that imports lipgloss, and its
// subpackage render/graphviz the only one that imports go-graphviz.
// Importing go-graphviz instantiates its WebAssembly Graphviz when the
// program starts (0.15 s once its compilation cache is warm, seconds
// cold), so render itself does not: [SVG] and [PNG] lay out in a child
// process that [UseWorker] starts (rgraph's is cmd/rgraph-graphviz), where
// a crash of the compiled code is a [*CrashError] instead of the end of
// the program, or in-process with render/graphviz's Layout passed to
// [UseLayout]. Calls are serialized.
package render
