package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// mdLimit caps the rows of one Markdown section, so that a comment stays
// well under the size code-review sites accept.
const mdLimit = 50

// DiffMarkdown writes r as Markdown ready to paste as a pull-request
// comment: a verdict line, then new bootstrap cycles with their witness
// and the evidence for each edge, new hard dependencies with evidence,
// services pushed to a later wave, what was resolved, and the remaining
// changes folded in a <details> block. Each section shows at most 50
// rows and says how many more there are. Names are in code spans and
// evidence is escaped, so nothing in the data can change the layout.
func DiffMarkdown(w io.Writer, r DiffReport) error {
	d := normalizedDelta(r.Delta)
	v := r.verdict()
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	mark := "✅"
	if v.worse {
		mark = "❌"
	}
	p("### %s %s\n\n", mark, mdText(firstUpper(v.headline())))
	p("rgraph diff %s → %s", mdCode(r.Old), mdCode(r.New))
	if len(v.notes) > 0 {
		p(" · %s", mdText(strings.Join(v.notes, ", ")))
	}
	p("\n")

	if len(r.Failing) > 0 {
		p("\n#### Failing the gate (%d)\n\n", len(r.Failing))
		items := make([]string, len(r.Failing))
		for i, f := range r.Failing {
			items[i] = mdCode(string(f.Category)) + " " + mdText(f.Message)
		}
		mdList(p, items)
	}
	if len(d.NewCycles) > 0 {
		p("\n#### New bootstrap cycles (%d)\n\n", len(d.NewCycles))
		for i, c := range d.NewCycles {
			if i == mdLimit {
				p("- … and %d more\n", len(d.NewCycles)-mdLimit)
				break
			}
			p("- %s · id %s\n", mdChain(append(append([]string(nil), c.Services...), first(c.Services))), mdCode(c.ID))
			for _, e := range c.Edges {
				p("  - %s → %s (%s)%s\n", mdCode(e.From), mdCode(e.To), e.Kind, mdEvidence(e.Evidence))
			}
		}
	}
	if hard := newHard(d, r.Graph); len(hard) > 0 {
		p("\n#### New hard dependencies (%d)\n\n", len(hard))
		p("| Service | Now needs | Evidence |\n|---|---|---|\n")
		for i, h := range hard {
			if i == mdLimit {
				p("| … | and %d more | |\n", len(hard)-mdLimit)
				break
			}
			note := mdText(h.note())
			if note == "" {
				note = "–"
			}
			p("| %s | %s | %s |\n", mdCodeCell(h.From), mdCodeCell(h.To), note)
		}
	}
	if len(d.LaterWave) > 0 {
		p("\n#### Pushed to a later wave (%d)\n\n", len(d.LaterWave))
		p("| Service | Was | Now |\n|---|---:|---:|\n")
		for i, s := range d.LaterWave {
			if i == mdLimit {
				p("| … and %d more | | |\n", len(d.LaterWave)-mdLimit)
				break
			}
			p("| %s | %d | %d |\n", mdCodeCell(s.Service), s.Old, s.New)
		}
	}
	resolved, other := changeLists(d, mdCode)
	if len(resolved) > 0 {
		p("\n#### Resolved (%d)\n\n", len(resolved))
		mdList(p, resolved)
	}
	if len(other) > 0 {
		p("\n<details><summary>Other changes (%d)</summary>\n\n", len(other))
		mdList(p, other)
		p("\n</details>\n")
	}
	return bw.Flush()
}

// headline is the verdict's main clause.
func (v verdict) headline() string {
	if len(v.problems) > 0 {
		return strings.Join(v.problems, ", ")
	}
	return "no new cycles, hard dependencies or later waves"
}

func firstUpper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func mdList(p func(string, ...any), items []string) {
	for i, it := range items {
		if i == mdLimit {
			p("- … and %d more\n", len(items)-mdLimit)
			return
		}
		p("- %s\n", it)
	}
}

// mdCode returns s as a Markdown code span that holds any characters,
// backticks included; line breaks become spaces.
func mdCode(s string) string {
	s = strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
	if s == "" {
		return "` `"
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdCodeCell is mdCode for a table cell: pipes are escaped, which GitHub
// undoes inside code spans in tables.
func mdCodeCell(s string) string { return strings.ReplaceAll(mdCode(s), "|", "\\|") }

// mdChain writes names as `a` → `b` → `c`.
func mdChain(names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = mdCode(n)
	}
	return strings.Join(parts, " → ")
}

// mdText escapes Markdown and HTML syntax in prose.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '|', '~', '&':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdEvidence returns ": evidence" for a list item, or "".
func mdEvidence(ev []graph.Evidence) string {
	if len(ev) == 0 {
		return ""
	}
	return ": " + mdText(evidenceAll(ev))
}
