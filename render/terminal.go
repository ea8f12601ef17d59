package render

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/rgraph/rgraph/graph"
)

// Terminal says how text output should look. The caller (cmd) decides it
// once from its environment; render never inspects the process itself.
type Terminal struct {
	// TTY selects the human layout: headings and aligned tables, each line
	// truncated to Width. When false, text is plain: one tab-separated
	// record per line whose first field names the record type, never
	// truncated, times in RFC 3339, no escape codes. Callers that honor
	// NO_COLOR with plain output set TTY to false as well.
	TTY bool
	// Color allows ANSI colors and bold in the human layout. It has no
	// effect when TTY is false.
	Color bool
	// Width is the terminal width in columns the human layout truncates
	// to; 0 means no truncation.
	Width int
	// Fields chooses and orders, by field name (see [FieldName]), the
	// columns of an output's wide table: [Table]'s, [Compare]'s and
	// [Run]'s attempts. Empty shows every column. It has no effect when
	// TTY is false: plain records keep every field in their documented
	// order.
	Fields []string
}

// FormatTime formats t for the layout: "2006-01-02 15:04 MST" for
// humans, RFC 3339 otherwise; the zero time is "-" for humans and empty
// otherwise.
func (t Terminal) FormatTime(tm time.Time) string {
	switch {
	case tm.IsZero() && t.TTY:
		return "-"
	case tm.IsZero():
		return ""
	case t.TTY:
		return tm.Format("2006-01-02 15:04 MST")
	}
	return tm.Format(time.RFC3339)
}

// styles are the text styles of one output; all of them are plain when
// colour is off.
type styles struct {
	r                                       *lipgloss.Renderer
	title, head, dim, bad, good, warn, name lipgloss.Style
	kind                                    map[graph.Kind]lipgloss.Style
}

// noEnviron keeps termenv from reading the process environment.
type noEnviron struct{}

func (noEnviron) Environ() []string        { return nil }
func (noEnviron) Getenv(key string) string { return "" }

func newStyles(w io.Writer, t Terminal) styles {
	profile := termenv.Ascii
	if t.TTY && t.Color {
		profile = termenv.ANSI
	}
	r := lipgloss.NewRenderer(w, termenv.WithProfile(profile), termenv.WithTTY(t.TTY), termenv.WithEnvironment(noEnviron{}))
	r.SetColorProfile(profile)
	r.SetHasDarkBackground(true)
	fg := func(c string) lipgloss.Style { return r.NewStyle().Foreground(lipgloss.Color(c)) }
	return styles{
		r:     r,
		title: r.NewStyle().Bold(true),
		head:  r.NewStyle().Bold(true),
		dim:   fg("8"),
		bad:   fg("1").Bold(true),
		good:  fg("2").Bold(true),
		warn:  fg("3").Bold(true),
		name:  fg("6"),
		kind: map[graph.Kind]lipgloss.Style{
			graph.Hard:        fg("1"),
			graph.Soft:        fg("8"),
			graph.Declared:    fg("4"),
			graph.Alternative: fg("5"),
			graph.Observed:    fg("8"),
		},
	}
}

// printer writes one text output and keeps the first write error.
type printer struct {
	w   io.Writer
	t   Terminal
	s   styles
	err error
	rec []byte // the record being written, reused
}

func newPrinter(w io.Writer, t Terminal) *printer {
	return &printer{w: w, t: t, s: newStyles(w, t)}
}

func (p *printer) write(s string) {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, s)
	}
}

// line writes one human line, truncated to the terminal width.
func (p *printer) line(s string) {
	if p.t.Width > 0 {
		s = ansi.Truncate(s, p.t.Width, "…")
	}
	p.write(s + "\n")
}

// record writes one plain record: fields joined by tabs, with tabs and
// line breaks inside fields replaced by spaces.
func (p *printer) record(fields ...string) {
	b := p.rec[:0]
	for i, f := range fields {
		if i > 0 {
			b = append(b, '\t')
		}
		for j := 0; j < len(f); j++ {
			c := f[j]
			if c == '\t' || c == '\n' || c == '\r' {
				c = ' '
			}
			b = append(b, c)
		}
	}
	b = append(b, '\n')
	if p.err == nil {
		_, p.err = p.w.Write(b)
	}
	p.rec = b
}

// plainField is f as a field of a plain record (see printer.record), for
// a field that is itself joined from parts.
func plainField(f string) string {
	if !strings.ContainsAny(f, "\t\n\r") {
		return f
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, f)
}

// table writes a human table indented by indent spaces: a bold header and
// columns two spaces apart. When it is wider than the terminal, the widest
// columns are cut to a common width with an ellipsis, so that narrow
// columns stay whole. A style function may color cells; nil leaves them
// plain, and empty cells are never styled.
func (p *printer) table(indent int, header []string, rows [][]string, cell func(row, col int) lipgloss.Style) {
	if len(rows) == 0 {
		return
	}
	if p.t.Width > 0 {
		rows = fitColumns(header, rows, p.t.Width-indent)
	}
	base := p.s.r.NewStyle()
	tbl := table.New().
		Border(lipgloss.HiddenBorder()).
		BorderTop(false).BorderBottom(false).BorderLeft(false).BorderRight(false).
		BorderColumn(false).BorderHeader(false).
		BorderStyle(base).
		Headers(header...).
		Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			st := base
			switch {
			case row == table.HeaderRow:
				st = p.s.head
			case cell != nil && rows[row][col] != "":
				st = cell(row, col)
			}
			if col < len(header)-1 {
				st = st.PaddingRight(2)
			}
			return st
		})
	pad := strings.Repeat(" ", indent)
	for _, l := range strings.Split(strings.TrimRight(tbl.String(), "\n"), "\n") {
		p.line(pad + strings.TrimRight(l, " "))
	}
}

// fitColumns returns rows with cells cut so that the table, with two
// spaces between columns, fits in width: it finds the largest common cap
// on column widths that fits and cuts only the columns wider than it.
func fitColumns(header []string, rows [][]string, width int) [][]string {
	widths := make([]int, len(header))
	for c, h := range header {
		widths[c] = ansi.StringWidth(h)
	}
	for _, r := range rows {
		for c, v := range r {
			if c < len(widths) {
				widths[c] = max(widths[c], ansi.StringWidth(v))
			}
		}
	}
	total := func(capw int) int {
		t := 2 * (len(widths) - 1)
		for _, w := range widths {
			t += min(w, capw)
		}
		return t
	}
	maxw := slices.Max(widths)
	if total(maxw) <= width {
		return rows
	}
	lo, hi := 1, maxw // largest cap in [lo, hi] that fits
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if total(mid) <= width {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	capw := max(lo, 4)
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for c, v := range r {
			out[i][c] = ansi.Truncate(v, capw, "…")
		}
	}
	return out
}

// Table writes a generic table, for listings such as releases: on a
// terminal, a bold header over aligned columns truncated to the width;
// otherwise one tab-separated line per row and no header, as gh does.
// Rows are written in the order given. Cells must already be formatted
// (see [Terminal.FormatTime]).
func Table(w io.Writer, t Terminal, header []string, rows [][]string) error {
	p := newPrinter(w, t)
	if !t.TTY {
		for _, r := range rows {
			p.record(r...)
		}
		return p.err
	}
	p.wideTable(0, header, rows, nil)
	return p.err
}

// formatCost formats a cut cost without trailing zeros.
func formatCost(c float64) string { return strconv.FormatFloat(c, 'f', -1, 64) }

// FormatDuration formats a recovery time the way every rgraph report
// shows it, to a precision people read: milliseconds below a second,
// tenths below a minute, seconds above ("365ms", "12.3s", "4m30s"); 0 is
// "unknown". The text is a Go duration.
func FormatDuration(d time.Duration) string { return formatDuration(d, true) }

// formatDuration is [FormatDuration], with 0 empty instead when tty is
// false (plain records).
func formatDuration(d time.Duration, tty bool) string {
	switch {
	case d == 0 && tty:
		return "unknown"
	case d == 0:
		return ""
	case d < time.Second:
		d = d.Round(time.Millisecond)
	case d < time.Minute:
		d = d.Round(100 * time.Millisecond)
	default:
		d = d.Round(time.Second)
	}
	return d.String()
}

// chain joins names into "a -> b -> c".
func chain(names []string) string { return strings.Join(names, " -> ") }

// cycleChain returns "a -> b -> c -> a" for a cycle.
func cycleChain(c graph.Cycle) string {
	if len(c.Services) == 0 {
		return ""
	}
	return chain(append(append([]string(nil), c.Services...), c.Services[0]))
}

// pathChain returns "a -> b -> c" for a path.
func pathChain(p graph.Path) string {
	if len(p.Edges) == 0 {
		return ""
	}
	names := []string{p.Edges[0].From}
	for _, e := range p.Edges {
		names = append(names, e.To)
	}
	return chain(names)
}

// evidenceText summarizes one piece of evidence on one line:
// "run-17 (ca-boot): curl[12] -> dns:ca.internal, denied".
func evidenceText(e graph.Evidence) string {
	s := e.Source
	if e.Scenario != "" {
		s += " (" + e.Scenario + ")"
	}
	if o := originText(e.Origin); o != "" {
		s += " [" + o + "]"
	}
	var tail []string
	for _, f := range []string{e.Process, e.Endpoint} {
		if f != "" {
			tail = append(tail, f)
		}
	}
	if len(tail) > 0 {
		if s != "" {
			s += ": "
		}
		s += strings.Join(tail, " -> ")
	}
	if e.Detail != "" {
		if s != "" {
			s += ", "
		}
		s += e.Detail
	}
	return s
}

// originText says where a cited record came from:
// "host n1, job slurm:42_3, shard 3/8, signed by 9f2c..., from out/web+web.run.json".
func originText(o *graph.Origin) string {
	if o == nil {
		return ""
	}
	var parts []string
	for _, f := range [][2]string{{"host ", o.Host}, {"job ", o.Job}, {"shard ", o.Shard}, {"signed by ", o.Signer}, {"from ", o.File}} {
		if f[1] != "" {
			parts = append(parts, f[0]+f[1])
		}
	}
	return strings.Join(parts, ", ")
}

// evidenceAll joins every piece of evidence with "; ", for plain output.
func evidenceAll(ev []graph.Evidence) string {
	parts := make([]string, len(ev))
	for i, e := range ev {
		parts[i] = evidenceText(e)
	}
	return strings.Join(parts, "; ")
}

// evidenceShort is the first piece of evidence and a count of the rest,
// for terminals.
func evidenceShort(ev []graph.Evidence) string {
	switch len(ev) {
	case 0:
		return "-"
	case 1:
		return evidenceText(ev[0])
	}
	return fmt.Sprintf("%s (+%d more)", evidenceText(ev[0]), len(ev)-1)
}

// Plural returns "1 service" or "3 services": every count rgraph prints
// with a noun goes through it.
func Plural(n int, one, many string) string { return plural(n, one, many) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
