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
// jumpstart groups flagged, then the critical path with its estimated time.
//
// Plain records (one per line, tab-separated), one per service:
//
//	wave      INDEX  SERVICE  GROUP-ID (empty unless in a jumpstart group)
//	group     INDEX  GROUP-ID  MEMBERS(comma-separated)  over-width|""
//	critical  DURATION  CHAIN(a -> {b, c} -> d)  DEFAULTED(comma-separated)
//	step      WAVE  SERVICE  N  COMMAND  SOURCE (one per runbook step given)
//
// The critical path is written in recovery order, first to recover first,
// with the members of a jumpstart group on it in braces. DURATION is a Go
// duration ("4m30s"), empty when unknown. "over-width" marks a group larger
// than the wave width asked for, which gets a wave of its own.
//
// Runbooks, when given, are the steps that bring each service back, listed
// wave by wave after the plan, so that the plan reads as a runbook.
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
		if cp := o.CriticalPath; len(cp.Services) > 0 {
			p.record("critical", formatDuration(cp.Duration, false), criticalChain(o), strings.Join(cp.Defaulted, ","))
		}
		for _, wv := range o.Waves {
			for _, svc := range wv.Services {
				if rb, ok := steps[svc]; ok {
					for i, c := range rb.Steps {
						p.record("step", strconv.Itoa(wv.Index), svc, strconv.Itoa(i+1), c, rb.Source)
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
	p.line(p.s.title.Render(head))
	if len(o.Waves) == 0 {
		return p.err
	}
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
	if groups > 0 {
		p.line("")
		p.line(p.s.dim.Render("a jumpstart group is a bootstrap cycle: its members need each other and must be started together by hand"))
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
		p.line(p.s.title.Render("runbook"))
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
					p.line("      $ " + c)
				}
			}
		}
	}
	return p.err
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
	return o
}

// criticalChain writes the critical path as "a -> {b, c} -> d": members
// of one jumpstart group, which recover together, in braces.
func criticalChain(o graph.Order) string {
	group := map[string]string{}
	for _, wv := range o.Waves {
		for _, g := range wv.Groups {
			for _, m := range g.Members {
				group[m] = g.ID
			}
		}
	}
	var parts []string
	svc := o.CriticalPath.Services
	for i := 0; i < len(svc); {
		id, ok := group[svc[i]]
		j := i + 1
		for ok && j < len(svc) && group[svc[j]] == id {
			j++
		}
		if j-i > 1 {
			parts = append(parts, "{"+strings.Join(sortedStrings(svc[i:j]), ", ")+"}")
		} else {
			parts = append(parts, svc[i])
		}
		i = j
	}
	return strings.Join(parts, " -> ")
}
