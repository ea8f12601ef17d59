package render

import (
	"cmp"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/rgraph/rgraph/graph"
)

// Order writes a recovery plan as text: the waves with their services,
// jumpstart groups flagged, the member each alternative group waits for,
// the unowned endpoints (not recovered by the plan), the critical path
// with its estimated time, and the runbooks.
//
// Plain records (one per line, tab-separated), one per service:
//
//	wave      INDEX  SERVICE  GROUP-ID (empty unless in a jumpstart group)
//	group     INDEX  GROUP-ID  MEMBERS(comma-separated)  over-width|""
//	choice    SERVICE  CHOSEN  MEMBERS(comma-separated)  REASON
//	unowned   ENDPOINT  NEEDED-BY(comma-separated)  RECORDS(comma-separated)
//	critical  DURATION  CHAIN(a -> {b, c} -> d)  DEFAULTED(comma-separated)
//	step      WAVE  SERVICE  N  COMMAND  SOURCE  NOTE
//
// The critical path is written in recovery order, first to recover first,
// with the members of a jumpstart group on it in braces. DURATION is a Go
// duration ("4m30s"), empty when unknown. "over-width" marks a group larger
// than the wave width asked for, which gets a wave of its own. REASON is a
// [graph.ChoiceReason].
//
// Runbooks, when given, are the steps that bring each service back, listed
// wave by wave after the plan, so that the plan reads as a runbook. Steps
// are copy-paste material and are never cut to the terminal's width: on a
// terminal each is written as typed after "$ ", its further lines as they
// are. A plain record cannot hold a line break or a tab: COMMAND is then
// the step's first line, tabs as spaces, followed by " …", and NOTE says
// that it is abbreviated and where the full text is (the JSON and Markdown
// outputs hold every step as typed); NOTE is empty otherwise. A final line
// break is not part of COMMAND.
func Order(w io.Writer, t Terminal, o graph.Order, runbooks ...Runbook) error {
	o = normalizedOrder(o)
	steps := runbookIndex(runbooks)
	p := newPrinter(w, t)
	if !t.TTY {
		for _, wv := range o.Waves {
			groupOf := map[string]string{}
			for _, g := range wv.Groups {
				for _, m := range g.Members {
					groupOf[m] = g.ID
				}
			}
			for _, s := range wv.Services {
				p.record("wave", strconv.Itoa(wv.Index), s, groupOf[s])
			}
			for _, g := range wv.Groups {
				over := ""
				if wv.OverWidth {
					over = "over-width"
				}
				p.record("group", strconv.Itoa(wv.Index), g.ID, strings.Join(g.Members, ","), over)
			}
		}
		for _, c := range o.Alternatives {
			p.record("choice", c.Service, c.Chosen, strings.Join(c.AnyOf, ","), string(c.Reason))
		}
		for _, u := range o.Unowned {
			p.record("unowned", u.Endpoint, strings.Join(u.NeededBy, ","), strings.Join(u.Records, ","))
		}
		if cp := o.CriticalPath; len(cp.Services) > 0 {
			p.record("critical", formatDuration(cp.Duration, false), criticalChain(o), strings.Join(cp.Defaulted, ","))
		}
		for _, wv := range o.Waves {
			for _, svc := range wv.Services {
				if rb, ok := steps[svc]; ok {
					for i, c := range rb.Steps {
						cmd, note := plainStep(c)
						p.record("step", strconv.Itoa(wv.Index), svc, strconv.Itoa(i+1), cmd, rb.Source, note)
					}
				}
			}
		}
		return p.err
	}

	services, groups := 0, 0
	for _, wv := range o.Waves {
		services += len(wv.Services)
		groups += len(wv.Groups)
	}
	head := "recovery order · " + plural(len(o.Waves), "wave", "waves") + " · " + plural(services, "service", "services")
	if groups > 0 {
		head += " · " + p.s.warn.Render(plural(groups, "jumpstart group", "jumpstart groups"))
	}
	if len(o.Unowned) > 0 {
		head += " · " + plural(len(o.Unowned), "unowned endpoint", "unowned endpoints")
	}
	p.line(p.s.title.Render(head))
	if len(o.Waves) == 0 && len(o.Unowned) == 0 {
		return p.err
	}
	if len(o.Waves) > 0 {
		p.line("")
		rows := make([][]string, len(o.Waves))
		for i, wv := range o.Waves {
			var js []string
			for _, g := range wv.Groups {
				js = append(js, "{"+strings.Join(g.Members, ", ")+"}")
			}
			if wv.OverWidth {
				js = append(js, "(wider than asked: a group is never split)")
			}
			rows[i] = []string{strconv.Itoa(wv.Index), strconv.Itoa(len(wv.Services)), strings.Join(wv.Services, ", "), strings.Join(js, " ")}
		}
		p.table(0, []string{"WAVE", "N", "SERVICES", "JUMPSTART"}, rows, func(row, col int) lipgloss.Style {
			if col == 3 {
				return p.s.warn
			}
			return p.s.r.NewStyle()
		})
	}
	if groups > 0 {
		p.line("")
		p.line(p.s.dim.Render("a jumpstart group is a bootstrap cycle: its members need each other and must be started together by hand"))
	}
	if len(o.Alternatives) > 0 {
		p.line("")
		p.line(p.s.title.Render("alternatives") + p.s.dim.Render(" · each service waits for one member of its group"))
		rows := make([][]string, len(o.Alternatives))
		for i, c := range o.Alternatives {
			rows[i] = []string{c.Service, c.Chosen, "{" + strings.Join(c.AnyOf, ", ") + "}", c.Reason.Text()}
		}
		p.table(2, []string{"SERVICE", "WAITS FOR", "ANY ONE OF", "WHY"}, rows, func(row, col int) lipgloss.Style {
			if col == 1 {
				return p.s.kind[graph.Alternative]
			}
			return p.s.r.NewStyle()
		})
	}
	if len(o.Unowned) > 0 {
		p.line("")
		p.line(p.s.title.Render("unowned endpoints") + p.s.dim.Render(" · in no catalog service: not recovered by this plan, never waited for"))
		rows := make([][]string, len(o.Unowned))
		for i, u := range o.Unowned {
			rows[i] = []string{u.Endpoint, strings.Join(u.NeededBy, ", "), strings.Join(u.Records, ", ")}
		}
		p.table(2, []string{"ENDPOINT", "NEEDED BY", "RECORDS"}, rows, nil)
	}
	if cp := o.CriticalPath; len(cp.Services) > 0 {
		p.line("")
		var est string
		switch {
		case cp.Duration == 0:
			est = p.s.dim.Render("(recovery times unknown)")
		case len(cp.Defaulted) > 3:
			est = "≈ " + formatDuration(cp.Duration, true) + p.s.dim.Render(" (default time for "+plural(len(cp.Defaulted), "service", "services")+")")
		case len(cp.Defaulted) > 0:
			est = "≈ " + formatDuration(cp.Duration, true) + p.s.dim.Render(" (default time for "+strings.Join(cp.Defaulted, ", ")+")")
		default:
			est = "≈ " + formatDuration(cp.Duration, true)
		}
		p.line(p.s.title.Render("critical path ") + est)
		p.line("  " + criticalChain(o))
	}
	if len(steps) > 0 {
		p.line("")
		p.line(p.s.title.Render("runbook") + p.s.dim.Render(" · steps as typed, never cut"))
		for _, wv := range o.Waves {
			p.line(p.s.dim.Render("  wave " + strconv.Itoa(wv.Index)))
			for _, svc := range wv.Services {
				rb, ok := steps[svc]
				if !ok {
					p.line("    " + svc + p.s.dim.Render("  (no recorded run)"))
					continue
				}
				p.line("    " + svc + p.s.dim.Render("  from "+rb.Source))
				for _, c := range rb.Steps {
					// Not p.line: a step is never truncated, and its
					// further lines are written as typed.
					p.write("      $ " + strings.TrimSuffix(c, "\n") + "\n")
				}
			}
		}
	}
	return p.err
}

// plainStep returns a runbook step as a plain record's field: the step
// itself when it fits (no line break but a final one, no tab), else its
// first line marked as abbreviated, and a note saying so.
func plainStep(c string) (field, note string) {
	c = strings.TrimSuffix(c, "\n")
	if !strings.ContainsAny(c, "\t\n\r") {
		return c, ""
	}
	first, _, more := strings.Cut(c, "\n")
	first = strings.TrimSuffix(first, "\r")
	field = strings.ReplaceAll(first, "\t", " ")
	lines := strings.Count(c, "\n") + 1
	what := plural(lines, "line", "lines")
	if strings.Contains(c, "\t") {
		what += ", tabs shown as spaces"
	}
	if more {
		field += " …"
	}
	return field, "abbreviated (" + what + "): the full step is in rgraph order -o json or -o md"
}

// Runbook is how one service is brought back: the runbook steps exactly as
// an operator types them, and where they come from (a run record).
type Runbook struct {
	Service string   `json:"service"`
	Steps   []string `json:"steps"`
	Source  string   `json:"source"`
}

func runbookIndex(runbooks []Runbook) map[string]Runbook {
	m := make(map[string]Runbook, len(runbooks))
	for _, rb := range runbooks {
		m[rb.Service] = rb
	}
	return m
}

// normalizedOrder sorts waves by index and the services and groups inside
// each wave, and makes sure every jumpstart group member is listed among
// its wave's services.
func normalizedOrder(o graph.Order) graph.Order {
	waves := make([]graph.Wave, len(o.Waves))
	for i, wv := range o.Waves {
		svc := append([]string{}, wv.Services...)
		groups := make([]graph.Group, len(wv.Groups))
		for j, g := range wv.Groups {
			g.Members = sortedStrings(g.Members)
			groups[j] = g
			svc = append(svc, g.Members...)
		}
		slices.Sort(svc)
		wv.Services = slices.Compact(svc)
		slices.SortFunc(groups, func(a, b graph.Group) int { return cmp.Compare(first(a.Members), first(b.Members)) })
		wv.Groups = groups
		waves[i] = wv
	}
	slices.SortStableFunc(waves, func(a, b graph.Wave) int { return cmp.Compare(a.Index, b.Index) })
	o.Waves = waves
	o.CriticalPath.Services = append([]string{}, o.CriticalPath.Services...)
	o.CriticalPath.Defaulted = sortedStrings(o.CriticalPath.Defaulted)
	o.Alternatives = slices.Clone(o.Alternatives)
	for i := range o.Alternatives {
		o.Alternatives[i].AnyOf = sortedStrings(o.Alternatives[i].AnyOf)
	}
	slices.SortFunc(o.Alternatives, func(a, b graph.Choice) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), slices.Compare(a.AnyOf, b.AnyOf))
	})
	o.Unowned = slices.Clone(o.Unowned)
	for i := range o.Unowned {
		o.Unowned[i].NeededBy = sortedStrings(o.Unowned[i].NeededBy)
		o.Unowned[i].Records = sortedStrings(o.Unowned[i].Records)
	}
	slices.SortFunc(o.Unowned, func(a, b graph.Unowned) int { return cmp.Compare(a.Endpoint, b.Endpoint) })
	return o
}

// CriticalSteps returns the critical path of o in recovery order as
// steps: each the members of one jumpstart group on the path, which
// recover together (sorted), or a single service. Consecutive steps are
// joined by edges of the graph; members of one group are not.
func CriticalSteps(o graph.Order) [][]string {
	group := map[string]string{}
	for _, wv := range o.Waves {
		for _, g := range wv.Groups {
			for _, m := range g.Members {
				group[m] = g.ID
			}
		}
	}
	var out [][]string
	svc := o.CriticalPath.Services
	for i := 0; i < len(svc); {
		id, ok := group[svc[i]]
		j := i + 1
		for ok && j < len(svc) && group[svc[j]] == id {
			j++
		}
		out = append(out, sortedStrings(svc[i:j]))
		i = j
	}
	return out
}

// criticalChain writes the critical path as "a -> {b, c} -> d": members
// of one jumpstart group, which recover together, in braces.
func criticalChain(o graph.Order) string {
	var parts []string
	for _, st := range CriticalSteps(o) {
		if len(st) > 1 {
			parts = append(parts, "{"+strings.Join(st, ", ")+"}")
		} else {
			parts = append(parts, st[0])
		}
	}
	return strings.Join(parts, " -> ")
}
