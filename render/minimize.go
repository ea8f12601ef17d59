package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// MinimizeReport is what rgraph minimize prints: the allowlist as YAML to
// paste into the scenario, with how it was found as comments.
type MinimizeReport struct {
	Scenario, Service string
	// Interrupted marks the smallest allowlist known to pass so far: not
	// minimal, not confirmed.
	Interrupted bool
	// Runs is every trial; Observe, Search and Confirm the trials of each
	// pass.
	Runs, Observe, Search, Confirm int
	Took                           time.Duration
	Repeat, Parallel               int
	Algorithm                      string
	Confidence                     string
	// Allow and Soft are the YAML list items, each a capability with an
	// optional comment ("service:dns  # or service:dns2 (...)").
	Allow, Soft []string
	// Never are capabilities the scenario lists that were never attempted.
	Never []string
	// Absent are targets attempted but absent upstream: no dependency.
	Absent []string
	// Candidates are every candidate with its class and evidence.
	Candidates []MinimizeCandidate
}

// MinimizeCandidate is one candidate of a minimization.
type MinimizeCandidate struct {
	Class string
	// Group is the alternative group, 0 for none.
	Group      int
	Capability string
	Origin     string
	// Evidence names the trials that decided it; empty for none.
	Evidence string
}

// Minimize writes r as YAML in every layout: the allow and soft lists are
// data, written whole (never cut to the terminal), and everything else is
// a comment. On a terminal the candidates are an aligned table, comments
// dimmed with colour; otherwise each candidate is one comment line of
// tab-separated fields.
func Minimize(w io.Writer, t Terminal, r MinimizeReport) error {
	p := newPrinter(w, t)
	comment := func(s string) {
		if t.TTY {
			p.line(p.s.dim.Render("# " + s))
		} else {
			p.write("# " + s + "\n")
		}
	}
	comment(fmt.Sprintf("rgraph minimize: scenario %s (service %s)", r.Scenario, r.Service))
	if r.Interrupted {
		comment("INTERRUPTED: the smallest allowlist known to pass so far; not minimal, not confirmed")
	}
	comment(fmt.Sprintf("%s (%d observe, %d search, %d confirm) in %s; repeat %d, parallel %d, %s",
		plural(r.Runs, "run", "runs"), r.Observe, r.Search, r.Confirm, FormatDuration(r.Took), r.Repeat, r.Parallel, r.Algorithm))
	comment("confidence: " + r.Confidence)
	yamlList(p, "allow", r.Allow)
	yamlList(p, "soft", r.Soft)
	if len(r.Never) > 0 {
		comment("listed in the scenario but never attempted: " + strings.Join(r.Never, ", "))
	}
	if len(r.Absent) > 0 {
		comment("attempted, but absent upstream (no dependency): " + strings.Join(r.Absent, ", "))
	}
	comment("candidates:")
	if !t.TTY {
		for _, c := range r.Candidates {
			p.write("#   " + strings.Join([]string{plainField(c.Class), groupText(c.Group), plainField(c.Capability), plainField(c.Origin), plainField(orDash(c.Evidence))}, "\t") + "\n")
		}
		return p.err
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tGROUP\tCAPABILITY\tORIGIN\tEVIDENCE")
	for _, c := range r.Candidates {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Class, groupText(c.Group), c.Capability, c.Origin, orDash(c.Evidence))
	}
	tw.Flush()
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		comment("  " + strings.TrimRight(l, " "))
	}
	return p.err
}

// yamlList writes "key:" and its items, or "key: []": data, never cut.
func yamlList(p *printer, key string, items []string) {
	if len(items) == 0 {
		p.write(key + ": []\n")
		return
	}
	p.write(p.s.title.Render(key) + ":\n")
	for _, it := range items {
		p.write("  - " + it + "\n")
	}
}

func groupText(g int) string {
	if g == 0 {
		return "-"
	}
	return fmt.Sprint(g)
}
