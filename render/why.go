package render

import (
	"io"
	"strconv"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// Why writes the chains of needs from one service to another as text,
// in the order given (shortest first, as graph.Why returns them), each
// with the kind and evidence of every edge.
//
// Plain records (one per line, tab-separated):
//
//	path    N  HOPS  CHAIN(a -> b -> c)
//	edge    N  FROM  TO  KIND  EVIDENCE
//	anyof   N  FROM  TO  MEMBERS(comma-separated)
//	nopath  FROM  TO (the one record when from does not need to)
//
// An anyof record follows an alternative edge, once per group it belongs
// to: FROM needs any one of MEMBERS.
func Why(w io.Writer, t Terminal, from, to string, paths []graph.Path) error {
	p := newPrinter(w, t)
	if !t.TTY {
		if len(paths) == 0 {
			p.record("nopath", from, to)
		}
		for i, path := range paths {
			n := strconv.Itoa(i + 1)
			p.record("path", n, strconv.Itoa(len(path.Edges)), pathChain(path))
			for _, e := range path.Edges {
				p.record("edge", n, e.From, e.To, e.Kind.String(), evidenceAll(e.Evidence))
				for _, grp := range e.AnyOf {
					p.record("anyof", n, e.From, e.To, strings.Join(grp, ","))
				}
			}
		}
		return p.err
	}
	if len(paths) == 0 {
		p.line(p.s.good.Render(from+" does not need "+to) + p.s.dim.Render(" (no chain of needs with the selected edge kinds)"))
		return p.err
	}
	head := from + " needs " + to
	if len(paths) > 1 {
		head += p.s.dim.Render(" · " + plural(len(paths), "chain", "chains") + ", shortest first")
	}
	p.line(p.s.title.Render(head))
	for i, path := range paths {
		p.line("")
		p.line(strconv.Itoa(i+1) + ". " + p.s.name.Render(pathChain(path)) + p.s.dim.Render(" ("+plural(len(path.Edges), "hop", "hops")+")"))
		p.edgeTable(3, path.Edges)
	}
	return p.err
}
