package render

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/rgraph/rgraph/graph"
)

// CompareReport is a recovery graph set against a runtime graph, as
// rgraph compare shows it.
type CompareReport struct {
	// Release names the release compared.
	Release string
	// Runtime names the inputs the runtime graph was read from.
	Runtime []string
	// Kinds are the recovery edge kinds compared; 0 means
	// [graph.RecoveryKinds], as for [graph.Compare].
	Kinds graph.KindSet
	graph.Comparison
}

// Where a dependency shows, in output.
const (
	whereRecovery = "recovery-only"
	whereRuntime  = "runtime-only"
	whereBoth     = "both"
)

// compareRow is one dependency of one service.
type compareRow struct {
	service, where string
	d              graph.Dependency
}

func (r CompareReport) rows() []compareRow {
	var out []compareRow
	for _, s := range r.Services {
		for _, x := range []struct {
			where string
			deps  []graph.Dependency
		}{{whereRecovery, s.RecoveryOnly}, {whereRuntime, s.RuntimeOnly}, {whereBoth, s.Both}} {
			for _, d := range x.deps {
				out = append(out, compareRow{s.Service, x.where, d})
			}
		}
	}
	return out
}

// kindName is a recovery edge's kind, or "" when there is no edge.
func kindName(k graph.Kind) string {
	if k == 0 {
		return ""
	}
	return k.String()
}

// summary is the one-line count of a comparison.
func (r CompareReport) summary() string {
	return fmt.Sprintf("%s only at recovery, %d only at runtime, %d in both",
		plural(r.RecoveryOnly, "dependency", "dependencies"), r.RuntimeOnly, r.Both)
}

// endpointNote says how many recovery edges were not compared, or "".
func (r CompareReport) endpointNote() string {
	if r.Endpoints == 0 {
		return ""
	}
	return plural(r.Endpoints, "recovery edge", "recovery edges") + " to unmapped endpoints not compared"
}

// Compare writes r as text. On a terminal: a headline with the counts,
// then one table row per dependency (service, dependency, where it shows,
// the recovery edge's kind, the runtime call count), and the runtime
// services the recovery graph does not know. Plain records (tab-separated,
// one per line; KIND and CALLS are empty when there is no such edge):
//
//	dep      SERVICE  DEPENDENCY  recovery-only|runtime-only|both  KIND  CALLS
//	unknown  SERVICE
//	summary  RECOVERY-ONLY  RUNTIME-ONLY  BOTH  ENDPOINTS
func Compare(w io.Writer, t Terminal, r CompareReport) error {
	p := newPrinter(w, t)
	rows := r.rows()
	if !t.TTY {
		for _, x := range rows {
			calls := ""
			if x.d.Calls > 0 || x.where != whereRecovery {
				calls = strconv.FormatUint(x.d.Calls, 10)
			}
			p.record("dep", x.service, x.d.Service, x.where, kindName(x.d.Kind), calls)
		}
		for _, u := range r.Unknown {
			p.record("unknown", u)
		}
		p.record("summary", strconv.Itoa(r.RecoveryOnly), strconv.Itoa(r.RuntimeOnly), strconv.Itoa(r.Both), strconv.Itoa(r.Endpoints))
		return p.err
	}

	p.line(p.s.title.Render("recovery graph of "+r.Release+" vs runtime graph") +
		p.s.dim.Render(" ("+strings.Join(r.Runtime, ", ")+")"))
	p.line(r.summary())
	if n := r.endpointNote(); n != "" {
		p.line(p.s.dim.Render(n))
	}
	if r.RecoveryOnly > 0 {
		p.line(p.s.dim.Render("only at recovery: needed to recover, not called while healthy (caches, fallbacks, start-up)"))
	}
	if len(rows) > 0 {
		p.line("")
		table := make([][]string, len(rows))
		for i, x := range rows {
			calls := "-"
			if x.d.Calls > 0 || x.where != whereRecovery {
				calls = strconv.FormatUint(x.d.Calls, 10)
			}
			kind := kindName(x.d.Kind)
			if kind == "" {
				kind = "-"
			}
			table[i] = []string{x.service, x.d.Service, strings.ReplaceAll(x.where, "-", " "), kind, calls}
		}
		p.wideTable(0, CompareColumns, table, func(row, col int) lipgloss.Style {
			switch col {
			case 2:
				if rows[row].where == whereRecovery {
					return p.s.warn
				}
				return p.s.dim
			case 3:
				return p.s.kind[rows[row].d.Kind]
			}
			return p.s.r.NewStyle()
		})
	}
	if len(r.Unknown) > 0 {
		p.line("")
		p.line(p.s.warn.Render("not in the recovery graph: ") + strings.Join(r.Unknown, ", "))
	}
	return p.err
}

// callsText is "1 call" or "12 calls".
func callsText(n uint64) string {
	if n == 1 {
		return "1 call"
	}
	return strconv.FormatUint(n, 10) + " calls"
}

// CompareDoc is the payload of "compare" documents.
type CompareDoc struct {
	Release string   `json:"release"`
	Runtime []string `json:"runtime"`
	// Kinds are the recovery edge kinds compared, sorted.
	Kinds        []string            `json:"kinds"`
	RecoveryOnly int                 `json:"recoveryOnly"`
	RuntimeOnly  int                 `json:"runtimeOnly"`
	Both         int                 `json:"both"`
	Endpoints    int                 `json:"endpoints"`
	Services     []CompareServiceDoc `json:"services"`
	Unknown      []string            `json:"unknown"`
}

// CompareServiceDoc is one service of a "compare" document.
type CompareServiceDoc struct {
	Service      string                 `json:"service"`
	RecoveryOnly []CompareDependencyDoc `json:"recoveryOnly"`
	RuntimeOnly  []CompareDependencyDoc `json:"runtimeOnly"`
	Both         []CompareDependencyDoc `json:"both"`
}

// CompareDependencyDoc is one dependency; Kind is empty when the recovery
// graph has no edge to it.
type CompareDependencyDoc struct {
	Service  string           `json:"service"`
	Kind     string           `json:"kind,omitempty"`
	Calls    uint64           `json:"calls"`
	Evidence []graph.Evidence `json:"evidence"`
}

// CompareJSON writes r as a "compare" document: release, runtime inputs,
// kinds, the four counts, then services (sorted by name) each with its
// recoveryOnly, runtimeOnly and both dependencies (sorted by name, every
// list present), and unknown services.
func CompareJSON(w io.Writer, r CompareReport) error {
	ks := r.Kinds
	if ks == 0 {
		ks = graph.RecoveryKinds
	}
	kinds := []string{}
	for _, k := range ks.List() {
		kinds = append(kinds, k.String())
	}
	doc := CompareDoc{Release: r.Release, Runtime: sortedStrings(r.Runtime), Kinds: kinds,
		RecoveryOnly: r.RecoveryOnly, RuntimeOnly: r.RuntimeOnly, Both: r.Both, Endpoints: r.Endpoints,
		Services: []CompareServiceDoc{}, Unknown: sortedStrings(r.Unknown)}
	deps := func(ds []graph.Dependency) []CompareDependencyDoc {
		out := make([]CompareDependencyDoc, len(ds))
		for i, d := range ds {
			ev := append([]graph.Evidence{}, d.Evidence...)
			out[i] = CompareDependencyDoc{Service: d.Service, Kind: kindName(d.Kind), Calls: d.Calls, Evidence: ev}
		}
		return out
	}
	for _, s := range r.Services {
		doc.Services = append(doc.Services, CompareServiceDoc{Service: s.Service,
			RecoveryOnly: deps(s.RecoveryOnly), RuntimeOnly: deps(s.RuntimeOnly), Both: deps(s.Both)})
	}
	return JSON(w, "compare", doc)
}

// CompareMarkdown writes r as Markdown: a headline with the counts, then
// a table with one row per service (what it needs only to recover, what
// it calls only at runtime, what shows in both), at most 50 rows, and
// the runtime services the recovery graph does not know.
func CompareMarkdown(w io.Writer, r CompareReport) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("### Recovery graph vs runtime graph · %s\n\n", mdCode(r.Release))
	p("%s", mdText(firstUpper(r.summary())))
	if n := r.endpointNote(); n != "" {
		p("; %s", mdText(n))
	}
	p(".")
	if r.RecoveryOnly > 0 {
		p(" Dependencies only at recovery are needed to recover but not called while healthy: caches and fallbacks hide them.")
	}
	p("\n\nRuntime graph: %s\n", mdText(strings.Join(r.Runtime, ", ")))
	if len(r.Services) > 0 {
		p("\n| Service | Only at recovery | Only at runtime | Both |\n| --- | --- | --- | --- |\n")
		cell := func(ds []graph.Dependency, calls bool) string {
			parts := make([]string, len(ds))
			for i, d := range ds {
				var note []string
				if k := kindName(d.Kind); k != "" {
					note = append(note, k)
				}
				if calls && d.Calls > 0 {
					note = append(note, callsText(d.Calls))
				}
				parts[i] = mdCodeCell(d.Service)
				if len(note) > 0 {
					parts[i] += " (" + strings.Join(note, ", ") + ")"
				}
			}
			return strings.Join(parts, ", ")
		}
		for i, s := range r.Services {
			if i == mdLimit {
				p("\n… and %d more services\n", len(r.Services)-mdLimit)
				break
			}
			p("| %s | %s | %s | %s |\n", mdCodeCell(s.Service), cell(s.RecoveryOnly, false), cell(s.RuntimeOnly, true), cell(s.Both, true))
		}
	}
	if len(r.Unknown) > 0 {
		names := make([]string, len(r.Unknown))
		for i, u := range r.Unknown {
			names[i] = mdCode(u)
		}
		p("\nNot in the recovery graph (check the names the tracing system uses): %s\n", strings.Join(names, ", "))
	}
	return bw.Flush()
}
